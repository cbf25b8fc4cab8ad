/* Gaussian gradient noise from a counter-based generator (Philox4x32-10, fastopt/philox.h).
 *
 * Stream.  The standard normal z[i] of element i of the parameter at position `param`, at
 * noise step `step`, under `seed`, is a function of those four numbers only:
 *
 *   b = i / 2,  (x0, x1, x2, x3) = Philox4x32-10(ctr = (b mod 2^32, b / 2^32, param, step),
 *                                                key = (seed mod 2^32, seed / 2^32))
 *   a = (x0 2^32 + x1) >> 12,  u1 = (a + 1/2) 2^-52                    in (0, 1)
 *   c = (x2 2^32 + x3) >> 11,  q = c >> 51 (0..3),  f = c mod 2^51
 *   theta = q pi/2 + y,  y = (f 2^-51 - 1/2) pi/2                      uniform on a circle
 *   z[2b] = r cos(theta),  z[2b + 1] = r sin(theta),  r = sqrt(-2 log u1)   (Box-Muller)
 *
 * in double.  log, sin y and cos y are computed here (fo_noise_log, fo_noise_sincos: a
 * few-ulp series, with only +, -, *, / and sqrt, which IEEE arithmetic rounds the same way
 * in every SIMD width), not by libm, so that the loops vectorize and every build and CPU of
 * the same compiler flags gives the same bits.  Any element can be drawn alone, so the noise
 * a thread adds to its piece of an array does not depend on the thread count or on where the
 * pieces were cut.  float32 and float64 arrays get the same z; the noise value is
 * T(sigma z) (sigma z rounded once, in double, to the element type T).
 *
 *   fo_noise_normals(seed, step, param, offset, n, z)        z[j] = z[offset + j], j < n
 *   fo_noise_fill_f32/_f64(seed, step, param, offset, n, sigma, out)
 *                                                  out[j] = T(sigma z[offset + j])
 *   fo_noise_add_f32/_f64(spec, param, offset, n, g, out)   out[j] = T(s) g[j] + T(sigma z)
 *   fo_noise_sigma(eta, gamma, t)            sigma_t = sqrt(eta / (1 + t)^gamma)
 *
 * The last one is what an optimizer step with noise runs on each few-KiB block of a
 * gradient: it fills a small buffer that the algorithm's kernel then reads as the gradient
 * (the caller's gradient is only read).  Plain C, no Python.h. */
#ifndef FASTOPT_NOISE_H
#define FASTOPT_NOISE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastopt/philox.h"
#include "fastopt/simd.h"

/* One step's noise: the stream (seed, step), sigma, and the gradient scale s applied first. */
typedef struct {
    uint64_t seed;
    uint32_t step;
    double sigma;
    double scale;
} fo_noise_spec;

/* The annealed standard deviation of Neelakantan et al. (arXiv:1511.06807) at the 0-based
 * noise step t: sigma_t = sqrt(eta / (1 + t)^gamma), in double (libm's pow; 0 where the
 * power overflows).  fastopt.GradientNoise.sigma and the C API's noise_sigma call this. */
static inline double fo_noise_sigma(double eta, double gamma, uint32_t t)
{
    return sqrt(eta / pow(1.0 + (double)t, gamma));
}

/* The double whose bits are u (memcpy: no aliasing issue, compiled to nothing). */
FO_INLINE double fo_noise_bits_to_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* An integer v < 2^52 as a double, exactly, with integer and double operations that
 * vectorize (2^52 + v has v as its mantissa). */
FO_INLINE double fo_noise_u52_to_double(uint64_t v)
{
    return fo_noise_bits_to_double(UINT64_C(0x4330000000000000) | v) - 4503599627370496.0;
}

/* log(u) for u = (a + 1/2) 2^-52, a < 2^52: u = m 2^e with m in [sqrt(1/2), sqrt(2)), and
 * log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its series to s^23. */
FO_INLINE double fo_noise_log(double u)
{
    uint64_t bits;
    memcpy(&bits, &u, sizeof bits);
    const double m1 = fo_noise_bits_to_double((bits & UINT64_C(0x000FFFFFFFFFFFFF)) |
                                              UINT64_C(0x3FF0000000000000)); /* [1, 2) */
    const double e1 = fo_noise_u52_to_double(bits >> 52) - 1023.0;
    const int big = m1 > 1.4142135623730951;
    const double m = big ? 0.5 * m1 : m1;
    const double e = big ? e1 + 1.0 : e1;
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 23;
    p = p * s2 + 1.0 / 21;
    p = p * s2 + 1.0 / 19;
    p = p * s2 + 1.0 / 17;
    p = p * s2 + 1.0 / 15;
    p = p * s2 + 1.0 / 13;
    p = p * s2 + 1.0 / 11;
    p = p * s2 + 1.0 / 9;
    p = p * s2 + 1.0 / 7;
    p = p * s2 + 1.0 / 5;
    p = p * s2 + 1.0 / 3;
    /* ln 2 = LN2_HI + LN2_LO, LN2_HI with trailing zero bits: e LN2_HI is exact */
    return e * 6.93147180369123816490e-01 + (e * 1.90821492927058770002e-10 +
                                             (2.0 * s + 2.0 * s * s2 * p));
}

/* sin y and cos y for |y| <= pi/4, by their Taylor series to y^17 and y^18. */
FO_INLINE void fo_noise_sincos(double y, double *sn, double *cs)
{
    const double y2 = y * y;
    double ps = -1.0 / 355687428096000.0;                 /* -1/17! */
    ps = ps * y2 + 1.0 / 1307674368000.0;
    ps = ps * y2 - 1.0 / 6227020800.0;
    ps = ps * y2 + 1.0 / 39916800.0;
    ps = ps * y2 - 1.0 / 362880.0;
    ps = ps * y2 + 1.0 / 5040.0;
    ps = ps * y2 - 1.0 / 120.0;
    ps = ps * y2 + 1.0 / 6.0;
    double pc = -1.0 / 6402373705728000.0;                /* -1/18! */
    pc = pc * y2 + 1.0 / 20922789888000.0;
    pc = pc * y2 - 1.0 / 87178291200.0;
    pc = pc * y2 + 1.0 / 479001600.0;
    pc = pc * y2 - 1.0 / 3628800.0;
    pc = pc * y2 + 1.0 / 40320.0;
    pc = pc * y2 - 1.0 / 720.0;
    pc = pc * y2 + 1.0 / 24.0;
    pc = pc * y2 - 0.5;
    *sn = y - y * y2 * ps;
    *cs = 1.0 + y2 * pc;
}

/* The normals of one Philox block from its words (see the top of this file). */
FO_INLINE void fo_noise_box_muller(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3,
                                   double *z0, double *z1)
{
    const uint64_t a = ((uint64_t)x0 << 32 | x1) >> 12;
    const uint64_t c = ((uint64_t)x2 << 32 | x3) >> 11;
    const uint64_t q = c >> 51;
    const double u1 = (fo_noise_u52_to_double(a) + 0.5) * 2.220446049250313e-16; /* 2^-52 */
    const double f = fo_noise_u52_to_double(c & ((UINT64_C(1) << 51) - 1)) *
                     4.440892098500626e-16;                                   /* 2^-51 */
    const double y = (f - 0.5) * 1.5707963267948966;                        /* pi/2 */
    const double r = sqrt(-2.0 * fo_noise_log(u1));
    double sn, cs;
    fo_noise_sincos(y, &sn, &cs);
    const double ct = q == 0 ? cs : q == 1 ? -sn : q == 2 ? -cs : sn;   /* cos(q pi/2 + y) */
    const double st = q == 0 ? sn : q == 1 ? cs : q == 2 ? -sn : -cs;   /* sin(q pi/2 + y) */
    *z0 = r * ct;
    *z1 = r * st;
}

/* The normals z[2b], z[2b + 1] of Philox block b. */
FO_INLINE void fo_noise_pair(uint64_t seed, uint32_t step, uint32_t param, uint64_t b,
                             double z[2])
{
    const uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), param, step};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t x[4];
    fo_philox4x32_10(ctr, key, x);
    fo_noise_box_muller(x[0], x[1], x[2], x[3], &z[0], &z[1]);
}

#define FO_NOISE_BATCH 64 /* Philox blocks per vectorized batch */

/* The normals of blocks b0 .. b0 + m - 1 into z[0 .. 2m): the same arithmetic as
 * fo_noise_pair, in batches whose loops the compiler vectorizes. */
FO_CLONES static void fo_noise_blocks(uint64_t seed, uint32_t step, uint32_t param,
                                      uint64_t b0, ptrdiff_t m, double *z)
{
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    uint32_t x0[FO_NOISE_BATCH], x1[FO_NOISE_BATCH], x2[FO_NOISE_BATCH], x3[FO_NOISE_BATCH];
    for (ptrdiff_t j0 = 0; j0 < m; j0 += FO_NOISE_BATCH) {
        const ptrdiff_t nb = m - j0 < FO_NOISE_BATCH ? m - j0 : FO_NOISE_BATCH;
        for (ptrdiff_t j = 0; j < nb; j++) {
            const uint64_t b = b0 + (uint64_t)(j0 + j);
            uint32_t c0 = (uint32_t)b, c1 = (uint32_t)(b >> 32), c2 = param, c3 = step;
            uint32_t r0 = k0, r1 = k1;
            FO_PHILOX_ROUNDS(c0, c1, c2, c3, r0, r1);
            x0[j] = c0;
            x1[j] = c1;
            x2[j] = c2;
            x3[j] = c3;
        }
        for (ptrdiff_t j = 0; j < nb; j++)
            fo_noise_box_muller(x0[j], x1[j], x2[j], x3[j], &z[2 * (j0 + j)],
                                &z[2 * (j0 + j) + 1]);
    }
}

/* z[j] = the normal of element offset + j, for j < n (offset >= 0). */
static inline void fo_noise_normals(uint64_t seed, uint32_t step, uint32_t param,
                                    ptrdiff_t offset, ptrdiff_t n, double *z)
{
    ptrdiff_t j = 0;
    double pair[2];
    if (n <= 0) return;
    if (offset & 1) { /* the odd element of the first pair */
        fo_noise_pair(seed, step, param, (uint64_t)offset >> 1, pair);
        z[j++] = pair[1];
    }
    const ptrdiff_t pairs = (n - j) / 2;
    fo_noise_blocks(seed, step, param, (uint64_t)(offset + j) >> 1, pairs, &z[j]);
    j += 2 * pairs;
    if (j < n) {
        fo_noise_pair(seed, step, param, (uint64_t)(offset + j) >> 1, pair);
        z[j] = pair[0];
    }
}

/* Elements per block of the fill and add functions (their stack buffer: 4 KiB). */
#define FO_NOISE_BLOCK 512

static inline void fo_noise_fill_f64(uint64_t seed, uint32_t step, uint32_t param,
                                     ptrdiff_t offset, ptrdiff_t n, double sigma, double *out)
{
    fo_noise_normals(seed, step, param, offset, n, out);
    for (ptrdiff_t j = 0; j < n; j++) out[j] = sigma * out[j];
}

static inline void fo_noise_fill_f32(uint64_t seed, uint32_t step, uint32_t param,
                                     ptrdiff_t offset, ptrdiff_t n, double sigma, float *out)
{
    double z[FO_NOISE_BLOCK];
    for (ptrdiff_t j = 0; j < n; j += FO_NOISE_BLOCK) {
        const ptrdiff_t m = n - j < FO_NOISE_BLOCK ? n - j : FO_NOISE_BLOCK;
        fo_noise_normals(seed, step, param, offset + j, m, z);
        for (ptrdiff_t k = 0; k < m; k++) out[j + k] = (float)(sigma * z[k]);
    }
}

/* out[j] = T(s) g[j] + T(sigma z[offset + j]): the noisy (and scaled) gradient of a block.
 * With s = 1, T(s) g[j] is g[j] exactly. */
static inline void fo_noise_add_f64(const fo_noise_spec *spec, uint32_t param,
                                    ptrdiff_t offset, ptrdiff_t n, const double *g, double *out)
{
    const double s = spec->scale, sigma = spec->sigma;
    fo_noise_normals(spec->seed, spec->step, param, offset, n, out);
    for (ptrdiff_t j = 0; j < n; j++) out[j] = s * g[j] + sigma * out[j];
}

static inline void fo_noise_add_f32(const fo_noise_spec *spec, uint32_t param,
                                    ptrdiff_t offset, ptrdiff_t n, const float *g, float *out)
{
    const float s = (float)spec->scale;
    const double sigma = spec->sigma;
    double z[FO_NOISE_BLOCK];
    for (ptrdiff_t j = 0; j < n; j += FO_NOISE_BLOCK) {
        const ptrdiff_t m = n - j < FO_NOISE_BLOCK ? n - j : FO_NOISE_BLOCK;
        fo_noise_normals(spec->seed, spec->step, param, offset + j, m, z);
        for (ptrdiff_t k = 0; k < m; k++) out[j + k] = s * g[j + k] + (float)(sigma * z[k]);
    }
}

#endif
