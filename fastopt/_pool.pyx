"""fastopt's thread pool (the C code: ``src/fastopt/pool.c``; the contract: ``pool.h``).

Every threaded kernel of fastopt -- the first-order steps and the second-order vector
kernels -- runs on this one pool: a fixed partition of the work into chunks, claimed one at
a time by whichever thread is free, the calling thread first.  The caller never waits for a
worker that has not started, so a step costs about its one-thread time when another thread
pool (NumPy's BLAS, torch, a second process) holds the other cores, and its parallel time
when they are free.  Idle workers spin briefly, then sleep.

The thread count is ``OMP_NUM_THREADS`` at import when set, else the CPUs this process may
run on; :func:`set_num_threads` changes it, and threadpoolctl sees and limits it
(user_api ``"openmp"``, internal_api ``"fastopt"``).

Example::

    >>> import fastopt
    >>> n = fastopt.get_num_threads()
    >>> fastopt.set_num_threads(1)
    >>> fastopt.get_num_threads()
    1
    >>> fastopt.set_num_threads(n)
"""
import os
import warnings

import numpy as np

from cpython.pycapsule cimport PyCapsule_New
from libc.stddef cimport ptrdiff_t

cdef extern from "fastopt/pool.h" nogil:
    ctypedef struct fo_pool_api:
        pass
    int fo_pool_get_num_threads()
    void fo_pool_set_num_threads(int n)
    int fo_pool_get_spin_us()
    void fo_pool_set_spin_us(int us)
    int fo_pool_threaded()
    int fo_pool_workers()
    int fo_pool_find_openmp(const char* path)
    void fo_pool_use_openmp(int threads)
    const fo_pool_api fo_pool_api_table

_C_API = PyCapsule_New(<void*>&fo_pool_api_table, b"fastopt._pool._C_API", NULL)


def set_num_threads(n):
    """Set the number of threads fastopt's kernels use, the calling thread included
    (default: ``OMP_NUM_THREADS`` at import, else the CPUs this process may use).

    Results are bit-identical for every thread count.  Small steps use fewer threads (a
    chunk of work is the unit a thread takes).

    Example::

        >>> import fastopt
        >>> old = fastopt.get_num_threads()
        >>> fastopt.set_num_threads(1)
        >>> fastopt.get_num_threads()
        1
        >>> fastopt.set_num_threads(old)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    fo_pool_set_num_threads(<int>min(int(n), 1 << 20))


def get_num_threads():
    """The number of threads fastopt's kernels use (see :func:`set_num_threads`); 1 in a
    serial build.

    Example::

        >>> import fastopt
        >>> fastopt.get_num_threads() >= 1
        True
    """
    return fo_pool_get_num_threads()


def threads_enabled():
    """True if fastopt was built with its thread pool (else every kernel runs on the calling
    thread).

    Example::

        >>> from fastopt import _pool
        >>> _pool.threads_enabled()        # the default build; FASTOPT_SERIAL=1 gives False
        True
    """
    return bool(fo_pool_threaded())


def _set_spin_us(int us):
    """Tuning hook: how long an idle worker spins before it sleeps (microseconds).
    Returns the previous value."""
    old = fo_pool_get_spin_us()
    fo_pool_set_spin_us(us)
    return old


def _find_openmp(path):
    """Whether the OpenMP runtime at ``path`` is loaded in this process (it is not loaded
    here) and exports ``GOMP_parallel``; if so, :func:`_use_openmp` hands jobs to it."""
    return bool(fo_pool_find_openmp(os.fsencode(path)))


def _use_openmp(int threads):
    """Run this thread's jobs on a team of at most ``threads`` threads of the runtime
    :func:`_find_openmp` found (0 or 1: on fastopt's own pool again)."""
    fo_pool_use_openmp(threads)


def _workers():
    """Worker threads started in this process so far (the calling thread not counted)."""
    return fo_pool_workers()


def _threads_from_environment():
    """OMP_NUM_THREADS (its first entry) when set and valid, else the usable CPUs."""
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    if text:
        first = text.split(",")[0].strip()
        if first.isdigit() and int(first) >= 1:
            return int(first)
        warnings.warn(f"fastopt: ignoring OMP_NUM_THREADS={text!r} (not a positive integer)",
                      RuntimeWarning, stacklevel=2)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


fo_pool_set_num_threads(_threads_from_environment())


cdef extern from "fastopt/pool.h" nogil:
    ctypedef void (*fo_chunk_fn)(void* ctx, ptrdiff_t chunk) noexcept nogil
    void fo_pool_run(ptrdiff_t n_chunks, int max_threads, fo_chunk_fn fn, void* ctx)


cdef struct _Probe:
    int* counts
    double* sink
    Py_ssize_t work


cdef void _probe_chunk(void* ctx, ptrdiff_t c) noexcept nogil:
    cdef _Probe* p = <_Probe*>ctx
    cdef Py_ssize_t i
    cdef double acc = 0.0
    for i in range(p.work):  # a little work, so that workers get a share
        acc += <double>(i ^ c) * 1e-9
    p.sink[c] = acc
    p.counts[c] += 1


def _run_chunks(Py_ssize_t n_chunks, int max_threads, Py_ssize_t work=0):
    """Testing hook: run a job of ``n_chunks`` chunks on up to ``max_threads`` threads;
    returns how many times each chunk ran (every entry must be 1)."""
    if not 0 <= n_chunks <= (1 << 24):
        raise ValueError(f"n_chunks must be in [0, 2**24], got {n_chunks}")
    counts = np.zeros(max(n_chunks, 1), dtype=np.intc)
    sink = np.zeros(max(n_chunks, 1), dtype=np.float64)
    cdef int[::1] cv = counts
    cdef double[::1] sv = sink
    cdef _Probe probe
    probe.counts = &cv[0]
    probe.sink = &sv[0]
    probe.work = work
    with nogil:
        fo_pool_run(n_chunks, max_threads, _probe_chunk, &probe)
    return counts[:n_chunks]
