/* The memory-bandwidth bound of a first-order step: a STREAM-style loop with the access
 * pattern of an optimizer that updates w arrays in place from one read-only gradient,
 *
 *     x_k[i] = a x_k[i] + b g[i]        for k < w,
 *
 * so it reads w + 1 arrays and writes w: (2 w + 1) elements per index.  Adam (p, m, v written,
 * g read) is w = 3, 28 bytes per float32 parameter; SGD with momentum and Adagrad are w = 2,
 * plain SGD w = 1, AMSGrad w = 4.  The benchmark calls it with a = 1, b = 0, which leaves the
 * data unchanged (for finite g) yet still loads and stores every element, so it can run on the
 * optimizer's own arrays.  a and b are run-time values: the compiler cannot drop the work.
 *
 * Built like the kernels of first_order.h, so the bound is what the same compiler, flags and
 * ISA clones can reach: restrict-qualified pointers (without them the compiler must assume a
 * store to x_0 changes g and will not vectorize), w a compile-time constant at each call site
 * of the always-inline loop, and FO_CLONES for AVX-512 / AVX2 / baseline.  The benchmark's
 * Cython driver (fastopt/benchmarks/_bound.pyx) splits the elements across OpenMP threads the
 * way fastopt/_kernels/_step.pyx does.  Plain C, no Python.h.
 *
 * The loop runs in blocks of 128 elements, one array after another within a block (the
 * compiler vectorizes and fully unrolls each inner loop: 8 AVX-512 vectors, 512 bytes, per
 * array in a burst).  Measured on the project's 2-core AMD EPYC, Adam's pattern at 33,554,432
 * float32 elements (one interleaved run, shared machine): 12.2 ms (2 threads) and 24.7 ms
 * (1 thread) blocked, against 21.3 ms and 42.2 ms for the plain element-by-element loop; a
 * later, busier run gave 18.4 ms blocked.  The plain loop is not the machine's limit:
 * DeepSpeed's CPU Adam, which loads 8 vectors per array at a time, beat it by 15-35%. */
#ifndef FASTOPT_STREAM_BOUND_H
#define FASTOPT_STREAM_BOUND_H

#include <stddef.h>

#include "fastopt/simd.h"

#define FO_STREAM_MAX_WRITES 4

#define FO_STREAM_DEFINE(T, SUFFIX)                                                          \
    FO_INLINE void fo_stream_loop_##SUFFIX(ptrdiff_t n, T *FO_RESTRICT x0, T *FO_RESTRICT x1, \
                                           T *FO_RESTRICT x2, T *FO_RESTRICT x3,             \
                                           const T *FO_RESTRICT g, const T a, const T b,     \
                                           const int w)                                      \
    {                                                                                        \
        ptrdiff_t i = 0;                                                                     \
        for (; i + 128 <= n; i += 128) {                                                     \
            T d[128];                                                                        \
            for (int j = 0; j < 128; j++) d[j] = b * g[i + j];                               \
            for (int j = 0; j < 128; j++) x0[i + j] = a * x0[i + j] + d[j];                  \
            if (w > 1) for (int j = 0; j < 128; j++) x1[i + j] = a * x1[i + j] + d[j];       \
            if (w > 2) for (int j = 0; j < 128; j++) x2[i + j] = a * x2[i + j] + d[j];       \
            if (w > 3) for (int j = 0; j < 128; j++) x3[i + j] = a * x3[i + j] + d[j];       \
        }                                                                                    \
        for (; i < n; i++) {                                                                 \
            const T d = b * g[i];                                                            \
            x0[i] = a * x0[i] + d;                                                           \
            if (w > 1) x1[i] = a * x1[i] + d;                                                \
            if (w > 2) x2[i] = a * x2[i] + d;                                                \
            if (w > 3) x3[i] = a * x3[i] + d;                                                \
        }                                                                                    \
    }                                                                                        \
                                                                                             \
    /* x[0..w-1]: the written arrays (w in 1..4), g: the read-only one. */                   \
    FO_CLONES static void fo_stream_##SUFFIX(ptrdiff_t n, int w, T *const *x, const T *g,     \
                                             double a, double b)                             \
    {                                                                                        \
        const T ta = (T)a, tb = (T)b;                                                        \
        switch (w) {                                                                         \
        case 1: fo_stream_loop_##SUFFIX(n, x[0], NULL, NULL, NULL, g, ta, tb, 1); break;     \
        case 2: fo_stream_loop_##SUFFIX(n, x[0], x[1], NULL, NULL, g, ta, tb, 2); break;     \
        case 3: fo_stream_loop_##SUFFIX(n, x[0], x[1], x[2], NULL, g, ta, tb, 3); break;     \
        default: fo_stream_loop_##SUFFIX(n, x[0], x[1], x[2], x[3], g, ta, tb, 4); break;    \
        }                                                                                    \
    }

FO_STREAM_DEFINE(float, f32)
FO_STREAM_DEFINE(double, f64)
#undef FO_STREAM_DEFINE

#endif
