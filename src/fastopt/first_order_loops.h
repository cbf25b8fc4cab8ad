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

/* Memory order.  Each kernel runs over blocks of FO_BLOCK_BYTES (512) bytes per array, and
 * within a block every inner loop streams one array (the gradient, then each state array,
 * then the parameter), keeping the block's intermediate values in small local arrays.  The
 * arithmetic per element is exactly that of an element-by-element loop, so the results are
 * bit-identical to it; but the memory system sees bursts of 512 bytes per array instead of
 * 4-7 interleaved streams, which on the project's machine moves the same bytes 20-25% faster
 * from DRAM (DeepSpeed's CPU Adam loads 8 vectors per array at a time for the same reason).
 * Full blocks are run with the compile-time length FO_BLOCK, so the compiler unrolls them
 * completely and keeps the local arrays in vector registers; with a run-time length they
 * would live on the stack and cost ~40% at cache-resident sizes.  The tail is one more
 * block of run-time length.  X_block holds the formula, X_loop walks the blocks. */
#ifndef FO_BLOCK_BYTES
#define FO_BLOCK_BYTES 512
#endif
#undef FO_BLOCK
#define FO_BLOCK ((ptrdiff_t)(FO_BLOCK_BYTES / sizeof(FO_T)))

/* d = -g if maximize else g;  d += wd p  (coupled weight decay) */
#define FO_EFFECTIVE_GRAD(i) (has_wd ? gs * g[i] + wd * p[i] : gs * g[i])

/* ---- SGD:  b <- d (first step) or momentum b + (1 - dampening) d;
 *            d <- d + momentum b (Nesterov) or b;   p <- p - lr d */
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
            grad_avg[i + j] = m;
            r[j] = FO_SQRT(r[j] - m * m) + eps;
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
FO_INLINE void FO_FN(adam_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                 const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT exp_avg,
                                 FO_T *FO_RESTRICT exp_avg_sq, FO_T *FO_RESTRICT max_exp_avg_sq,
                                 const fo_adam_coef *c, const int has_wd, const int amsgrad)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, decay = (FO_T)c->decay;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), w2 = (FO_T)(1.0 - c->beta2);
    const FO_T step_size = (FO_T)c->step_size, eps_hat = (FO_T)c->eps_hat;
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
    for (ptrdiff_t j = 0; j < nb; j++)
        p[i + j] = p[i + j] * decay - (step_size * m[j]) / (FO_SQRT(v[j]) + eps_hat);
}

FO_INLINE void FO_FN(adam_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_avg_sq,
                                FO_T *FO_RESTRICT max_exp_avg_sq, const fo_adam_coef *c,
                                const int has_wd, const int amsgrad)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(adam_block)(i, FO_BLOCK, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, c, has_wd,
                          amsgrad);
    if (i < n)
        FO_FN(adam_block)(i, n - i, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, c, has_wd, amsgrad);
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
FO_INLINE void FO_FN(nadam_block)(const ptrdiff_t i, const ptrdiff_t nb, FO_T *FO_RESTRICT p,
                                  const FO_T *FO_RESTRICT g, FO_T *FO_RESTRICT exp_avg,
                                  FO_T *FO_RESTRICT exp_avg_sq, const fo_nadam_coef *c,
                                  const int has_wd)
{
    const FO_T gs = (FO_T)c->grad_sign, wd = (FO_T)c->weight_decay, decay = (FO_T)c->decay;
    const FO_T b2 = (FO_T)c->beta2, w1 = (FO_T)(1.0 - c->beta1), w2 = (FO_T)(1.0 - c->beta2);
    const FO_T eps_hat = (FO_T)c->eps_hat, cg = (FO_T)c->grad_coef, cm = (FO_T)c->avg_coef;
    FO_T d[FO_BLOCK], m[FO_BLOCK], r[FO_BLOCK];
    for (ptrdiff_t j = 0; j < nb; j++) d[j] = FO_EFFECTIVE_GRAD(i + j);
    for (ptrdiff_t j = 0; j < nb; j++) {
        m[j] = exp_avg[i + j] + w1 * (d[j] - exp_avg[i + j]);
        exp_avg[i + j] = m[j];
    }
    for (ptrdiff_t j = 0; j < nb; j++) {
        const FO_T v = exp_avg_sq[i + j] * b2 + (w2 * d[j]) * d[j];
        exp_avg_sq[i + j] = v;
        r[j] = FO_SQRT(v) + eps_hat;
    }
    for (ptrdiff_t j = 0; j < nb; j++)
        p[i + j] = p[i + j] * decay - (cg * d[j] + cm * m[j]) / r[j];
}

FO_INLINE void FO_FN(nadam_loop)(ptrdiff_t n, FO_T *FO_RESTRICT p, const FO_T *FO_RESTRICT g,
                                 FO_T *FO_RESTRICT exp_avg, FO_T *FO_RESTRICT exp_avg_sq,
                                 const fo_nadam_coef *c, const int has_wd)
{
    ptrdiff_t i = 0;
    for (; i + FO_BLOCK <= n; i += FO_BLOCK)
        FO_FN(nadam_block)(i, FO_BLOCK, p, g, exp_avg, exp_avg_sq, c, has_wd);
    if (i < n) FO_FN(nadam_block)(i, n - i, p, g, exp_avg, exp_avg_sq, c, has_wd);
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
