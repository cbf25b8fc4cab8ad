# The parallel driver: runs work laid out as one joint index space on several threads.
#
# A step's arrays are laid end to end: item i covers the joint indices
# [starts[i], starts[i + 1]).  The space is cut into fixed chunks of driver.CHUNK indices
# (a multiple of 16) that the threads of fastopt's pool claim one at a time, the calling
# thread first (src/fastopt/pool.h); each runs every piece of an item that falls in its
# chunk.  The chunks depend only on the sizes, so work that is element-wise gives
# bit-identical results for every thread count.  Shared by the
# first-order steps and the bandwidth-bound benchmark (fastopt/benchmarks/_bound.pyx), so
# that both split work the same way.

# Runs elements [a, b) of item i of ``job``.
ctypedef void (*run_piece_fn)(const void* job, Py_ssize_t i, Py_ssize_t a,
                              Py_ssize_t b) noexcept nogil

cdef struct Work:
    const Py_ssize_t* starts   # n_items + 1 ascending joint indices; starts[0] == 0
    Py_ssize_t n_items
    run_piece_fn run_piece
    const void* job            # passed to run_piece

# First joint index of share k of nt (total when k >= nt).
cdef Py_ssize_t share_start(Py_ssize_t total, int k, int nt) noexcept nogil
# Every piece of joint indices [lo, hi), on the calling thread.
cdef void run_range(const Work* work, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil
# All of ``work`` on at most n_threads threads: fewer when a thread would get fewer than
# parallel_min() elements (one thread below that).
cdef void run_work(const Work* work, int n_threads) noexcept nogil
cdef Py_ssize_t parallel_min() noexcept nogil
