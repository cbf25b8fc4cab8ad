"""pytest-benchmark benchmarks of the first-order optimizers, over the cases of
``python -m fastopt bench`` (see ``fastopt/benchmarks/cases.py``).

Run (not part of the test suite; ``pyproject.toml`` sets ``testpaths = ["tests"]``)::

    python -m pytest bench/ --benchmark-group-by=group --benchmark-columns=median,iqr,rounds
    FASTOPT_BENCH_LARGE=1 python -m pytest bench/ ...   # also 33,554,432, GPT-2 small
    python -m pytest bench/ -k "adam and 1048576"        # one case

pytest-benchmark times one implementation after another; for side-by-side ratios measured
interleaved in one run (which this noisy, shared kind of machine needs) use
``python -m fastopt bench``.  Each benchmark's ``extra_info`` holds the bytes a step moves,
so GB/s = bytes / median.
"""
import os

import pytest

from fastopt.benchmarks import cases as C

SIZES = ["1000", "65536", "1048576", "1000x1000"]
if os.environ.get("FASTOPT_BENCH_LARGE") == "1":
    SIZES += ["33554432", "gpt2-small"]
ALGORITHMS = list(C.ALGORITHMS)

_cases = {}


def _case(algorithm, size, dtype):
    """Cases are built once per (algorithm, size, dtype) and shared by its implementations;
    only the most recent is kept, so a large case does not stay in memory."""
    key = (algorithm, size, dtype)
    if key not in _cases:
        _cases.clear()
        _cases[key] = C.build_case(algorithm, size, dtype, C.IMPLEMENTATIONS)
    return _cases[key]


@pytest.mark.parametrize("implementation", C.IMPLEMENTATIONS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_float32(benchmark, algorithm, size, implementation):
    _run(benchmark, algorithm, size, "float32", implementation)


@pytest.mark.parametrize("implementation", C.IMPLEMENTATIONS)
@pytest.mark.parametrize("size", ["1000", "1048576"])
@pytest.mark.parametrize("algorithm", ["adam", "sgd"])
def test_float64(benchmark, algorithm, size, implementation):
    _run(benchmark, algorithm, size, "float64", implementation)


def _run(benchmark, algorithm, size, dtype, implementation):
    case = _case(algorithm, size, dtype)
    if implementation not in case.steps:
        pytest.skip(case.skipped.get(implementation, "not available"))
    benchmark.group = case.label()
    benchmark.extra_info.update(bytes=case.bytes_per_step, elements=case.elements,
                                arrays=len(case.params))
    benchmark(case.steps[implementation])
