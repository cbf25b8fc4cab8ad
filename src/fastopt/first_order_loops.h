/* The per-element updates, written once for both element types.  Included twice by
 * first_order.h with FO_T = float / double, FO_SQRT, FO_FABS and FO_FN(name) -> name_f32 /
 * name_f64.  No include guard on purpose.
 *
 * Each algorithm is an always-inline loop whose option flags are compile-time constants at
 * every call site, so the dispatcher below it gets one straight-line, vectorized loop per
 * option combination (no per-element branches).  Notation: p parameter, g gradient,
 * d the effective gradient (sign of maximize and coupled weight decay applied).
 * The arithmetic order follows torch.optim's single-tensor code unless a comment says
 * otherwise; addcmul(s, a, b, value=c) is s + (c a) b and addcdiv(s, a, b, value=c) is
 * s + (c a) / b there. */

/* d = -g if maximize else g;  d += wd p  (coupled weight decay) */
#define FO_EFFECTIVE_GRAD(i) (has_wd ? gs * g[i] + wd * p[i] : gs * g[i])

/* ---- SGD:  b <- d (first step) or momentum b + (1 - dampening) d;
 *            d <- d + momentum b (Nesterov) or b;   p <- p - lr d */
FO_INLINE void FO_FN(sgd_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                               FO_T *FO_RESTRICT buf, const fo_sgd_coef *c, const int has_wd,
                               const int mode)
{
    const FO_T lr = (FO_T)c->lr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T mom = (FO_T)c->momentum, keep = (FO_T)c->keep;
    const int first = c->first;
    for (ptrdiff_t i = 0; i < n; i++) {
        FO_T d = FO_EFFECTIVE_GRAD(i);
        if (mode != FO_SGD_PLAIN) {
            const FO_T b = first ? d : mom * buf[i] + keep * d;
            buf[i] = b;
            d = (mode == FO_SGD_NESTEROV) ? d + mom * b : b;
        }
        p[i] = p[i] - lr * d;
    }
}

FO_CLONES static void FO_FN(fo_sgd)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                    FO_T *FO_RESTRICT s0, FO_T *FO_RESTRICT s1,
                                    FO_T *FO_RESTRICT s2, const fo_coef *coef)
{
    const fo_sgd_coef *c = &coef->sgd;
    const int wd = c->weight_decay != 0.0;
    (void)s1; (void)s2;
    if (c->mode == FO_SGD_PLAIN) {
        if (wd) FO_FN(sgd_loop)(n, p, g, s0, c, 1, FO_SGD_PLAIN);
        else    FO_FN(sgd_loop)(n, p, g, s0, c, 0, FO_SGD_PLAIN);
    } else if (c->mode == FO_SGD_MOMENTUM) {
        if (wd) FO_FN(sgd_loop)(n, p, g, s0, c, 1, FO_SGD_MOMENTUM);
        else    FO_FN(sgd_loop)(n, p, g, s0, c, 0, FO_SGD_MOMENTUM);
    } else {
        if (wd) FO_FN(sgd_loop)(n, p, g, s0, c, 1, FO_SGD_NESTEROV);
        else    FO_FN(sgd_loop)(n, p, g, s0, c, 0, FO_SGD_NESTEROV);
    }
}

/* ---- Adagrad:  s <- s + d^2;   p <- p - clr d / (sqrt(s) + eps) */
FO_INLINE void FO_FN(adagrad_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                   FO_T *FO_RESTRICT sum, const fo_adagrad_coef *c,
                                   const int has_wd)
{
    const FO_T clr = (FO_T)c->clr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T eps = (FO_T)c->eps;
    for (ptrdiff_t i = 0; i < n; i++) {
        const FO_T d = FO_EFFECTIVE_GRAD(i);
        const FO_T s = sum[i] + d * d;
        sum[i] = s;
        p[i] = p[i] - (clr * d) / (FO_SQRT(s) + eps);
    }
}

FO_CLONES static void FO_FN(fo_adagrad)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                        const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT s0,
                                        FO_T *FO_RESTRICT s1, FO_T *FO_RESTRICT s2,
                                        const fo_coef *coef)
{
    const fo_adagrad_coef *c = &coef->adagrad;
    (void)s1; (void)s2;
    if (c->weight_decay != 0.0) FO_FN(adagrad_loop)(n, p, g, s0, c, 1);
    else                        FO_FN(adagrad_loop)(n, p, g, s0, c, 0);
}

/* ---- Adadelta:  v <- rho v + (1 - rho) d^2;   u <- sqrt(a + eps) / sqrt(v + eps) d;
 *                 a <- rho a + (1 - rho) u^2;   p <- p - lr u */
FO_INLINE void FO_FN(adadelta_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                    FO_T *FO_RESTRICT square_avg, FO_T *FO_RESTRICT acc_delta,
                                    const fo_adadelta_coef *c, const int has_wd)
{
    const FO_T lr = (FO_T)c->lr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T rho = (FO_T)c->rho, w = (FO_T)(1.0 - c->rho), eps = (FO_T)c->eps;
    for (ptrdiff_t i = 0; i < n; i++) {
        const FO_T d = FO_EFFECTIVE_GRAD(i);
        const FO_T v = square_avg[i] * rho + (w * d) * d;
        const FO_T u = (FO_SQRT(acc_delta[i] + eps) / FO_SQRT(v + eps)) * d;
        square_avg[i] = v;
        acc_delta[i] = acc_delta[i] * rho + (w * u) * u;
        p[i] = p[i] - lr * u;
    }
}

FO_CLONES static void FO_FN(fo_adadelta)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                         const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT s0,
                                         FO_T *FO_RESTRICT s1, FO_T *FO_RESTRICT s2,
                                         const fo_coef *coef)
{
    const fo_adadelta_coef *c = &coef->adadelta;
    (void)s2;
    if (c->weight_decay != 0.0) FO_FN(adadelta_loop)(n, p, g, s0, s1, c, 1);
    else                        FO_FN(adadelta_loop)(n, p, g, s0, s1, c, 0);
}

/* ---- RMSprop:  v <- alpha v + (1 - alpha) d^2;
 *                centered: m <- m + (1 - alpha)(d - m), r = sqrt(v - m^2) + eps; else r = sqrt(v) + eps;
 *                momentum: b <- momentum b + d / r, p <- p - lr b;  else p <- p - lr d / r */
FO_INLINE void FO_FN(rmsprop_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                   FO_T *FO_RESTRICT square_avg, FO_T *FO_RESTRICT buf,
                                   FO_T *FO_RESTRICT grad_avg, const fo_rmsprop_coef *c,
                                   const int has_wd, const int centered, const int has_momentum)
{
    const FO_T lr = (FO_T)c->lr, gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay;
    const FO_T alpha = (FO_T)c->alpha, w = (FO_T)(1.0 - c->alpha), eps = (FO_T)c->eps;
    const FO_T mom = (FO_T)c->momentum;
    for (ptrdiff_t i = 0; i < n; i++) {
        const FO_T d = FO_EFFECTIVE_GRAD(i);
        const FO_T v = square_avg[i] * alpha + (w * d) * d;
        FO_T r;
        square_avg[i] = v;
        if (centered) {
            const FO_T m = grad_avg[i] + w * (d - grad_avg[i]);
            grad_avg[i] = m;
            r = FO_SQRT(v - m * m) + eps;
        } else {
            r = FO_SQRT(v) + eps;
        }
        if (has_momentum) {
            const FO_T b = buf[i] * mom + d / r;
            buf[i] = b;
            p[i] = p[i] - lr * b;
        } else {
            p[i] = p[i] - (lr * d) / r;
        }
    }
}

FO_CLONES static void FO_FN(fo_rmsprop)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                        const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT s0,
                                        FO_T *FO_RESTRICT s1, FO_T *FO_RESTRICT s2,
                                        const fo_coef *coef)
{
    const fo_rmsprop_coef *c = &coef->rmsprop;
    const int wd = c->weight_decay != 0.0, mom = c->momentum > 0.0;
#define FO_RMS(WD, CEN, MOM) FO_FN(rmsprop_loop)(n, p, g, s0, s1, s2, c, WD, CEN, MOM)
    if (c->centered) {
        if (mom) { if (wd) FO_RMS(1, 1, 1); else FO_RMS(0, 1, 1); }
        else     { if (wd) FO_RMS(1, 1, 0); else FO_RMS(0, 1, 0); }
    } else {
        if (mom) { if (wd) FO_RMS(1, 0, 1); else FO_RMS(0, 0, 1); }
        else     { if (wd) FO_RMS(1, 0, 0); else FO_RMS(0, 0, 0); }
    }
#undef FO_RMS
}

/* ---- Adam / AdamW / AMSGrad:
 *   p <- decay p (AdamW);  m <- m + (1 - beta1)(d - m);  v <- beta2 v + (1 - beta2) d^2;
 *   vmax <- max(vmax, v) (AMSGrad, use vmax for v below);
 *   p <- p - lr/(1 - beta1^t) m / (sqrt(v / (1 - beta2^t)) + eps)
 * computed as p - step_size m / (sqrt(v) + eps_hat) with both bias corrections folded into
 * step_size and eps_hat (Kingma & Ba, end of section 2): one division per element instead
 * of torch's two.  Equal in exact arithmetic; differs from torch by rounding only. */
FO_INLINE void FO_FN(adam_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_avg_sq,
                                FO_T *FO_RESTRICT max_exp_avg_sq, const fo_adam_coef *c,
                                const int has_wd, const int amsgrad)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, decay = (FO_T)c->decay;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), w2 = (FO_T)(1.0 - c->beta2);
    const FO_T step_size = (FO_T)c->step_size, eps_hat = (FO_T)c->eps_hat;
    for (ptrdiff_t i = 0; i < n; i++) {
        const FO_T d = FO_EFFECTIVE_GRAD(i);
        const FO_T m = exp_avg[i] + w1 * (d - exp_avg[i]);
        FO_T v = exp_avg_sq[i] * b2 + (w2 * d) * d;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        if (amsgrad) {
            v = FO_MAX_NAN(max_exp_avg_sq[i], v);
            max_exp_avg_sq[i] = v;
        }
        p[i] = p[i] * decay - (step_size * m) / (FO_SQRT(v) + eps_hat);
    }
}

FO_CLONES static void FO_FN(fo_adam)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                     FO_T *FO_RESTRICT s0, FO_T *FO_RESTRICT s1,
                                     FO_T *FO_RESTRICT s2, const fo_coef *coef)
{
    const fo_adam_coef *c = &coef->adam;
    const int wd = c->weight_decay != 0.0;
    if (c->amsgrad) {
        if (wd) FO_FN(adam_loop)(n, p, g, s0, s1, s2, c, 1, 1);
        else    FO_FN(adam_loop)(n, p, g, s0, s1, s2, c, 0, 1);
    } else {
        if (wd) FO_FN(adam_loop)(n, p, g, s0, s1, s2, c, 1, 0);
        else    FO_FN(adam_loop)(n, p, g, s0, s1, s2, c, 0, 0);
    }
}

/* ---- Adamax:  m <- m + (1 - beta1)(d - m);  u <- max(beta2 u, |d| + eps);
 *               p <- p - lr/(1 - beta1^t) m / u */
FO_INLINE void FO_FN(adamax_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                  FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_inf,
                                  const fo_adamax_coef *c, const int has_wd)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, eps = (FO_T)c->eps;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), clr = (FO_T)c->clr;
    for (ptrdiff_t i = 0; i < n; i++) {
        const FO_T d = FO_EFFECTIVE_GRAD(i);
        const FO_T m = exp_avg[i] + w1 * (d - exp_avg[i]);
        const FO_T decayed = exp_inf[i] * b2, fresh = FO_FABS(d) + eps;
        const FO_T u = FO_MAX_NAN(decayed, fresh);
        exp_avg[i] = m;
        exp_inf[i] = u;
        p[i] = p[i] - (clr * m) / u;
    }
}

FO_CLONES static void FO_FN(fo_adamax)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                       const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT s0,
                                       FO_T *FO_RESTRICT s1, FO_T *FO_RESTRICT s2,
                                       const fo_coef *coef)
{
    const fo_adamax_coef *c = &coef->adamax;
    (void)s2;
    if (c->weight_decay != 0.0) FO_FN(adamax_loop)(n, p, g, s0, s1, c, 1);
    else                        FO_FN(adamax_loop)(n, p, g, s0, s1, c, 0);
}

/* ---- NAdam:  p <- decay p (decoupled);  m and v as in Adam;
 *   p <- p - lr (1 - mu_t)/(1 - P_t) d / r - lr mu_{t+1}/(1 - P_{t+1}) m / r,
 *   r = sqrt(v / (1 - beta2^t)) + eps,  P_t = mu_1 ... mu_t.
 * Computed as p - (grad_coef d + avg_coef m) / (sqrt(v) + eps_hat), the bias correction
 * folded into the coefficients as for Adam: one division instead of torch's two. */
FO_INLINE void FO_FN(nadam_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                 FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_avg_sq,
                                 const fo_nadam_coef *c, const int has_wd)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, decay = (FO_T)c->decay;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), w2 = (FO_T)(1.0 - c->beta2);
    const FO_T eps_hat = (FO_T)c->eps_hat, cg = (FO_T)c->grad_coef, cm = (FO_T)c->avg_coef;
    for (ptrdiff_t i = 0; i < n; i++) {
        const FO_T d = FO_EFFECTIVE_GRAD(i);
        const FO_T m = exp_avg[i] + w1 * (d - exp_avg[i]);
        const FO_T v = exp_avg_sq[i] * b2 + (w2 * d) * d;
        exp_avg[i] = m;
        exp_avg_sq[i] = v;
        p[i] = p[i] * decay - (cg * d + cm * m) / (FO_SQRT(v) + eps_hat);
    }
}

FO_CLONES static void FO_FN(fo_nadam)(ptrdiff_t n, FO_T *FO_RESTRICT p,
                                      const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT s0,
                                      FO_T *FO_RESTRICT s1, FO_T *FO_RESTRICT s2,
                                      const fo_coef *coef)
{
    const fo_nadam_coef *c = &coef->nadam;
    (void)s2;
    if (c->weight_decay != 0.0) FO_FN(nadam_loop)(n, p, g, s0, s1, c, 1);
    else                        FO_FN(nadam_loop)(n, p, g, s0, s1, c, 0);
}
