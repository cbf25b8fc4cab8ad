/* Philox4x32-10, the counter-based random number generator of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC'11; the Random123 library).
 *
 *   fo_philox4x32_10(ctr, key, out)   out = the 10-round Philox bijection of the 128-bit
 *                                      counter ctr under the 64-bit key
 *
 * A counter-based generator has no sequential state: the random bits for any counter are
 * computed directly, so any element of a stream can be drawn on any thread in any order and
 * the result never depends on how the work was split.  Round: two 32x32->64 multiplications
 * by M0, M1; the key is bumped by the Weyl constants W0, W1 between rounds.  Checked against
 * the Random123 known-answer vectors in tests/test_noise.py.  Plain C, no Python.h. */
#ifndef FASTOPT_PHILOX_H
#define FASTOPT_PHILOX_H

#include <stdint.h>

#define FO_PHILOX_M0 UINT32_C(0xD2511F53)
#define FO_PHILOX_M1 UINT32_C(0xCD9E8D57)
#define FO_PHILOX_W0 UINT32_C(0x9E3779B9)
#define FO_PHILOX_W1 UINT32_C(0xBB67AE85)

/* One round on the counter words c0..c3 under key words k0, k1 (variables, updated). */
#define FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1)                                     \
    do {                                                                              \
        const uint64_t fo_p0 = (uint64_t)FO_PHILOX_M0 * (c0);                         \
        const uint64_t fo_p1 = (uint64_t)FO_PHILOX_M1 * (c2);                         \
        (c0) = (uint32_t)(fo_p1 >> 32) ^ (c1) ^ (k0);                                 \
        (c2) = (uint32_t)(fo_p0 >> 32) ^ (c3) ^ (k1);                                 \
        (c1) = (uint32_t)fo_p1;                                                       \
        (c3) = (uint32_t)fo_p0;                                                       \
    } while (0)
#define FO_PHILOX_BUMP(k0, k1) ((k0) += FO_PHILOX_W0, (k1) += FO_PHILOX_W1)
/* All ten rounds, unrolled (so that a loop over many counters vectorizes). */
#define FO_PHILOX_ROUNDS(c0, c1, c2, c3, k0, k1)                                    \
    do {                                                                              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1); FO_PHILOX_BUMP(k0, k1);              \
        FO_PHILOX_ROUND(c0, c1, c2, c3, k0, k1);                                      \
    } while (0)

static inline void fo_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                    uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    FO_PHILOX_ROUNDS(c0, c1, c2, c3, k0, k1);
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

#endif
