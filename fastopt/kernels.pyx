"""fastopt's public Cython API (declared and documented in ``fastopt/kernels.pxd``).

The pointer-level functions here (generated from the algorithm table into the included
``_kernels/kernels_impl.pxi``) are compiled with fastopt's flags and run the one-slice
step functions of the C headers (``src/fastopt/<algorithm>.h``): the step's coefficients,
then the per-element loop.  The memoryview entry points are inline functions of the
``.pxd`` that call these.
"""

from libc.stddef cimport ptrdiff_t


include "_kernels/kernels_impl.pxi"
