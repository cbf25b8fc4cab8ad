/* SGD with optional momentum and Nesterov momentum (torch.optim.SGD), plain C.
 *
 *   d <- -g if maximize else g;  d <- d + weight_decay p
 *   b <- d (first step)  or  momentum b + (1 - dampening) d      (momentum != 0)
 *   d <- d + momentum b (Nesterov)  or  b                         (momentum != 0)
 *   p <- p - lr d
 *
 * fo_sgd_step_f32/_f64 run one step over n contiguous elements; momentum_buffer may be NULL
 * when momentum == 0.  Nothing is checked at this level. */
#ifndef FO_INSTANTIATING
#ifndef FASTOPT_SGD_H
#define FASTOPT_SGD_H

#include "fastopt/fo_common.h"

/* torch.optim.SGD's hyperparameters, in its signature's order (reals, flags, maximize). */
typedef struct {
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize;
} fo_sgd_hyper;

/* torch.optim.SGD's defaults: lr 1e-3, no momentum, dampening or weight decay. */
static inline fo_sgd_hyper fo_sgd_defaults(void)
{
    fo_sgd_hyper h = {1e-3, 0.0, 0.0, 0.0, 0, 0};
    return h;
}

enum { FO_SGD_PLAIN = 0, FO_SGD_MOMENTUM = 1, FO_SGD_NESTEROV = 2 };

typedef struct {
    double grad_sign; /* first in every coefficient struct (see first_order.h) */
    double lr, weight_decay, momentum, keep; /* keep = 1 - dampening */
    int mode;  /* FO_SGD_* */
    int first; /* 1: the momentum buffer starts as the gradient (PyTorch's first step) */
} fo_sgd_coef;

/* first: the buffer is new (torch's step 1: b <- d instead of the momentum update). */
static inline fo_sgd_coef fo_sgd_coefficients(const fo_sgd_hyper *h, int first)
{
    fo_sgd_coef c;
    c.lr = h->lr;
    c.grad_sign = fo_grad_sign(h->maximize);
    c.weight_decay = h->weight_decay;
    c.momentum = h->momentum;
    c.keep = 1.0 - h->dampening;
    c.mode = h->momentum == 0 ? FO_SGD_PLAIN : h->nesterov ? FO_SGD_NESTEROV : FO_SGD_MOMENTUM;
    c.first = first;
    return c;
}

#define FO_TEMPLATE "fastopt/sgd.h"
#include "fastopt/fo_instantiate.h"

#endif /* FASTOPT_SGD_H */
#else  /* FO_INSTANTIATING: the per-element loop for FO_T */

FO_INLINE void FO_FN(sgd_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT buf,
                                const fo_sgd_coef *c, const int has_wd, const int mode)
{
    const FO_T lr = (FO_T)c->lr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T mom = (FO_T)c->momentum, keep = (FO_T)c->keep;
    const int first = c->first;
    FO_T d[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    if (mode != FO_SGD_PLAIN) {
        for (ptrdiff_t j = 0; j < nb; j++) {
            const FO_T b = first ? d[j] : mom * buf[i + j] + keep * d[j];
            buf[i + j] = b;
            d[j] = (mode == FO_SGD_NESTEROV) ? d[j] + mom * b : b;
        }
    }
    for (ptrdiff_t j = 0; j < nb; j++) p[i + j] = p[i + j] - lr * d[j];
}

FO_INLINE void FO_FN(sgd_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                               FO_T *FO_RESTRICT buf, const fo_sgd_coef *c, const int has_wd,
                               const int mode)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(sgd_block)(i, FO_BLOCK, p, g, buf, c, has_wd, mode);
    if (i < n) FO_FN(sgd_block)(i, n - i, p, g, buf, c, has_wd, mode);
}

FO_CLONES static void FO_FN(fo_sgd_update)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                           const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT buf,
                                           const fo_sgd_coef *c)
{
    const int wd = c->weight_decay != 0.0;
    if (c->mode == FO_SGD_PLAIN) {
        if (wd) FO_FN(sgd_loop)(n, p, g, buf, c, 1, FO_SGD_PLAIN);
        else    FO_FN(sgd_loop)(n, p, g, buf, c, 0, FO_SGD_PLAIN);
    } else if (c->mode == FO_SGD_MOMENTUM) {
        if (wd) FO_FN(sgd_loop)(n, p, g, buf, c, 1, FO_SGD_MOMENTUM);
        else    FO_FN(sgd_loop)(n, p, g, buf, c, 0, FO_SGD_MOMENTUM);
    } else {
        if (wd) FO_FN(sgd_loop)(n, p, g, buf, c, 1, FO_SGD_NESTEROV);
        else    FO_FN(sgd_loop)(n, p, g, buf, c, 0, FO_SGD_NESTEROV);
    }
}

/* One step (step 1 starts the momentum buffer from the gradient) over n elements. */
static inline void FO_FN(fo_sgd_step)(const fo_sgd_hyper *h, long long step, ptrdiff_t n,
                                      FO_T *param, const FO_T *grad, FO_T *momentum_buffer)
{
    const fo_sgd_coef c = fo_sgd_coefficients(h, step == 1);
    FO_FN(fo_sgd_update)(n, param, grad, momentum_buffer, &c);
}

#endif /* FO_INSTANTIATING */
