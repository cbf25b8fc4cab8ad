/* Adam, AdamW and AMSGrad (torch.optim.Adam / AdamW; Kingma & Ba 2015, Loshchilov & Hutter
 * 2019, Reddi et al. 2018), plain C.
 *
 *   p <- (1 - lr weight_decay) p                    (decoupled_weight_decay: AdamW)
 *   d <- -g if maximize else g;  d <- d + weight_decay p           (coupled: Adam)
 *   m <- m + (1 - beta1)(d - m);   v <- beta2 v + (1 - beta2) d^2
 *   vmax <- max(vmax, v), and vmax replaces v below                (amsgrad)
 *   p <- p - lr / (1 - beta1^t) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * fo_adam_step_f32/_f64 run step t (1-based) over n contiguous elements; max_exp_avg_sq may
 * be NULL unless amsgrad.  Nothing is checked at this level. */
#ifndef FO_INSTANTIATING
#ifndef FASTOPT_ADAM_H
#define FASTOPT_ADAM_H

#include "fastopt/fo_common.h"

/* torch.optim.Adam's hyperparameters, in its signature's order (reals, betas as beta1 and
 * beta2, then flags, maximize last). */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    int amsgrad, decoupled_weight_decay, maximize;
} fo_adam_hyper;

/* torch.optim.Adam's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
static inline fo_adam_hyper fo_adam_defaults(void)
{
    fo_adam_hyper h = {1e-3, 0.9, 0.999, 1e-8, 0.0, 0, 0, 0};
    return h;
}

typedef struct {
    double grad_sign; /* first in every coefficient struct (see first_order.h) */
    double weight_decay;
    double decay;     /* decoupled (AdamW) factor 1 - lr wd, else 1 */
    double beta1, beta2;
    double step_size; /* lr sqrt(1 - beta2^t) / (1 - beta1^t) */
    double eps_hat;   /* eps sqrt(1 - beta2^t) */
    double lr_bc1;    /* lr / (1 - beta1^t)      (the unfolded form, see below) */
    double bc2_sqrt;  /* sqrt(1 - beta2^t) */
    double eps;
    int amsgrad;
} fo_adam_coef;

/* Bias-correction folding (Kingma & Ba, end of section 2): with bc1 = 1 - beta1^t and
 * bc2 = 1 - beta2^t,
 *     lr / bc1 m / (sqrt(v) / sqrt(bc2) + eps)  =  step_size m / (sqrt(v) + eps_hat),
 *     step_size = lr sqrt(bc2) / bc1,   eps_hat = eps sqrt(bc2),
 * one division per element instead of torch's two; equal in exact arithmetic, it differs
 * from torch by rounding only.  When eps_hat underflows in the array's type (a tiny valid
 * eps such as 1e-44 in float32), the folded form would give 0 / 0 for a zero gradient
 * where torch keeps the parameter; the kernel then runs torch's unfolded form, with
 * lr_bc1 = lr / bc1 and bc2_sqrt. */
static inline fo_adam_coef fo_adam_coefficients(const fo_adam_hyper *h, long long step)
{
    const double bc1 = 1.0 - pow(h->beta1, (double)step);
    const double bc2_sqrt = sqrt(1.0 - pow(h->beta2, (double)step));
    fo_adam_coef c;
    c.grad_sign = fo_grad_sign(h->maximize);
    c.weight_decay = h->decoupled_weight_decay ? 0.0 : h->weight_decay;
    c.decay = h->decoupled_weight_decay ? 1.0 - h->lr * h->weight_decay : 1.0;
    c.beta1 = h->beta1;
    c.beta2 = h->beta2;
    c.step_size = h->lr * bc2_sqrt / bc1;
    c.eps_hat = h->eps * bc2_sqrt;
    c.lr_bc1 = h->lr / bc1;
    c.bc2_sqrt = bc2_sqrt;
    c.eps = h->eps;
    c.amsgrad = h->amsgrad;
    return c;
}

#define FO_TEMPLATE "fastopt/adam.h"
#include "fastopt/fo_instantiate.h"

#endif /* FASTOPT_ADAM_H */
#else  /* FO_INSTANTIATING: the per-element loop for FO_T */

FO_INLINE void FO_FN(adam_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                 const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT exp_avg,
                                 FO_T *FO_RESTRICT exp_avg_sq, FO_T *FO_RESTRICT max_exp_avg_sq,
                                 const fo_adam_coef *c, const int has_wd, const int amsgrad,
                                 const int unfolded)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, decay = (FO_T)c->decay;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), w2 = (FO_T)(1.0 - c->beta2);
    const FO_T step_size = (FO_T)c->step_size, eps_hat = (FO_T)c->eps_hat;
    const FO_T lr_bc1 = (FO_T)c->lr_bc1, bc2_sqrt = (FO_T)c->bc2_sqrt, eps = (FO_T)c->eps;
    FO_T d[FO_BLOCK], m[FO_BLOCK], v[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    for (ptrdiff_t j = 0; j < nb; j++) {
        m[j] = exp_avg[i + j] + w1 * (d[j] - exp_avg[i + j]);
        exp_avg[i + j] = m[j];
    }
    for (ptrdiff_t j = 0; j < nb; j++) {
        v[j] = exp_avg_sq[i + j] * b2 + (w2 * d[j]) * d[j];
        exp_avg_sq[i + j] = v[j];
    }
    if (amsgrad) {
        for (ptrdiff_t j = 0; j < nb; j++) {
            v[j] = FO_MAX_NAN(max_exp_avg_sq[i + j], v[j]);
            max_exp_avg_sq[i + j] = v[j];
        }
    }
    if (unfolded) {
        for (ptrdiff_t j = 0; j < nb; j++)
            p[i + j] = p[i + j] * decay - (lr_bc1 * m[j]) / (FO_SQRT(v[j]) / bc2_sqrt + eps);
    } else {
        for (ptrdiff_t j = 0; j < nb; j++)
            p[i + j] = p[i + j] * decay - (step_size * m[j]) / (FO_SQRT(v[j]) + eps_hat);
    }
}

FO_INLINE void FO_FN(adam_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_avg_sq,
                                FO_T *FO_RESTRICT max_exp_avg_sq, const fo_adam_coef *c,
                                const int has_wd, const int amsgrad, const int unfolded)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(adam_block)(i, FO_BLOCK, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, c, has_wd,
                          amsgrad, unfolded);
    if (i < n)
        FO_FN(adam_block)(i, n - i, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, c, has_wd,
                          amsgrad, unfolded);
}

FO_CLONES static void FO_FN(fo_adam_update)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                            const FO_T *FO_RESTRICT g,
                                            FO_T *FO_RESTRICT exp_avg,
                                            FO_T *FO_RESTRICT exp_avg_sq,
                                            FO_T *FO_RESTRICT max_exp_avg_sq,
                                            const fo_adam_coef *c)
{
    const int wd = c->weight_decay != 0.0;
    /* eps_hat below the type's smallest normal number: run the unfolded form (see above) */
    const int unfolded = c->eps > 0.0 && c->eps_hat < FO_TINY;
#define FO_ADAM(WD, AMS, UNF) \
    FO_FN(adam_loop)(n, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, c, WD, AMS, UNF)
    if (unfolded) {
        if (c->amsgrad) { if (wd) FO_ADAM(1, 1, 1); else FO_ADAM(0, 1, 1); }
        else            { if (wd) FO_ADAM(1, 0, 1); else FO_ADAM(0, 0, 1); }
    } else {
        if (c->amsgrad) { if (wd) FO_ADAM(1, 1, 0); else FO_ADAM(0, 1, 0); }
        else            { if (wd) FO_ADAM(1, 0, 0); else FO_ADAM(0, 0, 0); }
    }
#undef FO_ADAM
}

static inline void FO_FN(fo_adam_step)(const fo_adam_hyper *h, long long step, ptrdiff_t n,
                                       FO_T *param, const FO_T *grad, FO_T *exp_avg,
                                       FO_T *exp_avg_sq, FO_T *max_exp_avg_sq)
{
    const fo_adam_coef c = fo_adam_coefficients(h, step);
    FO_FN(fo_adam_update)(n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, &c);
}

#endif /* FO_INSTANTIATING */
