# fastopt's C API (src/fastopt/fastopt_capi.h): the multi-array step and the thread count,
# declared here for fastopt.kernels (Cython callers) and for the capsule's table.
from libc.stddef cimport ptrdiff_t

cdef extern from "fastopt/fastopt_capi.h" nogil:
    ctypedef struct fastopt_array:
        void* param
        const void* grad
        void* state[3]
        ptrdiff_t n
    ctypedef struct fastopt_grad_options:
        size_t size
        double grad_scale
    fastopt_grad_options fastopt_grad_options_default()

# One step of `algo` over n_arrays arrays of one dtype, in one parallel region on fastopt's
# pool: what Optimizer.step runs (see fastopt_capi.h for the arguments and return codes).
cdef int multi_step(int algo, int dtype, const void* hyper, long long step, double mu_product,
                    const fastopt_grad_options* options, const fastopt_array* arrays,
                    ptrdiff_t n_arrays) noexcept nogil
cdef int get_num_threads() noexcept nogil
# Takes the GIL itself; FASTOPT_ERR_SIZE for n < 1.
cdef int set_num_threads(int n) noexcept with gil
