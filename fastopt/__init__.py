"""fastopt: fused, multithreaded optimizer kernels for NumPy arrays.

First-order optimizers with PyTorch's names and defaults (``fastopt.Adam``, ``fastopt.SGD``,
...), each step one fused, GIL-released, OpenMP-parallel pass over all arrays; a stateless
functional layer (:mod:`fastopt.functional`) and its NumPy reference
(:mod:`fastopt.reference`); and a C-level API for Cython (``fastopt/_kernels/first_order.pxd``,
see :func:`get_include`).
"""
import os

from fastopt import functional, problems, reference
from fastopt import _pool
from fastopt._kernels import _step
from fastopt._kernels._step import openmp_enabled
from fastopt._pool import get_num_threads


def set_num_threads(n):
    _pool.set_num_threads(n)
    _step.set_num_threads(n)


set_num_threads.__doc__ = _pool.set_num_threads.__doc__
from fastopt.optim import (
    SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, AMSGrad, NAdam, Optimizer, RMSprop,
)
from fastopt.second_order import OptimizeResult, minimize
from fastopt import scipy  # noqa: E402  (the adapter; imports SciPy only when called)

__version__ = "0.1.0"

from fastopt import _threadpoolctl  # noqa: E402
_threadpoolctl.register()

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "AMSGrad", "NAdam",
           "Optimizer", "RMSprop", "functional", "reference", "get_include", "get_num_threads",
           "set_num_threads", "openmp_enabled", "minimize", "OptimizeResult", "problems",
           "scipy"]


def get_include():
    """The directory to put on Cython's include path to ``cimport fastopt...``: it holds the
    ``fastopt`` package with its public ``.pxd`` files (``fastopt/_kernels/first_order.pxd``).

    Example (in a ``setup.py``: ``cythonize(..., include_path=[fastopt.get_include()])``)::

        >>> import os, fastopt
        >>> os.path.isfile(os.path.join(fastopt.get_include(), "fastopt", "_kernels",
        ...                             "first_order.pxd"))
        True
    """
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
