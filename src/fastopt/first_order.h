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
 * one): the union fo_coef of every coefficient struct, one function per algorithm filling
 * it, and the kernels fo_X_f32 / fo_X_f64 with the common signature fo_kernel_f32 / _f64
 *     (n, param, grad, state0, state1, state2, coef)
 * whose state pointers are the algorithm's state arrays in the order of its fo_X_update
 * (unused ones NULL).  Arrays must not overlap: the loops are restrict-qualified, without
 * which the compiler must assume the parameter write may change the gradient and would not
 * vectorize. */
#ifndef FASTOPT_FIRST_ORDER_H
#define FASTOPT_FIRST_ORDER_H

#include "fastopt/sgd.h"
#include "fastopt/adagrad.h"
#include "fastopt/adadelta.h"
#include "fastopt/rmsprop.h"
#include "fastopt/adam.h"
#include "fastopt/adamax.h"
#include "fastopt/nadam.h"

typedef union {
    fo_sgd_coef sgd;
    fo_adagrad_coef adagrad;
    fo_adadelta_coef adadelta;
    fo_rmsprop_coef rmsprop;
    fo_adam_coef adam;
    fo_adamax_coef adamax;
    fo_nadam_coef nadam;
} fo_coef;

typedef void (*fo_kernel_f32)(ptrdiff_t, float *, const float *, float *, float *, float *,
                              const fo_coef *);
typedef void (*fo_kernel_f64)(ptrdiff_t, double *, const double *, double *, double *,
                              double *, const fo_coef *);

/* The coefficients of one step as the union member of that algorithm. */
static inline fo_coef fo_coef_sgd(const fo_sgd_hyper *h, int first)
{
    fo_coef c;
    c.sgd = fo_sgd_coefficients(h, first);
    return c;
}

static inline fo_coef fo_coef_adagrad(const fo_adagrad_hyper *h, long long step)
{
    fo_coef c;
    c.adagrad = fo_adagrad_coefficients(h, step);
    return c;
}

static inline fo_coef fo_coef_adadelta(const fo_adadelta_hyper *h)
{
    fo_coef c;
    c.adadelta = fo_adadelta_coefficients(h);
    return c;
}

static inline fo_coef fo_coef_rmsprop(const fo_rmsprop_hyper *h)
{
    fo_coef c;
    c.rmsprop = fo_rmsprop_coefficients(h);
    return c;
}

static inline fo_coef fo_coef_adam(const fo_adam_hyper *h, long long step)
{
    fo_coef c;
    c.adam = fo_adam_coefficients(h, step);
    return c;
}

static inline fo_coef fo_coef_adamax(const fo_adamax_hyper *h, long long step)
{
    fo_coef c;
    c.adamax = fo_adamax_coefficients(h, step);
    return c;
}

static inline fo_coef fo_coef_nadam(const fo_nadam_hyper *h, long long step, double mu_product)
{
    fo_coef c;
    c.nadam = fo_nadam_coefficients(h, step, mu_product);
    return c;
}

/* The kernels of the common signature, one per algorithm and element type. */
#define FO_KERNEL(ALGO, SUFFIX, T, CALL)                                                   \
    static inline void fo_##ALGO##_##SUFFIX(ptrdiff_t n, T *p, const T *g, T *s0, T *s1,     \
                                            T *s2, const fo_coef *c)                         \
    {                                                                                        \
        (void)s0; (void)s1; (void)s2;                                                        \
        CALL;                                                                                \
    }
#define FO_KERNELS(SUFFIX, T)                                                                \
    FO_KERNEL(sgd, SUFFIX, T, fo_sgd_update_##SUFFIX(n, p, g, s0, &c->sgd))                  \
    FO_KERNEL(adagrad, SUFFIX, T, fo_adagrad_update_##SUFFIX(n, p, g, s0, &c->adagrad))      \
    FO_KERNEL(adadelta, SUFFIX, T,                                                           \
              fo_adadelta_update_##SUFFIX(n, p, g, s0, s1, &c->adadelta))                    \
    FO_KERNEL(rmsprop, SUFFIX, T,                                                            \
              fo_rmsprop_update_##SUFFIX(n, p, g, s0, s1, s2, &c->rmsprop))                  \
    FO_KERNEL(adam, SUFFIX, T, fo_adam_update_##SUFFIX(n, p, g, s0, s1, s2, &c->adam))       \
    FO_KERNEL(adamax, SUFFIX, T, fo_adamax_update_##SUFFIX(n, p, g, s0, s1, &c->adamax))     \
    FO_KERNEL(nadam, SUFFIX, T, fo_nadam_update_##SUFFIX(n, p, g, s0, s1, &c->nadam))
FO_KERNELS(f32, float)
FO_KERNELS(f64, double)
#undef FO_KERNELS
#undef FO_KERNEL

#endif
