"""threadpoolctl support: ``threadpool_info()`` lists fastopt's thread pool and
``threadpool_limits(n)`` limits it, like the BLAS and OpenMP pools.

fastopt's kernels used to run in OpenMP regions, so the pool counts as an ``"openmp"``
library (``threadpool_limits(1, user_api="openmp")`` limits it too); its internal_api is
``"fastopt"``.  The controller drives the pool through two C functions of the extension
``fastopt._pool`` (src/fastopt/pool.c), found by threadpoolctl among the loaded shared
libraries.  Registered at ``import fastopt`` when threadpoolctl (>= 3.5) is installed.

Example::

    >>> import fastopt
    >>> from threadpoolctl import threadpool_info, threadpool_limits
    >>> [i["internal_api"] for i in threadpool_info() if i["internal_api"] == "fastopt"]
    ['fastopt']
    >>> with threadpool_limits(1):
    ...     fastopt.get_num_threads()
    1
"""
import ctypes


def register():
    """Register the controller with threadpoolctl; False if threadpoolctl is missing or too
    old to accept controllers."""
    try:
        import threadpoolctl
    except ImportError:
        return False
    if not hasattr(threadpoolctl, "register") or not hasattr(threadpoolctl, "LibController"):
        return False
    if any(c.internal_api == "fastopt" for c in getattr(threadpoolctl, "_ALL_CONTROLLERS", ())):
        return True

    class FastoptController(threadpoolctl.LibController):
        user_api = "openmp"
        internal_api = "fastopt"
        filename_prefixes = ("_pool",)
        check_symbols = ("fo_pool_get_num_threads", "fo_pool_set_num_threads")

        def get_num_threads(self):
            return self.dynlib.fo_pool_get_num_threads()

        def set_num_threads(self, num_threads):
            self.dynlib.fo_pool_set_num_threads(ctypes.c_int(int(num_threads)))

        def get_version(self):
            from fastopt import __version__
            return __version__

    threadpoolctl.register(FastoptController)
    return True
