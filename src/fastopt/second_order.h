/* Vector kernels of the second-order methods (fastopt/second_order/_vec.pyx): blocked,
 * deterministic multi-dot products and linear combinations, for float and double.
 * Plain C, no Python.h.
 *
 * Every kernel walks the vectors in blocks of FO_SO_BLOCK elements.  A block's dot products
 * are summed in double precision with 8 independent accumulators (so the compiler can keep
 * them in SIMD registers without reassociating anything), and the per-block partial sums
 * are added in block order at the end.  The blocks are grouped into chunks of
 * FO_SO_CHUNK_BLOCKS that the threads of fastopt's pool (src/fastopt/pool.h) claim, so the
 * result is the same bit for bit whatever the number of threads.
 *
 *   fo_multidot_T(n, nv, V, nw, W, out, nt):   out[i*nw + j] = V[i] . W[j]
 *   fo_combine_T(n, nv, c, V, out, w, dot, nt): out = sum_i c[i] V[i]   (out may be one of
 *                                               the V[i]); *dot = out . w when w != NULL
 *
 * A multi-dot reads each V[i] once from memory (the W blocks stay in cache), which is what
 * lets the L-BFGS recursion touch each history vector only twice per iteration.
 * Return value: 0, or -1 when the scratch memory could not be allocated. */
#ifndef FASTOPT_SECOND_ORDER_H
#define FASTOPT_SECOND_ORDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fastopt/pool.h"
#include "fastopt/simd.h"

#define FO_SO_BLOCK 2048
/* Software prefetch, for the L-BFGS passes: each reads 2 m + 2 history slots in turn within
 * a tile, which the hardware prefetchers follow badly (at 10^6 float32 elements and m = 10
 * the update pass ran at 14 GB/s against 42 GB/s of a plain 2-thread read).  Each slot's
 * line is prefetched one tile ahead, as it is read (rw = 0, locality 2: into L2). */
#if defined(__GNUC__) || defined(__clang__)
#define FO_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#else
#define FO_PREFETCH(p) ((void)(p))
#endif
#define FO_PREFETCH_LINE 64
/* the L-BFGS history is stored in tiles of this many elements (see fo_lbfgs_update) */
#define FO_LB_TILE 512

/* the length of the tile of T elements that starts at element lo of n */
static inline ptrdiff_t fo_lb_tile_len(ptrdiff_t n, ptrdiff_t lo, ptrdiff_t T)
{
    return (n - lo < T) ? n - lo : T;
}
/* below this many blocks per thread a kernel uses fewer threads */
#define FO_SO_MIN_BLOCKS_PER_THREAD 8
/* a chunk of the pool is this many blocks (8,192 elements) */
#define FO_SO_CHUNK_BLOCKS 4

static inline ptrdiff_t fo_so_chunks(ptrdiff_t nblocks)
{
    return (nblocks + FO_SO_CHUNK_BLOCKS - 1) / FO_SO_CHUNK_BLOCKS;
}

/* first block of chunk c */
static inline ptrdiff_t fo_so_chunk_lo(ptrdiff_t c, ptrdiff_t nblocks)
{
    const ptrdiff_t b = c * FO_SO_CHUNK_BLOCKS;
    return b < nblocks ? b : nblocks;
}

static inline int fo_so_threads(ptrdiff_t nblocks, int nt)
{
    ptrdiff_t most = nblocks / FO_SO_MIN_BLOCKS_PER_THREAD;
    if (most < 1) most = 1;
    if (nt > most) nt = (int)most;
    return nt < 1 ? 1 : nt;
}

/* Eight lanes of double, held as two vectors of four.  With GCC/Clang the dot kernels use
 * vector extensions: lane j of an accumulator (j < 4: of the low vector, else lane j - 4 of
 * the high one) adds up the elements k = j mod 8, exactly as the scalar fallback's acc[j]
 * does, so both give the same sums bit for bit.  (Left to itself, GCC vectorizes the
 * 8-accumulator loops with permutes and runs them several times slower; and one 8-double
 * vector, wider than an AVX2 register, is kept on the stack between iterations, which made
 * the dot products about 8 times slower than two 4-double vectors.)  */
#if defined(__GNUC__) || defined(__clang__)
#define FO_SO_VEC 1
#include <string.h>
typedef double fo_v4d __attribute__((vector_size(32)));
typedef float fo_v4f __attribute__((vector_size(16)));
/* dst = 4 elements at p, as doubles (macros: no function passes a vector by value).  The
 * floats are converted lane by lane: GCC 12 compiles this to one 4-wide conversion, but
 * __builtin_convertvector to two 2-wide ones and an insert, which made the float32 update
 * pass of L-BFGS about 1.6x slower in cache. */
#define fo_load4_f64(dst, p) memcpy(&(dst), (p), sizeof(fo_v4d))
#define fo_load4_f32(dst, p)                                           \
    do {                                                               \
        fo_v4f fo_tmp_;                                                \
        memcpy(&fo_tmp_, (p), sizeof fo_tmp_);                         \
        (dst) = (fo_v4d){fo_tmp_[0], fo_tmp_[1], fo_tmp_[2], fo_tmp_[3]}; \
    } while (0)
#else
#define FO_SO_VEC 0
#endif

#define FO_T float
#define FO_UT uint32_t
#define FO_FN(name) name##_f32
#include "fastopt/second_order_loops.h"
#undef FO_T
#undef FO_UT
#undef FO_FN

#define FO_T double
#define FO_UT uint64_t
#define FO_FN(name) name##_f64
#include "fastopt/second_order_loops.h"
#undef FO_T
#undef FO_UT
#undef FO_FN

#endif
