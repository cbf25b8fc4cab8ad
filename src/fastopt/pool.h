/* fastopt's thread pool: caller-participates work sharing over a fixed set of chunks.
 *
 *   fo_parallel(n_chunks, max_threads, fn, ctx)   runs fn(ctx, c) once for every chunk
 *                                                  c in [0, n_chunks), on up to
 *                                                  max_threads threads, and returns when
 *                                                  all have run.
 *
 * The calling thread starts on the chunks at once; workers that are awake join in.  Chunks
 * are claimed one at a time by an atomic decrement, so the caller never waits for a worker
 * that has not started: a late worker finds nothing left, and the caller waits only for
 * chunks a worker has already claimed.  The partition into chunks is the caller's and never
 * depends on how many threads take part, so a kernel that writes each chunk's partial
 * result to its own slot and combines them in chunk order gets the same bits for every
 * thread count.  After a job the workers spin for a short window (fo_pool_set_spin_us),
 * then sleep on a futex (Linux) or a condition variable.
 *
 * The pool itself lives in one extension, fastopt._pool (src/fastopt/pool.c), so there is
 * one pool per process.  Every other extension includes this header and binds to it once at
 * import (fo_pool_bind with the fo_pool_api the capsule fastopt._pool._C_API holds); unbound,
 * fo_parallel runs the chunks in order on the calling thread.  Plain C, no Python.h. */
#ifndef FASTOPT_POOL_H
#define FASTOPT_POOL_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define FO_POOL_EXPORT __attribute__((visibility("default")))
#define FO_POOL_UNUSED __attribute__((unused))
#else
#define FO_POOL_EXPORT
#define FO_POOL_UNUSED
#endif

/* the most chunks one job may have (the claim counter's width) */
#define FO_POOL_MAX_CHUNKS ((ptrdiff_t)1 << 24)

typedef void (*fo_chunk_fn)(void *ctx, ptrdiff_t chunk);
typedef void (*fo_pool_run_fn)(ptrdiff_t n_chunks, int max_threads, fo_chunk_fn fn,
                               void *ctx);

/* what the capsule fastopt._pool._C_API points to */
typedef struct fo_pool_api {
    fo_pool_run_fn run;
    int (*get_num_threads)(void);
} fo_pool_api;

/* ---- implemented in src/fastopt/pool.c (linked into fastopt._pool only) ---- */
extern const fo_pool_api fo_pool_api_table;
FO_POOL_EXPORT void fo_pool_run(ptrdiff_t n_chunks, int max_threads, fo_chunk_fn fn,
                                void *ctx);
/* the thread count (caller included) a job may use; >= 1 */
FO_POOL_EXPORT int fo_pool_get_num_threads(void);
FO_POOL_EXPORT void fo_pool_set_num_threads(int n);
/* how long an idle worker spins before it sleeps, in microseconds */
FO_POOL_EXPORT int fo_pool_get_spin_us(void);
FO_POOL_EXPORT void fo_pool_set_spin_us(int us);
/* Hand this thread's jobs to the threads of an OpenMP runtime already loaded in the process
 * (the library at `path`, found without loading it: 1 if found, else 0), and with
 * fo_pool_use_openmp(threads) (threads > 1; 0 or 1: fastopt's own pool again) use a team of
 * at most `threads` of them.  fastopt.torch steps on torch's OpenMP threads this way:
 * awake right after torch's backward, they take the chunks at once, where fastopt's own
 * workers would first have to wake and then share cores with them.  The chunks are the
 * same, so are the results. */
FO_POOL_EXPORT int fo_pool_find_openmp(const char *path);
FO_POOL_EXPORT void fo_pool_use_openmp(int threads);
/* 1 if built with threads, 0 for the serial build */
FO_POOL_EXPORT int fo_pool_threaded(void);
/* worker threads started so far in this process */
FO_POOL_EXPORT int fo_pool_workers(void);

/* ---- used by every extension ---- */
static const fo_pool_api *fo_pool_bound FO_POOL_UNUSED = NULL;

static inline FO_POOL_UNUSED void fo_pool_bind(const fo_pool_api *api) { fo_pool_bound = api; }

/* the thread count fastopt.set_num_threads set (1 while unbound) */
static inline FO_POOL_UNUSED int fo_pool_num_threads(void)
{
    return fo_pool_bound != NULL ? fo_pool_bound->get_num_threads() : 1;
}

static inline FO_POOL_UNUSED void fo_parallel(ptrdiff_t n_chunks, int max_threads,
                                              fo_chunk_fn fn, void *ctx)
{
    if (fo_pool_bound != NULL && max_threads > 1 && n_chunks > 1) {
        fo_pool_bound->run(n_chunks, max_threads, fn, ctx);
        return;
    }
    for (ptrdiff_t c = 0; c < n_chunks; c++) fn(ctx, c);
}

#endif
