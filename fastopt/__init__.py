"""fastopt: fused, multithreaded optimizer kernels for NumPy arrays.

* First-order optimizers with PyTorch's names and defaults (``fastopt.Adam``, ``fastopt.SGD``,
  ...): a step updates the arrays of each param group in one fused, GIL-released,
  multithreaded pass (fastopt's own pool, docs/threads.md), in place, with results that do
  not depend on the thread count.
* :mod:`fastopt.functional`: the same steps on explicit arrays, without an optimizer object;
  :mod:`fastopt.reference`: their plain NumPy reference, the test oracle.
* :func:`fastopt.minimize`: L-BFGS, Newton, Hessian-free and nonlinear CG behind SciPy's
  ``minimize`` signature (:mod:`fastopt.second_order`); :mod:`fastopt.scipy` plugs them into
  ``scipy.optimize.minimize``; :mod:`fastopt.problems` is the test-problem bank.
* The same kernels for C, C++ and Cython code (``fastopt/kernels.pxd``, the C headers under
  :func:`get_include`; see ``docs/embedding.md``).

>>> import numpy as np, fastopt
>>> w = np.zeros(3, np.float32)
>>> opt = fastopt.SGD([w], lr=0.1)
>>> opt.step([np.ones(3, np.float32)])
>>> w
array([-0.1, -0.1, -0.1], dtype=float32)
"""
import os

from fastopt import clip, functional, problems, reference, schedules, train
from fastopt.noise import GradientNoise
from fastopt._kernels.threads import get_num_threads, openmp_enabled, set_num_threads
from fastopt.optim import (
    SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, AMSGrad, NAdam, Optimizer, RMSprop,
)
from fastopt.second_order import OptimizeResult, minimize
from fastopt import scipy  # noqa: E402  (the adapter; imports SciPy only when called)

__version__ = "0.1.0"

from fastopt import _threadpoolctl  # noqa: E402
_threadpoolctl.register()

# fastopt.scipy is left out: ``from fastopt import *`` would shadow SciPy's own package
__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "AMSGrad", "NAdam",
           "Optimizer", "RMSprop", "functional", "reference", "get_include", "get_num_threads",
           "set_num_threads", "openmp_enabled", "minimize", "OptimizeResult", "problems",
           "schedules", "clip", "train", "GradientNoise"]


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
