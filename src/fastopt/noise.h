/* Gaussian gradient noise from a counter-based generator (Philox4x32-10, fastopt/philox.h).
 *
 * Stream.  The standard normal z[i] of element i of the parameter at position `param`, at
 * noise step `step`, under `seed`, is a function of those four numbers only:
 *
 *   b = i / 2,  (x0, x1, x2, x3) = Philox4x32-10(ctr = (b mod 2^32, b / 2^32, param, step),
 *                                                key = (seed mod 2^32, seed / 2^32))
 *   u1 = ((x0 2^32 + x1) >> 11 + 1/2) 2^-53   in (0, 1)
 *   u2 = ((x2 2^32 + x3) >> 11) 2^-53         in [0, 1)
 *   z[2b] = r cos(2 pi u2),  z[2b + 1] = r sin(2 pi u2),  r = sqrt(-2 log u1)   (Box-Muller)
 *
 * all in double.  Any element can be drawn alone, so the noise a thread adds to its piece of
 * an array does not depend on the thread count or on where the pieces were cut.  float32
 * and float64 arrays get the same z; the noise value is T(sigma z) (sigma z rounded once, in
 * double, to the element type T).
 *
 *   fo_noise_normals(seed, step, param, offset, n, z)        z[j] = z[offset + j], j < n
 *   fo_noise_fill_f32/_f64(seed, step, param, offset, n, sigma, out)
 *                                                  out[j] = T(sigma z[offset + j])
 *   fo_noise_add_f32/_f64(spec, param, offset, n, g, out)   out[j] = T(s) g[j] + T(sigma z)
 *
 * The last one is what an optimizer step with noise runs on each few-KiB block of a
 * gradient: it fills a small buffer that the algorithm's kernel then reads as the gradient
 * (the caller's gradient is only read).  Plain C, no Python.h; libm's log, sqrt, sin, cos. */
#ifndef FASTOPT_NOISE_H
#define FASTOPT_NOISE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "fastopt/philox.h"

/* One step's noise: the stream (seed, step), sigma, and the gradient scale s applied first. */
typedef struct {
    uint64_t seed;
    uint32_t step;
    double sigma;
    double scale;
} fo_noise_spec;

#define FO_NOISE_2PI 6.283185307179586     /* 2 pi rounded to double */
#define FO_NOISE_2M53 1.1102230246251565e-16 /* 2^-53 */

/* The normals z[2b], z[2b + 1] of Philox block b. */
static inline void fo_noise_pair(uint64_t seed, uint32_t step, uint32_t param, uint64_t b,
                                 double z[2])
{
    const uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), param, step};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t x[4];
    fo_philox4x32_10(ctr, key, x);
    const uint64_t a = ((uint64_t)x[0] << 32 | x[1]) >> 11;
    const uint64_t c = ((uint64_t)x[2] << 32 | x[3]) >> 11;
    const double u1 = ((double)a + 0.5) * FO_NOISE_2M53;
    const double u2 = (double)c * FO_NOISE_2M53;
    const double r = sqrt(-2.0 * log(u1));
    const double theta = FO_NOISE_2PI * u2;
    z[0] = r * cos(theta);
    z[1] = r * sin(theta);
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
    for (; j + 2 <= n; j += 2)
        fo_noise_pair(seed, step, param, (uint64_t)(offset + j) >> 1, &z[j]);
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
