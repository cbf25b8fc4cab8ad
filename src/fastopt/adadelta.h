/* Adadelta (torch.optim.Adadelta; Zeiler 2012), plain C.
 *
 *   d <- -g if maximize else g;  d <- d + weight_decay p
 *   v <- rho v + (1 - rho) d^2;   u <- sqrt(a + eps) / sqrt(v + eps) d;
 *   a <- rho a + (1 - rho) u^2;   p <- p - lr u
 *
 * No per-step schedule: every step uses the same coefficients.  fo_adadelta_step_f32/_f64
 * run one step over n contiguous elements.  Nothing is checked at this level. */
#ifndef FO_INSTANTIATING
#ifndef FASTOPT_ADADELTA_H
#define FASTOPT_ADADELTA_H

#include "fastopt/fo_common.h"

/* torch.optim.Adadelta's hyperparameters, in its signature's order (reals, maximize). */
typedef struct {
    double lr, rho, eps, weight_decay;
    int maximize;
} fo_adadelta_hyper;

/* torch.optim.Adadelta's defaults: lr 1.0, rho 0.9, eps 1e-6, no weight decay. */
static inline fo_adadelta_hyper fo_adadelta_defaults(void)
{
    fo_adadelta_hyper h = {1.0, 0.9, 1e-6, 0.0, 0};
    return h;
}

typedef struct {
    double grad_sign; /* first in every coefficient struct (see first_order.h) */
    double lr, weight_decay, rho, eps;
} fo_adadelta_coef;

static inline fo_adadelta_coef fo_adadelta_coefficients(const fo_adadelta_hyper *h)
{
    fo_adadelta_coef c;
    c.lr = h->lr;
    c.grad_sign = fo_grad_sign(h->maximize);
    c.weight_decay = h->weight_decay;
    c.rho = h->rho;
    c.eps = h->eps;
    return c;
}

#define FO_TEMPLATE "fastopt/adadelta.h"
#include "fastopt/fo_instantiate.h"

#endif /* FASTOPT_ADADELTA_H */
#else  /* FO_INSTANTIATING: the per-element loop for FO_T */

FO_INLINE void FO_FN(adadelta_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                     const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT square_avg,
                                     FO_T *FO_RESTRICT acc_delta, const fo_adadelta_coef *c,
                                     const int has_wd)
{
    const FO_T lr = (FO_T)c->lr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T rho = (FO_T)c->rho, w = (FO_T)(1.0 - c->rho), eps = (FO_T)c->eps;
    FO_T d[FO_BLOCK], r[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    for (ptrdiff_t j = 0; j < nb; j++) {
        const FO_T v = square_avg[i + j] * rho + (w * d[j]) * d[j];
        square_avg[i + j] = v;
        r[j] = FO_SQRT(v + eps);
    }
    for (ptrdiff_t j = 0; j < nb; j++) {  /* d becomes the update u */
        const FO_T u = (FO_SQRT(acc_delta[i + j] + eps) / r[j]) * d[j];
        acc_delta[i + j] = acc_delta[i + j] * rho + (w * u) * u;
        d[j] = u;
    }
    for (ptrdiff_t j = 0; j < nb; j++) p[i + j] = p[i + j] - lr * d[j];
}

FO_INLINE void FO_FN(adadelta_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                    FO_T *FO_RESTRICT square_avg, FO_T *FO_RESTRICT acc_delta,
                                    const fo_adadelta_coef *c, const int has_wd)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(adadelta_block)(i, FO_BLOCK, p, g, square_avg, acc_delta, c, has_wd);
    if (i < n) FO_FN(adadelta_block)(i, n - i, p, g, square_avg, acc_delta, c, has_wd);
}

FO_CLONES static void FO_FN(fo_adadelta_update)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                                const FO_T *FO_RESTRICT g,
                                                FO_T *FO_RESTRICT square_avg,
                                                FO_T *FO_RESTRICT acc_delta,
                                                const fo_adadelta_coef *c)
{
    if (c->weight_decay != 0.0) FO_FN(adadelta_loop)(n, p, g, square_avg, acc_delta, c, 1);
    else                        FO_FN(adadelta_loop)(n, p, g, square_avg, acc_delta, c, 0);
}

/* step is unused (Adadelta has no schedule); it is there for the common signature. */
static inline void FO_FN(fo_adadelta_step)(const fo_adadelta_hyper *h, long long step,
                                           ptrdiff_t n, FO_T *param, const FO_T *grad,
                                           FO_T *square_avg, FO_T *acc_delta)
{
    const fo_adadelta_coef c = fo_adadelta_coefficients(h);
    (void)step;
    FO_FN(fo_adadelta_update)(n, param, grad, square_avg, acc_delta, &c);
}

#endif /* FO_INSTANTIATING */
