/* Body of src/fastopt/second_order.h, included once with FO_T = float and once with
 * FO_T = double (FO_FN(name) -> name_f32 / name_f64).  No include guard on purpose. */

#define FO_LANES_SUM(acc) \
    (((acc)[0] + (acc)[4]) + ((acc)[1] + (acc)[5])) + (((acc)[2] + (acc)[6]) + ((acc)[3] + (acc)[7]))

/* acc[j] += sum of a[k] b[k] over k = j mod 8: a dot product in 8 lanes, which
 * FO_LANES_SUM adds up in a fixed order */
FO_INLINE void FO_FN(fo_dot_lanes)(ptrdiff_t len, const FO_T *FO_RESTRICT a,
                                   const FO_T *FO_RESTRICT b, double *FO_RESTRICT acc)
{
    ptrdiff_t k = 0;
#if FO_SO_VEC
    fo_v4d lo, hi, xa, xb;
    memcpy(&lo, acc, sizeof lo);
    memcpy(&hi, acc + 4, sizeof hi);
    for (; k + 8 <= len; k += 8) {
        FO_FN(fo_load4)(xa, a + k);
        FO_FN(fo_load4)(xb, b + k);
        lo += xa * xb;
        FO_FN(fo_load4)(xa, a + k + 4);
        FO_FN(fo_load4)(xb, b + k + 4);
        hi += xa * xb;
    }
    memcpy(acc, &lo, sizeof lo);
    memcpy(acc + 4, &hi, sizeof hi);
#else
    for (; k + 8 <= len; k += 8)
        for (int j = 0; j < 8; j++) acc[j] += (double)a[k + j] * (double)b[k + j];
#endif
    for (; k < len; k++) acc[k & 7] += (double)a[k] * (double)b[k];
}

/* sum_k a[k] b[k] over one block, in double, 8 independent partial sums (lane j adds up
 * the elements k = j mod 8) */
FO_INLINE double FO_FN(fo_dot_block)(ptrdiff_t len, const FO_T *FO_RESTRICT a,
                                     const FO_T *FO_RESTRICT b)
{
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    FO_FN(fo_dot_lanes)(len, a, b, acc);
    return FO_LANES_SUM(acc);
}

/* acc[k] += c v[k] over one block (acc is a double block buffer) */
FO_INLINE void FO_FN(fo_axpy_block)(ptrdiff_t len, double c, const FO_T *FO_RESTRICT v,
                                    double *FO_RESTRICT acc)
{
    for (ptrdiff_t k = 0; k < len; k++) acc[k] += c * (double)v[k];
}

/* the elements of a cache line */
#define FO_LINE_ELEMS ((ptrdiff_t)(FO_PREFETCH_LINE / sizeof(FO_T)))

/* prefetch the cache lines of v[0 .. len) */
FO_INLINE void FO_FN(fo_prefetch_span)(const FO_T *v, ptrdiff_t len)
{
    for (ptrdiff_t k = 0; k < len; k += FO_LINE_ELEMS) FO_PREFETCH(v + k);
}

/* fo_axpy_block, prefetching the same span of v `ahead` elements further */
FO_INLINE void FO_FN(fo_axpy_block_ahead)(ptrdiff_t len, double c, const FO_T *FO_RESTRICT v,
                                          ptrdiff_t ahead, double *FO_RESTRICT acc)
{
    FO_FN(fo_prefetch_span)(v + ahead, len);
    FO_FN(fo_axpy_block)(len, c, v, acc);
}

FO_CLONES static void FO_FN(fo_multidot_blocks)(ptrdiff_t n, int nv, const FO_T *const *V,
                                                int nw, const FO_T *const *W, double *part,
                                                ptrdiff_t b0, ptrdiff_t b1)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t lo = b * FO_SO_BLOCK;
        const ptrdiff_t len = (n - lo < FO_SO_BLOCK) ? n - lo : FO_SO_BLOCK;
        double *p = part + b * (ptrdiff_t)nv * nw;
        for (ptrdiff_t i = 0; i < nv; i++)
            for (ptrdiff_t j = 0; j < nw; j++)
                p[i * nw + j] = FO_FN(fo_dot_block)(len, V[i] + lo, W[j] + lo);
    }
}

typedef struct {
    ptrdiff_t n, nb;
    int nv, nw;
    const FO_T *const *V, *const *W;
    double *part;
} FO_FN(fo_multidot_job);

static void FO_FN(fo_multidot_chunk)(void *ctx, ptrdiff_t c)
{
    const FO_FN(fo_multidot_job) *j = (const FO_FN(fo_multidot_job) *)ctx;
    FO_FN(fo_multidot_blocks)(j->n, j->nv, j->V, j->nw, j->W, j->part, fo_so_chunk_lo(c, j->nb),
                              fo_so_chunk_lo(c + 1, j->nb));
}

static int FO_FN(fo_multidot)(ptrdiff_t n, int nv, const FO_T *const *V, int nw,
                              const FO_T *const *W, double *out, int nt)
{
    const ptrdiff_t nb = (n + FO_SO_BLOCK - 1) / FO_SO_BLOCK;
    const ptrdiff_t nd = (ptrdiff_t)nv * nw;
    if (nd == 0) return 0;
    for (ptrdiff_t k = 0; k < nd; k++) out[k] = 0.0;
    if (nb == 0) return 0;
    double *part = (double *)malloc(sizeof(double) * (size_t)(nb * nd));
    if (part == NULL) return -1;
    FO_FN(fo_multidot_job) job = {n, nb, nv, nw, V, W, part};
    fo_parallel(fo_so_chunks(nb), fo_so_threads(nb, nt), FO_FN(fo_multidot_chunk), &job);
    for (ptrdiff_t b = 0; b < nb; b++)
        for (ptrdiff_t k = 0; k < nd; k++) out[k] += part[b * nd + k];
    free(part);
    return 0;
}

FO_CLONES static void FO_FN(fo_combine_blocks)(ptrdiff_t n, int nv, const double *c,
                                               const FO_T *const *V, FO_T *out,
                                               const FO_T *w, double *part,
                                               ptrdiff_t b0, ptrdiff_t b1)
{
    double acc[FO_SO_BLOCK];
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t lo = b * FO_SO_BLOCK;
        const ptrdiff_t len = (n - lo < FO_SO_BLOCK) ? n - lo : FO_SO_BLOCK;
        for (ptrdiff_t k = 0; k < len; k++) acc[k] = 0.0;
        for (ptrdiff_t i = 0; i < nv; i++)
            if (c[i] != 0.0) FO_FN(fo_axpy_block)(len, c[i], V[i] + lo, acc);
        /* every read of this block is done: out may alias one of the V[i] */
        FO_T *o = out + lo;
        for (ptrdiff_t k = 0; k < len; k++) o[k] = (FO_T)acc[k];
        if (w != NULL) part[b] = FO_FN(fo_dot_block)(len, o, w + lo);
    }
}

typedef struct {
    ptrdiff_t n, nb;
    int nv;
    const double *c;
    const FO_T *const *V;
    FO_T *out;
    const FO_T *w;
    double *part;
} FO_FN(fo_combine_job);

static void FO_FN(fo_combine_chunk)(void *ctx, ptrdiff_t c)
{
    const FO_FN(fo_combine_job) *j = (const FO_FN(fo_combine_job) *)ctx;
    FO_FN(fo_combine_blocks)(j->n, j->nv, j->c, j->V, j->out, j->w, j->part,
                             fo_so_chunk_lo(c, j->nb), fo_so_chunk_lo(c + 1, j->nb));
}

static int FO_FN(fo_combine)(ptrdiff_t n, int nv, const double *c, const FO_T *const *V,
                             FO_T *out, const FO_T *w, double *dot, int nt)
{
    const ptrdiff_t nb = (n + FO_SO_BLOCK - 1) / FO_SO_BLOCK;
    double *part = NULL;
    if (w != NULL && nb > 0) {
        part = (double *)malloc(sizeof(double) * (size_t)nb);
        if (part == NULL) return -1;
    }
    FO_FN(fo_combine_job) job = {n, nb, nv, c, V, out, w, part};
    fo_parallel(fo_so_chunks(nb), fo_so_threads(nb, nt), FO_FN(fo_combine_chunk), &job);
    if (w != NULL) {
        double s = 0.0;
        for (ptrdiff_t b = 0; b < nb; b++) s += part[b];
        *dot = s;
        free(part);
    }
    return 0;
}

/* |x| by its bits, for a max over |x|: with the sign cleared the IEEE encodings order like
 * the values and every NaN lies above inf, so an unsigned max of these is max |x| with NaN
 * propagated, and it vectorizes (a NaN-aware float max does not: 5x slower than NumPy's
 * abs().max() at 10^6 elements).  fo_abs_value turns such a max back into the number. */
FO_INLINE FO_UT FO_FN(fo_abs_bits)(const FO_T *x)
{
    FO_UT u;
    memcpy(&u, x, sizeof u);
    return u & ((FO_UT)-1 >> 1);
}

FO_INLINE double FO_FN(fo_abs_value)(FO_UT bits)
{
    FO_T x;
    memcpy(&x, &bits, sizeof x);
    return (double)x;
}

/* max_k |v[k]| (NaN if any element is NaN) */
FO_CLONES static double FO_FN(fo_absmax)(ptrdiff_t n, const FO_T *FO_RESTRICT v)
{
    FO_UT m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++) {
            const FO_UT u = FO_FN(fo_abs_bits)(v + k + j);
            m[j] = u > m[j] ? u : m[j];
        }
    for (; k < n; k++) {
        const FO_UT u = FO_FN(fo_abs_bits)(v + k);
        m[0] = u > m[0] ? u : m[0];
    }
    FO_UT r = m[0];
    for (int j = 1; j < 8; j++) r = m[j] > r ? m[j] : r;
    return FO_FN(fo_abs_value)(r);
}

/* ------------------------------------------------------------------ L-BFGS history ---- *
 * The history lives in one buffer H of ns slots, laid out in tiles of T elements
 * (T = FO_LB_TILE, or n when n is smaller): tile t (elements [t T, t T + T) of every
 * vector) holds the ns slots one after the other,
 *     H[(t * ns + slot) * T + k]   = element t T + k of the vector in `slot`,
 * so a pass over the live history reads one contiguous stream, and the tiles of g and y
 * that every history tile is multiplied with stay in L1.  (With separate vectors, or with
 * 2048-element tiles, the same pass ran 2x slower here.)  The dot products still add up
 * in FO_SO_BLOCK-element blocks with 8 lanes each, carried across the tiles of a block, so
 * they equal fo_multidot's bit for bit. */

/* ag[j] += a . g and ay[j] += a . y in lanes, reading a once; g and y are the tile's
 * values as doubles (converted once per tile, not once per history vector) */
FO_INLINE void FO_FN(fo_dot2_lanes)(ptrdiff_t len, const FO_T *FO_RESTRICT a,
                                    const double *FO_RESTRICT g, const double *FO_RESTRICT y,
                                    double *FO_RESTRICT ag, double *FO_RESTRICT ay)
{
    ptrdiff_t k = 0;
#if FO_SO_VEC
    fo_v4d glo, ghi, ylo, yhi, v, w;
    memcpy(&glo, ag, sizeof glo);
    memcpy(&ghi, ag + 4, sizeof ghi);
    memcpy(&ylo, ay, sizeof ylo);
    memcpy(&yhi, ay + 4, sizeof yhi);
    for (; k + 8 <= len; k += 8) {
        FO_FN(fo_load4)(v, a + k);
        fo_load4_f64(w, g + k);
        glo += v * w;
        fo_load4_f64(w, y + k);
        ylo += v * w;
        FO_FN(fo_load4)(v, a + k + 4);
        fo_load4_f64(w, g + k + 4);
        ghi += v * w;
        fo_load4_f64(w, y + k + 4);
        yhi += v * w;
    }
    memcpy(ag, &glo, sizeof glo);
    memcpy(ag + 4, &ghi, sizeof ghi);
    memcpy(ay, &ylo, sizeof ylo);
    memcpy(ay + 4, &yhi, sizeof yhi);
#else
    for (; k + 8 <= len; k += 8)
        for (int j = 0; j < 8; j++) {
            const double v = (double)a[k + j];
            ag[j] += v * g[k + j];
            ay[j] += v * y[k + j];
        }
#endif
    for (; k < len; k++) {
        const double v = (double)a[k];
        ag[k & 7] += v * g[k];
        ay[k & 7] += v * y[k];
    }
}

/* fo_dot2_lanes for two vectors a and b at once, reading g and y once for both: the same
 * sums, lane by lane, as two fo_dot2_lanes calls (la, lb: 16 lanes each, a . g then
 * a . y).  Prefetches a and b `ahead` elements further (the same slots of the next tile). */
FO_INLINE void FO_FN(fo_dot2x2_lanes)(ptrdiff_t len, const FO_T *FO_RESTRICT a,
                                      const FO_T *FO_RESTRICT b, const double *FO_RESTRICT g,
                                      const double *FO_RESTRICT y, double *FO_RESTRICT la,
                                      double *FO_RESTRICT lb, ptrdiff_t ahead)
{
#if FO_SO_VEC
    ptrdiff_t k = 0;
    fo_v4d agl, agh, ayl, ayh, bgl, bgh, byl, byh, w, z, v;
    memcpy(&agl, la, sizeof agl);
    memcpy(&agh, la + 4, sizeof agh);
    memcpy(&ayl, la + 8, sizeof ayl);
    memcpy(&ayh, la + 12, sizeof ayh);
    memcpy(&bgl, lb, sizeof bgl);
    memcpy(&bgh, lb + 4, sizeof bgh);
    memcpy(&byl, lb + 8, sizeof byl);
    memcpy(&byh, lb + 12, sizeof byh);
    for (; k + 8 <= len; k += 8) {
        FO_PREFETCH(a + ahead + k);
        FO_PREFETCH(b + ahead + k);
        fo_load4_f64(w, g + k);
        fo_load4_f64(z, y + k);
        FO_FN(fo_load4)(v, a + k);
        agl += v * w;
        ayl += v * z;
        FO_FN(fo_load4)(v, b + k);
        bgl += v * w;
        byl += v * z;
        fo_load4_f64(w, g + k + 4);
        fo_load4_f64(z, y + k + 4);
        FO_FN(fo_load4)(v, a + k + 4);
        agh += v * w;
        ayh += v * z;
        FO_FN(fo_load4)(v, b + k + 4);
        bgh += v * w;
        byh += v * z;
    }
    memcpy(la, &agl, sizeof agl);
    memcpy(la + 4, &agh, sizeof agh);
    memcpy(la + 8, &ayl, sizeof ayl);
    memcpy(la + 12, &ayh, sizeof ayh);
    memcpy(lb, &bgl, sizeof bgl);
    memcpy(lb + 4, &bgh, sizeof bgh);
    memcpy(lb + 8, &byl, sizeof byl);
    memcpy(lb + 12, &byh, sizeof byh);
    if (k < len) {      /* k is a multiple of 8: the tails' lanes are those of one call */
        FO_FN(fo_dot2_lanes)(len - k, a + k, g + k, y + k, la, la + 8);
        FO_FN(fo_dot2_lanes)(len - k, b + k, g + k, y + k, lb, lb + 8);
    }
#else
    FO_FN(fo_dot2_lanes)(len, a, g, y, la, la + 8);
    FO_FN(fo_dot2_lanes)(len, b, g, y, lb, lb + 8);
#endif
}

/* Blocks [b0, b1) of fo_lbfgs_update; lanes: scratch of 16 nv doubles */
FO_CLONES static void FO_FN(fo_lbfgs_update_blocks)(
    ptrdiff_t n, ptrdiff_t T, FO_T *H, int ns, int nv, const int *slot, int ps, int py,
    const FO_T *x1, const FO_T *x0, const FO_T *g1, const FO_T *g0, double *part,
    double *lanes, ptrdiff_t b0, ptrdiff_t b1)
{
    const ptrdiff_t np = 2 * (ptrdiff_t)nv + 1, ntile = (n + T - 1) / T;
    const ptrdiff_t tpb = T < FO_SO_BLOCK ? FO_SO_BLOCK / T : 1;     /* tiles per block */
    double gt[FO_LB_TILE], yt[FO_LB_TILE];
    for (ptrdiff_t b = b0; b < b1; b++) {
        for (ptrdiff_t k = 0; k < 16 * (ptrdiff_t)nv; k++) lanes[k] = 0.0;
        FO_UT mbits = 0;
        const ptrdiff_t t1 = (b + 1) * tpb < ntile ? (b + 1) * tpb : ntile;
        for (ptrdiff_t t = b * tpb; t < t1; t++) {
            const ptrdiff_t lo = t * T;
            const ptrdiff_t len = fo_lb_tile_len(n, lo, T);
            FO_T *tile = H + t * (ptrdiff_t)ns * T;
            FO_T *FO_RESTRICT s = tile + (ptrdiff_t)ps * T;
            FO_T *FO_RESTRICT y = tile + (ptrdiff_t)py * T;
            const FO_T *FO_RESTRICT a1 = x1 + lo, *FO_RESTRICT a0 = x0 + lo;
            const FO_T *FO_RESTRICT h1 = g1 + lo, *FO_RESTRICT h0 = g0 + lo;
            /* the next tile: of the history (ns T further) and of the four vectors */
            const int more = t + 1 < ntile;
            const ptrdiff_t ahead = more ? (ptrdiff_t)ns * T : 0;
            if (more) {
                const ptrdiff_t next = fo_lb_tile_len(n, lo + T, T);
                FO_FN(fo_prefetch_span)(a1 + T, next);
                FO_FN(fo_prefetch_span)(a0 + T, next);
                FO_FN(fo_prefetch_span)(h1 + T, next);
                FO_FN(fo_prefetch_span)(h0 + T, next);
            }
            for (ptrdiff_t k = 0; k < len; k++) {
                s[k] = (FO_T)((double)a1[k] - (double)a0[k]);
                y[k] = (FO_T)((double)h1[k] - (double)h0[k]);
                const FO_UT u = FO_FN(fo_abs_bits)(h1 + k);   /* max |g| */
                mbits = u > mbits ? u : mbits;
            }
            /* g1 and y of the tile as doubles (exact), for every history vector */
            const double *gd = (const double *)h1, *yd = (const double *)y;
            if (sizeof(FO_T) != sizeof(double)) {
                for (ptrdiff_t k = 0; k < len; k++) {
                    gt[k] = (double)h1[k];
                    yt[k] = (double)y[k];
                }
                gd = gt;
                yd = yt;
            }
            ptrdiff_t i = 0;
            for (; i + 1 < nv; i += 2)
                FO_FN(fo_dot2x2_lanes)(len, tile + (ptrdiff_t)slot[i] * T,
                                       tile + (ptrdiff_t)slot[i + 1] * T, gd, yd,
                                       lanes + 16 * i, lanes + 16 * (i + 1), ahead);
            if (i < nv) {
                FO_FN(fo_prefetch_span)(tile + ahead + (ptrdiff_t)slot[i] * T, len);
                FO_FN(fo_dot2_lanes)(len, tile + (ptrdiff_t)slot[i] * T, gd, yd,
                                     lanes + 16 * i, lanes + 16 * i + 8);
            }
        }
        double *p = part + b * np;
        for (ptrdiff_t i = 0; i < nv; i++) {
            p[2 * i] = FO_LANES_SUM(lanes + 16 * i);
            p[2 * i + 1] = FO_LANES_SUM(lanes + 16 * i + 8);
        }
        p[2 * (ptrdiff_t)nv] = FO_FN(fo_abs_value)(mbits);
    }
}

typedef struct {
    ptrdiff_t n, T, nb;
    FO_T *H;
    int ns, nv, ps, py;
    const int *slot;
    const FO_T *x1, *x0, *g1, *g0;
    double *part, *lanes;
} FO_FN(fo_lbfgs_update_job);

static void FO_FN(fo_lbfgs_update_chunk)(void *ctx, ptrdiff_t c)
{
    const FO_FN(fo_lbfgs_update_job) *j = (const FO_FN(fo_lbfgs_update_job) *)ctx;
    FO_FN(fo_lbfgs_update_blocks)(j->n, j->T, j->H, j->ns, j->nv, j->slot, j->ps, j->py, j->x1,
                                  j->x0, j->g1, j->g0, j->part,
                                  j->lanes + c * 16 * (ptrdiff_t)j->nv,
                                  fo_so_chunk_lo(c, j->nb), fo_so_chunk_lo(c + 1, j->nb));
}

/* The update pass of L-BFGS: writes s = x1 - x0 into slot ps and y = g1 - g0 into slot py,
 * and returns out[2i] = v_i . g1, out[2i + 1] = v_i . y for the nv vectors v_i in slot[]
 * (which may include ps and py), and *gmax = max |g1_k| (NaN if g1 holds a NaN).  One read
 * of the listed slots and of x1, x0, g1, g0, one write of the new pair.  0, or -1 when
 * the scratch memory could not be allocated. */
static int FO_FN(fo_lbfgs_update)(ptrdiff_t n, ptrdiff_t T, FO_T *H, int ns, int nv,
                                  const int *slot, int ps, int py, const FO_T *x1,
                                  const FO_T *x0, const FO_T *g1, const FO_T *g0,
                                  double *out, double *gmax, int nt)
{
    const ptrdiff_t tpb = T < FO_SO_BLOCK ? FO_SO_BLOCK / T : 1;
    const ptrdiff_t nb = ((n + T - 1) / T + tpb - 1) / tpb;
    const ptrdiff_t np = 2 * (ptrdiff_t)nv + 1;
    for (ptrdiff_t k = 0; k < 2 * (ptrdiff_t)nv; k++) out[k] = 0.0;
    *gmax = 0.0;
    if (nb == 0) return 0;
    const ptrdiff_t nc = fo_so_chunks(nb);
    /* per block: the partial sums; per chunk: lane scratch */
    double *part = (double *)malloc(sizeof(double) *
                                    ((size_t)nb * (size_t)np + (size_t)nc * 16 * (size_t)nv + 1));
    if (part == NULL) return -1;
    FO_FN(fo_lbfgs_update_job) job = {n, T, nb, H, ns, nv, ps, py, slot, x1, x0, g1, g0,
                                      part, part + nb * np};
    fo_parallel(nc, fo_so_threads(nb, nt), FO_FN(fo_lbfgs_update_chunk), &job);
    double mx = 0.0;
    for (ptrdiff_t b = 0; b < nb; b++) {
        const double *p = part + b * np;
        for (ptrdiff_t k = 0; k < 2 * (ptrdiff_t)nv; k++) out[k] += p[k];
        mx = FO_MAX_NAN(mx, p[2 * (ptrdiff_t)nv]);
    }
    *gmax = mx;
    free(part);
    return 0;
}

/* Blocks [b0, b1) of fo_lbfgs_direction */
FO_CLONES static void FO_FN(fo_lbfgs_direction_blocks)(
    ptrdiff_t n, ptrdiff_t T, const FO_T *H, int ns, int nv, const int *slot,
    const double *c, double cg, const FO_T *g, FO_T *d, double *part, ptrdiff_t b0,
    ptrdiff_t b1)
{
    double acc[FO_LB_TILE];
    const ptrdiff_t ntile = (n + T - 1) / T;
    const ptrdiff_t tpb = T < FO_SO_BLOCK ? FO_SO_BLOCK / T : 1;
    for (ptrdiff_t b = b0; b < b1; b++) {
        double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        FO_UT mbits = 0;
        const ptrdiff_t t1 = (b + 1) * tpb < ntile ? (b + 1) * tpb : ntile;
        for (ptrdiff_t t = b * tpb; t < t1; t++) {
            const ptrdiff_t lo = t * T;
            const ptrdiff_t len = fo_lb_tile_len(n, lo, T);
            const FO_T *tile = H + t * (ptrdiff_t)ns * T;
            const FO_T *FO_RESTRICT gb = g + lo;
            /* the next tile of the history is ns T further, of g T further */
            const int more = t + 1 < ntile;
            const ptrdiff_t ahead = more ? (ptrdiff_t)ns * T : 0;
            if (more) FO_FN(fo_prefetch_span)(gb + T, fo_lb_tile_len(n, lo + T, T));
            for (ptrdiff_t k = 0; k < len; k++) acc[k] = 0.0;
            if (cg != 0.0) FO_FN(fo_axpy_block)(len, cg, gb, acc);
            ptrdiff_t i = 0;
            for (; i + 4 <= nv; i += 4) {
                if (c[i] != 0.0 && c[i + 1] != 0.0 && c[i + 2] != 0.0 && c[i + 3] != 0.0) {
                    /* the same additions in the same order, acc read and written once */
                    const FO_T *FO_RESTRICT v0 = tile + (ptrdiff_t)slot[i] * T;
                    const FO_T *FO_RESTRICT v1 = tile + (ptrdiff_t)slot[i + 1] * T;
                    const FO_T *FO_RESTRICT v2 = tile + (ptrdiff_t)slot[i + 2] * T;
                    const FO_T *FO_RESTRICT v3 = tile + (ptrdiff_t)slot[i + 3] * T;
                    const double c0 = c[i], c1 = c[i + 1], c2 = c[i + 2], c3 = c[i + 3];
#define FO_AXPY4(k) \
    acc[k] = (((acc[k] + c0 * (double)v0[k]) + c1 * (double)v1[k]) + c2 * (double)v2[k]) \
             + c3 * (double)v3[k]
                    /* 16 elements of each vector at a time (a fixed count, which GCC
                     * vectorizes; a line of doubles, 8, it did not), each vector prefetching
                     * its next tile's lines (spread out so: prefetching them in one burst
                     * per group ran 1.2x slower at 10^6) */
                    ptrdiff_t k0 = 0;
                    for (; k0 + 16 <= len; k0 += 16) {
                        for (ptrdiff_t l = 0; l < 16; l += FO_LINE_ELEMS) {
                            FO_PREFETCH(v0 + ahead + k0 + l);
                            FO_PREFETCH(v1 + ahead + k0 + l);
                            FO_PREFETCH(v2 + ahead + k0 + l);
                            FO_PREFETCH(v3 + ahead + k0 + l);
                        }
                        for (ptrdiff_t k = k0; k < k0 + 16; k++) FO_AXPY4(k);
                    }
                    for (ptrdiff_t k = k0; k < len; k++) FO_AXPY4(k);
#undef FO_AXPY4
                } else {
                    for (ptrdiff_t j = i; j < i + 4; j++)
                        if (c[j] != 0.0)
                            FO_FN(fo_axpy_block_ahead)(len, c[j], tile + (ptrdiff_t)slot[j] * T,
                                                       ahead, acc);
                }
            }
            for (; i < nv; i++)
                if (c[i] != 0.0)
                    FO_FN(fo_axpy_block_ahead)(len, c[i], tile + (ptrdiff_t)slot[i] * T, ahead,
                                               acc);
            FO_T *FO_RESTRICT o = d + lo;
            for (ptrdiff_t k = 0; k < len; k++) {
                o[k] = (FO_T)acc[k];
                const FO_UT u = FO_FN(fo_abs_bits)(o + k);     /* max |d| */
                mbits = u > mbits ? u : mbits;
            }
            FO_FN(fo_dot_lanes)(len, o, gb, lanes);
        }
        part[2 * b] = FO_LANES_SUM(lanes);
        part[2 * b + 1] = FO_FN(fo_abs_value)(mbits);
    }
}

typedef struct {
    ptrdiff_t n, T, nb;
    const FO_T *H;
    int ns, nv;
    const int *slot;
    const double *c;
    double cg;
    const FO_T *g;
    FO_T *d;
    double *part;
} FO_FN(fo_lbfgs_direction_job);

/* The direction pass takes the chunks in the reverse order of the update pass, which
 * runs just before it: it starts on the history the update pass read last, still in the
 * cache.  (Each block's sums are its own and are added in block order: the order the
 * blocks are computed in changes no bit.) */
static void FO_FN(fo_lbfgs_direction_chunk)(void *ctx, ptrdiff_t c)
{
    const FO_FN(fo_lbfgs_direction_job) *j = (const FO_FN(fo_lbfgs_direction_job) *)ctx;
    const ptrdiff_t r = fo_so_chunks(j->nb) - 1 - c;
    FO_FN(fo_lbfgs_direction_blocks)(j->n, j->T, j->H, j->ns, j->nv, j->slot, j->c, j->cg, j->g,
                                     j->d, j->part, fo_so_chunk_lo(r, j->nb),
                                     fo_so_chunk_lo(r + 1, j->nb));
}

/* d = cg g + sum_i c[i] (vector in slot[i]), summed in double in that order and rounded
 * once (as fo_combine); *gtd = g . d and *dmax = max |d_k| (NaN if d holds a NaN).  One
 * read of the listed slots and of g, one write of d.  0, or -1 when the scratch memory
 * could not be allocated. */
static int FO_FN(fo_lbfgs_direction)(ptrdiff_t n, ptrdiff_t T, const FO_T *H, int ns, int nv,
                                     const int *slot, const double *c, double cg,
                                     const FO_T *g, FO_T *d, double *gtd, double *dmax, int nt)
{
    const ptrdiff_t tpb = T < FO_SO_BLOCK ? FO_SO_BLOCK / T : 1;
    const ptrdiff_t nb = ((n + T - 1) / T + tpb - 1) / tpb;
    *gtd = 0.0;
    *dmax = 0.0;
    if (nb == 0) return 0;
    double *part = (double *)malloc(sizeof(double) * 2 * (size_t)nb);
    if (part == NULL) return -1;
    FO_FN(fo_lbfgs_direction_job) job = {n, T, nb, H, ns, nv, slot, c, cg, g, d, part};
    fo_parallel(fo_so_chunks(nb), fo_so_threads(nb, nt), FO_FN(fo_lbfgs_direction_chunk), &job);
    double s = 0.0, mx = 0.0;
    for (ptrdiff_t b = 0; b < nb; b++) {
        s += part[2 * b];
        mx = FO_MAX_NAN(mx, part[2 * b + 1]);
    }
    *gtd = s;
    *dmax = mx;
    free(part);
    return 0;
}
