/* fastopt's thread pool (interface and contract: src/fastopt/pool.h).
 *
 * One job at a time.  The caller writes the job (fn, ctx, n) and then publishes it by
 * storing the claim word  gen << 24 | remaining  (gen counts jobs, remaining starts at n).
 * Every thread, caller included, claims chunk n - remaining by a compare-and-swap that
 * decrements remaining while gen is unchanged.  A successful claim proves the job is still
 * open (its caller waits until every chunk has finished before it writes the next job), so
 * the job fields a worker read before the claim were this job's; a worker that arrives
 * after the last claim fails the swap and touches nothing.  The caller then waits for
 * `done` to reach n: only for chunks already claimed and running.
 *
 * Waiting workers spin on the claim word for spin_us microseconds, then sleep on the futex
 * word `seq` (the low 32 bits of gen); the caller wakes them only when one sleeps.
 *
 * Fork: the child has no workers; pthread_atfork's child handler forgets them and clears
 * the busy flag, and the child's first threaded job starts new ones.
 *
 * A second thread that calls while a job runs (two Python threads stepping at once) runs
 * its chunks itself, in order: same result, no waiting.  FO_POOL_SERIAL (or a platform
 * without pthreads and GCC atomics) builds the serial pool: every job on the caller. */
#include "fastopt/pool.h"

#include <stdint.h>
#include <stdlib.h>

#if !defined(FO_POOL_SERIAL) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__unix__) || defined(__APPLE__))
#define FO_POOL_THREADS 1
#else
#define FO_POOL_THREADS 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LOAD(p, mo) __atomic_load_n((p), __ATOMIC_##mo)
#define STORE(p, v, mo) __atomic_store_n((p), (v), __ATOMIC_##mo)
#else
#define LOAD(p, mo) (*(p))
#define STORE(p, v, mo) (*(p) = (v))
#endif

static int fo_pool_nthreads = 1;    /* the setting, caller included */
static int fo_pool_spin = 50;       /* microseconds */

#if FO_POOL_THREADS

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#define FO_POOL_FUTEX 1
#else
#define FO_POOL_FUTEX 0
#endif

#define FO_POOL_MAX_WORKERS 255
#define FO_GEN_SHIFT 24
#define FO_REMAINING_MASK (((uint64_t)1 << FO_GEN_SHIFT) - 1)

#if defined(__x86_64__) || defined(__i386__)
#define FO_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define FO_PAUSE() __asm__ __volatile__("yield")
#else
#define FO_PAUSE() ((void)0)
#endif

/* each hot field on its own cache line */
#define FO_LINE 64
static struct {
    uint64_t word __attribute__((aligned(FO_LINE)));  /* gen << 24 | remaining */
    ptrdiff_t done __attribute__((aligned(FO_LINE))); /* chunks finished in this job */
    uint32_t seq __attribute__((aligned(FO_LINE)));   /* futex word: low bits of gen */
    int sleepers;
    /* the job, written by its caller before the word publishes it */
    fo_chunk_fn fn __attribute__((aligned(FO_LINE)));
    void *ctx;
    ptrdiff_t n;
    int team;                                          /* workers 0..team-1 may join */
    /* owner and workers */
    int busy __attribute__((aligned(FO_LINE)));        /* a job is running */
    int n_workers;
    pthread_mutex_t lock;                              /* condvar fallback */
    pthread_cond_t cond;
} P = {0};

static pthread_once_t fo_pool_once = PTHREAD_ONCE_INIT;

static double fo_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

/* Claim and run chunks of job `gen` until none is left.  fn, ctx, n: the job's fields, read
 * after the word showed gen (see the file comment for why they are this job's). */
static void fo_pool_work(uint64_t gen, fo_chunk_fn fn, void *ctx, ptrdiff_t n)
{
    uint64_t w = LOAD(&P.word, ACQUIRE);
    for (;;) {
        if ((w >> FO_GEN_SHIFT) != gen || (w & FO_REMAINING_MASK) == 0) return;
        if (__atomic_compare_exchange_n(&P.word, &w, w - 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            fn(ctx, n - (ptrdiff_t)(w & FO_REMAINING_MASK));
            __atomic_fetch_add(&P.done, 1, __ATOMIC_RELEASE);
            w = LOAD(&P.word, ACQUIRE);
        }
        /* else: w holds the current word; try again */
    }
}

static void fo_pool_sleep(uint32_t seen)
{
    __atomic_fetch_add(&P.sleepers, 1, __ATOMIC_SEQ_CST);
#if FO_POOL_FUTEX
    if (LOAD(&P.seq, SEQ_CST) == seen)
        syscall(SYS_futex, &P.seq, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
    pthread_mutex_lock(&P.lock);
    while (LOAD(&P.seq, SEQ_CST) == seen) pthread_cond_wait(&P.cond, &P.lock);
    pthread_mutex_unlock(&P.lock);
#endif
    __atomic_fetch_sub(&P.sleepers, 1, __ATOMIC_SEQ_CST);
}

static void fo_pool_wake(void)
{
    if (LOAD(&P.sleepers, SEQ_CST) == 0) return;
#if FO_POOL_FUTEX
    syscall(SYS_futex, &P.seq, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
#else
    pthread_mutex_lock(&P.lock);
    pthread_cond_broadcast(&P.cond);
    pthread_mutex_unlock(&P.lock);
#endif
}

static void *fo_pool_worker(void *arg)
{
    const int id = (int)(intptr_t)arg;
    uint64_t seen = LOAD(&P.word, ACQUIRE) >> FO_GEN_SHIFT;
    for (;;) {
        /* wait for a new job: spin, then sleep */
        uint64_t w = LOAD(&P.word, ACQUIRE);
        if ((w >> FO_GEN_SHIFT) == seen) {
            const double until = fo_now_us() + (double)LOAD(&fo_pool_spin, RELAXED);
            for (int i = 1;; i++) {
                FO_PAUSE();
                w = LOAD(&P.word, ACQUIRE);
                if ((w >> FO_GEN_SHIFT) != seen) break;
                if ((i & 63) == 0 && fo_now_us() > until) {
                    fo_pool_sleep((uint32_t)seen);
                    i = 0;
                }
            }
        }
        seen = w >> FO_GEN_SHIFT;
        if (id >= LOAD(&P.team, RELAXED)) continue;
        fo_pool_work(seen, LOAD(&P.fn, RELAXED), LOAD(&P.ctx, RELAXED), LOAD(&P.n, RELAXED));
    }
    return NULL;
}

/* GOMP_parallel of the OpenMP runtime jobs are handed to (fo_pool_use_openmp), or NULL */
typedef void (*fo_gomp_parallel_fn)(void (*fn)(void *), void *data, unsigned num_threads,
                                    unsigned flags);
static fo_gomp_parallel_fn fo_omp_entry = NULL;   /* found once by fo_pool_find_openmp */

static void fo_pool_child(void)
{
    /* libgomp's threads did not survive the fork either, and its next parallel region
     * in the child would wait for them: the child's jobs stay on fastopt's pool */
    STORE(&fo_omp_entry, NULL, RELAXED);
    /* the workers did not survive the fork: forget them; the next job starts new ones */
    P.n_workers = 0;
    P.sleepers = 0;
    P.busy = 0;
    P.done = 0;
    pthread_mutex_init(&P.lock, NULL);
    pthread_cond_init(&P.cond, NULL);
}

static void fo_pool_init(void)
{
    pthread_mutex_init(&P.lock, NULL);
    pthread_cond_init(&P.cond, NULL);
    pthread_atfork(NULL, NULL, fo_pool_child);
}

/* start workers until there are `want` (fewer if the system refuses) */
static int fo_pool_grow(int want)
{
    if (want > FO_POOL_MAX_WORKERS) want = FO_POOL_MAX_WORKERS;
    while (P.n_workers < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 1 << 20);
        /* the workers block every signal: signals go to the user's threads (Python's
         * handlers run on the main thread anyway) */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int rc = pthread_create(&t, &attr, fo_pool_worker, (void *)(intptr_t)P.n_workers);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        P.n_workers++;
    }
    return P.n_workers;
}

/* ---- jobs handed to an OpenMP runtime's threads (fo_pool_use_openmp) ----
 * GOMP_parallel(fn, data, num_threads, flags) is what `#pragma omp parallel` compiles to in
 * libgomp's ABI (LLVM's and Intel's runtimes export it too): it runs fn(data) on a team of
 * num_threads, the caller as thread 0, and returns after the team's closing barrier. */
static __thread int fo_omp_threads = 0;           /* this thread's jobs: team size, 0 off */

/* The chunks are cut into one contiguous range per team member, as OpenMP's static
 * schedule (and torch's parallel_for) does: each thread streams through its own part of
 * memory, which made a step after torch's backward twice as fast as chunks handed out in
 * turn.  A thread that finishes its range claims what is left of the others', so a member
 * that starts late (or a team smaller than asked for) delays nothing; every chunk is
 * claimed exactly once, by an atomic increment of its range's cursor. */
#define FO_OMP_MAX_TEAM 64

struct fo_omp_job {
    fo_chunk_fn fn;
    void *ctx;
    ptrdiff_t n;
    int team;                 /* ranges */
    int arrived;              /* members so far: the next one takes range arrived % team */
    struct {
        ptrdiff_t next __attribute__((aligned(FO_LINE)));  /* the range's next chunk */
        ptrdiff_t end;
    } range[FO_OMP_MAX_TEAM];
};

static void fo_omp_body(void *arg)
{
    struct fo_omp_job *job = (struct fo_omp_job *)arg;
    const int team = job->team;
    const int own = __atomic_fetch_add(&job->arrived, 1, __ATOMIC_RELAXED) % team;
    for (int j = 0; j < team; j++) {
        const int r = (own + j) % team;
        for (;;) {
            ptrdiff_t c = __atomic_fetch_add(&job->range[r].next, 1, __ATOMIC_RELAXED);
            if (c >= job->range[r].end) break;
            job->fn(job->ctx, c);
        }
    }
}

#ifdef __linux__
#include <dlfcn.h>
int fo_pool_find_openmp(const char *path)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL) return 0;
    void *entry = dlsym(lib, "GOMP_parallel");
    dlclose(lib);             /* RTLD_NOLOAD took a reference; the library stays loaded */
    if (entry == NULL) return 0;
    pthread_once(&fo_pool_once, fo_pool_init);     /* its fork handler forgets the entry */
    __atomic_store_n(&fo_omp_entry, (fo_gomp_parallel_fn)entry, __ATOMIC_RELEASE);
    return 1;
}
#else
int fo_pool_find_openmp(const char *path) { (void)path; return 0; }
#endif

void fo_pool_use_openmp(int threads)
{
    fo_omp_threads = (threads > 1 && LOAD(&fo_omp_entry, ACQUIRE) != NULL) ? threads : 0;
}

void fo_pool_run(ptrdiff_t n, int max_threads, fo_chunk_fn fn, void *ctx)
{
    int t = LOAD(&fo_pool_nthreads, RELAXED);
    if (max_threads < t) t = max_threads;
    if ((ptrdiff_t)t > n) t = (int)n;
    const fo_gomp_parallel_fn entry = LOAD(&fo_omp_entry, ACQUIRE);
    if (fo_omp_threads > 0 && t > 1 && entry != NULL) {
        if (t > fo_omp_threads) t = fo_omp_threads;
        if (t > FO_OMP_MAX_TEAM) t = FO_OMP_MAX_TEAM;
        struct fo_omp_job job;
        job.fn = fn;
        job.ctx = ctx;
        job.n = n;
        job.team = t;
        job.arrived = 0;
        for (int k = 0; k < t; k++) {
            job.range[k].next = n * k / t;
            job.range[k].end = n * (k + 1) / t;
        }
        entry(fo_omp_body, &job, (unsigned)t, 0);
        return;
    }
    int expected = 0;
    if (t <= 1 || n > FO_POOL_MAX_CHUNKS ||
        !__atomic_compare_exchange_n(&P.busy, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED)) {
        for (ptrdiff_t c = 0; c < n; c++) fn(ctx, c);
        return;
    }
    pthread_once(&fo_pool_once, fo_pool_init);
    int team = fo_pool_grow(t - 1);
    if (team > t - 1) team = t - 1;
    if (team < 1) {
        STORE(&P.busy, 0, RELEASE);
        for (ptrdiff_t c = 0; c < n; c++) fn(ctx, c);
        return;
    }
    const uint64_t gen = (LOAD(&P.word, RELAXED) >> FO_GEN_SHIFT) + 1;
    STORE(&P.fn, fn, RELAXED);
    STORE(&P.ctx, ctx, RELAXED);
    STORE(&P.n, n, RELAXED);
    STORE(&P.team, team, RELAXED);
    STORE(&P.done, 0, RELAXED);
    STORE(&P.word, (gen << FO_GEN_SHIFT) | (uint64_t)n, RELEASE);
    STORE(&P.seq, (uint32_t)gen, SEQ_CST);
    fo_pool_wake();
    fo_pool_work(gen, fn, ctx, n);
    /* every chunk is claimed; wait for the ones still running on workers */
    if (LOAD(&P.done, ACQUIRE) < n) {
        for (int i = 1; LOAD(&P.done, ACQUIRE) < n; i++) {
            FO_PAUSE();
            if ((i & 1023) == 0) sched_yield();  /* its worker may want this core */
        }
    }
    STORE(&P.busy, 0, RELEASE);
}

int fo_pool_workers(void) { return LOAD(&P.n_workers, RELAXED); }
int fo_pool_threaded(void) { return 1; }

#else /* serial pool */

void fo_pool_run(ptrdiff_t n, int max_threads, fo_chunk_fn fn, void *ctx)
{
    (void)max_threads;
    for (ptrdiff_t c = 0; c < n; c++) fn(ctx, c);
}

int fo_pool_workers(void) { return 0; }
int fo_pool_threaded(void) { return 0; }
int fo_pool_find_openmp(const char *path) { (void)path; return 0; }
void fo_pool_use_openmp(int threads) { (void)threads; }

#endif

int fo_pool_get_num_threads(void)
{
    return fo_pool_threaded() ? LOAD(&fo_pool_nthreads, RELAXED) : 1;
}

void fo_pool_set_num_threads(int n)
{
    STORE(&fo_pool_nthreads, n < 1 ? 1 : n, RELAXED);
}

int fo_pool_get_spin_us(void) { return LOAD(&fo_pool_spin, RELAXED); }

void fo_pool_set_spin_us(int us)
{
    STORE(&fo_pool_spin, us < 0 ? 0 : us, RELAXED);
}

/* what the capsule fastopt._pool._C_API points to */
const fo_pool_api fo_pool_api_table = {fo_pool_run, fo_pool_get_num_threads};
