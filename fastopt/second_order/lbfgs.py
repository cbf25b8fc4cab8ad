"""Limited-memory BFGS (``method="lbfgs"``).

Each iteration: ``d = -H g`` with H the L-BFGS inverse-Hessian approximation of the last
``maxcor`` pairs (:class:`fastopt.second_order._vec.LBFGSMemory`: the two-loop recursion in
two passes over the history, initial scaling ``gamma = s.y / y.y``), then a strong Wolfe
line search (Moré–Thuente, constants ``c1``, ``c2``) from ``t = 1``.  Without pairs (the first
iteration, after a reset) d is ``-g / ||g||``, so the first trial moves x by a unit
distance: L-BFGS-B's ``t = 1 / ||g||`` along ``-g``, without its cap ``t <= 1e10`` (which
made the first step depend on the scale of f) and with ``||g||`` formed so that it neither
overflows nor underflows (:func:`fastopt.second_order._driver.steepest_descent`).

A pair is kept only when ``s.y > eps (-g_k . s)`` and ``s.y > 0`` (L-BFGS-B's test, eps
the dtype's machine epsilon), a test that does not depend on the scale of f or x.  The
iterates of ``c f`` therefore equal those of f for any c > 0, as long as the ftol test
below does not stop the run: that test is absolute where ``|f| < 1``.

Vector work per iteration: the direction pass (reads the history and g, writes d and
gives g.d), per line-search trial ``x + t d`` and ``g_t . d``, and the update pass, which
forms the new pair and computes every inner product the next direction needs and
max |g| in one read of the history.  The trial points go into two reused buffers (no
large array is allocated in the loop besides the private copies of x and of the gradient
that the user's function gets and returns, see fastopt.minimize).

Stops (status 0) when ``max |g_i| <= gtol`` or when the relative reduction
``(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol`` in ``ftol_iters`` consecutive
iterations.  L-BFGS-B uses the same test with ``ftol = 2.2e-9`` and one iteration, which
stops it on slow stretches far from the minimum on several MGH problems (Wood, Powell badly
scaled, Meyer, Osborne 1, discrete boundary value); the defaults here solve those, at slightly
more evaluations on the problems both solve (``fastopt.benchmarks.second_order``,
figures in ``docs/second_order.md``).  ``ftol=2.2e-9, ftol_iters=1`` reproduces
L-BFGS-B's iterates on most of the set.  Because of the 1 in the denominator the test is
absolute, ``f_k - f_{k+1} <= ftol``, wherever ``|f| < 1``: a small-scale f (``c f`` with
c << 1) can stop there long before ``gtol`` is met, where f itself would not (L-BFGS-B
behaves the same).  Pass ``ftol=0`` to stop on ``gtol`` alone, or scale f to order 1.

When a line search finds no lower point the memory is dropped and the search is retried
along ``-g``; if that fails too the run ends at the best point seen, with status 3 (or 4
when no trial point had a finite value).
"""
import math

import numpy as np

from fastopt.second_order import _vec
from fastopt.second_order._docs import fill_doc
from fastopt.second_order._driver import gnorm, steepest_descent
from fastopt.second_order.linesearch import wolfe_search

__all__ = ["minimize_lbfgs"]


@fill_doc
def minimize_lbfgs(run, x, *, maxcor=10, gtol=1e-5, ftol=1e-12, ftol_iters=2, maxiter=15000,
                   maxfun=15000, maxls=20, c1=1e-4, c2=0.9, disp=False):
    """L-BFGS from ``x``: what ``fastopt.minimize(..., method="lbfgs", options=...)`` runs.

    {options_doc}
    The names are SciPy's L-BFGS-B option names.

    Parameters
    ----------
    {run_doc}
    {x_doc}
    maxcor : int
        Number of (s, y) pairs kept.
    {gtol_doc}
    ftol, ftol_iters : float, int
        Stop when the relative reduction of f is ``<= ftol`` in ``ftol_iters`` consecutive
        iterations (absolute where ``|f| < 1``; see the module docstring).
    {limits_doc}
    {maxls_doc}
    {wolfe_doc}
    {disp_doc}

    {returns_doc}

    References
    ----------
    D. C. Liu and J. Nocedal, "On the limited memory BFGS method for large scale
    optimization", *Math. Programming* 45, 1989.
    {nocedal_wright_ref}
    Algorithm 7.4 (the two-loop recursion).
    {more_thuente_ref}

    {example_doc}
    >>> from fastopt.problems import rosenbrock
    >>> p = rosenbrock(2)
    >>> r = fastopt.minimize(p.fun_grad, p.x0, jac=True, options={"maxcor": 5})
    >>> r.success, bool(np.allclose(r.x, 1.0, atol=1e-4))
    (True, True)
    """
    obj = run.obj
    mem = _vec.LBFGSMemory(maxcor, x.size, x.dtype)    # a maxcor too large: before any f
    f, g, done = run.start(x, gtol)
    if done is not None:
        return done
    d = np.empty_like(x)
    work = [np.empty_like(x), np.empty_like(x)]   # trial points; x is one of three buffers
    nit = small = 0
    gn = gnorm(g)
    while True:
        gtd = mem.direction(g, d) if mem.k > 0 else math.nan
        if not gtd < 0:          # no pairs (first iteration, reset) or H g lost descent
            mem.reset()
            gtd = steepest_descent(g, gn, d)
        ls = wolfe_search(obj.fg, x, d, f, g, gtd, t0=1.0, c1=c1, c2=c2,
                          maxiter=maxls, work=work)
        if not ls.success:
            if ls.limit:
                return run.result(x, f, g, nit, *run.limit_message())
            if mem.k > 0:                    # drop the memory and try steepest descent
                mem.reset()
                continue
            if ls.nonfinite:
                return run.result(x, f, g, nit, 4, "stopped: the line search along -gradient "
                                  f"found no lower point ({ls.message})")
            return run.result(x, f, g, nit, 3, "stopped: the line search along -gradient "
                              f"found no lower point ({ls.message}); the gradient may be "
                              "inaccurate, or f is flat to rounding error here")
        nit += 1
        mem.update(ls.x, x, ls.g, g)         # also gives max |g| of the new point
        f_old = f
        if ls.x is not x:                    # the old point's buffer takes the next trials
            work = [x, work[1] if ls.x is work[0] else work[0]]
        x, f, g = ls.x, ls.f, ls.g
        gn = mem.gmax
        stop = run.check(x, f, g, nit, gn, gtol)
        if stop is None and ls.limit:
            stop = run.limit_message()
        small = small + 1 if (f_old - f) <= ftol * max(abs(f_old), abs(f), 1.0) else 0
        if stop is None and small >= ftol_iters:
            stop = (0, f"converged: relative reduction of f <= ftol = {ftol:.3g} in "
                       f"{small} consecutive iterations (max |gradient| = {gn:.3g})")
        if stop is not None:
            return run.result(x, f, g, nit, *stop)
