/* Adamax (torch.optim.Adamax; Kingma & Ba 2015, section 7.1), plain C.
 *
 *   d <- -g if maximize else g;  d <- d + weight_decay p
 *   m <- m + (1 - beta1)(d - m);   u <- max(beta2 u, |d| + eps)
 *   p <- p - lr / (1 - beta1^t) m / u
 *
 * fo_adamax_step_f32/_f64 run step t (1-based) over n contiguous elements.  Nothing is
 * checked at this level. */
#ifndef FO_INSTANTIATING
#ifndef FASTOPT_ADAMAX_H
#define FASTOPT_ADAMAX_H

#include "fastopt/fo_common.h"

/* torch.optim.Adamax's hyperparameters, in its signature's order (reals, maximize). */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    int maximize;
} fo_adamax_hyper;

/* torch.optim.Adamax's defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
static inline fo_adamax_hyper fo_adamax_defaults(void)
{
    fo_adamax_hyper h = {2e-3, 0.9, 0.999, 1e-8, 0.0, 0};
    return h;
}

typedef struct {
    double grad_sign; /* first in every coefficient struct (see first_order.h) */
    double weight_decay, beta1, beta2, eps;
    double clr; /* lr / (1 - beta1^t) */
} fo_adamax_coef;

/* Only the first moment is bias-corrected: clr = lr / (1 - beta1^t). */
static inline fo_adamax_coef fo_adamax_coefficients(const fo_adamax_hyper *h, long long step)
{
    fo_adamax_coef c;
    c.grad_sign = fo_grad_sign(h->maximize);
    c.weight_decay = h->weight_decay;
    c.beta1 = h->beta1;
    c.beta2 = h->beta2;
    c.eps = h->eps;
    c.clr = h->lr / (1.0 - pow(h->beta1, (double)step));
    return c;
}

#define FO_TEMPLATE "fastopt/adamax.h"
#include "fastopt/fo_instantiate.h"

#endif /* FASTOPT_ADAMAX_H */
#else  /* FO_INSTANTIATING: the per-element loop for FO_T */

FO_INLINE void FO_FN(adamax_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                   const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT exp_avg,
                                   FO_T *FO_RESTRICT exp_inf, const fo_adamax_coef *c,
                                   const int has_wd)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, eps = (FO_T)c->eps;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), clr = (FO_T)c->clr;
    FO_T d[FO_BLOCK], m[FO_BLOCK], u[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    for (ptrdiff_t j = 0; j < nb; j++) {
        m[j] = exp_avg[i + j] + w1 * (d[j] - exp_avg[i + j]);
        exp_avg[i + j] = m[j];
    }
    for (ptrdiff_t j = 0; j < nb; j++) {
        const FO_T decayed = exp_inf[i + j] * b2, fresh = FO_FABS(d[j]) + eps;
        u[j] = FO_MAX_NAN(decayed, fresh);
        exp_inf[i + j] = u[j];
    }
    for (ptrdiff_t j = 0; j < nb; j++) p[i + j] = p[i + j] - (clr * m[j]) / u[j];
}

FO_INLINE void FO_FN(adamax_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                  FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_inf,
                                  const fo_adamax_coef *c, const int has_wd)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(adamax_block)(i, FO_BLOCK, p, g, exp_avg, exp_inf, c, has_wd);
    if (i < n) FO_FN(adamax_block)(i, n - i, p, g, exp_avg, exp_inf, c, has_wd);
}

FO_CLONES static void FO_FN(fo_adamax_update)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                              const FO_T *FO_RESTRICT g,
                                              FO_T *FO_RESTRICT exp_avg,
                                              FO_T *FO_RESTRICT exp_inf, const fo_adamax_coef *c)
{
    if (c->weight_decay != 0.0) FO_FN(adamax_loop)(n, p, g, exp_avg, exp_inf, c, 1);
    else                        FO_FN(adamax_loop)(n, p, g, exp_avg, exp_inf, c, 0);
}

static inline void FO_FN(fo_adamax_step)(const fo_adamax_hyper *h, long long step, ptrdiff_t n,
                                         FO_T *param, const FO_T *grad, FO_T *exp_avg,
                                         FO_T *exp_inf)
{
    const fo_adamax_coef c = fo_adamax_coefficients(h, step);
    FO_FN(fo_adamax_update)(n, param, grad, exp_avg, exp_inf, &c);
}

#endif /* FO_INSTANTIATING */
