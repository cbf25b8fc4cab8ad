/* Adagrad (torch.optim.Adagrad; Duchi, Hazan & Singer 2011), plain C.
 *
 *   d <- -g if maximize else g;  d <- d + weight_decay p
 *   s <- s + d^2;   p <- p - clr d / (sqrt(s) + eps),   clr = lr / (1 + (t - 1) lr_decay)
 *
 * torch's initial_accumulator_value is where the caller's state_sum starts (not a step
 * parameter).  fo_adagrad_step_f32/_f64 run step t over n contiguous elements.  Nothing is
 * checked at this level. */
#ifndef FO_INSTANTIATING
#ifndef FASTOPT_ADAGRAD_H
#define FASTOPT_ADAGRAD_H

#include "fastopt/fo_common.h"

/* torch.optim.Adagrad's hyperparameters, in its signature's order (reals, maximize). */
typedef struct {
    double lr, lr_decay, weight_decay, eps;
    int maximize;
} fo_adagrad_hyper;

/* torch.optim.Adagrad's defaults: lr 1e-2, eps 1e-10, no lr decay or weight decay. */
static inline fo_adagrad_hyper fo_adagrad_defaults(void)
{
    fo_adagrad_hyper h = {1e-2, 0.0, 0.0, 1e-10, 0};
    return h;
}

typedef struct {
    double grad_sign; /* first in every coefficient struct (see first_order.h) */
    double clr, weight_decay, eps;
} fo_adagrad_coef;

/* The learning-rate schedule clr = lr / (1 + (t - 1) lr_decay) at step t (1-based). */
static inline fo_adagrad_coef fo_adagrad_coefficients(const fo_adagrad_hyper *h,
                                                      long long step)
{
    fo_adagrad_coef c;
    c.clr = h->lr / (1.0 + (step - 1) * h->lr_decay);
    c.grad_sign = fo_grad_sign(h->maximize);
    c.weight_decay = h->weight_decay;
    c.eps = h->eps;
    return c;
}

#define FO_TEMPLATE "fastopt/adagrad.h"
#include "fastopt/fo_instantiate.h"

#endif /* FASTOPT_ADAGRAD_H */
#else  /* FO_INSTANTIATING: the per-element loop for FO_T */

FO_INLINE void FO_FN(adagrad_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                    const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT sum,
                                    const fo_adagrad_coef *c, const int has_wd)
{
    const FO_T clr = (FO_T)c->clr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T eps = (FO_T)c->eps;
    FO_T d[FO_BLOCK], r[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    for (ptrdiff_t j = 0; j < nb; j++) {
        const FO_T s = sum[i + j] + d[j] * d[j];
        sum[i + j] = s;
        r[j] = FO_SQRT(s) + eps;
    }
    for (ptrdiff_t j = 0; j < nb; j++) p[i + j] = p[i + j] - (clr * d[j]) / r[j];
}

FO_INLINE void FO_FN(adagrad_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                   FO_T *FO_RESTRICT sum, const fo_adagrad_coef *c,
                                   const int has_wd)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(adagrad_block)(i, FO_BLOCK, p, g, sum, c, has_wd);
    if (i < n) FO_FN(adagrad_block)(i, n - i, p, g, sum, c, has_wd);
}

FO_CLONES static void FO_FN(fo_adagrad_update)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                               const FO_T *FO_RESTRICT g,
                                               FO_T *FO_RESTRICT sum, const fo_adagrad_coef *c)
{
    if (c->weight_decay != 0.0) FO_FN(adagrad_loop)(n, p, g, sum, c, 1);
    else                        FO_FN(adagrad_loop)(n, p, g, sum, c, 0);
}

static inline void FO_FN(fo_adagrad_step)(const fo_adagrad_hyper *h, long long step, ptrdiff_t n,
                                          FO_T *param, const FO_T *grad, FO_T *state_sum)
{
    const fo_adagrad_coef c = fo_adagrad_coefficients(h, step);
    FO_FN(fo_adagrad_update)(n, param, grad, state_sum, &c);
}

#endif /* FO_INSTANTIATING */
