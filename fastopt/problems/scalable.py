"""Scalable problems for large n (up to 10^6): O(n) values, gradients and Hessian-vector
products; dense Hessians only for n <= 5000.

* :class:`ExtendedRosenbrock` (MGH #21): sum over pairs (x_{2k-1}, x_{2k}) of
  ``100 (x_{2k} - x_{2k-1}^2)^2 + (1 - x_{2k-1})^2``, x0 = (-1.2, 1, -1.2, 1, ...).
* :class:`ChainedRosenbrock`: ``sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`` (the
  "generalized" Rosenbrock of SciPy's ``rosen``), same x0.
* :class:`ExtendedPowell` (MGH #22), :class:`BroydenTridiagonalN` (MGH #30).
* :class:`Quadratic`: ``f = 1/2 (x - 1)^T A (x - 1)`` with eigenvalues log-spaced in
  ``[1, cond]``; diagonal A, or ``A = Q diag Q^T`` with a seeded random rotation Q
  (``rotated=True``, dense, n <= 5000).

>>> import numpy as np
>>> p = ChainedRosenbrock(4); p.fun(np.ones(4)), float(np.abs(p.grad(np.ones(4))).max())
(0.0, 0.0)
"""
import math

import numpy as np

from fastopt.problems._base import Problem

__all__ = ["ExtendedRosenbrock", "ChainedRosenbrock", "ExtendedPowell", "BroydenTridiagonalN",
           "Quadratic", "DENSE_LIMIT"]

#: Largest n for which ``hess`` builds a dense matrix.
DENSE_LIMIT = 5000


def _rosen_x0(n):
    x0 = np.ones(n)
    x0[0::2] = -1.2
    return x0


class _Scalable(Problem):
    def _check_dense(self):
        if self.n > DENSE_LIMIT:
            raise ValueError(f"{self.name}: a dense Hessian at n = {self.n} is too large "
                             f"(limit {DENSE_LIMIT}); use hessp")


class ExtendedRosenbrock(_Scalable):
    """MGH #21, n even."""
    name, f_star, source = "extended_rosenbrock", 0.0, "MGH #21"

    def __init__(self, n=1000):
        if n % 2:
            raise ValueError("extended Rosenbrock needs an even n")
        super().__init__(n, _rosen_x0(n))

    def _f(self, x):
        a, b = x[0::2], x[1::2]
        return float(np.sum(100 * (b - a * a) ** 2 + (1 - a) ** 2))

    def _g(self, x):
        a, b = x[0::2], x[1::2]
        g = np.empty(self.n)
        t = b - a * a
        g[0::2] = -400 * a * t - 2 * (1 - a)
        g[1::2] = 200 * t
        return g

    def _hp(self, x, p):
        a, b = x[0::2], x[1::2]
        pa, pb = p[0::2], p[1::2]
        haa = 1200 * a * a - 400 * b + 2
        hab = -400 * a
        out = np.empty(self.n)
        out[0::2] = haa * pa + hab * pb
        out[1::2] = hab * pa + 200 * pb
        return out

    def _h(self, x):
        self._check_dense()
        a, b = x[0::2], x[1::2]
        H = np.zeros((self.n, self.n))
        i = np.arange(0, self.n, 2)
        H[i, i] = 1200 * a * a - 400 * b + 2
        H[i, i + 1] = H[i + 1, i] = -400 * a
        H[i + 1, i + 1] = 200.0
        return H


class ChainedRosenbrock(_Scalable):
    """sum_{i<n} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 (tridiagonal Hessian)."""
    name, f_star, source = "chained_rosenbrock", 0.0, "generalized Rosenbrock"
    _LOCAL = {4: (3.7014286104,), 5: (3.9308394341,), 6: (3.9739405009,),
              8: (3.9858877696,), 10: (3.9865791123,)}

    def __init__(self, n=1000):
        if n < 2:
            raise ValueError("chained Rosenbrock needs n >= 2")
        super().__init__(n, _rosen_x0(n))
        # n >= 4 also has a local minimum near x = (-1, 1, ..., 1); its value settles
        # at 3.9866238543 from n = 20 on (computed with Newton, gtol 1e-10)
        self.f_local = self._LOCAL.get(n, (3.9866238543,) if n >= 20 else ())

    def _f(self, x):
        a, b = x[:-1], x[1:]
        return float(np.sum(100 * (b - a * a) ** 2 + (1 - a) ** 2))

    def _g(self, x):
        a, b = x[:-1], x[1:]
        t = b - a * a
        g = np.zeros(self.n)
        g[:-1] = -400 * a * t - 2 * (1 - a)
        g[1:] += 200 * t
        return g

    def _diag(self, x):
        d = np.zeros(self.n)
        d[:-1] = 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
        d[1:] += 200
        return d, -400 * x[:-1]

    def _hp(self, x, p):
        d, e = self._diag(x)
        out = d * p
        out[:-1] += e * p[1:]
        out[1:] += e * p[:-1]
        return out

    def _h(self, x):
        self._check_dense()
        d, e = self._diag(x)
        return np.diag(d) + np.diag(e, 1) + np.diag(e, -1)


class ExtendedPowell(_Scalable):
    """MGH #22 (n divisible by 4): per block (a, b, c, d),
    (a + 10 b)^2 + 5 (c - d)^2 + (b - 2c)^4 + 10 (a - d)^4.  Singular Hessian at 0."""
    name, f_star, source = "extended_powell", 0.0, "MGH #22"

    def __init__(self, n=1000):
        if n % 4:
            raise ValueError("extended Powell needs n divisible by 4")
        super().__init__(n, np.tile([3.0, -1.0, 0.0, 1.0], n // 4))

    @staticmethod
    def _parts(x):
        return x[0::4], x[1::4], x[2::4], x[3::4]

    def _f(self, x):
        a, b, c, d = self._parts(x)
        return float(np.sum((a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4
                            + 10 * (a - d) ** 4))

    def _g(self, x):
        a, b, c, d = self._parts(x)
        u, v, w, z = a + 10 * b, c - d, b - 2 * c, a - d
        g = np.empty(self.n)
        g[0::4] = 2 * u + 40 * z ** 3
        g[1::4] = 20 * u + 4 * w ** 3
        g[2::4] = 10 * v - 8 * w ** 3
        g[3::4] = -10 * v - 40 * z ** 3
        return g

    def _blocks(self, x):
        """The 4x4 Hessian blocks, shape (n/4, 4, 4)."""
        a, b, c, d = self._parts(x)
        w2, z2 = 12 * (b - 2 * c) ** 2, 120 * (a - d) ** 2
        B = np.zeros((self.n // 4, 4, 4))
        B[:, 0, 0] = 2 + z2
        B[:, 0, 1] = B[:, 1, 0] = 20
        B[:, 0, 3] = B[:, 3, 0] = -z2
        B[:, 1, 1] = 200 + w2
        B[:, 1, 2] = B[:, 2, 1] = -2 * w2
        B[:, 2, 2] = 10 + 4 * w2
        B[:, 2, 3] = B[:, 3, 2] = -10
        B[:, 3, 3] = 10 + z2
        return B

    def _hp(self, x, p):
        return np.einsum("kij,kj->ki", self._blocks(x), p.reshape(-1, 4)).reshape(self.n)

    def _h(self, x):
        self._check_dense()
        H = np.zeros((self.n, self.n))
        for k, blk in enumerate(self._blocks(x)):
            H[4 * k:4 * k + 4, 4 * k:4 * k + 4] = blk
        return H


class BroydenTridiagonalN(_Scalable):
    """MGH #30 in O(n): f = sum_i r_i^2, r_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1."""
    name, f_star, source = "broyden_tridiagonal_n", 0.0, "MGH #30"

    def __init__(self, n=1000):
        super().__init__(n, -np.ones(n))

    def _r(self, x):
        r = (3 - 2 * x) * x + 1
        r[1:] -= x[:-1]
        r[:-1] -= 2 * x[1:]
        return r

    @staticmethod
    def _jt(x, r):                       # J^T r, J = diag(3 - 4x) - sub - 2 super
        out = (3 - 4 * x) * r
        out[:-1] -= r[1:]
        out[1:] -= 2 * r[:-1]
        return out

    @staticmethod
    def _j(x, p):
        out = (3 - 4 * x) * p
        out[1:] -= p[:-1]
        out[:-1] -= 2 * p[1:]
        return out

    def _f(self, x):
        r = self._r(x)
        return float(r @ r)

    def _g(self, x):
        return 2 * self._jt(x, self._r(x))

    def _hp(self, x, p):
        return 2 * (self._jt(x, self._j(x, p)) - 4 * self._r(x) * p)

    def _h(self, x):
        self._check_dense()
        J = np.diag(3 - 4 * x) - np.eye(self.n, k=-1) - 2 * np.eye(self.n, k=1)
        return 2 * (J.T @ J + np.diag(-4 * self._r(x)))


class Quadratic(_Scalable):
    """``1/2 (x - 1)^T A (x - 1)``, eigenvalues ``cond^(k/(n-1))``, x0 = 0."""
    f_star = 0.0
    source = "ill-conditioned quadratic"

    def __init__(self, n=1000, cond=1e6, rotated=False, seed=0):
        super().__init__(n, np.zeros(n))
        self.cond, self.rotated = float(cond), bool(rotated)
        self.lam = cond ** (np.arange(n) / max(n - 1, 1))
        self.name = f"quadratic{'_rot' if rotated else ''}_cond{cond:.0e}"
        if rotated:
            self._check_dense()
            Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
            self.A = (Q * self.lam) @ Q.T
            self.A = 0.5 * (self.A + self.A.T)

    def _f(self, x):
        e = x - 1
        return 0.5 * float(e @ self._hp(x, e))

    def _g(self, x):
        return self._hp(x, x - 1)

    def _hp(self, x, p):
        return self.A @ p if self.rotated else self.lam * p

    def _h(self, x):
        self._check_dense()
        return self.A.copy() if self.rotated else np.diag(self.lam)
