"""fastopt's public Cython API (declared and documented in ``fastopt/kernels.pxd``).

The pointer-level functions here are compiled with fastopt's flags and run the one-slice
step functions of the C headers (``src/fastopt/<algorithm>.h``): the step's coefficients,
then the per-element loop.  The memoryview entry points are inline functions of the
``.pxd`` that call these.
"""

from libc.stddef cimport ptrdiff_t


cdef extern from "fastopt/first_order.h" nogil:
    void fo_sgd_step_f32(const SGDHyper*, long long, ptrdiff_t, float*, const float*, float*)
    void fo_sgd_step_f64(const SGDHyper*, long long, ptrdiff_t, double*, const double*,
                         double*)
    void fo_adagrad_step_f32(const AdagradHyper*, long long, ptrdiff_t, float*, const float*,
                             float*)
    void fo_adagrad_step_f64(const AdagradHyper*, long long, ptrdiff_t, double*,
                             const double*, double*)
    void fo_adadelta_step_f32(const AdadeltaHyper*, long long, ptrdiff_t, float*,
                              const float*, float*, float*)
    void fo_adadelta_step_f64(const AdadeltaHyper*, long long, ptrdiff_t, double*,
                              const double*, double*, double*)
    void fo_rmsprop_step_f32(const RMSpropHyper*, long long, ptrdiff_t, float*, const float*,
                             float*, float*, float*)
    void fo_rmsprop_step_f64(const RMSpropHyper*, long long, ptrdiff_t, double*,
                             const double*, double*, double*, double*)
    void fo_adam_step_f32(const AdamHyper*, long long, ptrdiff_t, float*, const float*,
                          float*, float*, float*)
    void fo_adam_step_f64(const AdamHyper*, long long, ptrdiff_t, double*, const double*,
                          double*, double*, double*)
    void fo_adamax_step_f32(const AdamaxHyper*, long long, ptrdiff_t, float*, const float*,
                            float*, float*)
    void fo_adamax_step_f64(const AdamaxHyper*, long long, ptrdiff_t, double*, const double*,
                            double*, double*)
    void fo_nadam_step_f32(const NAdamHyper*, long long, double, ptrdiff_t, float*,
                           const float*, float*, float*)
    void fo_nadam_step_f64(const NAdamHyper*, long long, double, ptrdiff_t, double*,
                           const double*, double*, double*)


cdef void sgd_f32(float* param, const float* grad, float* momentum_buffer, Py_ssize_t n,
                  const SGDHyper* hyper, long long step) noexcept nogil:
    fo_sgd_step_f32(hyper, step, n, param, grad, momentum_buffer)


cdef void sgd_f64(double* param, const double* grad, double* momentum_buffer, Py_ssize_t n,
                  const SGDHyper* hyper, long long step) noexcept nogil:
    fo_sgd_step_f64(hyper, step, n, param, grad, momentum_buffer)


cdef void adagrad_f32(float* param, const float* grad, float* state_sum, Py_ssize_t n,
                      const AdagradHyper* hyper, long long step) noexcept nogil:
    fo_adagrad_step_f32(hyper, step, n, param, grad, state_sum)


cdef void adagrad_f64(double* param, const double* grad, double* state_sum, Py_ssize_t n,
                      const AdagradHyper* hyper, long long step) noexcept nogil:
    fo_adagrad_step_f64(hyper, step, n, param, grad, state_sum)


cdef void adadelta_f32(float* param, const float* grad, float* square_avg, float* acc_delta,
                       Py_ssize_t n, const AdadeltaHyper* hyper, long long step) noexcept nogil:
    fo_adadelta_step_f32(hyper, step, n, param, grad, square_avg, acc_delta)


cdef void adadelta_f64(double* param, const double* grad, double* square_avg, double* acc_delta,
                       Py_ssize_t n, const AdadeltaHyper* hyper, long long step) noexcept nogil:
    fo_adadelta_step_f64(hyper, step, n, param, grad, square_avg, acc_delta)


cdef void rmsprop_f32(float* param, const float* grad, float* square_avg, float* momentum_buffer,
                      float* grad_avg, Py_ssize_t n, const RMSpropHyper* hyper,
                      long long step) noexcept nogil:
    fo_rmsprop_step_f32(hyper, step, n, param, grad, square_avg, momentum_buffer, grad_avg)


cdef void rmsprop_f64(double* param, const double* grad, double* square_avg,
                      double* momentum_buffer, double* grad_avg, Py_ssize_t n,
                      const RMSpropHyper* hyper, long long step) noexcept nogil:
    fo_rmsprop_step_f64(hyper, step, n, param, grad, square_avg, momentum_buffer, grad_avg)


cdef void adam_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                   float* max_exp_avg_sq, Py_ssize_t n, const AdamHyper* hyper,
                   long long step) noexcept nogil:
    fo_adam_step_f32(hyper, step, n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)


cdef void adam_f64(double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                   double* max_exp_avg_sq, Py_ssize_t n, const AdamHyper* hyper,
                   long long step) noexcept nogil:
    fo_adam_step_f64(hyper, step, n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)


cdef void adamax_f32(float* param, const float* grad, float* exp_avg, float* exp_inf,
                     Py_ssize_t n, const AdamaxHyper* hyper, long long step) noexcept nogil:
    fo_adamax_step_f32(hyper, step, n, param, grad, exp_avg, exp_inf)


cdef void adamax_f64(double* param, const double* grad, double* exp_avg, double* exp_inf,
                     Py_ssize_t n, const AdamaxHyper* hyper, long long step) noexcept nogil:
    fo_adamax_step_f64(hyper, step, n, param, grad, exp_avg, exp_inf)


cdef void nadam_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil:
    fo_nadam_step_f32(hyper, step, mu_product, n, param, grad, exp_avg, exp_avg_sq)


cdef void nadam_f64(double* param, const double* grad, double* exp_avg, double* exp_avg_sq,
                    Py_ssize_t n, const NAdamHyper* hyper, long long step,
                    double mu_product) noexcept nogil:
    fo_nadam_step_f64(hyper, step, mu_product, n, param, grad, exp_avg, exp_avg_sq)
