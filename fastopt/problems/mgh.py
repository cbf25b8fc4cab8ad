"""The Moré–Garbow–Hillstrom unconstrained test set (ACM TOMS 7(1), 1981), as sums of
squares ``f = sum_i r_i(x)^2`` with analytic Jacobians and residual Hessians.

33 of the 35 problems (Gulf research and development, #11, and Osborne 2, #19, are left
out).  Each class is named after the paper's problem and carries its number, the
standard starting point and the minimum values the paper reports (``f_star`` the global
minimum, ``f_local`` other minima that methods reach from the standard start).

>>> from fastopt.problems.mgh import Beale
>>> p = Beale(); p.fun(p.x0), p.fun([3.0, 0.5])
(14.203125, 0.0)
"""
import math

import numpy as np

from fastopt.problems._base import LeastSquares

__all__ = ["MGH_PROBLEMS", "mgh_problems"]


def _sym(n, entries):
    """n x n symmetric matrix from {(i, j): value} with i <= j."""
    H = np.zeros((n, n))
    for (i, j), v in entries.items():
        H[i, j] += v
        if i != j:
            H[j, i] += v
    return H


class Rosenbrock(LeastSquares):
    """#1 Rosenbrock: r = (10 (x2 - x1^2), 1 - x1)."""
    number, name, f_star = 1, "rosenbrock", 0.0

    def __init__(self):
        super().__init__(2, [-1.2, 1.0])

    def residuals(self, x):
        return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])

    def jacobian(self, x):
        return np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])

    def residual_hessian(self, x, w):
        return _sym(2, {(0, 0): -20 * w[0]})


class FreudensteinRoth(LeastSquares):
    """#2 Freudenstein and Roth."""
    number, name, f_star, f_local = 2, "freudenstein_roth", 0.0, (48.98425367924,)

    def __init__(self):
        super().__init__(2, [0.5, -2.0])

    def residuals(self, x):
        a, b = x
        return np.array([-13 + a + ((5 - b) * b - 2) * b, -29 + a + ((b + 1) * b - 14) * b])

    def jacobian(self, x):
        b = x[1]
        return np.array([[1.0, 10 * b - 3 * b * b - 2], [1.0, 3 * b * b + 2 * b - 14]])

    def residual_hessian(self, x, w):
        b = x[1]
        return _sym(2, {(1, 1): w[0] * (10 - 6 * b) + w[1] * (6 * b + 2)})


class PowellBadlyScaled(LeastSquares):
    """#3 Powell badly scaled."""
    number, name, f_star = 3, "powell_badly_scaled", 0.0

    def __init__(self):
        super().__init__(2, [0.0, 1.0])

    def residuals(self, x):
        return np.array([1e4 * x[0] * x[1] - 1, math.exp(-x[0]) + math.exp(-x[1]) - 1.0001])

    def jacobian(self, x):
        return np.array([[1e4 * x[1], 1e4 * x[0]], [-math.exp(-x[0]), -math.exp(-x[1])]])

    def residual_hessian(self, x, w):
        return _sym(2, {(0, 1): 1e4 * w[0], (0, 0): w[1] * math.exp(-x[0]),
                        (1, 1): w[1] * math.exp(-x[1])})


class BrownBadlyScaled(LeastSquares):
    """#4 Brown badly scaled."""
    number, name, f_star = 4, "brown_badly_scaled", 0.0

    def __init__(self):
        super().__init__(2, [1.0, 1.0])

    def residuals(self, x):
        return np.array([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])

    def jacobian(self, x):
        return np.array([[1.0, 0.0], [0.0, 1.0], [x[1], x[0]]])

    def residual_hessian(self, x, w):
        return _sym(2, {(0, 1): w[2]})


class Beale(LeastSquares):
    """#5 Beale: r_i = y_i - x1 (1 - x2^i)."""
    number, name, f_star = 5, "beale", 0.0
    y = np.array([1.5, 2.25, 2.625])

    def __init__(self):
        super().__init__(2, [1.0, 1.0])

    def residuals(self, x):
        i = np.arange(1, 4)
        return self.y - x[0] * (1 - x[1] ** i)

    def jacobian(self, x):
        i = np.arange(1, 4)
        return np.stack([-(1 - x[1] ** i), x[0] * i * x[1] ** (i - 1)], axis=1)

    def residual_hessian(self, x, w):
        i = np.arange(1, 4)
        d12 = i * x[1] ** (i - 1)
        d22 = x[0] * i * (i - 1) * np.where(i >= 2, x[1] ** np.maximum(i - 2, 0), 0.0)
        return _sym(2, {(0, 1): w @ d12, (1, 1): w @ d22})


class JennrichSampson(LeastSquares):
    """#6 Jennrich and Sampson, m = 10."""
    number, name, f_star = 6, "jennrich_sampson", 124.362182355

    def __init__(self, m=10):
        self.m = m
        super().__init__(2, [0.3, 0.4])

    def residuals(self, x):
        i = np.arange(1, self.m + 1)
        return 2 + 2 * i - (np.exp(i * x[0]) + np.exp(i * x[1]))

    def jacobian(self, x):
        i = np.arange(1, self.m + 1)
        return np.stack([-i * np.exp(i * x[0]), -i * np.exp(i * x[1])], axis=1)

    def residual_hessian(self, x, w):
        i = np.arange(1, self.m + 1)
        return _sym(2, {(0, 0): -w @ (i * i * np.exp(i * x[0])),
                        (1, 1): -w @ (i * i * np.exp(i * x[1]))})


class HelicalValley(LeastSquares):
    """#7 Helical valley; theta = atan(x2 / x1) / (2 pi) (+ 1/2 when x1 < 0)."""
    number, name, f_star = 7, "helical_valley", 0.0

    def __init__(self):
        super().__init__(3, [-1.0, 0.0, 0.0])

    @staticmethod
    def _theta(x):
        t = math.atan(x[1] / x[0]) / (2 * math.pi) if x[0] != 0 else math.copysign(0.25, x[1])
        return t + 0.5 if x[0] < 0 else t

    def residuals(self, x):
        r = math.hypot(x[0], x[1])
        return np.array([10 * (x[2] - 10 * self._theta(x)), 10 * (r - 1), x[2]])

    def jacobian(self, x):
        r2 = x[0] ** 2 + x[1] ** 2
        r = math.sqrt(r2)
        t1, t2 = -x[1] / (2 * math.pi * r2), x[0] / (2 * math.pi * r2)
        return np.array([[-100 * t1, -100 * t2, 10.0], [10 * x[0] / r, 10 * x[1] / r, 0.0],
                         [0.0, 0.0, 1.0]])

    def residual_hessian(self, x, w):
        a, b = x[0], x[1]
        r2 = a * a + b * b
        r = math.sqrt(r2)
        t11 = a * b / (math.pi * r2 * r2)
        t12 = (b * b - a * a) / (2 * math.pi * r2 * r2)
        q = 10.0 / (r * r2)                       # Hess of 10 r: 10 (I / r - x x^T / r^3)
        return _sym(3, {(0, 0): -100 * w[0] * t11 + w[1] * q * b * b,
                        (0, 1): -100 * w[0] * t12 - w[1] * q * a * b,
                        (1, 1): 100 * w[0] * t11 + w[1] * q * a * a})


class Bard(LeastSquares):
    """#8 Bard: r_i = y_i - (x1 + u_i / (v_i x2 + w_i x3))."""
    number, name, f_star, f_local = 8, "bard", 8.21487730657e-3, (17.4286,)
    y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96,
                  1.34, 2.10, 4.39])

    def __init__(self):
        super().__init__(3, [1.0, 1.0, 1.0])
        self.u = np.arange(1.0, 16.0)
        self.v = 16.0 - self.u
        self.w = np.minimum(self.u, self.v)

    def residuals(self, x):
        return self.y - (x[0] + self.u / (self.v * x[1] + self.w * x[2]))

    def jacobian(self, x):
        D = self.v * x[1] + self.w * x[2]
        return np.stack([-np.ones(15), self.u * self.v / D ** 2, self.u * self.w / D ** 2], 1)

    def residual_hessian(self, x, w):
        D3 = (self.v * x[1] + self.w * x[2]) ** 3
        c = -2 * w * self.u / D3
        return _sym(3, {(1, 1): c @ (self.v ** 2), (1, 2): c @ (self.v * self.w),
                        (2, 2): c @ (self.w ** 2)})


class Gaussian(LeastSquares):
    """#9 Gaussian: r_i = x1 exp(-x2 (t_i - x3)^2 / 2) - y_i, t_i = (8 - i) / 2."""
    number, name, f_star = 9, "gaussian", 1.12793276962e-8
    y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989, 0.3521,
                  0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])

    def __init__(self):
        super().__init__(3, [0.4, 1.0, 0.0])
        self.t = (8.0 - np.arange(1, 16)) / 2

    def _parts(self, x):
        c = self.t - x[2]
        return c, np.exp(-x[1] * c * c / 2)

    def residuals(self, x):
        c, e = self._parts(x)
        return x[0] * e - self.y

    def jacobian(self, x):
        c, e = self._parts(x)
        return np.stack([e, -x[0] * e * c * c / 2, x[0] * e * x[1] * c], 1)

    def residual_hessian(self, x, w):
        c, e = self._parts(x)
        x1, x2 = x[0], x[1]
        return _sym(3, {(0, 1): w @ (-e * c * c / 2), (0, 2): w @ (e * x2 * c),
                        (1, 1): w @ (x1 * e * c ** 4 / 4),
                        (1, 2): w @ (x1 * e * (c - x2 * c ** 3 / 2)),
                        (2, 2): w @ (x1 * x2 * e * (x2 * c * c - 1))})


class Meyer(LeastSquares):
    """#10 Meyer: r_i = x1 exp(x2 / (t_i + x3)) - y_i, t_i = 45 + 5 i."""
    number, name, f_star = 10, "meyer", 87.9458551
    y = np.array([34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261, 7030, 6005,
                  5147, 4427, 3820, 3307, 2872], dtype=float)

    def __init__(self):
        super().__init__(3, [0.02, 4000.0, 250.0])
        self.t = 45.0 + 5 * np.arange(1, 17)

    def residuals(self, x):
        return x[0] * np.exp(x[1] / (self.t + x[2])) - self.y

    def jacobian(self, x):
        q = self.t + x[2]
        e = np.exp(x[1] / q)
        return np.stack([e, x[0] * e / q, -x[0] * e * x[1] / q ** 2], 1)

    def residual_hessian(self, x, w):
        q = self.t + x[2]
        e = np.exp(x[1] / q)
        x1, x2 = x[0], x[1]
        return _sym(3, {(0, 1): w @ (e / q), (0, 2): w @ (-e * x2 / q ** 2),
                        (1, 1): w @ (x1 * e / q ** 2),
                        (1, 2): w @ (-x1 * e * (x2 / q ** 3 + 1 / q ** 2)),
                        (2, 2): w @ (x1 * x2 * e * (x2 / q ** 4 + 2 / q ** 3))})


class Box3D(LeastSquares):
    """#12 Box three-dimensional, m = 10."""
    number, name, f_star = 12, "box_3d", 0.0

    def __init__(self, m=10):
        super().__init__(3, [0.0, 10.0, 20.0])
        self.t = 0.1 * np.arange(1, m + 1)

    def residuals(self, x):
        t = self.t
        return np.exp(-t * x[0]) - np.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10 * t))

    def jacobian(self, x):
        t = self.t
        return np.stack([-t * np.exp(-t * x[0]), t * np.exp(-t * x[1]),
                         -(np.exp(-t) - np.exp(-10 * t))], 1)

    def residual_hessian(self, x, w):
        t = self.t
        return _sym(3, {(0, 0): w @ (t * t * np.exp(-t * x[0])),
                        (1, 1): -w @ (t * t * np.exp(-t * x[1]))})


class PowellSingular(LeastSquares):
    """#13 Powell singular (and #22, extended, for n a multiple of 4)."""
    number, name, f_star = 13, "powell_singular", 0.0

    def __init__(self, n=4):
        if n % 4:
            raise ValueError("Powell singular needs n divisible by 4")
        super().__init__(n, np.tile([3.0, -1.0, 0.0, 1.0], n // 4))
        if n > 4:
            self.number, self.name = 22, "extended_powell_singular"

    def residuals(self, x):
        a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
        r = np.empty(self.n)
        r[0::4] = a + 10 * b
        r[1::4] = math.sqrt(5) * (c - d)
        r[2::4] = (b - 2 * c) ** 2
        r[3::4] = math.sqrt(10) * (a - d) ** 2
        return r

    def jacobian(self, x):
        J = np.zeros((self.n, self.n))
        s5, s10 = math.sqrt(5), math.sqrt(10)
        for k in range(0, self.n, 4):
            a, b, c, d = x[k:k + 4]
            J[k, k], J[k, k + 1] = 1.0, 10.0
            J[k + 1, k + 2], J[k + 1, k + 3] = s5, -s5
            J[k + 2, k + 1], J[k + 2, k + 2] = 2 * (b - 2 * c), -4 * (b - 2 * c)
            J[k + 3, k], J[k + 3, k + 3] = 2 * s10 * (a - d), -2 * s10 * (a - d)
        return J

    def residual_hessian(self, x, w):
        H = np.zeros((self.n, self.n))
        u, v = np.array([1.0, -2.0]), np.array([1.0, -1.0])
        for k in range(0, self.n, 4):
            H[np.ix_([k + 1, k + 2], [k + 1, k + 2])] += 2 * w[k + 2] * np.outer(u, u)
            H[np.ix_([k, k + 3], [k, k + 3])] += 2 * math.sqrt(10) * w[k + 3] * np.outer(v, v)
        return H


class Wood(LeastSquares):
    """#14 Wood."""
    number, name, f_star = 14, "wood", 0.0

    def __init__(self):
        super().__init__(4, [-3.0, -1.0, -3.0, -1.0])

    def residuals(self, x):
        return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0], math.sqrt(90) * (x[3] - x[2] ** 2),
                         1 - x[2], math.sqrt(10) * (x[1] + x[3] - 2),
                         (x[1] - x[3]) / math.sqrt(10)])

    def jacobian(self, x):
        s90, s10 = math.sqrt(90), math.sqrt(10)
        return np.array([[-20 * x[0], 10, 0, 0], [-1, 0, 0, 0], [0, 0, -2 * s90 * x[2], s90],
                         [0, 0, -1, 0], [0, s10, 0, s10], [0, 1 / s10, 0, -1 / s10]])

    def residual_hessian(self, x, w):
        return _sym(4, {(0, 0): -20 * w[0], (2, 2): -2 * math.sqrt(90) * w[2]})


class KowalikOsborne(LeastSquares):
    """#15 Kowalik and Osborne: r_i = y_i - x1 (u^2 + u x2) / (u^2 + u x3 + x4)."""
    number, name, f_star = 15, "kowalik_osborne", 3.07505603849e-4
    f_local = (1.02734e-3,)
    y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323,
                  0.0235, 0.0246])
    u = np.array([4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])

    def __init__(self):
        super().__init__(4, [0.25, 0.39, 0.415, 0.39])

    def _parts(self, x):
        u = self.u
        return u, u * u + u * x[1], u * u + u * x[2] + x[3]

    def residuals(self, x):
        u, N, D = self._parts(x)
        return self.y - x[0] * N / D

    def jacobian(self, x):
        u, N, D = self._parts(x)
        x1 = x[0]
        return -np.stack([N / D, x1 * u / D, -x1 * N * u / D ** 2, -x1 * N / D ** 2], 1)

    def residual_hessian(self, x, w):
        u, N, D = self._parts(x)
        x1 = x[0]
        w = -w                                       # r = y - model
        return _sym(4, {(0, 1): w @ (u / D), (0, 2): w @ (-N * u / D ** 2),
                        (0, 3): w @ (-N / D ** 2), (1, 2): w @ (-x1 * u * u / D ** 2),
                        (1, 3): w @ (-x1 * u / D ** 2), (2, 2): w @ (2 * x1 * N * u * u / D ** 3),
                        (2, 3): w @ (2 * x1 * N * u / D ** 3),
                        (3, 3): w @ (2 * x1 * N / D ** 3)})


class BrownDennis(LeastSquares):
    """#16 Brown and Dennis, m = 20: r_i = a_i^2 + b_i^2 with a_i = x1 + t x2 - e^t,
    b_i = x3 + x4 sin t - cos t, t = i / 5."""
    number, name, f_star = 16, "brown_dennis", 85822.2016263563

    def __init__(self, m=20):
        super().__init__(4, [25.0, 5.0, -5.0, -1.0])
        self.t = np.arange(1, m + 1) / 5.0

    def _ab(self, x):
        t = self.t
        return x[0] + t * x[1] - np.exp(t), x[2] + x[3] * np.sin(t) - np.cos(t)

    def residuals(self, x):
        a, b = self._ab(x)
        return a * a + b * b

    def jacobian(self, x):
        a, b = self._ab(x)
        t = self.t
        return np.stack([2 * a, 2 * a * t, 2 * b, 2 * b * np.sin(t)], 1)

    def residual_hessian(self, x, w):
        t, s = self.t, np.sin(self.t)
        return _sym(4, {(0, 0): 2 * w.sum(), (0, 1): 2 * w @ t, (1, 1): 2 * w @ (t * t),
                        (2, 2): 2 * w.sum(), (2, 3): 2 * w @ s, (3, 3): 2 * w @ (s * s)})


class Osborne1(LeastSquares):
    """#17 Osborne 1: r_i = y_i - (x1 + x2 exp(-t x4) + x3 exp(-t x5)), t = 10 (i - 1)."""
    number, name, f_star = 17, "osborne1", 5.46489469748e-5
    y = np.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784,
                  0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506,
                  0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411,
                  0.406])

    def __init__(self):
        super().__init__(5, [0.5, 1.5, -1.0, 0.01, 0.02])
        self.t = 10.0 * np.arange(33)

    def residuals(self, x):
        t = self.t
        return self.y - (x[0] + x[1] * np.exp(-t * x[3]) + x[2] * np.exp(-t * x[4]))

    def jacobian(self, x):
        t = self.t
        e4, e5 = np.exp(-t * x[3]), np.exp(-t * x[4])
        return -np.stack([np.ones(33), e4, e5, -t * x[1] * e4, -t * x[2] * e5], 1)

    def residual_hessian(self, x, w):
        t = self.t
        e4, e5 = np.exp(-t * x[3]), np.exp(-t * x[4])
        w = -w
        return _sym(5, {(1, 3): w @ (-t * e4), (2, 4): w @ (-t * e5),
                        (3, 3): w @ (t * t * x[1] * e4), (4, 4): w @ (t * t * x[2] * e5)})


class BiggsExp6(LeastSquares):
    """#18 Biggs EXP6, m = 13."""
    number, name, f_star, f_local = 18, "biggs_exp6", 0.0, (5.65565e-3, 0.306366)

    def __init__(self, m=13):
        super().__init__(6, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0])
        t = 0.1 * np.arange(1, m + 1)
        self.t, self.y = t, np.exp(-t) - 5 * np.exp(-10 * t) + 3 * np.exp(-4 * t)

    def residuals(self, x):
        t = self.t
        return (x[2] * np.exp(-t * x[0]) - x[3] * np.exp(-t * x[1])
                + x[5] * np.exp(-t * x[4]) - self.y)

    def jacobian(self, x):
        t = self.t
        e1, e2, e5 = np.exp(-t * x[0]), np.exp(-t * x[1]), np.exp(-t * x[4])
        return np.stack([-t * x[2] * e1, t * x[3] * e2, e1, -e2, -t * x[5] * e5, e5], 1)

    def residual_hessian(self, x, w):
        t = self.t
        e1, e2, e5 = np.exp(-t * x[0]), np.exp(-t * x[1]), np.exp(-t * x[4])
        return _sym(6, {(0, 0): w @ (t * t * x[2] * e1), (0, 2): w @ (-t * e1),
                        (1, 1): w @ (-t * t * x[3] * e2), (1, 3): w @ (t * e2),
                        (4, 4): w @ (t * t * x[5] * e5), (4, 5): w @ (-t * e5)})


class Watson(LeastSquares):
    """#20 Watson (n = 6 or 9 here), m = 31."""
    number, name = 20, "watson"
    MINIMA = {6: 2.28767005355e-3, 9: 1.39976181e-6, 12: 4.72238e-10}

    def __init__(self, n=6):
        super().__init__(n, np.zeros(n))
        self.f_star = self.MINIMA.get(n)
        self.t = np.arange(1, 30) / 29.0
        self.P = self.t[:, None] ** np.arange(n)[None, :]                  # t^(j-1)
        j = np.arange(n)
        self.Q = np.where(j > 0, j * self.t[:, None] ** np.maximum(j - 1, 0), 0.0)

    def residuals(self, x):
        s = self.P @ x
        return np.concatenate([self.Q @ x - s * s - 1, [x[0], x[1] - x[0] ** 2 - 1]])

    def jacobian(self, x):
        s = self.P @ x
        J = np.zeros((31, self.n))
        J[:29] = self.Q - 2 * s[:, None] * self.P
        J[29, 0] = 1.0
        J[30, 0], J[30, 1] = -2 * x[0], 1.0
        return J

    def residual_hessian(self, x, w):
        H = -2 * (self.P.T * w[:29]) @ self.P
        H[0, 0] -= 2 * w[30]
        return H


class PenaltyI(LeastSquares):
    """#23 Penalty function I: r_i = sqrt(1e-5) (x_i - 1), r_{n+1} = |x|^2 - 1/4."""
    number, name = 23, "penalty1"
    MINIMA = {4: 2.24997749528e-5, 10: 7.08765146617e-5}

    def __init__(self, n=10):
        super().__init__(n, np.arange(1.0, n + 1))
        self.f_star = self.MINIMA.get(n)

    def residuals(self, x):
        return np.concatenate([math.sqrt(1e-5) * (x - 1), [x @ x - 0.25]])

    def jacobian(self, x):
        return np.vstack([math.sqrt(1e-5) * np.eye(self.n), 2 * x[None, :]])

    def residual_hessian(self, x, w):
        return 2 * w[-1] * np.eye(self.n)


class PenaltyII(LeastSquares):
    """#24 Penalty function II."""
    number, name = 24, "penalty2"
    MINIMA = {4: 9.37629300567e-6, 10: 2.93660879564e-4}

    def __init__(self, n=10):
        super().__init__(n, np.full(n, 0.5))
        self.f_star = self.MINIMA.get(n)
        i = np.arange(2, n + 1)
        self.yv = np.exp(i / 10) + np.exp((i - 1) / 10)
        self.sa = math.sqrt(1e-5)
        self.c = n - np.arange(n)                                          # n - j + 1

    def residuals(self, x):
        e = np.exp(x / 10)
        return np.concatenate([[x[0] - 0.2], self.sa * (e[1:] + e[:-1] - self.yv),
                               self.sa * (e[1:] - math.exp(-0.1)), [self.c @ (x * x) - 1]])

    def jacobian(self, x):
        n, e = self.n, np.exp(x / 10)
        J = np.zeros((2 * n, n))
        J[0, 0] = 1.0
        k = np.arange(1, n)
        J[k, k] = self.sa * e[1:] / 10
        J[k, k - 1] = self.sa * e[:-1] / 10
        J[n - 1 + k, k] = self.sa * e[1:] / 10
        J[2 * n - 1] = 2 * self.c * x
        return J

    def residual_hessian(self, x, w):
        n, e = self.n, np.exp(x / 10)
        d = np.zeros(n)
        d[1:] += w[1:n] * self.sa * e[1:] / 100
        d[:-1] += w[1:n] * self.sa * e[:-1] / 100
        d[1:] += w[n:2 * n - 1] * self.sa * e[1:] / 100
        d += w[2 * n - 1] * 2 * self.c
        return np.diag(d)


class VariablyDimensioned(LeastSquares):
    """#25 Variably dimensioned: x_i - 1, u = sum_j j (x_j - 1), u^2."""
    number, name, f_star = 25, "variably_dimensioned", 0.0

    def __init__(self, n=10):
        super().__init__(n, 1 - np.arange(1, n + 1) / n)
        self.j = np.arange(1.0, n + 1)

    def residuals(self, x):
        u = self.j @ (x - 1)
        return np.concatenate([x - 1, [u, u * u]])

    def jacobian(self, x):
        u = self.j @ (x - 1)
        return np.vstack([np.eye(self.n), self.j, 2 * u * self.j])

    def residual_hessian(self, x, w):
        return 2 * w[-1] * np.outer(self.j, self.j)


class Trigonometric(LeastSquares):
    """#26 Trigonometric: r_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i."""
    number, name, f_star = 26, "trigonometric", 0.0
    LOCAL = {10: (2.79506e-5,)}

    def __init__(self, n=10):
        super().__init__(n, np.full(n, 1.0 / n))
        self.i = np.arange(1.0, n + 1)
        self.f_local = self.LOCAL.get(n, ())

    def residuals(self, x):
        return self.n - np.cos(x).sum() + self.i * (1 - np.cos(x)) - np.sin(x)

    def jacobian(self, x):
        return np.tile(np.sin(x), (self.n, 1)) + np.diag(self.i * np.sin(x) - np.cos(x))

    def residual_hessian(self, x, w):
        return np.diag(w.sum() * np.cos(x) + w * (self.i * np.cos(x) + np.sin(x)))


class BrownAlmostLinear(LeastSquares):
    """#27 Brown almost-linear: x_i + sum x - (n + 1) (i < n), prod x - 1."""
    number, name, f_star, f_local = 27, "brown_almost_linear", 0.0, (1.0,)

    def __init__(self, n=10):
        super().__init__(n, np.full(n, 0.5))

    def residuals(self, x):
        r = x + x.sum() - (self.n + 1)
        r[-1] = np.prod(x) - 1
        return r

    def jacobian(self, x):
        n = self.n
        J = np.ones((n, n)) + np.eye(n)
        J[-1] = [np.prod(np.delete(x, j)) for j in range(n)]
        return J

    def residual_hessian(self, x, w):
        n = self.n
        H = np.zeros((n, n))
        for j in range(n):
            for k in range(j + 1, n):
                H[j, k] = H[k, j] = np.prod(np.delete(x, [j, k]))
        return w[-1] * H


class DiscreteBoundaryValue(LeastSquares):
    """#28 Discrete boundary value: 2x_i - x_{i-1} - x_{i+1} + h^3 (x_i + t_i + 1)^3 / 2."""
    number, name, f_star = 28, "discrete_boundary_value", 0.0

    def __init__(self, n=10):
        h = 1.0 / (n + 1)
        self.h, self.t = h, h * np.arange(1, n + 1)
        super().__init__(n, self.t * (self.t - 1))

    def residuals(self, x):
        xp = np.concatenate([[0.0], x, [0.0]])
        return 2 * x - xp[:-2] - xp[2:] + self.h ** 3 * (x + self.t + 1) ** 3 / 2

    def jacobian(self, x):
        n = self.n
        return (np.diag(2 + 1.5 * self.h ** 3 * (x + self.t + 1) ** 2)
                - np.eye(n, k=1) - np.eye(n, k=-1))

    def residual_hessian(self, x, w):
        return np.diag(3 * self.h ** 3 * (x + self.t + 1) * w)


class DiscreteIntegralEquation(LeastSquares):
    """#29 Discrete integral equation."""
    number, name, f_star = 29, "discrete_integral_equation", 0.0

    def __init__(self, n=10):
        h = 1.0 / (n + 1)
        t = h * np.arange(1, n + 1)
        self.h, self.t = h, t
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        self.C = np.where(j <= i, (1 - t[i]) * t[j], t[i] * (1 - t[j]))
        super().__init__(n, t * (t - 1))

    def residuals(self, x):
        return x + self.h / 2 * self.C @ (x + self.t + 1) ** 3

    def jacobian(self, x):
        return np.eye(self.n) + self.h / 2 * self.C * (3 * (x + self.t + 1) ** 2)[None, :]

    def residual_hessian(self, x, w):
        return np.diag(self.h / 2 * 6 * (x + self.t + 1) * (w @ self.C))


class BroydenTridiagonal(LeastSquares):
    """#30 Broyden tridiagonal: (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1."""
    number, name, f_star = 30, "broyden_tridiagonal", 0.0

    def __init__(self, n=10):
        super().__init__(n, -np.ones(n))

    def residuals(self, x):
        xp = np.concatenate([[0.0], x, [0.0]])
        return (3 - 2 * x) * x - xp[:-2] - 2 * xp[2:] + 1

    def jacobian(self, x):
        return np.diag(3 - 4 * x) - np.eye(self.n, k=-1) - 2 * np.eye(self.n, k=1)

    def residual_hessian(self, x, w):
        return np.diag(-4 * w)


class BroydenBanded(LeastSquares):
    """#31 Broyden banded: x_i (2 + 5 x_i^2) + 1 - sum_{j in J_i} x_j (1 + x_j),
    J_i = {j != i : max(1, i - 5) <= j <= min(n, i + 1)}."""
    number, name, f_star = 31, "broyden_banded", 0.0

    def __init__(self, n=10):
        super().__init__(n, -np.ones(n))
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        self.B = ((j >= i - 5) & (j <= i + 1) & (j != i)).astype(float)

    def residuals(self, x):
        return x * (2 + 5 * x * x) + 1 - self.B @ (x * (1 + x))

    def jacobian(self, x):
        return np.diag(2 + 15 * x * x) - self.B * (1 + 2 * x)[None, :]

    def residual_hessian(self, x, w):
        return np.diag(30 * x * w - 2 * (w @ self.B))


class _Linear(LeastSquares):
    """Linear residuals r = A x - 1 (#32-#34); subclasses set A."""

    def residuals(self, x):
        return self.A @ x - 1

    def jacobian(self, x):
        return self.A.copy()

    def residual_hessian(self, x, w):
        return np.zeros((self.n, self.n))


class LinearFullRank(_Linear):
    """#32 Linear function, full rank (m = 2n here)."""
    number, name = 32, "linear_full_rank"

    def __init__(self, n=10, m=None):
        self.m = 2 * n if m is None else m
        super().__init__(n, np.ones(n))
        self.f_star = float(self.m - n)
        self.A = np.vstack([np.eye(n), np.zeros((self.m - n, n))]) - 2.0 / self.m


class LinearRank1(_Linear):
    """#33 Linear function, rank 1: r_i = i sum_j j x_j - 1 (m = 2n)."""
    number, name = 33, "linear_rank1"

    def __init__(self, n=10, m=None):
        m = 2 * n if m is None else m
        super().__init__(n, np.ones(n))
        self.f_star = m * (m - 1) / (2.0 * (2 * m + 1))
        self.A = np.outer(np.arange(1.0, m + 1), np.arange(1.0, n + 1))


class LinearRank1ZeroColumns(LinearRank1):
    """#34 Linear function, rank 1 with zero columns and rows (m = 2n)."""
    number, name = 34, "linear_rank1_zero_cols"

    def __init__(self, n=10, m=None):
        m = 2 * n if m is None else m
        super().__init__(n, m)
        self.f_star = (m * m + 3 * m - 6) / (2.0 * (2 * m - 3))
        A = np.outer(np.arange(0.0, m), np.arange(1.0, n + 1))
        A[:, 0] = A[:, -1] = 0.0
        A[-1] = 0.0
        self.A = A


class Chebyquad(LeastSquares):
    """#35 Chebyquad (m = n): r_i = mean_j T_i(2 x_j - 1) - integral of T_i over [-1, 1] / 2."""
    number, name = 35, "chebyquad"
    MINIMA = {2: 0.0, 4: 0.0, 6: 0.0, 7: 0.0, 8: 3.51687e-3, 9: 0.0, 10: 6.50395e-3}

    def __init__(self, n=8):
        super().__init__(n, np.arange(1, n + 1) / (n + 1.0))
        self.f_star = self.MINIMA.get(n)
        i = np.arange(1, n + 1)
        even = i % 2 == 0
        self.c = np.zeros(n)
        self.c[even] = -1.0 / (i[even] ** 2 - 1.0)

    def _T(self, x):
        """T_i, T_i', T_i'' (i = 1..n) at y = 2x - 1, each (n, n) [i, j]."""
        n, y = self.n, 2 * x - 1
        T = np.zeros((n + 1, n)); D = np.zeros((n + 1, n)); E = np.zeros((n + 1, n))
        T[0] = 1.0
        if n >= 1:
            T[1], D[1] = y, 1.0
        for k in range(1, n):
            T[k + 1] = 2 * y * T[k] - T[k - 1]
            D[k + 1] = 2 * T[k] + 2 * y * D[k] - D[k - 1]
            E[k + 1] = 4 * D[k] + 2 * y * E[k] - E[k - 1]
        return T[1:], D[1:], E[1:]

    def residuals(self, x):
        return self._T(x)[0].mean(axis=1) - self.c

    def jacobian(self, x):
        return 2.0 / self.n * self._T(x)[1]

    def residual_hessian(self, x, w):
        return np.diag(4.0 / self.n * (w @ self._T(x)[2]))


def _extended_rosenbrock(n=10):
    from fastopt.problems.scalable import ExtendedRosenbrock
    p = ExtendedRosenbrock(n)
    p.number = 21
    return p


#: Factories of the bank's MGH problems at the sizes used by the tests and benchmarks.
MGH_PROBLEMS = [
    Rosenbrock, FreudensteinRoth, PowellBadlyScaled, BrownBadlyScaled, Beale,
    JennrichSampson, HelicalValley, Bard, Gaussian, Meyer, Box3D, PowellSingular, Wood,
    KowalikOsborne, BrownDennis, Osborne1, BiggsExp6, Watson, _extended_rosenbrock,
    lambda: PowellSingular(12), PenaltyI, PenaltyII, VariablyDimensioned, Trigonometric,
    BrownAlmostLinear, DiscreteBoundaryValue, DiscreteIntegralEquation, BroydenTridiagonal,
    BroydenBanded, LinearFullRank, LinearRank1, LinearRank1ZeroColumns, Chebyquad,
]


def mgh_problems():
    """Fresh instances of the 33 MGH problems, in the paper's order."""
    return [make() for make in MGH_PROBLEMS]
