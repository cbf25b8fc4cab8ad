"""fastopt: fused, multithreaded optimizer kernels for NumPy arrays.

First-order optimizers with PyTorch's names and defaults (``fastopt.Adam``, ``fastopt.SGD``,
...), each step one fused, GIL-released, OpenMP-parallel pass over all arrays; a stateless
functional layer (:mod:`fastopt.functional`) and its NumPy reference
(:mod:`fastopt.reference`); and the same kernels for C, C++ and Cython code
(``fastopt/kernels.pxd``, the C headers under :func:`get_include`; see ``docs/embedding.md``).
"""
import os

from fastopt import functional, problems, reference
from fastopt._kernels._step import get_num_threads, openmp_enabled, set_num_threads
from fastopt.optim import (
    SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, AMSGrad, NAdam, Optimizer, RMSprop,
)
from fastopt.second_order import OptimizeResult, minimize
from fastopt import scipy  # noqa: E402  (the adapter; imports SciPy only when called)

__version__ = "0.1.0"

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "AMSGrad", "NAdam",
           "Optimizer", "RMSprop", "functional", "reference", "get_include", "get_num_threads",
           "set_num_threads", "openmp_enabled", "minimize", "OptimizeResult", "problems",
           "scipy"]


def get_include():
    """The directory that holds fastopt's C headers (``fastopt/adam.h``, ...,
    ``fastopt/first_order.h``, ``fastopt/fastopt_capi.h``): put it on the include path of a
    C, C++ or Cython extension that uses fastopt.

    Installed, it is the package's ``include`` directory; in a source checkout (an in-place
    or editable build) it is the checkout's ``src``.  Cython finds fastopt's public ``.pxd``
    (``from fastopt.kernels cimport ...``) through ``sys.path``, as it finds NumPy's.  See
    ``docs/embedding.md``.

    Example (in a ``setup.py``: ``Extension(..., include_dirs=[fastopt.get_include()])``)::

        >>> import os, fastopt
        >>> os.path.isfile(os.path.join(fastopt.get_include(), "fastopt", "adam.h"))
        True
    """
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "include")
    if os.path.isdir(os.path.join(installed, "fastopt")):
        return installed
    return os.path.join(os.path.dirname(here), "src")
