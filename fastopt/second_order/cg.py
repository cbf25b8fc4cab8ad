"""Nonlinear conjugate gradients (``method="cg"``), the low-memory baseline.

``d_0 = -g_0``; after a strong Wolfe line search (``c1``, ``c2``) with ``y = g+ - g``:

* Polak–Ribière+ (``beta="pr+"``, default): ``beta = max(0, g+ . y / g . g)``;
* Hager–Zhang (``beta="hz"``): ``beta = (y - 2 d |y|^2 / d.y) . g+ / d.y``, bounded below
  by ``-1 / (|d| min(0.01, |g|))``;

``d+ = -g+ + beta d``, restarting from ``-g+`` when beta is 0 or ``d+`` is not a descent
direction.  The first trial step is ``1 / |g_0|`` and then
``min(1, 2.02 (f_{k-1} - f_k) / (-g . d))`` (SciPy's CG rule).  A steepest-descent
direction (the first, a restart) is stored as ``-g / |g|``, its steps multiplied by
``|g|``: the same trial points as ``-g``, but ``g . d = -|g|`` stays finite and nonzero
where ``g . g`` overflows or underflows (``|g| > 1e154`` or ``< 1e-162`` in float64; see
:func:`fastopt.second_order._driver.steepest_descent`).  Each iteration is three fused
passes over the vectors (y, the dot products, the new direction with its slope) in
``_vec``.
"""
import math

import numpy as np

from fastopt.second_order import _vec
from fastopt.second_order._docs import fill_doc
from fastopt.second_order._driver import gnorm, steepest_descent
from fastopt.second_order.linesearch import wolfe_search

__all__ = ["minimize_cg"]


@fill_doc
def minimize_cg(run, x, *, gtol=1e-5, beta="pr+", maxiter=None, maxfun=None, maxls=20,
                c1=1e-4, c2=0.1, disp=False):
    """Nonlinear CG from ``x``: what ``fastopt.minimize(..., method="cg", options=...)`` runs.

    {options_doc}

    Parameters
    ----------
    {run_doc}
    {x_doc}
    {gtol_doc}
    beta : {"pr+", "hz"}
        Polak–Ribière+ or Hager–Zhang (formulas in the module docstring).
    {limits_per_n_doc}
    {maxls_doc}
    {wolfe_doc}
        The default ``c2=0.1`` (not 0.9) gives the near-exact searches CG needs.
    {disp_doc}

    {returns_doc}

    References
    ----------
    {nocedal_wright_ref}
    Section 5.2 (nonlinear CG, PR+).
    W. W. Hager and H. Zhang, "A new conjugate gradient method with guaranteed descent and
    an efficient line search", *SIAM J. Optim.* 16(1), 2005.
    {more_thuente_ref}

    {example_doc}
    >>> from fastopt.problems import rosenbrock
    >>> p = rosenbrock(2)
    >>> r = fastopt.minimize(p.fun_grad, p.x0, jac=True, method="cg", options={"beta": "hz"})
    >>> r.success, bool(np.allclose(r.x, 1.0, atol=1e-4))
    (True, True)
    """
    obj = run.obj
    if beta not in ("pr+", "hz"):
        raise ValueError(f"beta must be 'pr+' or 'hz', got {beta!r}")
    f, g, done = run.start(x, gtol)
    if done is not None:
        return done
    d = np.empty_like(x)
    y = np.empty_like(x)
    work = [np.empty_like(x), np.empty_like(x)]   # trial points; x is one of three buffers
    gn = gnorm(g)
    # the direction of the recurrence is dscale * d: dscale = |g| after a restart (d is
    # -g / |g|, see the module doc), 1 otherwise
    gtd = steepest_descent(g, gn, d)
    dscale, restarted, t0 = -gtd, True, 1.0
    gg = _vec.dot(g, g)
    nit = 0
    while True:
        ls = wolfe_search(obj.fg, x, d, f, g, gtd, t0=t0, c1=c1, c2=c2,
                          maxiter=maxls, work=work)
        if not ls.success:
            if ls.limit:
                return run.result(x, f, g, nit, *run.limit_message())
            if not restarted:                          # retry along -g once
                gtd = steepest_descent(g, gn, d)
                dscale, restarted, t0 = -gtd, True, 1.0
                continue
            return run.result(x, f, g, nit, 4 if ls.nonfinite else 3,
                              f"stopped: the line search along -gradient found no lower "
                              f"point ({ls.message})")
        nit += 1
        g_new = ls.g
        _vec.combine((1.0, -1.0), (g_new, g), y)
        D = _vec.multidot([y, d, g_new], [g_new, y])
        yg, yy, dgn, dy, gg_new = D[0, 0], D[0, 1], D[1, 0], D[1, 1], D[2, 0]
        if beta == "pr+":
            # beta multiplies the recurrence's direction dscale * d
            b = dscale * max(0.0, yg / gg) if gg > 0 else 0.0
        else:
            # Hager-Zhang's beta * d does not depend on the length of d: use d as stored
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
        gtd, dscale, restarted = math.nan, 1.0, False
        if b != 0 and math.isfinite(b):
            gtd = _vec.combine((-1.0, b), (g, d), d, g)
        if not gtd < 0:                      # beta = 0 or no descent: restart from -g
            gtd = steepest_descent(g, gn, d)
            dscale, restarted = -gtd, True
        # SciPy's rule, t <= 1 in units of the recurrence's direction dscale * d
        t0 = min(dscale, 2.02 * (f_old - f) / -gtd) if f_old > f else dscale
        if not (t0 > 0 and math.isfinite(t0)):
            t0 = dscale
