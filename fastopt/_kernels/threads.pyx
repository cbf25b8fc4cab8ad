"""Thread settings: how many threads fastopt's kernels use, and whether they can use more
than one.  The count lives in fastopt's thread pool (fastopt._pool, src/fastopt/pool.c):
``OMP_NUM_THREADS`` at import, else the CPUs this process may use; threadpoolctl's
``threadpool_limits`` changes it too."""
from fastopt import _pool
from fastopt._kernels._coef cimport FO_HAVE_OPENMP
from fastopt._pool cimport bind_pool, fo_pool_num_threads

bind_pool()


cdef int num_threads() noexcept nogil:
    return fo_pool_num_threads()


set_num_threads = _pool.set_num_threads
get_num_threads = _pool.get_num_threads


def openmp_enabled():
    """True if the compiler built fastopt with OpenMP.  The kernels no longer run in OpenMP
    regions (they run on fastopt's own pool, see ``docs/threads.md``); whether they can
    use several threads is :func:`fastopt._pool.threads_enabled`.

    Example::

        >>> import fastopt
        >>> type(fastopt.openmp_enabled())
        <class 'bool'>
    """
    return bool(FO_HAVE_OPENMP)
