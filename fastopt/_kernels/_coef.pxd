# Internal: what the multi-array driver needs from the C core (src/fastopt/first_order.h)
# whatever the algorithm: the coefficient union fo_coef (opaque here: the per-step
# coefficients are computed in C, where each formula is written once, in the algorithm's
# header), the gradient scaling common to every algorithm, and the kernel signatures
# fo_kernel_f32 / fo_kernel_f64.  Each algorithm's coefficient function and kernels are
# declared from the algorithm table (algorithms_impl.pxi).  Also the OpenMP shim.
from libc.stddef cimport ptrdiff_t

from fastopt.kernels cimport NAdamHyper

cdef extern from "fastopt/omp_shim.h" nogil:
    int omp_get_thread_num()
    int omp_get_num_threads()
    int omp_get_max_threads()
    int FO_HAVE_OPENMP

cdef extern from "fastopt/first_order.h" nogil:
    ctypedef struct fo_coef:
        pass
    ctypedef void (*fo_kernel_f32)(ptrdiff_t, float*, const float*, float*, float*, float*,
                                   const fo_coef*)
    ctypedef void (*fo_kernel_f64)(ptrdiff_t, double*, const double*, double*, double*, double*,
                                   const fo_coef*)
    # The kernel then steps on the gradient g * T(s): every coefficient struct starts with
    # the gradient's sign, which this scales.
    void coef_scale_gradients "fo_coef_scale_gradients"(fo_coef* c, double s)
    # NAdam's momentum schedule mu_t
    double nadam_mu "fo_nadam_mu"(const NAdamHyper* h, long long step)
