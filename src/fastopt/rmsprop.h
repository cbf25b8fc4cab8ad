/* RMSprop (torch.optim.RMSprop; Hinton's lecture 6e, Graves 2013 for centered), plain C.
 *
 *   d <- -g if maximize else g;  d <- d + weight_decay p
 *   v <- alpha v + (1 - alpha) d^2
 *   centered: m <- m + (1 - alpha)(d - m),  r = sqrt(v - m^2) + eps;   else r = sqrt(v) + eps
 *             (v - m^2 is +inf when v and m^2 both overflow, as in torch)
 *   momentum: b <- momentum b + d / r,  p <- p - lr b;                  else p <- p - lr d / r
 *
 * No per-step schedule.  fo_rmsprop_step_f32/_f64 run one step over n contiguous elements;
 * momentum_buffer may be NULL when momentum == 0, grad_avg NULL unless centered.  Nothing is
 * checked at this level. */
#ifndef FO_INSTANTIATING
#ifndef FASTOPT_RMSPROP_H
#define FASTOPT_RMSPROP_H

#include "fastopt/fo_common.h"

/* torch.optim.RMSprop's hyperparameters, in its signature's order (reals, flags, maximize). */
typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    int centered, maximize;
} fo_rmsprop_hyper;

/* torch.optim.RMSprop's defaults: lr 1e-2, alpha 0.99, eps 1e-8, nothing else. */
static inline fo_rmsprop_hyper fo_rmsprop_defaults(void)
{
    fo_rmsprop_hyper h = {1e-2, 0.99, 1e-8, 0.0, 0.0, 0, 0};
    return h;
}

typedef struct {
    double grad_sign; /* first in every coefficient struct (see first_order.h) */
    double lr, weight_decay, alpha, eps, momentum;
    int centered;
} fo_rmsprop_coef;

static inline fo_rmsprop_coef fo_rmsprop_coefficients(const fo_rmsprop_hyper *h)
{
    fo_rmsprop_coef c;
    c.lr = h->lr;
    c.grad_sign = fo_grad_sign(h->maximize);
    c.weight_decay = h->weight_decay;
    c.alpha = h->alpha;
    c.eps = h->eps;
    c.momentum = h->momentum;
    c.centered = h->centered;
    return c;
}

#define FO_TEMPLATE "fastopt/rmsprop.h"
#include "fastopt/fo_instantiate.h"

#endif /* FASTOPT_RMSPROP_H */
#else  /* FO_INSTANTIATING: the per-element loop for FO_T */

FO_INLINE void FO_FN(rmsprop_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                    const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT square_avg,
                                    FO_T *FO_RESTRICT buf, FO_T *FO_RESTRICT grad_avg,
                                    const fo_rmsprop_coef *c, const int has_wd, const int centered,
                                    const int has_momentum)
{
    const FO_T lr = (FO_T)c->lr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T alpha = (FO_T)c->alpha, w = (FO_T)(1.0 - c->alpha), eps = (FO_T)c->eps;
    const FO_T mom = (FO_T)c->momentum;
    FO_T d[FO_BLOCK], r[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    for (ptrdiff_t j = 0; j < nb; j++) {  /* centered: r holds v until the next loop */
        const FO_T v = square_avg[i + j] * alpha + (w * d[j]) * d[j];
        square_avg[i + j] = v;
        r[j] = centered ? v : FO_SQRT(v) + eps;
    }
    if (centered) {
        for (ptrdiff_t j = 0; j < nb; j++) {
            const FO_T m = grad_avg[i + j] + w * (d[j] - grad_avg[i + j]);
            const FO_T v = r[j], mm = m * m;
            grad_avg[i + j] = m;
            /* v - m^2, except +inf when both v and m^2 overflow (|m| > sqrt of the type's
             * largest number, 1.8e19 in float32): torch rounds v - m m once (a fused
             * multiply-add), so its product does not overflow and it gets +inf, not NaN. */
            r[j] = FO_SQRT(((v == (FO_T)INFINITY) & (mm == (FO_T)INFINITY)) ? v : v - mm) + eps;
        }
    }
    if (has_momentum) {
        for (ptrdiff_t j = 0; j < nb; j++) {
            const FO_T b = buf[i + j] * mom + d[j] / r[j];
            buf[i + j] = b;
            d[j] = b;
        }
        for (ptrdiff_t j = 0; j < nb; j++) p[i + j] = p[i + j] - lr * d[j];
    } else {
        for (ptrdiff_t j = 0; j < nb; j++) p[i + j] = p[i + j] - (lr * d[j]) / r[j];
    }
}

FO_INLINE void FO_FN(rmsprop_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                   FO_T *FO_RESTRICT square_avg, FO_T *FO_RESTRICT buf,
                                   FO_T *FO_RESTRICT grad_avg, const fo_rmsprop_coef *c,
                                   const int has_wd, const int centered, const int has_momentum)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(rmsprop_block)(i, FO_BLOCK, p, g, square_avg, buf, grad_avg, c, has_wd, centered,
                             has_momentum);
    if (i < n)
        FO_FN(rmsprop_block)(i, n - i, p, g, square_avg, buf, grad_avg, c, has_wd, centered,
                             has_momentum);
}

FO_CLONES static void FO_FN(fo_rmsprop_update)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                               const FO_T *FO_RESTRICT g,
                                               FO_T *FO_RESTRICT square_avg,
                                               FO_T *FO_RESTRICT buf, FO_T *FO_RESTRICT grad_avg,
                                               const fo_rmsprop_coef *c)
{
    const int wd = c->weight_decay != 0.0, mom = c->momentum > 0.0;
#define FO_RMS(WD, CEN, MOM) \
    FO_FN(rmsprop_loop)(n, p, g, square_avg, buf, grad_avg, c, WD, CEN, MOM)
    if (c->centered) {
        if (mom) { if (wd) FO_RMS(1, 1, 1); else FO_RMS(0, 1, 1); }
        else     { if (wd) FO_RMS(1, 1, 0); else FO_RMS(0, 1, 0); }
    } else {
        if (mom) { if (wd) FO_RMS(1, 0, 1); else FO_RMS(0, 0, 1); }
        else     { if (wd) FO_RMS(1, 0, 0); else FO_RMS(0, 0, 0); }
    }
#undef FO_RMS
}

/* step is unused (RMSprop has no schedule); it is there for the common signature. */
static inline void FO_FN(fo_rmsprop_step)(const fo_rmsprop_hyper *h, long long step, ptrdiff_t n,
                                          FO_T *param, const FO_T *grad, FO_T *square_avg,
                                          FO_T *momentum_buffer, FO_T *grad_avg)
{
    const fo_rmsprop_coef c = fo_rmsprop_coefficients(h);
    (void)step;
    FO_FN(fo_rmsprop_update)(n, param, grad, square_avg, momentum_buffer, grad_avg, &c);
}

#endif /* FO_INSTANTIATING */
