"""Stateless first-order steps on explicit arrays: ``fastopt.functional.adam_(...)`` etc.

Each function updates ``params`` and the state arrays in place, in one fused, GIL-released,
multithreaded pass over all arrays, and returns None (``nadam_`` returns the new
``mu_product``).  Every argument that takes arrays accepts one array or a list of arrays
(one per parameter); state arrays must have their parameter's shape and dtype.  ``step`` is
the 1-based number of this step, used by the bias corrections (and, for SGD, ``step == 1``
starts the momentum buffers from the gradients).  ``grad_scale`` (default 1) multiplies
every gradient inside the update without writing it (the step equals one on
``g * g.dtype.type(grad_scale)``, bit for bit).  ``noise``, a :class:`fastopt.GradientNoise`,
adds annealed Gaussian noise to every (scaled) gradient inside the update and advances the
noise's own counter (:mod:`fastopt.noise`; a parameter's position is its index in
``params``).  The update rules are those of the classes
in :mod:`fastopt.optim`; :mod:`fastopt.reference` has a plain NumPy implementation of each
function with the same signature.

Example::

    >>> import numpy as np
    >>> from fastopt import functional as F
    >>> p, g = np.zeros(4), np.ones(4)
    >>> m, v = np.zeros(4), np.zeros(4)
    >>> F.adam_(p, g, m, v, step=1, lr=0.1)
    >>> p
    array([-0.1, -0.1, -0.1, -0.1])

Each function is defined next to its class, in ``fastopt/optim/<algorithm>.py``; this
module gathers them, one per row of the algorithm table (``fastopt/_kernels/table.py``).
"""
from importlib import import_module

from fastopt._kernels.table import ALGORITHMS as _TABLE

# X_ is defined next to its class, in fastopt/optim/X.py, for every algorithm of the table
__all__ = [row["name"] + "_" for row in _TABLE]
globals().update({name: getattr(import_module("fastopt.optim." + name[:-1]), name)
                 for name in __all__})
