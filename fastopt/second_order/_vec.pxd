# The raw (pointer) entry points of the vector kernels and the L-BFGS memory, for fastopt's
# C API (fastopt/_capi.pyx) and Cython API (fastopt/kernels.pxd); documented in
# src/fastopt/fastopt_capi.h.  Return: a FASTOPT_* code (0 on success).
from libc.stddef cimport ptrdiff_t

cdef int multidot_raw(int dtype, ptrdiff_t n, int nv, const void* const* V, int nw,
                      const void* const* W, double* out) noexcept nogil
cdef int combine_raw(int dtype, ptrdiff_t n, int nv, const double* c, const void* const* V,
                     void* out, const void* w, double* dot) noexcept nogil
# Needs the GIL; NULL with a Python exception set on bad arguments.
cdef void* lbfgs_new(int m, ptrdiff_t n, int dtype) except NULL
cdef void lbfgs_free(void* memory) noexcept with gil
cdef int lbfgs_update(void* memory, const void* x1, const void* x0, const void* g1,
                      const void* g0, int* stored, double* sy, double* yy) noexcept with gil
cdef int lbfgs_direction(void* memory, const void* g, void* d, double* gtd) noexcept with gil
