"""Newton's method with a modified Hessian (``method="newton"``).

Each iteration solves ``(H + tau I) d = -g`` where ``tau >= 0`` is the smallest value of
the sequence of Nocedal & Wright's Algorithm 3.3 for which Cholesky succeeds:
``tau_0 = 0`` if ``min_i H_ii > 0`` else ``beta - min_i H_ii``, then
``tau <- max(2 tau, beta)`` with ``beta = 1e-3 * max_ij |H_ij|``.  beta is relative to the
Hessian's largest entry, with no absolute floor, so that H and c H take the same tries for
any c > 0 (an absolute 1e-3 is used only when H is all zero); the largest entry rather than
the largest diagonal entry, because a small diagonal beside large off-diagonal entries needs
shifts of the size of the latter.  A strong Wolfe (default) or
Armijo line search from ``t = 1`` follows.

The Hessian: the user's ``hess`` (dense array or anything with ``toarray()``); without it,
when ``hessp`` is given, the n products ``hessp(x, e_i)`` as columns, symmetrized (n
products per iteration, each counted in ``nhev``); else forward differences of the
gradient (n gradients per iteration; the gradient must then be ``jac``, not differences:
fastopt.minimize refuses differences of differences).

Stops when ``max |g_i| <= gtol`` (status 0); status 4 when the Hessian has a non-finite
entry (as any non-finite value); status 5 when no tau up to ``1e20 * max_ij |H_ij|`` gives a
factorization (the limit is relative, like beta, so that f and c f behave alike), status 3
when the line search cannot decrease f.
"""
import math

import numpy as np

from fastopt.second_order import _vec
from fastopt.second_order._docs import fill_doc
from fastopt.second_order._driver import gnorm
from fastopt.second_order._objective import EvaluationLimit
from fastopt.second_order.linesearch import armijo_search, wolfe_search

__all__ = ["minimize_newton", "modified_cholesky_solve"]


def _cho_solve(L, b):
    try:
        from scipy.linalg import solve_triangular
    except ImportError:                                    # SciPy is optional
        return np.linalg.solve(L.T, np.linalg.solve(L, b))
    return solve_triangular(L, solve_triangular(L, b, lower=True), lower=True, trans="T")


def modified_cholesky_solve(H, b, beta_rel=1e-3, tau_max_rel=1e20):
    """Solve ``(H + tau I) d = b`` with the smallest ``tau`` of Algorithm 3.3 for which
    ``H + tau I`` has a Cholesky factor.  Returns ``(d, tau)``; ``(None, tau)`` when even
    ``tau_max = tau_max_rel * s`` fails, ``s = max_ij |H_ij|`` (``beta = beta_rel * s`` too:
    both scale with H alone, so H and c H take the same tries for every c > 0; s = 1 when H
    is all zero)."""
    diag = np.diagonal(H)
    if not np.all(np.isfinite(H)):
        return None, math.inf
    # the scale of H alone (see the module docstring); a zero H has none: absolute constants
    hscale = float(np.max(np.abs(H))) if H.size else 1.0
    if not (hscale > 0 and math.isfinite(hscale)):
        hscale = 1.0
    beta, tau_max = beta_rel * hscale, tau_max_rel * hscale
    dmin = float(np.min(diag))
    tau = 0.0 if dmin > 0 else beta - dmin
    eye = np.eye(H.shape[0], dtype=H.dtype)
    while tau <= tau_max:
        try:
            L = np.linalg.cholesky(H + tau * eye if tau else H)
        except np.linalg.LinAlgError:
            tau = max(2.0 * tau, beta)
            continue
        return _cho_solve(L, b).astype(H.dtype, copy=False), tau
    return None, tau


@fill_doc
def minimize_newton(run, x, *, gtol=1e-5, line_search="wolfe", maxiter=None, maxfun=None,
                    maxls=20, c1=1e-4, c2=0.9, disp=False):
    """Newton's method from ``x``: what ``fastopt.minimize(..., method="newton", options=...)``
    runs.

    {options_doc}

    Parameters
    ----------
    {run_doc}
    {x_doc}
    {gtol_doc}
    line_search : {"wolfe", "armijo"}
        Strong Wolfe (Moré–Thuente), or Armijo backtracking, which evaluates only f at
        trial points and takes the gradient at the accepted one.
    {limits_per_n_doc}
    {maxls_doc}
    {wolfe_doc}
        The Armijo search uses c1 alone.
    {disp_doc}

    {returns_doc}

    References
    ----------
    {nocedal_wright_ref}
    Algorithm 3.3 (Cholesky with added multiple of the identity).
    {more_thuente_ref}

    {example_doc}
    >>> from fastopt.problems import rosenbrock
    >>> p = rosenbrock(2)
    >>> r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hess=p.hess, method="newton")
    >>> r.success, r.nhev == r.nit            # one Hessian per iteration
    (True, True)
    """
    obj = run.obj
    if line_search not in ("wolfe", "armijo"):
        raise ValueError(f"line_search must be 'wolfe' or 'armijo', got {line_search!r}")
    f, g, done = run.start(x, gtol)
    if done is not None:
        return done
    nit = 0
    while True:
        try:
            H = obj.hess(x, g)
        except EvaluationLimit:
            return run.result(x, f, g, nit, *run.limit_message())
        if not np.all(np.isfinite(H)):     # e.g. differences of a gradient that became NaN
            return run.result(x, f, g, nit, 4, "stopped: the Hessian has non-finite entries")
        d, tau = modified_cholesky_solve(H, -g)
        if d is None:
            return run.result(x, f, g, nit, 5, "stopped: the Hessian could not be made "
                              "positive definite")
        d = np.ascontiguousarray(d, dtype=x.dtype)
        gtd = _vec.dot(g, d)
        if not gtd < 0:
            return run.result(x, f, g, nit, 3, "stopped: the Newton direction is not a "
                              "descent direction to rounding precision (g.d >= 0)")
        try:
            if line_search == "wolfe":
                ls = wolfe_search(obj.fg, x, d, f, g, gtd, t0=1.0, c1=c1, c2=c2,
                                  maxiter=maxls)
                g_new = ls.g
            else:
                # f only at the trial points; the gradient of the accepted (last) one comes
                # from its evaluation with jac=True, else from jac alone
                ls = armijo_search(lambda z: obj.f(z, keep=True), x, d, f, gtd, t0=1.0,
                                   c1=c1, maxiter=maxls)
                g_new = obj.kept_grad(ls.x) if ls.success else None
        except EvaluationLimit:
            return run.result(x, f, g, nit, *run.limit_message())
        if not ls.success:
            if ls.limit:
                return run.result(x, f, g, nit, *run.limit_message())
            return run.result(x, f, g, nit, 4 if ls.nonfinite else 3,
                              f"stopped: the line search along the Newton direction found no "
                              f"lower point ({ls.message})")
        nit += 1
        x, f, g = ls.x, ls.f, g_new
        stop = run.check(x, f, g, nit, gnorm(g), gtol)
        if stop is not None:
            return run.result(x, f, g, nit, *stop)
