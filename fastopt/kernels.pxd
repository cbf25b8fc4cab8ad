# fastopt's public Cython API: one step of any first-order algorithm over your own arrays.
#
#     from fastopt.kernels cimport AdamHyper, adam_defaults, adam_step
#
#     cdef AdamHyper h = adam_defaults()      # PyTorch's defaults; then set what differs
#     h.lr = 1e-2
#     with nogil:
#         adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, &h, step)
#
# Build: put fastopt.get_include() (the C headers) in the extension's include_dirs; Cython
# finds this .pxd through sys.path as it finds numpy's.  The calls run fastopt's compiled
# kernels (ISA-dispatched, built with -ffp-contract=off), so results are bit-identical to
# fastopt.Adam & co. whatever flags your extension uses.  Full guide: docs/embedding.md.
#
# Hyperparameters.  One struct per algorithm, PyTorch's names in one order for all: the
# reals in torch's signature order (betas as beta1, beta2), then the algorithm's own flags,
# maximize last.  X_defaults() returns the struct filled with torch.optim's defaults.  A zero
# field means zero, not "default": a struct built field by field (AdamHyper(lr=1e-3)) runs
# with beta1 = beta2 = eps = 0.  Start from X_defaults().
#
# Steps.  `step` is the 1-based number of this step (bias corrections and schedules depend
# on it; for SGD, step 1 starts the momentum buffer from the gradient, as torch.optim does).
# NAdam also takes mu_product, the product of its momentum schedule before this step (1.0
# before the first), advanced with nadam_mu_product().  Everything runs in place, serially,
# without the GIL, and may be called from inside your own `prange` on slices (one slice per
# thread); arrays must not overlap.
#
# Two levels:
# * X_step(memoryviews..., &hyper, step): fused over float/double, C-contiguous 1-D views.
#   Returns 0, or -1 (writing nothing) when the views' lengths differ.  State views an
#   algorithm does not use under the given options (SGD's momentum_buffer when momentum == 0,
#   RMSprop's momentum_buffer / grad_avg, Adam's max_exp_avg_sq unless amsgrad) are not read
#   or checked: pass any view of the right type, e.g. an empty one.
# * X_f32 / X_f64(pointers..., n, &hyper, step): raw pointers, nothing checked at all; the
#   unused state pointers may be NULL.
cimport cython
from cython cimport floating

# The structs, defaults and both levels of entry points of every algorithm are generated
# from the algorithm table (fastopt/_kernels/table.py) into this include by the build.
include "_kernels/kernels_api.pxi"

cdef extern from "fastopt/first_order.h" nogil:
    # The product of NAdam's momentum schedule after `step`, given the product before it.
    double nadam_mu_product "fo_nadam_mu_product"(const NAdamHyper* hyper, long long step,
                                                  double mu_product)


# ========================================================================================
# Appended: the multi-array step and the L-BFGS building blocks, through the C API's table
# (fastopt/fastopt_capi.h, capsule fastopt._capi._C_API; see docs/embedding.md).  Call
# import_fastopt() once at module level (as numpy's import_array()); before that every call
# returns FASTOPT_ERR_IMPORT.  Same arguments and FASTOPT_* return codes as the table
# (0 = success; on error nothing is written).
#
#     from fastopt.kernels cimport (AdamHyper, StepArray, adam_defaults, import_fastopt,
#                                   multi_step, FASTOPT_ADAM, FASTOPT_FLOAT32)
#     import_fastopt()
#     cdef AdamHyper h = adam_defaults()
#     cdef StepArray a[2]          # param, grad, state[3], n for each array
#     ...
#     with nogil:
#         rc = multi_step(FASTOPT_ADAM, FASTOPT_FLOAT32, &h, step, 1.0, NULL, a, 2)
#
# multi_step(algo, dtype, &hyper, step, mu_product, &options or NULL, arrays, n_arrays):
#   one step of one algorithm over all the arrays in ONE parallel region of fastopt's pool,
#   split by total element count: what Optimizer.step runs, bit-identical to it for every
#   thread count.  hyper is the algorithm's struct above; step is 1-based; mu_product is
#   NAdam's schedule product before this step (1.0 first; advance it with
#   nadam_mu_product); GradOptions.grad_scale multiplies every gradient (start from
#   grad_options_default()), and noise_sigma > 0 adds fastopt.GradientNoise's noise of
#   (noise_seed, noise_step, position noise_param + i for arrays[i]), as
#   opt.step(grads, noise=) does (sigma from noise_sigma(eta, gamma, t); the caller advances
#   t; fastopt/fastopt_capi.h gives the exact meaning).  Checks NULL pointers, negative
#   sizes, ids, dtype, step and the options; not the hyperparameter values, not overlaps.
#   No GIL needed.
# multidot / combine: fixed-order dot products and linear combinations (the same bits for
#   every thread count), over pointers to arrays of one dtype.  No GIL needed.
# lbfgs_new(m, n, dtype) -> handle (needs the GIL; raises on bad arguments),
#   lbfgs_update(handle, x1, x0, g1, g0, &stored, &sy, &yy),
#   lbfgs_direction(handle, g1, d, &gtd) (d = -H g1, gtd = g1 . d), lbfgs_free(handle):
#   the L-BFGS memory of fastopt.minimize(method="lbfgs"); they take the GIL themselves.
#   noise_sigma(eta, gamma, t): the noise schedule sqrt(eta / (1 + t)**gamma) for noise_sigma.
from libc.math cimport NAN
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "fastopt/fastopt_capi.h" nogil:
    enum:
        FASTOPT_CAPI_VERSION
        FASTOPT_SGD, FASTOPT_ADAGRAD, FASTOPT_ADADELTA, FASTOPT_RMSPROP, FASTOPT_ADAM
        FASTOPT_ADAMAX, FASTOPT_NADAM
        FASTOPT_FLOAT32, FASTOPT_FLOAT64
        FASTOPT_OK, FASTOPT_ERR_NULL, FASTOPT_ERR_SIZE, FASTOPT_ERR_ALGO, FASTOPT_ERR_DTYPE
        FASTOPT_ERR_STEP, FASTOPT_ERR_VALUE, FASTOPT_ERR_OPTIONS, FASTOPT_ERR_MEMORY
        FASTOPT_ERR_IMPORT
    ctypedef struct StepArray "fastopt_array":
        void* param
        const void* grad
        void* state[3]
        ptrdiff_t n
    ctypedef struct GradOptions "fastopt_grad_options":
        size_t size
        double grad_scale
        double noise_sigma
        uint64_t noise_seed
        uint32_t noise_step
        uint32_t noise_param
    GradOptions grad_options_default "fastopt_grad_options_default"()
    ctypedef struct CAPI "fastopt_capi":
        unsigned int version
        size_t size
        const char* fastopt_version
        int (*step)(int algo, int dtype, const void* hyper, long long step, double mu_product,
                    const GradOptions* options, const StepArray* arrays,
                    ptrdiff_t n_arrays) noexcept nogil
        double (*nadam_mu_product)(const NAdamHyper* hyper, long long step,
                                   double mu_product) noexcept nogil
        int (*get_num_threads)() noexcept nogil
        int (*set_num_threads)(int n) noexcept nogil
        int (*multidot)(int dtype, ptrdiff_t n, int nv, const void* const* V, int nw,
                        const void* const* W, double* out) noexcept nogil
        int (*combine)(int dtype, ptrdiff_t n, int nv, const double* c, const void* const* V,
                       void* out, const void* w, double* dot) noexcept nogil
        void* (*lbfgs_new)(int m, ptrdiff_t n, int dtype) noexcept
        void (*lbfgs_free)(void* memory) noexcept nogil
        int (*lbfgs_update)(void* memory, const void* x1, const void* x0, const void* g1,
                            const void* g0, int* stored, double* sy,
                            double* yy) noexcept nogil
        int (*lbfgs_direction)(void* memory, const void* g, void* d,
                               double* gtd) noexcept nogil
        double (*noise_sigma)(double eta, double gamma, uint32_t t) noexcept nogil
    # the table, NULL until import_fastopt() succeeds
    const CAPI* fastopt_api

cdef extern from "fastopt/fastopt_capi.h":
    # Fill fastopt_api (needs the GIL); raises ImportError when fastopt's table is older
    # than this header.
    int import_fastopt() except -1


cdef inline int multi_step(int algo, int dtype, const void* hyper, long long step,
                           double mu_product, const GradOptions* options,
                           const StepArray* arrays, Py_ssize_t n_arrays) noexcept nogil:
    if fastopt_api == NULL:
        return FASTOPT_ERR_IMPORT
    return fastopt_api.step(algo, dtype, hyper, step, mu_product, options, arrays, n_arrays)


cdef inline int get_num_threads() noexcept nogil:
    return fastopt_api.get_num_threads() if fastopt_api != NULL else FASTOPT_ERR_IMPORT


cdef inline int set_num_threads(int n) noexcept nogil:
    return fastopt_api.set_num_threads(n) if fastopt_api != NULL else FASTOPT_ERR_IMPORT


cdef inline int multidot(int dtype, Py_ssize_t n, int nv, const void* const* V, int nw,
                         const void* const* W, double* out) noexcept nogil:
    if fastopt_api == NULL:
        return FASTOPT_ERR_IMPORT
    return fastopt_api.multidot(dtype, n, nv, V, nw, W, out)


cdef inline int combine(int dtype, Py_ssize_t n, int nv, const double* c, const void* const* V,
                        void* out, const void* w, double* dot) noexcept nogil:
    if fastopt_api == NULL:
        return FASTOPT_ERR_IMPORT
    return fastopt_api.combine(dtype, n, nv, c, V, out, w, dot)


cdef inline void* lbfgs_new(int m, Py_ssize_t n, int dtype) except NULL:
    if fastopt_api == NULL:
        raise ImportError("call fastopt.kernels' import_fastopt() first")
    return fastopt_api.lbfgs_new(m, n, dtype)  # NULL: the exception is set


cdef inline void lbfgs_free(void* memory) noexcept nogil:
    if fastopt_api != NULL:
        fastopt_api.lbfgs_free(memory)


cdef inline int lbfgs_update(void* memory, const void* x1, const void* x0, const void* g1,
                             const void* g0, int* stored, double* sy,
                             double* yy) noexcept nogil:
    if fastopt_api == NULL:
        return FASTOPT_ERR_IMPORT
    return fastopt_api.lbfgs_update(memory, x1, x0, g1, g0, stored, sy, yy)


cdef inline int lbfgs_direction(void* memory, const void* g, void* d,
                                double* gtd) noexcept nogil:
    if fastopt_api == NULL:
        return FASTOPT_ERR_IMPORT
    return fastopt_api.lbfgs_direction(memory, g, d, gtd)


# sqrt(eta / (1 + t)**gamma), as fastopt.GradientNoise(eta, gamma).sigma(t); NaN before
# import_fastopt() (which multi_step then refuses with FASTOPT_ERR_IMPORT anyway).
cdef inline double noise_sigma(double eta, double gamma, uint32_t t) noexcept nogil:
    return fastopt_api.noise_sigma(eta, gamma, t) if fastopt_api != NULL else <double>NAN
