r"""The noise prototypes of the optimization unit tests: what a stochastic sample of a 1-D
function looks like.

A noisy sample of ``f`` at ``x`` is ``(m f(x) + a x,  m f'(x) + a)``: an additive part ``a``
(the sample's slope is shifted by ``a``) and a multiplicative part ``m`` (value and slope are
scaled by ``m``).  The kinds, with the scales the paper uses:

=====================  ================================  ===========================
name                   noise                              scale
=====================  ================================  ===========================
``gauss_add_low``      a = s n,  n ~ N(0, 1)              s = 0.01
``gauss_add_normal``   a = s n                            s = 0.1
``gauss_add_high``     a = s n                            s = 10
``gauss_mul_low``      m = exp(s n)                       s = 0.1
``gauss_mul_normal``   m = exp(s n)                       s = 1
``gauss_mul_high``     m = exp(s n)                       s = 10
``cauchy_add_normal``  a = s n,  n standard Cauchy        s = 1
``maskout_low``        m = 0 with probability p, else 1   p = 0.1
``maskout_high``       m = 0 with probability p, else 1   p = 0.9
=====================  ================================  ===========================

:func:`moments` gives ``E[m]`` and ``E[a]`` by numerical integration over the noise density
(the expected value of a 1-D sample is ``E[m] f(x) + E[a] x``, exactly).  For Cauchy noise the
mean is the principal value (0): the density is integrated symmetrically in ``theta = atan(n)``.

Example::

    >>> from fastopt.unittests.noise import moments
    >>> m, a = moments("gauss_mul_normal")
    >>> round(m, 6), round(a, 12)            # exp(1/2), 0
    (1.648721, 0.0)
"""
import math

import numpy as np

__all__ = ["NOISES", "KIND_CODES", "moments", "sample"]

#: name -> (kind, scale)
NOISES = {
    "noiseless": ("none", 0.0),
    "gauss_add_low": ("gauss_add", 0.01),
    "gauss_add_normal": ("gauss_add", 0.1),
    "gauss_add_high": ("gauss_add", 10.0),
    "gauss_mul_low": ("gauss_mul", 0.1),
    "gauss_mul_normal": ("gauss_mul", 1.0),
    "gauss_mul_high": ("gauss_mul", 10.0),
    "cauchy_add_normal": ("cauchy_add", 1.0),
    "maskout_low": ("maskout", 0.1),
    "maskout_high": ("maskout", 0.9),
}

#: kind -> a small integer code, for vectorised sampling
KIND_CODES = {"none": 0, "gauss_add": 1, "gauss_mul": 2, "cauchy_add": 3, "maskout": 4}


def _gauss_expect(h, shift=0.0, width=14.0, n=4001):
    # E[h(n)], n ~ N(0,1), by the trapezoid rule on [shift - width, shift + width]; the
    # integrand of a multiplicative noise exp(s n) phi(n) peaks at n = s, hence the shift.
    t = np.linspace(shift - width, shift + width, n)
    w = np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
    return float(np.trapezoid(h(t) * w, t))


def moments(name, scale=None):
    """``(E[m], E[a])`` of a noise (by name, at its scale or at ``scale``), by numerical
    integration over its density."""
    kind, s = NOISES[name]
    s = s if scale is None else float(scale)
    if kind == "none":
        return 1.0, 0.0
    if kind == "gauss_add":
        return 1.0, _gauss_expect(lambda n: s * n)
    if kind == "gauss_mul":
        return _gauss_expect(lambda n: np.exp(s * n), shift=s), 0.0
    if kind == "cauchy_add":
        # n = tan(theta), theta uniform on (-pi/2, pi/2): a symmetric midpoint rule gives
        # the principal value of the (undefined) mean
        k = 20000
        theta = (np.arange(k) + 0.5) / k * math.pi - math.pi / 2
        return 1.0, float(np.mean(s * np.tan(theta)))
    if kind == "maskout":
        return 1.0 - s, 0.0
    raise ValueError(f"unknown noise kind {kind!r}")


def sample(codes, scales, rng, shape=None):
    """Draw ``(m, a)`` for noise kinds ``codes`` (an int array of :data:`KIND_CODES`) at
    ``scales`` (broadcast against ``codes``), one draw per element of ``shape`` (default
    ``codes``' shape), from the NumPy Generator ``rng``."""
    codes = np.asarray(codes)
    shape = codes.shape if shape is None else tuple(shape)
    codes = np.broadcast_to(codes, shape)
    scales = np.broadcast_to(np.asarray(scales, dtype=np.float64), shape)
    n = rng.standard_normal(shape)
    m = np.ones(shape)
    a = np.zeros(shape)
    add = codes == KIND_CODES["gauss_add"]
    a[add] = scales[add] * n[add]
    mul = codes == KIND_CODES["gauss_mul"]
    with np.errstate(over="ignore"):
        m[mul] = np.exp(scales[mul] * n[mul])
    cau = codes == KIND_CODES["cauchy_add"]
    if cau.any():
        a[cau] = scales[cau] * rng.standard_cauchy(int(cau.sum()))
    mask = codes == KIND_CODES["maskout"]
    if mask.any():
        m[mask] = (rng.random(int(mask.sum())) >= scales[mask]).astype(np.float64)
    return m, a
