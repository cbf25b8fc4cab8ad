r"""The 1-D function prototypes of the optimization unit tests (Schaul, Antonoglou & Silver, 2014).

Every prototype is built from four numbers: its start point ``xs``, end point ``xe``, its value
``fs`` at ``xs`` and its slope ``fprime`` at ``xs``.  It is made of *segments*, each one the same
closed form with eight coefficients ``(x0, c0, c1, c2, c3, k1, k2, k3)``::

    d    = x - x0
    E(d) = exp(-(k1 d^2 + k2 |d| + k3 d))
    f(x) = c0 + c1 d + c2 d^2 + c3 E(d)
    f'(x) = c1 + 2 c2 d - c3 E(d) (2 k1 d + k2 sign(d) + k3)

which covers lines (c1), quadratics (c2), exponentials (k3), Gaussians (k1) and Laplace shapes
(k2).  The kinked prototypes (relu, abs, bend, cliff, ridge) are two lines that meet at a point
``xm`` inside ``[xs, xe]``.  A function is a :class:`Piecewise`: sorted segment start points (the
first segment also extends to the left, the last one to the right) and their coefficients, so a
whole suite of functions evaluates as one vectorised NumPy expression
(:func:`evaluate_segments`).

Prototypes are concatenated by :func:`concatenate`: the interval ``[xs, xe]`` is cut into equal
parts, and each prototype starts at the value and slope where the previous one ended, so the
result is continuous in value and (except at the kinks of the kinked prototypes) in slope.

Example::

    >>> from fastopt.unittests.prototypes import concatenate
    >>> f = concatenate(["quad_convex", "line"], xs=0.0, xe=1.0, fs=200.0, fprime=-1.0)
    >>> [round(float(v), 6) for v in f(0.0)]
    [200.0, -1.0]
    >>> [round(float(v), 4) for v in f(1.0)]      # the line continues the quadratic's end slope
    [199.675, -0.1]
"""
import math

import numpy as np

__all__ = ["PROTOTYPES", "KINKED", "SCALES", "Piecewise", "prototype", "concatenate",
           "evaluate_segments"]

#: The four scales of the paper: start point 0, end point 1, start value and start slope.
SCALES = {
    "normal": dict(xs=0.0, xe=1.0, fs=200.0, fprime=-1.0),
    "steep": dict(xs=0.0, xe=1.0, fs=200.0, fprime=-10.0),
    "saddle": dict(xs=0.0, xe=1.0, fs=200.0, fprime=1.0),
    "flat": dict(xs=0.0, xe=1.0, fs=2.0, fprime=-0.1),
}

#: Prototypes with a point where the derivative jumps.
KINKED = frozenset({"relu", "abs", "bend", "cliff", "ridge", "laplace_bowl"})

N_COEF = 8


def _seg(x0=0.0, c0=0.0, c1=0.0, c2=0.0, c3=0.0, k1=0.0, k2=0.0, k3=0.0):
    return (x0, c0, c1, c2, c3, k1, k2, k3)


def _line(xs, fs, slope):
    return _seg(x0=xs, c0=fs, c1=slope)


def _two_lines(xs, xe, fs, ls, le):
    """Slope ``ls`` from ``xs`` up to the kink, slope ``le`` after it; the kink divides
    ``[xs, xe]`` so both arms have the same length."""
    gamma = math.sqrt((1 + ls * ls) / (1 + le * le))
    xm = (gamma * xs + xe) / (1 + gamma)
    fm = ls * (xm - xs) + fs
    return [xs, xm], [_line(xs, fs, ls), _line(xm, fm, le)]


def _relu(xs, xe, fs, fp, **_):
    r = math.sqrt(1 + fp * fp)
    xm = (xe + xs * r) / (1 + r)
    fm = fp * (xm - xs) + fs
    return [xs, xm], [_line(xs, fs, fp), _line(xm, fm, 0.0)]


def _abs(xs, xe, fs, fp, **_):
    # The slope flips sign at the kink: a V (or an inverted V when fp > 0).
    return _two_lines(xs, xe, fs, fp, -fp)


def _bend(xs, xe, fs, fp, oldfp=None, sign=1.0, **_):
    # A flat stretch that bends into the slope it had before it went flat (or, standing
    # alone, into the scale's slope).
    if oldfp is not None and fp != 0:
        raise ValueError("a bend must start where the slope is 0 (after a relu)")
    end_slope = (oldfp if oldfp is not None else fp) * sign
    return _two_lines(xs, xe, fs, 0.0, end_slope)


def _cliff(xs, xe, fs, fp, sign=-1.0, **_):
    if fp == 0:
        raise ValueError("a cliff cannot start where the slope is 0")
    return _two_lines(xs, xe, fs, fp, 10.0 * sign * fp)


def _ridge(xs, xe, fs, fp, sign=1.0, **_):
    if fp == 0:
        raise ValueError("a ridge cannot start where the slope is 0")
    return _two_lines(xs, xe, fs, fp, 10.0 * sign * fp)


def _line_proto(xs, xe, fs, fp, **_):
    return [xs], [_line(xs, fs, fp)]


def _exponential(xs, xe, fs, fp, **_):
    # a exp(-b x) + c, decaying by a factor 1000 over [xs, xe]
    b = math.log(1000.0) / (xe - xs)
    scale = -fp / b                                  # a exp(-b xs)
    return [xs], [_seg(x0=xs, c0=fs - scale, c3=scale, k3=b)]


def _quadratic(xs, fs, fp, xo):
    a = fp / (2 * (xs - xo))
    return [xs], [_seg(x0=xo, c0=fs - a * (xs - xo) ** 2, c2=a)]


def _quad_convex(xs, xe, fs, fp, **_):
    # the slope at xe is 1/10 of the start slope when descending, 10x when ascending
    xo = (10 * xs - xe) / 9 if fp > 0 else (xe - 0.1 * xs) / 0.9
    return _quadratic(xs, fs, fp, xo)


def _quad_bowl(xs, xe, fs, fp, **_):
    return _quadratic(xs, fs, fp, (xs + xe) / 2)


def _gauss(xs, fs, fp, c, mu):
    # a - b exp(-(x-mu)^2 / c^2) with value fs and slope fp at xs
    fp = fp if fp != 0 else -1e-7
    expon = math.exp(-((xs - mu) / c) ** 2)
    b = c * c * fp / (2 * (xs - mu) * expon)
    return [xs], [_seg(x0=mu, c0=fs + b * expon, c3=-b, k1=1 / (c * c))]


def _gauss_nonconvex(xs, xe, fs, fp, **_):
    c = 2 * (xe - xs) / (8 - math.sqrt(2))       # the tail, from 4c out to the inflection
    mu = xe - 4 * c if fp > 0 else xs + 4 * c
    return _gauss(xs, fs, fp, c, mu)


def _gauss_convex(xs, xe, fs, fp, **_):
    c = 10 * (xe - xs) / (5 * math.sqrt(2) - 1)  # from the inflection to 0.1c from the mean
    mu = xs - 0.1 * c if fp > 0 else xe + 0.1 * c
    return _gauss(xs, fs, fp, c, mu)


def _gauss_bowl(xs, xe, fs, fp, **_):
    c = 5 * (xe - xs)                             # mu -/+ 0.1c
    return _gauss(xs, fs, fp, c, xs + 0.1 * c)


def _laplace(xs, fs, fp, c, mu):
    # a - b exp(-|x-mu| / c) with value fs and slope fp at xs
    fp = fp if fp != 0 else -1e-7
    expon = math.exp(-abs(xs - mu) / c)
    b = c * fp / (expon * math.copysign(1.0, xs - mu))
    return [xs], [_seg(x0=mu, c0=fs + b * expon, c3=-b, k2=1 / c)]


def _laplace_nonconvex(xs, xe, fs, fp, **_):
    c = (xe - xs) / 7                             # from 8c to c away from the mean
    mu = xs - c if fp > 0 else xs + 8 * c
    return _laplace(xs, fs, fp, c, mu)


def _laplace_convex(xs, xe, fs, fp, **_):
    c = (xe - xs) / 0.9                           # from c to 0.1c away from the mean
    mu = xs - 0.1 * c if fp > 0 else xs + c
    return _laplace(xs, fs, fp, c, mu)


def _laplace_bowl(xs, xe, fs, fp, **_):
    c = (xe - xs) / 0.2                           # mu -/+ 0.1c
    return _laplace(xs, fs, fp, c, xs + 0.1 * c)


#: name -> builder(xs, xe, fs, fp, oldfp=None, sign=...) returning (starts, segments)
PROTOTYPES = {
    "line": _line_proto, "relu": _relu, "abs": _abs, "bend": _bend, "cliff": _cliff,
    "ridge": _ridge, "exponential": _exponential, "quad_convex": _quad_convex,
    "quad_bowl": _quad_bowl, "gauss_nonconvex": _gauss_nonconvex,
    "gauss_convex": _gauss_convex, "gauss_bowl": _gauss_bowl,
    "laplace_nonconvex": _laplace_nonconvex, "laplace_convex": _laplace_convex,
    "laplace_bowl": _laplace_bowl,
}


def evaluate_segments(x, starts, coefs):
    """Value and derivative of piecewise functions, vectorised.

    ``x``: array of points, shape ``(..., n)``; ``starts``: shape ``(..., n, S)``, the sorted
    start points of each function's segments (``starts[..., 0]`` is ignored: the first
    segment extends to the left; unused trailing segments start at +inf); ``coefs``: shape
    ``(..., n, S, 8)``.  The leading dimensions of ``starts``/``coefs`` broadcast against
    those of ``x``.  Returns ``(f, g)`` of ``x``'s shape.
    """
    x = np.asarray(x, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.float64)
    coefs = np.asarray(coefs, dtype=np.float64)
    k = np.zeros(x.shape, dtype=np.intp)
    for s in range(1, starts.shape[-1]):
        k += x >= starts[..., s]
    c = np.take_along_axis(np.broadcast_to(coefs, x.shape + coefs.shape[-2:]),
                           k[..., None, None], axis=-2)[..., 0, :]
    return _closed_form(x, c)


def _closed_form(x, c):
    x0, c0, c1, c2, c3, k1, k2, k3 = np.moveaxis(c, -1, 0)
    d = x - x0
    with np.errstate(over="ignore", invalid="ignore"):
        e = c3 * np.exp(-(k1 * d * d + k2 * np.abs(d) + k3 * d))
        f = c0 + d * (c1 + c2 * d) + e
        g = c1 + 2 * c2 * d - e * (2 * k1 * d + k2 * np.sign(d) + k3)
    return f, g


class Piecewise:
    """A 1-D function made of segments (see the module docstring); callable, returning
    ``(f, f')`` at ``x`` (a number or an array).  ``starts`` and ``coefs`` are the arrays
    :func:`evaluate_segments` takes; ``pieces`` lists the (prototype, start, end) parts."""

    def __init__(self, starts, coefs, pieces=()):
        self.starts = np.asarray(starts, dtype=np.float64)
        self.coefs = np.asarray(coefs, dtype=np.float64).reshape(len(self.starts), N_COEF)
        self.pieces = list(pieces)

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float64)
        f, g = evaluate_segments(x[..., None], self.starts, self.coefs)
        return f[..., 0], g[..., 0]

    def padded(self, n_segments):
        """``(starts, coefs)`` padded to ``n_segments`` segments (extra ones start at +inf)."""
        extra = n_segments - len(self.starts)
        if extra < 0:
            raise ValueError(f"function has {len(self.starts)} segments > {n_segments}")
        starts = np.concatenate([self.starts, np.full(extra, np.inf)])
        coefs = np.concatenate([self.coefs, np.zeros((extra, N_COEF))])
        return starts, coefs


def prototype(name, xs, xe, fs, fprime, **options):
    """One prototype as a :class:`Piecewise` (see :data:`PROTOTYPES` for the names)."""
    return concatenate([name], xs, xe, fs, fprime, **options)


def concatenate(names, xs=0.0, xe=1.0, fs=200.0, fprime=-1.0):
    """Concatenate prototypes over ``[xs, xe]`` cut into ``len(names)`` equal parts; each
    starts at the value and slope where the previous one ended.  A bend may only follow a
    flat stretch (a relu); it then resumes the last non-zero slope.  ``names`` may also be
    a string of names joined by ``-`` (``"quad_convex-relu-bend-line"``)."""
    if isinstance(names, str):
        names = names.split("-")
    unknown = [n for n in names if n not in PROTOTYPES]
    if unknown:
        raise ValueError(f"unknown prototype(s) {unknown}; known: {sorted(PROTOTYPES)}")
    if not xs < xe:
        raise ValueError(f"need xs < xe, got xs={xs}, xe={xe}")
    dx = (xe - xs) / len(names)
    starts, segments, pieces = [], [], []
    oldfp = None
    a = xs
    for i, name in enumerate(names):
        b = xs + (i + 1) * dx
        s, segs = PROTOTYPES[name](a, b, fs, fprime, oldfp=oldfp)
        piece = Piecewise(s, segs)
        starts += s
        segments += segs
        pieces.append((name, a, b))
        if fprime != 0:
            oldfp = fprime
        fs, fprime = (float(v) for v in piece(b))
        a = b
    return Piecewise(starts, segments, pieces)
