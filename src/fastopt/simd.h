/* Portable SIMD: FO_CLONES asks GCC/Clang to compile a hot loop once per ISA listed and to
 * pick the best one for the running CPU at load time (an ifunc).  The default build stays
 * portable (no -march=native) yet uses AVX2/AVX-512 where the CPU has them.  Define
 * FASTOPT_NO_CLONES (or build with FASTOPT_NATIVE=1, which passes -march=native) to get a
 * single version.  Results do not depend on the clone chosen: setup.py compiles with
 * -ffp-contract=off, so no clone fuses a multiply-add the others round twice. */
#ifndef FASTOPT_SIMD_H
#define FASTOPT_SIMD_H

#if defined(__has_attribute)
#if __has_attribute(target_clones) && defined(__x86_64__) && defined(__linux__) \
    && !defined(FASTOPT_NO_CLONES) && !defined(__AVX2__)
#define FO_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef FO_CLONES
#define FO_CLONES
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FO_INLINE static inline __attribute__((always_inline))
#define FO_RESTRICT __restrict__
#else
#define FO_INLINE static inline
#define FO_RESTRICT
#endif

/* max(a, b) that returns NaN when either argument is NaN, like torch.maximum.  It is a
 * compare and a blend, so it vectorizes; fmax() would drop the NaN. */
#define FO_MAX_NAN(a, b) ((((a) < (b)) || ((b) != (b))) ? (b) : (a))

#endif
