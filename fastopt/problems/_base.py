"""The problem interface of the bank."""
import numpy as np

__all__ = ["Problem", "LeastSquares"]


class Problem:
    """A smooth unconstrained test problem with analytic derivatives.

    Attributes: ``name``, ``n``, ``x0`` (standard starting point, float64), ``f_star``
    (the known minimum value, None if unknown), ``f_local`` (other known local minimum
    values a method may legitimately reach from x0), ``source``.

    Methods (x of any float dtype; gradients, Hessians and products come back in x's
    dtype, values as float): ``fun(x)``, ``grad(x)``, ``fun_grad(x) -> (f, g)``,
    ``hess(x) -> (n, n)`` and ``hessp(x, p)``; ``solved(f)`` tells whether a value is one
    of the known minima (relative/absolute tolerance ``tol``).
    """

    name = "problem"
    source = ""
    f_star = None
    f_local = ()

    def __init__(self, n, x0):
        self.n = int(n)
        self.x0 = np.asarray(x0, dtype=np.float64).reshape(self.n)

    # subclasses implement _f, _g, _h, _hp on float64 arrays
    def fun(self, x):
        return float(self._f(self._in(x)))

    def grad(self, x):
        return self._out(self._g(self._in(x)), x)

    def fun_grad(self, x):
        x64 = self._in(x)
        return float(self._f(x64)), self._out(self._g(x64), x)

    def hess(self, x):
        return self._out(self._h(self._in(x)), x)

    def hessp(self, x, p):
        return self._out(self._hp(self._in(x), np.asarray(p, np.float64).reshape(self.n)), x)

    def _hp(self, x, p):
        return self._h(x) @ p

    def minima(self):
        """The known minimum values (global first)."""
        return ([] if self.f_star is None else [self.f_star]) + list(self.f_local)

    def solved(self, f, atol=1e-8, rtol=1e-6):
        """True when ``f`` is within ``atol + rtol |m|`` of a known minimum value m (the
        known values carry 6 to 12 digits)."""
        return any(abs(f - m) <= atol + rtol * abs(m) for m in self.minima())

    def _in(self, x):
        x = np.asarray(x)
        if x.shape != (self.n,):
            raise ValueError(f"{self.name}: expected x of shape ({self.n},), got {x.shape}")
        return x.astype(np.float64, copy=False)

    @staticmethod
    def _out(a, x):
        dt = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        return np.ascontiguousarray(a, dtype=dt)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name} n={self.n}>"


class LeastSquares(Problem):
    """``f(x) = sum_i r_i(x)^2`` from residuals ``r`` (m,), their Jacobian ``J`` (m, n) and
    ``W(x, w) = sum_i w_i Hess r_i(x)`` (n, n):

        grad f = 2 J^T r,      Hess f = 2 (J^T J + W(x, r))
    """

    def residuals(self, x):
        raise NotImplementedError

    def jacobian(self, x):
        raise NotImplementedError

    def residual_hessian(self, x, w):
        raise NotImplementedError

    def _f(self, x):
        r = self.residuals(x)
        return r @ r

    def _g(self, x):
        return 2.0 * (self.jacobian(x).T @ self.residuals(x))

    def _h(self, x):
        J = self.jacobian(x)
        return 2.0 * (J.T @ J + self.residual_hessian(x, self.residuals(x)))

    def _hp(self, x, p):
        J = self.jacobian(x)
        return 2.0 * (J.T @ (J @ p) + self.residual_hessian(x, self.residuals(x)) @ p)
