# Internal: the C kernels of src/fastopt/first_order.h and the per-step scalar formulas that
# turn (hyperparameters, step) into their coefficients, in double precision, once per step.
# Not part of the public API (it needs the C headers); first_order.pyx and _step.pyx share it.
from libc.math cimport pow, sqrt
from libc.stddef cimport ptrdiff_t

from fastopt._kernels.first_order cimport (
    AdadeltaHyper, AdagradHyper, AdamaxHyper, AdamHyper, NAdamHyper, RMSpropHyper, SGDHyper,
)

cdef extern from "fastopt/omp_shim.h" nogil:
    int omp_get_thread_num()
    int omp_get_num_threads()
    int omp_get_max_threads()
    int FO_HAVE_OPENMP

cdef extern from "fastopt/first_order.h" nogil:
    enum:
        FO_SGD_PLAIN
        FO_SGD_MOMENTUM
        FO_SGD_NESTEROV
    ctypedef struct fo_sgd_coef:
        double lr, grad_sign, weight_decay, momentum, keep
        int mode, first
    ctypedef struct fo_adagrad_coef:
        double clr, grad_sign, weight_decay, eps
    ctypedef struct fo_adadelta_coef:
        double lr, grad_sign, weight_decay, rho, eps
    ctypedef struct fo_rmsprop_coef:
        double lr, grad_sign, weight_decay, alpha, eps, momentum
        int centered
    ctypedef struct fo_adam_coef:
        double grad_sign, weight_decay, decay, beta1, beta2, step_size, eps_hat
        int amsgrad
    ctypedef struct fo_adamax_coef:
        double grad_sign, weight_decay, beta1, beta2, eps, clr
    ctypedef struct fo_nadam_coef:
        double grad_sign, weight_decay, decay, beta1, beta2, eps_hat, grad_coef, avg_coef
    ctypedef union fo_coef:
        fo_sgd_coef sgd
        fo_adagrad_coef adagrad
        fo_adadelta_coef adadelta
        fo_rmsprop_coef rmsprop
        fo_adam_coef adam
        fo_adamax_coef adamax
        fo_nadam_coef nadam
    ctypedef void (*fo_kernel_f32)(ptrdiff_t, float*, const float*, float*, float*, float*,
                                   const fo_coef*)
    ctypedef void (*fo_kernel_f64)(ptrdiff_t, double*, const double*, double*, double*, double*,
                                   const fo_coef*)
    void fo_sgd_f32(ptrdiff_t, float*, const float*, float*, float*, float*, const fo_coef*)
    void fo_sgd_f64(ptrdiff_t, double*, const double*, double*, double*, double*, const fo_coef*)
    void fo_adagrad_f32(ptrdiff_t, float*, const float*, float*, float*, float*, const fo_coef*)
    void fo_adagrad_f64(ptrdiff_t, double*, const double*, double*, double*, double*,
                        const fo_coef*)
    void fo_adadelta_f32(ptrdiff_t, float*, const float*, float*, float*, float*, const fo_coef*)
    void fo_adadelta_f64(ptrdiff_t, double*, const double*, double*, double*, double*,
                         const fo_coef*)
    void fo_rmsprop_f32(ptrdiff_t, float*, const float*, float*, float*, float*, const fo_coef*)
    void fo_rmsprop_f64(ptrdiff_t, double*, const double*, double*, double*, double*,
                        const fo_coef*)
    void fo_adam_f32(ptrdiff_t, float*, const float*, float*, float*, float*, const fo_coef*)
    void fo_adam_f64(ptrdiff_t, double*, const double*, double*, double*, double*, const fo_coef*)
    void fo_adamax_f32(ptrdiff_t, float*, const float*, float*, float*, float*, const fo_coef*)
    void fo_adamax_f64(ptrdiff_t, double*, const double*, double*, double*, double*,
                       const fo_coef*)
    void fo_nadam_f32(ptrdiff_t, float*, const float*, float*, float*, float*, const fo_coef*)
    void fo_nadam_f64(ptrdiff_t, double*, const double*, double*, double*, double*,
                      const fo_coef*)


cdef inline double _grad_sign(bint maximize) noexcept nogil:
    return -1.0 if maximize else 1.0


cdef inline fo_coef sgd_coef(const SGDHyper* h, bint first) noexcept nogil:
    cdef fo_coef c
    c.sgd.lr = h.lr
    c.sgd.grad_sign = _grad_sign(h.maximize)
    c.sgd.weight_decay = h.weight_decay
    c.sgd.momentum = h.momentum
    c.sgd.keep = 1.0 - h.dampening
    if h.momentum == 0:
        c.sgd.mode = FO_SGD_PLAIN
    elif h.nesterov:
        c.sgd.mode = FO_SGD_NESTEROV
    else:
        c.sgd.mode = FO_SGD_MOMENTUM
    c.sgd.first = first
    return c


cdef inline fo_coef adagrad_coef(const AdagradHyper* h, long long step) noexcept nogil:
    cdef fo_coef c
    c.adagrad.clr = h.lr / (1.0 + (step - 1) * h.lr_decay)
    c.adagrad.grad_sign = _grad_sign(h.maximize)
    c.adagrad.weight_decay = h.weight_decay
    c.adagrad.eps = h.eps
    return c


cdef inline fo_coef adadelta_coef(const AdadeltaHyper* h) noexcept nogil:
    cdef fo_coef c
    c.adadelta.lr = h.lr
    c.adadelta.grad_sign = _grad_sign(h.maximize)
    c.adadelta.weight_decay = h.weight_decay
    c.adadelta.rho = h.rho
    c.adadelta.eps = h.eps
    return c


cdef inline fo_coef rmsprop_coef(const RMSpropHyper* h) noexcept nogil:
    cdef fo_coef c
    c.rmsprop.lr = h.lr
    c.rmsprop.grad_sign = _grad_sign(h.maximize)
    c.rmsprop.weight_decay = h.weight_decay
    c.rmsprop.alpha = h.alpha
    c.rmsprop.eps = h.eps
    c.rmsprop.momentum = h.momentum
    c.rmsprop.centered = h.centered
    return c


cdef inline fo_coef adam_coef(const AdamHyper* h, long long step) noexcept nogil:
    # bias corrections 1 - beta^t; step_size = lr sqrt(bc2) / bc1, eps_hat = eps sqrt(bc2)
    cdef double bc1 = 1.0 - pow(h.beta1, <double>step)
    cdef double bc2_sqrt = sqrt(1.0 - pow(h.beta2, <double>step))
    cdef fo_coef c
    c.adam.grad_sign = _grad_sign(h.maximize)
    c.adam.weight_decay = 0.0 if h.decoupled_weight_decay else h.weight_decay
    c.adam.decay = 1.0 - h.lr * h.weight_decay if h.decoupled_weight_decay else 1.0
    c.adam.beta1 = h.beta1
    c.adam.beta2 = h.beta2
    c.adam.step_size = h.lr * bc2_sqrt / bc1
    c.adam.eps_hat = h.eps * bc2_sqrt
    c.adam.amsgrad = h.amsgrad
    return c


cdef inline fo_coef adamax_coef(const AdamaxHyper* h, long long step) noexcept nogil:
    cdef fo_coef c
    c.adamax.grad_sign = _grad_sign(h.maximize)
    c.adamax.weight_decay = h.weight_decay
    c.adamax.beta1 = h.beta1
    c.adamax.beta2 = h.beta2
    c.adamax.eps = h.eps
    c.adamax.clr = h.lr / (1.0 - pow(h.beta1, <double>step))
    return c


cdef inline double nadam_mu(const NAdamHyper* h, long long step) noexcept nogil:
    # NAdam's momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), psi = momentum_decay
    return h.beta1 * (1.0 - 0.5 * pow(0.96, step * h.momentum_decay))


cdef inline fo_coef nadam_coef(const NAdamHyper* h, long long step,
                               double mu_product) noexcept nogil:
    # mu_product: prod_{i < t} mu_i.  The update uses P_t = mu_product mu_t, P_{t+1} = P_t mu_{t+1}.
    cdef double mu = nadam_mu(h, step), mu_next = nadam_mu(h, step + 1)
    cdef double prod = mu_product * mu
    cdef double bc2_sqrt = sqrt(1.0 - pow(h.beta2, <double>step))
    cdef fo_coef c
    c.nadam.grad_sign = _grad_sign(h.maximize)
    c.nadam.weight_decay = 0.0 if h.decoupled_weight_decay else h.weight_decay
    c.nadam.decay = 1.0 - h.lr * h.weight_decay if h.decoupled_weight_decay else 1.0
    c.nadam.beta1 = h.beta1
    c.nadam.beta2 = h.beta2
    c.nadam.eps_hat = h.eps * bc2_sqrt
    c.nadam.grad_coef = h.lr * (1.0 - mu) / (1.0 - prod) * bc2_sqrt
    c.nadam.avg_coef = h.lr * mu_next / (1.0 - prod * mu_next) * bc2_sqrt
    return c
