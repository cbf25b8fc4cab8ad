"""Thread settings: how many threads fastopt's kernels use, and whether they can use more
than one."""
import numpy as np

from fastopt._kernels._coef cimport FO_HAVE_OPENMP, omp_get_max_threads

cdef int _n_threads = max(1, omp_get_max_threads())


cdef int num_threads() noexcept nogil:
    return _n_threads


def set_num_threads(n):
    """Set the number of threads fastopt's kernels use (default: ``OMP_NUM_THREADS`` or all cores).

    Results are bit-identical for every thread count.  Steps of fewer than 32,768 elements
    per thread run on fewer threads (starting a parallel region costs more than they do).

    Example::

        >>> import fastopt
        >>> old = fastopt.get_num_threads()
        >>> fastopt.set_num_threads(1)
        >>> fastopt.get_num_threads()
        1
        >>> fastopt.set_num_threads(old)
    """
    global _n_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    _n_threads = int(n)


def get_num_threads():
    """The number of threads fastopt's kernels use (see :func:`set_num_threads`).

    Example::

        >>> import fastopt
        >>> fastopt.get_num_threads() >= 1
        True
    """
    return _n_threads


def openmp_enabled():
    """True if fastopt was compiled with OpenMP (else every step runs on one thread).

    Example::

        >>> import fastopt
        >>> type(fastopt.openmp_enabled())
        <class 'bool'>
    """
    return bool(FO_HAVE_OPENMP)
