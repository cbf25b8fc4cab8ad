# fastopt's C-level first-order API: cimport it from your own Cython code.
#
#     from fastopt._kernels.first_order cimport AdamHyper, adam_f32
#
# Each function runs one step of one algorithm over n contiguous elements, serially, without
# the GIL, in place; it may be called from inside a caller's own `nogil` / `prange` block
# (give each thread its own slice).  Hyperparameters come in a small struct with PyTorch's
# names; `step` is the 1-based number of this step (for SGD, step == 1 starts the momentum
# buffer from the gradient, as torch.optim does).  Arrays must not overlap.  Nothing is
# checked at this level: the Python API validates before it calls these.

ctypedef struct SGDHyper:
    double lr, momentum, dampening, weight_decay
    bint nesterov, maximize

ctypedef struct AdagradHyper:
    double lr, lr_decay, weight_decay, eps
    bint maximize

ctypedef struct AdadeltaHyper:
    double lr, rho, eps, weight_decay
    bint maximize

ctypedef struct RMSpropHyper:
    double lr, alpha, eps, weight_decay, momentum
    bint centered, maximize

ctypedef struct AdamHyper:
    double lr, beta1, beta2, eps, weight_decay
    bint amsgrad, maximize, decoupled_weight_decay

ctypedef struct AdamaxHyper:
    double lr, beta1, beta2, eps, weight_decay
    bint maximize

ctypedef struct NAdamHyper:
    double lr, beta1, beta2, eps, weight_decay, momentum_decay
    bint decoupled_weight_decay, maximize

# IN: grad, hyper, step.  IN/OUT: param and the state arrays.
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
# momentum_buffer may be NULL when momentum == 0, grad_avg NULL unless centered.
cdef void rmsprop_f32(float* param, const float* grad, float* square_avg, float* momentum_buffer,
                      float* grad_avg, Py_ssize_t n, const RMSpropHyper* hyper,
                      long long step) noexcept nogil
cdef void rmsprop_f64(double* param, const double* grad, double* square_avg,
                      double* momentum_buffer, double* grad_avg, Py_ssize_t n,
                      const RMSpropHyper* hyper, long long step) noexcept nogil
# max_exp_avg_sq may be NULL unless amsgrad.
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
# mu_product: IN the product of the momentum schedule up to step - 1 (1.0 before the first
# step); it is not updated here, see nadam_mu_product.
cdef void nadam_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil
cdef void nadam_f64(double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil
# The product of NAdam's momentum schedule after `step`, given the product before it.
cdef double nadam_mu_product(const NAdamHyper* hyper, long long step,
                             double mu_product) noexcept nogil
