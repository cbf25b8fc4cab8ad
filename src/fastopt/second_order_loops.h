/* Body of src/fastopt/second_order.h, included once with FO_T = float and once with
 * FO_T = double (FO_FN(name) -> name_f32 / name_f64).  No include guard on purpose. */

/* sum_k a[k] b[k] over one block, in double, 8 independent partial sums */
FO_INLINE double FO_FN(fo_dot_block)(ptrdiff_t len, const FO_T *FO_RESTRICT a,
                                     const FO_T *FO_RESTRICT b)
{
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t k = 0;
    for (; k + 8 <= len; k += 8) {
        for (int j = 0; j < 8; j++) acc[j] += (double)a[k + j] * (double)b[k + j];
    }
    for (; k < len; k++) acc[k & 7] += (double)a[k] * (double)b[k];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* acc[k] += c v[k] over one block (acc is a double block buffer) */
FO_INLINE void FO_FN(fo_axpy_block)(ptrdiff_t len, double c, const FO_T *FO_RESTRICT v,
                                    double *FO_RESTRICT acc)
{
    for (ptrdiff_t k = 0; k < len; k++) acc[k] += c * (double)v[k];
}

FO_CLONES static void FO_FN(fo_multidot_blocks)(ptrdiff_t n, int nv, const FO_T *const *V,
                                                int nw, const FO_T *const *W, double *part,
                                                ptrdiff_t b0, ptrdiff_t b1)
{
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t lo = b * FO_SO_BLOCK;
        const ptrdiff_t len = (n - lo < FO_SO_BLOCK) ? n - lo : FO_SO_BLOCK;
        double *p = part + b * (ptrdiff_t)nv * nw;
        for (int i = 0; i < nv; i++)
            for (int j = 0; j < nw; j++)
                p[i * nw + j] = FO_FN(fo_dot_block)(len, V[i] + lo, W[j] + lo);
    }
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
    nt = fo_so_threads(nb, nt);
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            FO_FN(fo_multidot_blocks)(n, nv, V, nw, W, part, nb * t / T, nb * (t + 1) / T);
        }
    } else {
        FO_FN(fo_multidot_blocks)(n, nv, V, nw, W, part, 0, nb);
    }
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
        for (int i = 0; i < nv; i++)
            if (c[i] != 0.0) FO_FN(fo_axpy_block)(len, c[i], V[i] + lo, acc);
        /* every read of this block is done: out may alias one of the V[i] */
        FO_T *o = out + lo;
        for (ptrdiff_t k = 0; k < len; k++) o[k] = (FO_T)acc[k];
        if (w != NULL) part[b] = FO_FN(fo_dot_block)(len, o, w + lo);
    }
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
    nt = fo_so_threads(nb, nt);
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            FO_FN(fo_combine_blocks)(n, nv, c, V, out, w, part, nb * t / T, nb * (t + 1) / T);
        }
    } else {
        FO_FN(fo_combine_blocks)(n, nv, c, V, out, w, part, 0, nb);
    }
    if (w != NULL) {
        double s = 0.0;
        for (ptrdiff_t b = 0; b < nb; b++) s += part[b];
        *dot = s;
        free(part);
    }
    return 0;
}

/* max_k |v[k]| (NaN if any element is NaN) */
FO_CLONES static double FO_FN(fo_absmax)(ptrdiff_t n, const FO_T *FO_RESTRICT v)
{
    FO_T m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++) {
            FO_T a = v[k + j] < 0 ? -v[k + j] : v[k + j];
            m[j] = FO_MAX_NAN(m[j], a);
        }
    for (; k < n; k++) {
        FO_T a = v[k] < 0 ? -v[k] : v[k];
        m[0] = FO_MAX_NAN(m[0], a);
    }
    FO_T r = m[0];
    for (int j = 1; j < 8; j++) r = FO_MAX_NAN(r, m[j]);
    return (double)r;
}
