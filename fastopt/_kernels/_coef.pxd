# Internal: what the multi-array driver needs from the C core (src/fastopt/first_order.h):
# the coefficient union fo_coef, the per-step coefficients of each algorithm as that union
# (computed in C, where each formula is written once, in the algorithm's header), and the
# kernels of the common signature fo_kernel_f32 / fo_kernel_f64.  Also the OpenMP shim.
from libc.stddef cimport ptrdiff_t

from fastopt.kernels cimport (
    AdadeltaHyper, AdagradHyper, AdamaxHyper, AdamHyper, NAdamHyper, RMSpropHyper, SGDHyper,
)

cdef extern from "fastopt/omp_shim.h" nogil:
    int omp_get_thread_num()
    int omp_get_num_threads()
    int omp_get_max_threads()
    int FO_HAVE_OPENMP

cdef extern from "fastopt/first_order.h" nogil:
    # The coefficient structs' fields (read-only for the driver, except grad_sign, which it
    # may scale: the kernels compute (T)grad_sign * g first).
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
        double grad_sign, weight_decay, decay, beta1, beta2, step_size, eps_hat, lr_bc1
        double bc2_sqrt, eps
        int amsgrad
    ctypedef struct fo_adamax_coef:
        double grad_sign, weight_decay, beta1, beta2, eps, clr
    ctypedef struct fo_nadam_coef:
        double grad_sign, weight_decay, decay, beta1, beta2, eps_hat, grad_coef, avg_coef
        double lr_grad, lr_avg, bc2, eps
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

    fo_coef sgd_coef "fo_coef_sgd"(const SGDHyper* h, bint first)
    fo_coef adagrad_coef "fo_coef_adagrad"(const AdagradHyper* h, long long step)
    fo_coef adadelta_coef "fo_coef_adadelta"(const AdadeltaHyper* h)
    fo_coef rmsprop_coef "fo_coef_rmsprop"(const RMSpropHyper* h)
    fo_coef adam_coef "fo_coef_adam"(const AdamHyper* h, long long step)
    fo_coef adamax_coef "fo_coef_adamax"(const AdamaxHyper* h, long long step)
    # mu_product = prod_{i < t} mu_i, the product of the schedule before step t
    fo_coef nadam_coef "fo_coef_nadam"(const NAdamHyper* h, long long step, double mu_product)
    # NAdam's momentum schedule mu_t
    double nadam_mu "fo_nadam_mu"(const NAdamHyper* h, long long step)

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
