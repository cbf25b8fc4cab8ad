/* What every first-order algorithm header (sgd.h ... nadam.h) shares: the includes, the
 * memory-order block size, the effective-gradient expression and the sign of maximize.
 * Plain C, no Python.h.
 *
 * Memory order.  Each kernel runs over blocks of FO_BLOCK_BYTES (512) bytes per array, and
 * within a block every inner loop streams one array (the gradient, then each state array,
 * then the parameter), keeping the block's intermediate values in small local arrays.  The
 * arithmetic per element is exactly that of an element-by-element loop, so the results are
 * bit-identical to it; but the memory system sees bursts of 512 bytes per array instead of
 * 4-7 interleaved streams, which on the project's machine moves the same bytes 20-25% faster
 * from DRAM (DeepSpeed's CPU Adam loads 8 vectors per array at a time for the same reason).
 * Full blocks are run with the compile-time length FO_BLOCK, so the compiler unrolls them
 * completely and keeps the local arrays in vector registers; with a run-time length they
 * would live on the stack and cost ~40% at cache-resident sizes.  The tail is one more
 * block of run-time length.  In each algorithm, X_block holds the formula, X_loop walks the
 * blocks and the FO_CLONES function X_update picks the loop for the options at run time.
 *
 * Notation in the per-element code: p parameter, g gradient, d the effective gradient (sign
 * of maximize and coupled weight decay applied).  The arithmetic order follows
 * torch.optim's single-tensor code unless a comment says otherwise; addcmul(s, a, b,
 * value=c) is s + (c a) b and addcdiv(s, a, b, value=c) is s + (c a) / b there. */
#ifndef FASTOPT_FO_COMMON_H
#define FASTOPT_FO_COMMON_H

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "fastopt/simd.h"

#ifndef FO_BLOCK_BYTES
#define FO_BLOCK_BYTES 512
#endif
/* Elements of the element type FO_T per block (expanded inside the per-element code). */
#define FO_BLOCK ((ptrdiff_t)(FO_BLOCK_BYTES / sizeof(FO_T)))

/* d = -g if maximize else g;  d += wd p  (coupled weight decay) */
#define FO_EFFECTIVE_GRAD(i) (has_wd ? gs * g[i] + wd * p[i] : gs * g[i])

/* -1 for maximize, else +1: the effective gradient is grad_sign * g (a sign flip is exact). */
static inline double fo_grad_sign(int maximize) { return maximize ? -1.0 : 1.0; }

#endif
