"""Nonlinear conjugate gradients (``method="cg"``), the low-memory baseline.

``d_0 = -g_0``; after a strong Wolfe line search (c1 = 1e-4, c2 = 0.1) with ``y = g+ - g``:

* Polak–Ribière+ (``beta="pr+"``, default): ``beta = max(0, g+ . y / g . g)``;
* Hager–Zhang (``beta="hz"``): ``beta = (y - 2 d |y|^2 / d.y) . g+ / d.y``, bounded below
  by ``-1 / (|d| min(0.01, |g|))``;

``d+ = -g+ + beta d``, restarting from ``-g+`` when that is not a descent direction.  The
first trial step is ``1 / |g_0|`` and then ``min(1, 2.02 (f_{k-1} - f_k) / (-g . d))``
(SciPy's CG rule).  Each iteration is three fused passes over the vectors (y, the dot
products, the new direction with its slope) in ``_vec``.
"""
import math

import numpy as np

from fastopt.second_order import _vec
from fastopt.second_order._driver import first_point, gnorm
from fastopt.second_order._objective import EvaluationLimit
from fastopt.second_order.linesearch import line_search_wolfe

__all__ = ["minimize_cg", "CG_OPTIONS"]

CG_OPTIONS = dict(gtol=1e-5, maxiter=None, maxfun=None, beta="pr+", c1=1e-4, c2=0.1,
                  maxls=20, disp=False)


def minimize_cg(run, x, *, gtol, beta, c1, c2, maxls, **_):
    obj = run.obj
    if beta not in ("pr+", "hz"):
        raise ValueError(f"beta must be 'pr+' or 'hz', got {beta!r}")
    f, g = first_point(obj, x)
    gn = gnorm(g)
    if gn <= gtol:
        return run.result(x, f, g, 0, 0, f"converged: max |gradient| = {gn:.3g} <= gtol at x0")
    d = np.empty_like(x)
    y = np.empty_like(x)
    work = [np.empty_like(x), np.empty_like(x)]   # trial points; x is one of three buffers
    gtd = _vec.combine((-1.0,), (g,), d, g)
    gg = -gtd
    t0 = 1.0 / math.sqrt(gg)
    nit, restarted = 0, True
    while True:
        try:
            ls = line_search_wolfe(obj.fg, x, d, f, g, gtd, t0=t0, c1=c1, c2=c2,
                                   maxiter=int(maxls), work=work)
        except EvaluationLimit:
            return run.result(x, f, g, nit, *run.limit_message())
        if not ls.success:
            if ls.limit:
                return run.result(x, f, g, nit, *run.limit_message())
            if not restarted:                          # retry along -g once
                gtd = _vec.combine((-1.0,), (g,), d, g)
                t0, restarted = 1.0 / math.sqrt(-gtd), True
                continue
            return run.result(x, f, g, nit, 3, "stopped: the line search along -gradient "
                              f"found no lower point ({ls.message})")
        nit += 1
        g_new = ls.g
        _vec.combine((1.0, -1.0), (g_new, g), y)
        D = _vec.multidot([y, d, g_new], [g_new, y])
        yg, yy, dgn, dy, gg_new = D[0, 0], D[0, 1], D[1, 0], D[1, 1], D[2, 0]
        if beta == "pr+":
            b = max(0.0, yg / gg) if gg > 0 else 0.0
        else:
            if dy > 0:
                b = (yg - 2.0 * yy * dgn / dy) / dy
                dn = math.sqrt(float(_vec.dot(d, d)))
                b = max(b, -1.0 / (dn * min(0.01, math.sqrt(gg))))
            else:
                b = 0.0
        f_old = f
        if ls.x is not x:                    # the old point's buffer takes the next trials
            work = [x, work[1] if ls.x is work[0] else work[0]]
        x, f, g, gg = ls.x, ls.f, g_new, gg_new
        gn = gnorm(g)
        stop = run.check(x, f, g, nit, gn, gtol)
        if stop is not None:
            return run.result(x, f, g, nit, *stop)
        gtd = _vec.combine((-1.0, b), (g, d), d, g)
        restarted = b == 0.0
        if not gtd < 0:
            gtd = _vec.combine((-1.0,), (g,), d, g)
            restarted = True
        t0 = min(1.0, 2.02 * (f_old - f) / -gtd) if f_old > f else 1.0
        if not t0 > 0:
            t0 = 1.0
