"""Benchmark cases and the ``python -m fastopt bench`` command."""
