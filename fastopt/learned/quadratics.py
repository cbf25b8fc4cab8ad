"""The meta-training and test problems of the learned optimizer: random 10-dimensional
quadratics ``f(x) = ||W x - y||^2`` (Andrychowicz et al. 2016), ``W`` and ``y`` with entries
uniform in [0, 1), the start ``x0`` normal with standard deviation 0.01.

Many independent problems are held as arrays of shape ``(n, dim, dim)``, ``(n, dim)``: one
point per problem, ``x`` of shape ``(n, dim)``.

Example::

    >>> import numpy as np
    >>> from fastopt.learned.quadratics import Quadratics
    >>> q = Quadratics.sample(3, seed=0)
    >>> x = q.x0.copy()
    >>> f, g = q.loss(x), q.grad(x)
    >>> f.shape, g.shape
    ((3,), (3, 10))
"""
import numpy as np

__all__ = ["Quadratics"]


class Quadratics:
    """``n`` quadratics ``f_i(x) = ||W_i x - y_i||^2`` with start points ``x0``."""

    def __init__(self, w, y, x0):
        self.w = np.asarray(w, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.x0 = np.asarray(x0, dtype=np.float64)
        n, d = self.y.shape
        if self.w.shape != (n, d, d) or self.x0.shape != (n, d):
            raise ValueError(f"shapes do not fit: w {self.w.shape}, y {self.y.shape}, "
                             f"x0 {self.x0.shape}")

    @classmethod
    def sample(cls, n, dim=10, seed=None, stddev=0.01):
        """``n`` random problems of dimension ``dim`` (a NumPy ``seed`` or Generator)."""
        rng = np.random.default_rng(seed)
        return cls(rng.random((n, dim, dim)), rng.random((n, dim)),
                   stddev * rng.standard_normal((n, dim)))

    def residual(self, x):
        return np.einsum("nij,nj->ni", self.w, x) - self.y

    def loss(self, x):
        """``f_i(x_i)`` for every problem, shape ``(n,)``."""
        r = self.residual(x)
        return np.einsum("ni,ni->n", r, r)

    def grad(self, x):
        """``grad f_i(x_i) = 2 W_i^T (W_i x_i - y_i)``, shape ``(n, dim)``."""
        return 2 * np.einsum("nij,ni->nj", self.w, self.residual(x))
