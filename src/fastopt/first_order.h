/* fastopt's first-order algorithms behind one kernel signature, plain C (no Python.h).
 *
 * Each algorithm stands whole in its own header (sgd.h, adagrad.h, adadelta.h, rmsprop.h,
 * adam.h, adamax.h, nadam.h): its hyperparameter struct fo_X_hyper with PyTorch's names,
 * fo_X_defaults() with PyTorch's defaults, fo_X_coefficients() (the per-step scalars: bias
 * corrections, schedules, computed once per step in double precision), the per-element
 * loop fo_X_update_f32/_f64 over a coefficient struct, and fo_X_step_f32/_f64, one whole
 * step over one contiguous slice for plain C callers.  Include only the header you need, or
 * this one for all of them.
 *
 * This header adds what a driver that runs any algorithm needs (fastopt's Python layer is
 * one), expanded from the one list of the algorithms, FO_ALGORITHMS: the union fo_coef of
 * every coefficient struct, one function per algorithm filling it, a function scaling the
 * gradient whatever the algorithm, and the kernels fo_X_f32 / fo_X_f64 with the common
 * signature fo_kernel_f32 / _f64
 *     (n, param, grad, state0, state1, state2, coef)
 * whose state pointers are the algorithm's state arrays in the order of its fo_X_update
 * (unused ones NULL).  Arrays must not overlap: the loops are restrict-qualified, without
 * which the compiler must assume the parameter write may change the gradient and would not
 * vectorize. */
#ifndef FASTOPT_FIRST_ORDER_H
#define FASTOPT_FIRST_ORDER_H

/* The headers of the algorithms and their list FO_ALGORITHMS(X), generated from the
 * algorithm table fastopt/_kernels/table.py by the build (setup.py). */
#include "fastopt/fo_algorithms.h"

#define FO_UNPAREN(...) __VA_ARGS__

/* Every coefficient struct starts with double grad_sign (a common initial sequence of the
 * union's members), so a driver can scale the gradient without knowing the algorithm. */
typedef struct {
    double grad_sign;
} fo_coef_common;

#define FO_COEF_MEMBER(ALGO, PARAMS, ARGS, STATES) fo_##ALGO##_coef ALGO;
typedef union {
    fo_coef_common common;
    FO_ALGORITHMS(FO_COEF_MEMBER)
} fo_coef;
#undef FO_COEF_MEMBER

typedef void (*fo_kernel_f32)(ptrdiff_t, float *, const float *, float *, float *, float *,
                              const fo_coef *);
typedef void (*fo_kernel_f64)(ptrdiff_t, double *, const double *, double *, double *,
                              double *, const fo_coef *);

/* fo_coef_X(h, ...): the coefficients of one step as the union member of algorithm X. */
#define FO_COEF_FN(ALGO, PARAMS, ARGS, STATES)                                              \
    static inline fo_coef fo_coef_##ALGO(FO_UNPAREN PARAMS)                                  \
    {                                                                                        \
        fo_coef c;                                                                           \
        c.ALGO = fo_##ALGO##_coefficients(FO_UNPAREN ARGS);                                  \
        return c;                                                                            \
    }
FO_ALGORITHMS(FO_COEF_FN)
#undef FO_COEF_FN

/* Make the kernel step on the gradient g * T(s) instead of g, writing nothing: the kernels
 * compute (T)grad_sign * g first, and with grad_sign = +-1, (T)(grad_sign * s) * g is
 * exactly grad_sign * ((T)s * g). */
static inline void fo_coef_scale_gradients(fo_coef *c, double s)
{
    c->common.grad_sign *= s;
}

/* The kernels fo_X_f32 / fo_X_f64 of the common signature. */
#define FO_KERNEL(ALGO, SUFFIX, T, STATES)                                                 \
    static inline void fo_##ALGO##_##SUFFIX(ptrdiff_t n, T *p, const T *g, T *s0, T *s1,     \
                                            T *s2, const fo_coef *c)                         \
    {                                                                                        \
        (void)s0; (void)s1; (void)s2;                                                        \
        fo_##ALGO##_update_##SUFFIX(n, p, g, FO_UNPAREN STATES &c->ALGO);                    \
    }
#define FO_KERNELS(ALGO, PARAMS, ARGS, STATES)                                             \
    FO_KERNEL(ALGO, f32, float, STATES) FO_KERNEL(ALGO, f64, double, STATES)
FO_ALGORITHMS(FO_KERNELS)
#undef FO_KERNELS
#undef FO_KERNEL

#endif
