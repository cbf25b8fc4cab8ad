/* fastopt first-order kernels: the per-element updates of SGD, Adagrad, Adadelta, RMSprop,
 * Adam/AdamW/AMSGrad, Adamax and NAdam, as plain C (no Python.h).
 *
 * Each kernel makes one pass over a contiguous slice of n elements: it reads the parameter,
 * the gradient and the state once and writes the parameter and the state once.  Everything
 * that does not depend on the element (bias corrections, schedule factors) is computed once
 * per step, in double precision, by the caller and passed in a coefficient struct below; the
 * loop converts each coefficient to the element type once, so the loop body is pure float
 * (or pure double) arithmetic that the compiler vectorizes.
 *
 * All kernels share one signature, fo_kernel_f32 / fo_kernel_f64:
 *     (n, param, grad, state0, state1, state2, coef)
 * with unused state pointers NULL.  The pointers are restrict-qualified: the arrays must not
 * overlap.  Without restrict, the compiler must assume the parameter write may change the
 * gradient and will not vectorize (or will add run-time overlap checks on 5 arrays).
 *
 * The coefficients are filled by fastopt/_kernels/_coef.pxd, next to the formulas they come
 * from; the per-element formulas are in first_order_loops.h. */
#ifndef FASTOPT_FIRST_ORDER_H
#define FASTOPT_FIRST_ORDER_H

#include <math.h>
#include <stddef.h>

#include "fastopt/simd.h"

enum { FO_SGD_PLAIN = 0, FO_SGD_MOMENTUM = 1, FO_SGD_NESTEROV = 2 };

/* In every struct: grad_sign is -1 for maximize, else +1 (a sign flip is exact);
 * weight_decay is the coupled (L2) decay added to the gradient, 0 when there is none. */
typedef struct {
    double lr, grad_sign, weight_decay, momentum, keep; /* keep = 1 - dampening */
    int mode;  /* FO_SGD_* */
    int first; /* 1: the momentum buffer starts as the gradient (PyTorch's first step) */
} fo_sgd_coef;

typedef struct {
    double clr, grad_sign, weight_decay, eps; /* clr = lr / (1 + (t - 1) lr_decay) */
} fo_adagrad_coef;

typedef struct {
    double lr, grad_sign, weight_decay, rho, eps;
} fo_adadelta_coef;

typedef struct {
    double lr, grad_sign, weight_decay, alpha, eps, momentum;
    int centered;
} fo_rmsprop_coef;

typedef struct {
    double grad_sign, weight_decay;
    double decay;     /* decoupled (AdamW) factor 1 - lr wd, else 1 */
    double beta1, beta2;
    double step_size; /* lr sqrt(1 - beta2^t) / (1 - beta1^t) */
    double eps_hat;   /* eps sqrt(1 - beta2^t) */
    int amsgrad;
} fo_adam_coef;

typedef struct {
    double grad_sign, weight_decay, beta1, beta2, eps;
    double clr; /* lr / (1 - beta1^t) */
} fo_adamax_coef;

typedef struct {
    double grad_sign, weight_decay, decay, beta1, beta2;
    double eps_hat;   /* eps sqrt(1 - beta2^t) */
    double grad_coef; /* lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) * sqrt(1 - beta2^t) */
    double avg_coef;  /* lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) * sqrt(1 - beta2^t) */
} fo_nadam_coef;

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

#define FO_T float
#define FO_SQRT sqrtf
#define FO_FABS fabsf
#define FO_FN(name) name##_f32
#include "fastopt/first_order_loops.h"
#undef FO_T
#undef FO_SQRT
#undef FO_FABS
#undef FO_FN

#define FO_T double
#define FO_SQRT sqrt
#define FO_FABS fabs
#define FO_FN(name) name##_f64
#include "fastopt/first_order_loops.h"
#undef FO_T
#undef FO_SQRT
#undef FO_FABS
#undef FO_FN

#endif
