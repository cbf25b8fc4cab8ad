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

cdef extern from "fastopt/first_order.h" nogil:
    ctypedef struct SGDHyper "fo_sgd_hyper":
        double lr, momentum, dampening, weight_decay
        bint nesterov, maximize
    ctypedef struct AdagradHyper "fo_adagrad_hyper":
        double lr, lr_decay, weight_decay, eps
        bint maximize
    ctypedef struct AdadeltaHyper "fo_adadelta_hyper":
        double lr, rho, eps, weight_decay
        bint maximize
    ctypedef struct RMSpropHyper "fo_rmsprop_hyper":
        double lr, alpha, eps, weight_decay, momentum
        bint centered, maximize
    ctypedef struct AdamHyper "fo_adam_hyper":
        double lr, beta1, beta2, eps, weight_decay
        bint amsgrad, decoupled_weight_decay, maximize
    ctypedef struct AdamaxHyper "fo_adamax_hyper":
        double lr, beta1, beta2, eps, weight_decay
        bint maximize
    ctypedef struct NAdamHyper "fo_nadam_hyper":
        double lr, beta1, beta2, eps, weight_decay, momentum_decay
        bint decoupled_weight_decay, maximize

    SGDHyper sgd_defaults "fo_sgd_defaults"()
    AdagradHyper adagrad_defaults "fo_adagrad_defaults"()
    AdadeltaHyper adadelta_defaults "fo_adadelta_defaults"()
    RMSpropHyper rmsprop_defaults "fo_rmsprop_defaults"()
    AdamHyper adam_defaults "fo_adam_defaults"()
    AdamaxHyper adamax_defaults "fo_adamax_defaults"()
    NAdamHyper nadam_defaults "fo_nadam_defaults"()

    # The product of NAdam's momentum schedule after `step`, given the product before it.
    double nadam_mu_product "fo_nadam_mu_product"(const NAdamHyper* hyper, long long step,
                                                  double mu_product)

# ---- pointer level.  IN: grad, hyper, step.  IN/OUT: param and the state arrays.
cdef void sgd_f32(float* param, const float* grad, float* momentum_buffer, Py_ssize_t n,
                  const SGDHyper* hyper, long long step) noexcept nogil
cdef void sgd_f64(double* param, const double* grad, double* momentum_buffer, Py_ssize_t n,
                  const SGDHyper* hyper, long long step) noexcept nogil
cdef void adagrad_f32(float* param, const float* grad, float* state_sum, Py_ssize_t n,
                      const AdagradHyper* hyper, long long step) noexcept nogil
cdef void adagrad_f64(double* param, const double* grad, double* state_sum, Py_ssize_t n,
                      const AdagradHyper* hyper, long long step) noexcept nogil
cdef void adadelta_f32(float* param, const float* grad, float* square_avg, float* acc_delta,
                       Py_ssize_t n, const AdadeltaHyper* hyper, long long step) noexcept nogil
cdef void adadelta_f64(double* param, const double* grad, double* square_avg, double* acc_delta,
                       Py_ssize_t n, const AdadeltaHyper* hyper, long long step) noexcept nogil
cdef void rmsprop_f32(float* param, const float* grad, float* square_avg, float* momentum_buffer,
                      float* grad_avg, Py_ssize_t n, const RMSpropHyper* hyper,
                      long long step) noexcept nogil
cdef void rmsprop_f64(double* param, const double* grad, double* square_avg,
                      double* momentum_buffer, double* grad_avg, Py_ssize_t n,
                      const RMSpropHyper* hyper, long long step) noexcept nogil
cdef void adam_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                   float* max_exp_avg_sq, Py_ssize_t n, const AdamHyper* hyper,
                   long long step) noexcept nogil
cdef void adam_f64(double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                   double* max_exp_avg_sq, Py_ssize_t n, const AdamHyper* hyper,
                   long long step) noexcept nogil
cdef void adamax_f32(float* param, const float* grad, float* exp_avg, float* exp_inf,
                     Py_ssize_t n, const AdamaxHyper* hyper, long long step) noexcept nogil
cdef void adamax_f64(double* param, const double* grad, double* exp_avg, double* exp_inf,
                     Py_ssize_t n, const AdamaxHyper* hyper, long long step) noexcept nogil
# mu_product: IN, the product of the momentum schedule up to step - 1; not updated here.
cdef void nadam_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil
cdef void nadam_f64(double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil

# ---- memoryview level: fused over float / double; 0, or -1 if the lengths differ.

cdef inline int sgd_step(floating[::1] param, const floating[::1] grad,
                         floating[::1] momentum_buffer, const SGDHyper* hyper,
                         long long step) noexcept nogil:
    cdef Py_ssize_t n = param.shape[0]
    cdef bint uses_buffer = hyper.momentum != 0
    if grad.shape[0] != n or (uses_buffer and momentum_buffer.shape[0] != n):
        return -1
    if n == 0:
        return 0
    with cython.boundscheck(False), cython.wraparound(False), cython.initializedcheck(False):
        if floating is float:
            sgd_f32(&param[0], &grad[0], &momentum_buffer[0] if uses_buffer else NULL, n, hyper,
                    step)
        else:
            sgd_f64(&param[0], &grad[0], &momentum_buffer[0] if uses_buffer else NULL, n, hyper,
                    step)
    return 0


cdef inline int adagrad_step(floating[::1] param, const floating[::1] grad,
                             floating[::1] state_sum, const AdagradHyper* hyper,
                             long long step) noexcept nogil:
    cdef Py_ssize_t n = param.shape[0]
    if grad.shape[0] != n or state_sum.shape[0] != n:
        return -1
    if n == 0:
        return 0
    with cython.boundscheck(False), cython.wraparound(False), cython.initializedcheck(False):
        if floating is float:
            adagrad_f32(&param[0], &grad[0], &state_sum[0], n, hyper, step)
        else:
            adagrad_f64(&param[0], &grad[0], &state_sum[0], n, hyper, step)
    return 0


cdef inline int adadelta_step(floating[::1] param, const floating[::1] grad,
                              floating[::1] square_avg, floating[::1] acc_delta,
                              const AdadeltaHyper* hyper, long long step) noexcept nogil:
    cdef Py_ssize_t n = param.shape[0]
    if grad.shape[0] != n or square_avg.shape[0] != n or acc_delta.shape[0] != n:
        return -1
    if n == 0:
        return 0
    with cython.boundscheck(False), cython.wraparound(False), cython.initializedcheck(False):
        if floating is float:
            adadelta_f32(&param[0], &grad[0], &square_avg[0], &acc_delta[0], n, hyper, step)
        else:
            adadelta_f64(&param[0], &grad[0], &square_avg[0], &acc_delta[0], n, hyper, step)
    return 0


cdef inline int rmsprop_step(floating[::1] param, const floating[::1] grad,
                             floating[::1] square_avg, floating[::1] momentum_buffer,
                             floating[::1] grad_avg, const RMSpropHyper* hyper,
                             long long step) noexcept nogil:
    cdef Py_ssize_t n = param.shape[0]
    cdef bint uses_buffer = hyper.momentum > 0, centered = hyper.centered
    if (grad.shape[0] != n or square_avg.shape[0] != n
            or (uses_buffer and momentum_buffer.shape[0] != n)
            or (centered and grad_avg.shape[0] != n)):
        return -1
    if n == 0:
        return 0
    with cython.boundscheck(False), cython.wraparound(False), cython.initializedcheck(False):
        if floating is float:
            rmsprop_f32(&param[0], &grad[0], &square_avg[0],
                        &momentum_buffer[0] if uses_buffer else NULL,
                        &grad_avg[0] if centered else NULL, n, hyper, step)
        else:
            rmsprop_f64(&param[0], &grad[0], &square_avg[0],
                        &momentum_buffer[0] if uses_buffer else NULL,
                        &grad_avg[0] if centered else NULL, n, hyper, step)
    return 0


cdef inline int adam_step(floating[::1] param, const floating[::1] grad,
                          floating[::1] exp_avg, floating[::1] exp_avg_sq,
                          floating[::1] max_exp_avg_sq, const AdamHyper* hyper,
                          long long step) noexcept nogil:
    cdef Py_ssize_t n = param.shape[0]
    cdef bint amsgrad = hyper.amsgrad
    if (grad.shape[0] != n or exp_avg.shape[0] != n or exp_avg_sq.shape[0] != n
            or (amsgrad and max_exp_avg_sq.shape[0] != n)):
        return -1
    if n == 0:
        return 0
    with cython.boundscheck(False), cython.wraparound(False), cython.initializedcheck(False):
        if floating is float:
            adam_f32(&param[0], &grad[0], &exp_avg[0], &exp_avg_sq[0],
                     &max_exp_avg_sq[0] if amsgrad else NULL, n, hyper, step)
        else:
            adam_f64(&param[0], &grad[0], &exp_avg[0], &exp_avg_sq[0],
                     &max_exp_avg_sq[0] if amsgrad else NULL, n, hyper, step)
    return 0


cdef inline int adamax_step(floating[::1] param, const floating[::1] grad,
                            floating[::1] exp_avg, floating[::1] exp_inf,
                            const AdamaxHyper* hyper, long long step) noexcept nogil:
    cdef Py_ssize_t n = param.shape[0]
    if grad.shape[0] != n or exp_avg.shape[0] != n or exp_inf.shape[0] != n:
        return -1
    if n == 0:
        return 0
    with cython.boundscheck(False), cython.wraparound(False), cython.initializedcheck(False):
        if floating is float:
            adamax_f32(&param[0], &grad[0], &exp_avg[0], &exp_inf[0], n, hyper, step)
        else:
            adamax_f64(&param[0], &grad[0], &exp_avg[0], &exp_inf[0], n, hyper, step)
    return 0


cdef inline int nadam_step(floating[::1] param, const floating[::1] grad,
                           floating[::1] exp_avg, floating[::1] exp_avg_sq,
                           const NAdamHyper* hyper, long long step,
                           double mu_product) noexcept nogil:
    cdef Py_ssize_t n = param.shape[0]
    if grad.shape[0] != n or exp_avg.shape[0] != n or exp_avg_sq.shape[0] != n:
        return -1
    if n == 0:
        return 0
    with cython.boundscheck(False), cython.wraparound(False), cython.initializedcheck(False):
        if floating is float:
            nadam_f32(&param[0], &grad[0], &exp_avg[0], &exp_avg_sq[0], n, hyper, step, mu_product)
        else:
            nadam_f64(&param[0], &grad[0], &exp_avg[0], &exp_avg_sq[0], n, hyper, step, mu_product)
    return 0
