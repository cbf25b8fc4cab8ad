"""The parallel driver: one split of a joint index space into per-thread shares.

See ``driver.pxd`` for the layout.  :func:`run_work` decides the team size and
:func:`_run_parallel` hands the work to fastopt's thread pool (src/fastopt/pool.h) as
fixed chunks of CHUNK joint indices: the calling thread starts on them at once, workers that
are awake join, and nobody waits for a worker that has not started (a libgomp region waited
for its whole team at the barrier, which stalled every step that followed a NumPy BLAS call
by milliseconds; see docs/threads.md).  The chunks do not depend on the thread count, and the
work is element-wise, so results are bit-identical for every thread count.
``_set_parallel_min`` is a testing hook.
"""
from libc.stddef cimport ptrdiff_t

from fastopt._pool cimport bind_pool, fo_parallel

bind_pool()

# Joint indices per chunk of the pool (a multiple of 16): about 10 us of Adam on one core,
# long enough that claiming a chunk (one atomic) costs nothing, short enough that a worker
# that wakes late still finds work.
CHUNK = 1 << 14
cdef Py_ssize_t _chunk = CHUNK

# Below this many elements per thread work stays on fewer threads: handing a job to the
# pool and waking a worker costs a few microseconds, about what a thread needs for this
# many Adam elements.
PARALLEL_MIN = 1 << 15
cdef Py_ssize_t _parallel_min = PARALLEL_MIN


def _set_parallel_min(Py_ssize_t n):
    """Testing hook: set the per-thread element minimum below which work stays on fewer
    threads; returns the previous value."""
    global _parallel_min
    old, _parallel_min = _parallel_min, max(n, 1)
    return old


cdef Py_ssize_t parallel_min() noexcept nogil:
    return _parallel_min


cdef Py_ssize_t share_start(Py_ssize_t total, int k, int nt) noexcept nogil:
    if k >= nt:
        return total
    return (total // nt * k + (total % nt) * k // nt) & ~(<Py_ssize_t>15)


cdef void run_range(const Work* work, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    cdef const Py_ssize_t* starts = work.starts
    cdef Py_ssize_t left = 0, right = work.n_items - 1, mid, i, a, b
    if lo >= hi:
        return
    while left < right:  # first item that ends after lo
        mid = (left + right) // 2
        if starts[mid + 1] <= lo:
            left = mid + 1
        else:
            right = mid
    i = left
    while i < work.n_items and starts[i] < hi:
        a = max(lo, starts[i]) - starts[i]
        b = min(hi, starts[i + 1]) - starts[i]
        if b > a:
            work.run_piece(work.job, i, a, b)
        i += 1


cdef void _run_chunk(void* ctx, ptrdiff_t c) noexcept nogil:
    cdef const Work* work = <const Work*>ctx
    cdef Py_ssize_t total = work.starts[work.n_items]
    run_range(work, c * _chunk, min(total, (c + 1) * _chunk))


cdef void _run_parallel(const Work* work, Py_ssize_t total, int t) noexcept nogil:
    """Chunk c = joint indices [c CHUNK, (c + 1) CHUNK), on up to t threads of the pool."""
    fo_parallel((total + _chunk - 1) // _chunk, t, _run_chunk, <void*>work)


cdef void run_work(const Work* work, int n_threads) noexcept nogil:
    cdef Py_ssize_t total = work.starts[work.n_items]
    cdef int t = n_threads
    if t > total // _parallel_min:
        t = <int>(total // _parallel_min)
    if t <= 1:
        run_range(work, 0, total)
    else:
        _run_parallel(work, total, t)
