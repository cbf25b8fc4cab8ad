"""Compiled kernels.  ``first_order`` is the C-level API (see its ``.pxd``); ``_step`` drives
multi-array steps for the Python layer."""
