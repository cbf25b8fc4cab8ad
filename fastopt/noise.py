r"""Annealed Gaussian gradient noise (Neelakantan et al. 2015), added inside the step.

Neelakantan, Vilnis, Le, Sutskever, Kaiser, Kurach and Martens, "Adding gradient noise
improves learning for very deep networks" (arXiv:1511.06807) add to every gradient element,
at training step ``t``, an independent draw of

.. math::  N(0, \sigma_t^2), \qquad \sigma_t^2 = \frac{\eta}{(1 + t)^\gamma}

with ``eta`` in {0.01, 0.3, 1.0} and ``gamma = 0.55`` in the paper.  A
:class:`GradientNoise` holds ``eta``, ``gamma``, a ``seed`` and its own step counter ``t``
(0 before its first step: the paper's formula is 0-based).  Passed to a step
(``opt.step(grads, noise=gn)`` or a :mod:`fastopt.functional` function's ``noise=gn``), the
optimizer's kernels read ``T(s) g + T(sigma_t z)`` as the gradient (``s`` the step's
``grad_scale``, 1 by default; ``T`` the array's dtype) inside their one pass over memory,
and the step advances ``t`` by one.  The gradient arrays are only read.  One noise object
drives one optimizer: ``t`` counts the steps it was passed to, so passed to every step from
the first, ``t`` is the optimizer's 0-based step count (SGD keeps none of its own).

The normals ``z`` come from a counter-based generator, Philox4x32-10, keyed by the seed and
countered by ``t``, the parameter's position (across all param groups; in a functional call,
its index in the list) and the element's index in it (``src/fastopt/noise.h`` gives the exact
mapping).  Every element's noise is a function of those numbers alone, so a step's result
is the same bit for bit for any thread count, and reproducible from ``(seed, t)``: a
:meth:`~GradientNoise.state_dict` holds ``t``, and loading it continues the same noise.
``sigma_t`` is computed once per step, in double.  ``t`` < 2**32.

Example::

    >>> import numpy as np, fastopt
    >>> w = np.zeros(3)
    >>> opt = fastopt.SGD([w], lr=1.0)
    >>> noise = fastopt.GradientNoise(eta=0.3, seed=7)
    >>> expected = -noise.sample(3)           # the noise the next step adds (t = 0)
    >>> opt.step([np.zeros(3)], noise=noise)  # a zero gradient: w moves by -noise
    >>> bool(np.array_equal(w, expected)), noise.step
    (True, 1)
    >>> round(noise.sigma(0) ** 2, 6), round(noise.sigma(9) ** 2, 6)
    (0.3, 0.084551)
"""
import math
import numbers

import numpy as np

from fastopt import _noise

__all__ = ["GradientNoise"]

#: The noise counter ``t`` stays below this (it is one 32-bit word of Philox's counter).
STEP_LIMIT = 1 << 32
#: Seeds are integers in [0, 2**64) (Philox's 64-bit key).
SEED_LIMIT = 1 << 64


def _real(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{what} must be finite and >= 0, got {value!r}")
    return value


def _integer(value, what, limit):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    value = int(value)
    if not 0 <= value < limit:
        raise ValueError(f"{what} must be an integer in [0, 2**{limit.bit_length() - 1}), "
                         f"got {value!r}")
    return value


class GradientNoise:
    r"""Annealed Gaussian gradient noise: ``N(0, eta / (1 + t)**gamma)`` per element.

    ``eta`` (>= 0): the variance at ``t = 0`` (the paper: 0.01, 0.3 or 1.0); ``gamma``
    (>= 0, default 0.55, the paper's): the decay exponent; ``seed``: an integer in
    [0, 2**64).  ``t`` (:attr:`step`) starts at 0 and is advanced by every optimizer step
    this object is passed to (``opt.step(grads, noise=self)``), only when the step runs.
    See the module docstring for the generator and the references.

    Example::

        >>> from fastopt import GradientNoise
        >>> gn = GradientNoise(eta=1.0, gamma=0.55, seed=3)
        >>> gn.sigma(0), round(gn.sigma(1), 6)
        (1.0, 0.82645)
        >>> gn.state_dict()
        {'eta': 1.0, 'gamma': 0.55, 'seed': 3, 'step': 0}
    """

    def __init__(self, eta, gamma=0.55, seed=0):
        self._eta = _real(eta, "eta")
        self._gamma = _real(gamma, "gamma")
        self._seed = _integer(seed, "seed", SEED_LIMIT)
        # t, as a 0-d int64 array that a step advances in C together with the optimizer's
        # own counters (no Python code between them)
        self._counter = np.zeros((), dtype=np.int64)

    eta = property(lambda self: self._eta, doc="The variance at t = 0.")
    gamma = property(lambda self: self._gamma, doc="The decay exponent of the variance.")
    seed = property(lambda self: self._seed, doc="The generator's key.")

    @property
    def step(self):
        """``t``: the number of steps this noise has been added to (0-based index of the
        next one)."""
        return int(self._counter[()])

    def __repr__(self):
        return (f"GradientNoise(eta={self._eta!r}, gamma={self._gamma!r}, seed={self._seed!r})"
                f"  # step {self.step}")

    def sigma(self, t=None):
        """The standard deviation ``sqrt(eta / (1 + t)**gamma)`` at step ``t`` (default: the
        next step's), in double."""
        t = _integer(self.step if t is None else t, "t", STEP_LIMIT)
        return _noise.sigma(self._eta, self._gamma, t)  # src/fastopt/noise.h: fo_noise_sigma

    def sample(self, shape, param=0, dtype=np.float64, t=None):
        """The noise ``T(sigma_t z)`` that step ``t`` (default: the next one) adds to the
        gradient of the parameter at position ``param``, as an array of ``shape`` and
        ``dtype`` (float32 or float64).  Nothing advances."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        param = _integer(param, "param", STEP_LIMIT)
        t = self.step if t is None else _integer(t, "t", STEP_LIMIT)
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        n = math.prod(shape)
        out = _noise.fill(self._seed, t, param, 0, n, self.sigma(t), dtype)
        return out.reshape(shape)

    def _spec(self):
        """(seed, t, sigma_t) for the step about to run; ValueError when t is out of range."""
        t = self.step
        if not 0 <= t < STEP_LIMIT:
            raise ValueError(f"the noise step t must be in [0, 2**32), got {t}")
        return self._seed, t, self.sigma(t)

    def state_dict(self):
        """``{'eta', 'gamma', 'seed', 'step'}``: loading it continues the same noise."""
        return {"eta": self._eta, "gamma": self._gamma, "seed": self._seed, "step": self.step}

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict` (all checked before anything changes)."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"eta", "gamma", "seed",
                                                                    "step"}:
            raise ValueError("a GradientNoise state_dict is a dict with keys 'eta', 'gamma', "
                             "'seed' and 'step'")
        eta = _real(state_dict["eta"], "eta")
        gamma = _real(state_dict["gamma"], "gamma")
        seed = _integer(state_dict["seed"], "seed", SEED_LIMIT)
        step = _integer(state_dict["step"], "step", STEP_LIMIT)
        self._eta, self._gamma, self._seed = eta, gamma, seed
        self._counter[()] = step
