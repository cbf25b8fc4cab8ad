/* NAdam (torch.optim.NAdam; Dozat 2016), plain C.
 *
 *   p <- (1 - lr weight_decay) p                    (decoupled_weight_decay)
 *   d <- -g if maximize else g;  d <- d + weight_decay p           (coupled)
 *   m and v as in Adam;   mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay));
 *   P_t = mu_1 ... mu_t;  r = sqrt(v / (1 - beta2^t)) + eps
 *   p <- p - lr (1 - mu_t) / (1 - P_t) d / r - lr mu_{t+1} / (1 - P_{t+1}) m / r
 *
 * The caller keeps the product of the schedule: mu_product = P_{t-1} (1.0 before the first
 * step), advanced after each step with fo_nadam_mu_product.  fo_nadam_step_f32/_f64 run step
 * t (1-based) over n contiguous elements.  Nothing is checked at this level. */
#ifndef FO_INSTANTIATING
#ifndef FASTOPT_NADAM_H
#define FASTOPT_NADAM_H

#include "fastopt/fo_common.h"

/* torch.optim.NAdam's hyperparameters, in its signature's order (reals, betas as beta1 and
 * beta2, then flags, maximize last). */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay, momentum_decay;
    int decoupled_weight_decay, maximize;
} fo_nadam_hyper;

/* torch.optim.NAdam's defaults: lr 2e-3, betas (0.9, 0.999), eps 1e-8, momentum_decay 4e-3. */
static inline fo_nadam_hyper fo_nadam_defaults(void)
{
    fo_nadam_hyper h = {2e-3, 0.9, 0.999, 1e-8, 0.0, 4e-3, 0, 0};
    return h;
}

typedef struct {
    double grad_sign; /* first in every coefficient struct (see first_order.h) */
    double weight_decay, decay, beta1, beta2;
    double eps_hat;   /* eps sqrt(1 - beta2^t) */
    double grad_coef; /* lr (1 - mu_t) / (1 - P_t) sqrt(1 - beta2^t) */
    double avg_coef;  /* lr mu_{t+1} / (1 - P_{t+1}) sqrt(1 - beta2^t) */
    double lr_grad;   /* lr (1 - mu_t) / (1 - P_t)            (the unfolded form) */
    double lr_avg;    /* lr mu_{t+1} / (1 - P_{t+1}) */
    double bc2;       /* 1 - beta2^t */
    double eps;
} fo_nadam_coef;

/* NAdam's momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), psi = momentum_decay. */
static inline double fo_nadam_mu(const fo_nadam_hyper *h, long long step)
{
    return h->beta1 * (1.0 - 0.5 * pow(0.96, step * h->momentum_decay));
}

/* The product of the schedule after `step`, P_t = P_{t-1} mu_t, given P_{t-1}. */
static inline double fo_nadam_mu_product(const fo_nadam_hyper *h, long long step,
                                         double mu_product)
{
    return mu_product * fo_nadam_mu(h, step);
}

/* mu_product = P_{t-1}.  The bias correction of v is folded into the coefficients as for
 * Adam (fastopt/adam.h): r = sqrt(v / bc2) + eps = (sqrt(v) + eps_hat) / sqrt(bc2), so
 *     p <- p - (grad_coef d + avg_coef m) / (sqrt(v) + eps_hat),
 * one division instead of torch's two.  When eps_hat underflows in the array's type the
 * kernel runs torch's unfolded form with lr_grad, lr_avg and bc2 instead. */
static inline fo_nadam_coef fo_nadam_coefficients(const fo_nadam_hyper *h, long long step,
                                                  double mu_product)
{
    const double mu = fo_nadam_mu(h, step), mu_next = fo_nadam_mu(h, step + 1);
    const double prod = mu_product * mu;
    const double bc2 = 1.0 - pow(h->beta2, (double)step);
    const double bc2_sqrt = sqrt(bc2);
    fo_nadam_coef c;
    c.grad_sign = fo_grad_sign(h->maximize);
    c.weight_decay = h->decoupled_weight_decay ? 0.0 : h->weight_decay;
    c.decay = h->decoupled_weight_decay ? 1.0 - h->lr * h->weight_decay : 1.0;
    c.beta1 = h->beta1;
    c.beta2 = h->beta2;
    c.eps_hat = h->eps * bc2_sqrt;
    c.lr_grad = h->lr * (1.0 - mu) / (1.0 - prod);
    c.lr_avg = h->lr * mu_next / (1.0 - prod * mu_next);
    c.grad_coef = c.lr_grad * bc2_sqrt;
    c.avg_coef = c.lr_avg * bc2_sqrt;
    c.bc2 = bc2;
    c.eps = h->eps;
    return c;
}

#define FO_TEMPLATE "fastopt/nadam.h"
#include "fastopt/fo_instantiate.h"

#endif /* FASTOPT_NADAM_H */
#else  /* FO_INSTANTIATING: the per-element loop for FO_T */

FO_INLINE void FO_FN(nadam_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                  const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT exp_avg,
                                  FO_T *FO_RESTRICT exp_avg_sq, const fo_nadam_coef *c,
                                  const int has_wd, const int unfolded)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, decay = (FO_T)c->decay;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), w2 = (FO_T)(1.0 - c->beta2);
    const FO_T eps_hat = (FO_T)c->eps_hat, cg = (FO_T)c->grad_coef, cm = (FO_T)c->avg_coef;
    const FO_T lr_grad = (FO_T)c->lr_grad, lr_avg = (FO_T)c->lr_avg;
    const FO_T bc2 = (FO_T)c->bc2, eps = (FO_T)c->eps;
    FO_T d[FO_BLOCK], m[FO_BLOCK], r[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    for (ptrdiff_t j = 0; j < nb; j++) {
        m[j] = exp_avg[i + j] + w1 * (d[j] - exp_avg[i + j]);
        exp_avg[i + j] = m[j];
    }
    for (ptrdiff_t j = 0; j < nb; j++) {
        const FO_T v = exp_avg_sq[i + j] * b2 + (w2 * d[j]) * d[j];
        exp_avg_sq[i + j] = v;
        r[j] = unfolded ? FO_SQRT(v / bc2) + eps : FO_SQRT(v) + eps_hat;
    }
    if (unfolded) {
        for (ptrdiff_t j = 0; j < nb; j++) {
            const FO_T q = p[i + j] * decay - (lr_grad * d[j]) / r[j];
            p[i + j] = q - (lr_avg * m[j]) / r[j];
        }
    } else {
        for (ptrdiff_t j = 0; j < nb; j++)
            p[i + j] = p[i + j] * decay - (cg * d[j] + cm * m[j]) / r[j];
    }
}

FO_INLINE void FO_FN(nadam_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                 FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_avg_sq,
                                 const fo_nadam_coef *c, const int has_wd, const int unfolded)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(nadam_block)(i, FO_BLOCK, p, g, exp_avg, exp_avg_sq, c, has_wd, unfolded);
    if (i < n) FO_FN(nadam_block)(i, n - i, p, g, exp_avg, exp_avg_sq, c, has_wd, unfolded);
}

FO_CLONES static void FO_FN(fo_nadam_update)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                             const FO_T *FO_RESTRICT g,
                                             FO_T *FO_RESTRICT exp_avg,
                                             FO_T *FO_RESTRICT exp_avg_sq,
                                             const fo_nadam_coef *c)
{
    const int wd = c->weight_decay != 0.0;
    /* eps_hat below the type's smallest normal number: run the unfolded form (see above) */
    const int unfolded = c->eps > 0.0 && c->eps_hat < FO_TINY;
    if (unfolded) {
        if (wd) FO_FN(nadam_loop)(n, p, g, exp_avg, exp_avg_sq, c, 1, 1);
        else    FO_FN(nadam_loop)(n, p, g, exp_avg, exp_avg_sq, c, 0, 1);
    } else {
        if (wd) FO_FN(nadam_loop)(n, p, g, exp_avg, exp_avg_sq, c, 1, 0);
        else    FO_FN(nadam_loop)(n, p, g, exp_avg, exp_avg_sq, c, 0, 0);
    }
}

/* mu_product: P_{t-1}; not updated here (see fo_nadam_mu_product). */
static inline void FO_FN(fo_nadam_step)(const fo_nadam_hyper *h, long long step,
                                        double mu_product, ptrdiff_t n, FO_T *param,
                                        const FO_T *grad, FO_T *exp_avg, FO_T *exp_avg_sq)
{
    const fo_nadam_coef c = fo_nadam_coefficients(h, step, mu_product);
    FO_FN(fo_nadam_update)(n, param, grad, exp_avg, exp_avg_sq, &c);
}

#endif /* FO_INSTANTIATING */
