"""The C-level first-order API declared in ``first_order.pxd``.

Each function computes the step's coefficients (``_coef.pxd``) and runs the C loop of
``src/fastopt/first_order.h`` over the slice.  The Python layer (``_step.pyx``) runs the same
two pieces, computing the coefficients once per step for all arrays rather than per slice.
"""
from fastopt._kernels._coef cimport (
    adadelta_coef, adagrad_coef, adam_coef, adamax_coef, fo_adadelta_f32, fo_adadelta_f64,
    fo_adagrad_f32, fo_adagrad_f64, fo_adam_f32, fo_adam_f64, fo_adamax_f32, fo_adamax_f64,
    fo_coef, fo_nadam_f32, fo_nadam_f64, fo_rmsprop_f32, fo_rmsprop_f64, fo_sgd_f32, fo_sgd_f64,
    nadam_coef, nadam_mu, rmsprop_coef, sgd_coef,
)


cdef void sgd_f32(float* param, const float* grad, float* momentum_buffer, Py_ssize_t n,
                  const SGDHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = sgd_coef(hyper, step == 1)
    fo_sgd_f32(n, param, grad, momentum_buffer, NULL, NULL, &c)


cdef void sgd_f64(double* param, const double* grad, double* momentum_buffer, Py_ssize_t n,
                  const SGDHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = sgd_coef(hyper, step == 1)
    fo_sgd_f64(n, param, grad, momentum_buffer, NULL, NULL, &c)


cdef void adagrad_f32(float* param, const float* grad, float* state_sum, Py_ssize_t n,
                      const AdagradHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = adagrad_coef(hyper, step)
    fo_adagrad_f32(n, param, grad, state_sum, NULL, NULL, &c)


cdef void adagrad_f64(double* param, const double* grad, double* state_sum, Py_ssize_t n,
                      const AdagradHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = adagrad_coef(hyper, step)
    fo_adagrad_f64(n, param, grad, state_sum, NULL, NULL, &c)


cdef void adadelta_f32(float* param, const float* grad, float* square_avg, float* acc_delta,
                       Py_ssize_t n, const AdadeltaHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = adadelta_coef(hyper)
    fo_adadelta_f32(n, param, grad, square_avg, acc_delta, NULL, &c)


cdef void adadelta_f64(double* param, const double* grad, double* square_avg, double* acc_delta,
                       Py_ssize_t n, const AdadeltaHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = adadelta_coef(hyper)
    fo_adadelta_f64(n, param, grad, square_avg, acc_delta, NULL, &c)


cdef void rmsprop_f32(float* param, const float* grad, float* square_avg, float* momentum_buffer,
                      float* grad_avg, Py_ssize_t n, const RMSpropHyper* hyper,
                      long long step) noexcept nogil:
    cdef fo_coef c = rmsprop_coef(hyper)
    fo_rmsprop_f32(n, param, grad, square_avg, momentum_buffer, grad_avg, &c)


cdef void rmsprop_f64(double* param, const double* grad, double* square_avg,
                      double* momentum_buffer, double* grad_avg, Py_ssize_t n,
                      const RMSpropHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = rmsprop_coef(hyper)
    fo_rmsprop_f64(n, param, grad, square_avg, momentum_buffer, grad_avg, &c)


cdef void adam_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                   float* max_exp_avg_sq, Py_ssize_t n, const AdamHyper* hyper,
                   long long step) noexcept nogil:
    cdef fo_coef c = adam_coef(hyper, step)
    fo_adam_f32(n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, &c)


cdef void adam_f64(double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                   double* max_exp_avg_sq, Py_ssize_t n, const AdamHyper* hyper,
                   long long step) noexcept nogil:
    cdef fo_coef c = adam_coef(hyper, step)
    fo_adam_f64(n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, &c)


cdef void adamax_f32(float* param, const float* grad, float* exp_avg, float* exp_inf,
                     Py_ssize_t n, const AdamaxHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = adamax_coef(hyper, step)
    fo_adamax_f32(n, param, grad, exp_avg, exp_inf, NULL, &c)


cdef void adamax_f64(double* param, const double* grad, double* exp_avg, double* exp_inf,
                     Py_ssize_t n, const AdamaxHyper* hyper, long long step) noexcept nogil:
    cdef fo_coef c = adamax_coef(hyper, step)
    fo_adamax_f64(n, param, grad, exp_avg, exp_inf, NULL, &c)


cdef void nadam_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil:
    cdef fo_coef c = nadam_coef(hyper, step, mu_product)
    fo_nadam_f32(n, param, grad, exp_avg, exp_avg_sq, NULL, &c)


cdef void nadam_f64(double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil:
    cdef fo_coef c = nadam_coef(hyper, step, mu_product)
    fo_nadam_f64(n, param, grad, exp_avg, exp_avg_sq, NULL, &c)


cdef double nadam_mu_product(const NAdamHyper* hyper, long long step,
                             double mu_product) noexcept nogil:
    return mu_product * nadam_mu(hyper, step)
