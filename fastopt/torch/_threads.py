"""fastopt.torch's kernels run on torch's own OpenMP threads.

Right after torch's forward and backward, torch's OpenMP threads are awake (they spin
for a while after each parallel region) and hold the other cores.  fastopt's own pool
would first have to wake its workers, which then share those cores with torch's
spinning threads; in a training loop on a small machine that made the step slower on
two threads than on one.  torch's fused optimizers avoid this by running on the same
OpenMP threads as the backward, and so does fastopt.torch: while one of its optimizers
steps, the calling thread's kernel calls are handed to the OpenMP runtime torch runs on
(``GOMP_parallel``, the entry ``#pragma omp parallel`` compiles to; see
``fo_pool_use_openmp`` in ``src/fastopt/pool.h``), with a team of at most
``min(fastopt.get_num_threads(), torch.get_num_threads())`` threads.  The partition of
the work into chunks is fastopt's, so the results are the same bits as on fastopt's own
pool.  Where no such runtime is found (torch built without OpenMP, a platform without
``/proc/self/maps``), the kernels run on fastopt's pool as everywhere else, and so they do
in a child process after ``fork()``: libgomp's threads do not survive a fork and its next
parallel region in the child would wait for them forever (torch's own operations hang
there too), while fastopt's pool starts new workers.
"""
import os

import torch

from fastopt import _pool

_NAMES = ("libgomp", "libiomp5", "libomp")


def _loaded_openmp_runtimes():
    """Paths of the OpenMP runtimes loaded in this process, those in torch's own directory
    first."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(maxsplit=5)[-1].strip() for line in maps
                     if line.count(" ") >= 5 and "omp" in line}
    except OSError:
        return []
    found = [p for p in paths if os.path.basename(p).startswith(_NAMES)]
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
    return sorted(found, key=lambda p: (not p.startswith(torch_dir), p))


def _find_torch_openmp():
    """Whether the OpenMP runtime torch runs on was found (and registered with the pool)."""
    try:
        if not torch.backends.openmp.is_available():
            return False
    except AttributeError:      # pragma: no cover - very old torch
        return False
    return any(_pool._find_openmp(path) for path in _loaded_openmp_runtimes())


AVAILABLE = _find_torch_openmp()


def torch_team():
    """The team size for :func:`fastopt._pool._use_openmp`: torch's thread count, or 0
    where torch's OpenMP runtime was not found."""
    return torch.get_num_threads() if AVAILABLE else 0


class on_torch_threads:
    """``with on_torch_threads():`` runs the calling thread's fastopt kernels on torch's
    OpenMP threads (see the module docstring); a no-op where none were found."""

    __slots__ = ()

    def __enter__(self):
        _pool._use_openmp(torch_team())
        return self

    def __exit__(self, *exc):
        _pool._use_openmp(0)
        return False


ON_TORCH_THREADS = on_torch_threads()
