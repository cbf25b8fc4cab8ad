"""Hessian-free (truncated Newton) optimization after Martens (2010), ``method="hessian-free"``.

Each outer iteration approximately minimizes the damped quadratic model

    q_lambda(p) = g . p + 1/2 p . (H + lambda I) p

with linear conjugate gradients on Hessian-vector products (the user's ``hessp``; else
``hess(x) @ p``; else a forward difference of gradients, one gradient per product):

* warm start from ``decay * p_prev`` when that lowers the model.  The
  warm start costs one product, so it is only tried when the curvature of the previous
  solution, ``p_prev.(A_prev + lam_prev I) p_prev`` (known from the previous CG run), moved
  to the current lambda, predicts a model decrease:
  ``decay g.p_prev + decay^2/2 (p_prev.(A_prev + lam_prev I)p_prev + (lam - lam_prev) p_prev.p_prev) < 0``.
  Near a minimum ``g.p_prev ~ 0`` and the start would be rejected anyway;
* CG stops on negative curvature (``p . A p <= 0``: the iterate so far is used, or ``-g``
  on the first CG step), on Martens' relative-progress rule -- after i > k iterations,
  ``k = max(10, 0.1 i)``, stop when ``q(p_i) < 0`` and
  ``(q(p_i) - q(p_{i-k})) / q(p_i) < k * cg_eps`` -- on the truncated-Newton
  residual test ``|r| <= eta |g|`` with ``eta = min(0.5, sqrt(|g|))`` (which keeps the
  outer iteration superlinear and the product count low far from the solution), or after
  ``cg_maxiter`` products;
* CG-iterate backtracking: the iterates at steps ``ceil(1.3^j)`` are kept; after the last
  iterate, the earlier ones are tried, newest first, while f keeps decreasing (the last
  iterate is often a kept step too: it is not evaluated again).  ``backtrack="martens"``
  always does so (Martens' rule); ``"fallback"`` only when the last iterate gives no
  sufficient decrease; ``False`` (the default) never, and the Armijo search below runs on
  the last iterate.  A NaN or infinite f counts as +inf in these comparisons (so an
  earlier iterate can replace a last iterate where f is NaN).  Going back makes more and
  smaller outer steps, and on the deterministic problems of :mod:`fastopt.problems` it only
  costs evaluations (figures in ``docs/second_order.md``), hence the default ``False``;
  Martens' rule is meant for stochastic objectives, where a long CG run can overfit the
  batch's curvature;
* Levenberg–Marquardt damping on the reduction ratio ``rho = (f(x + p) - f(x)) / q_0(p)``
  (undamped model): ``lambda *= 3/2`` when ``rho < 1/4``, ``lambda *= 2/3`` when
  ``rho > 3/4``; ``lambda_0 = damping``, never below ``1e-12``;
* an Armijo backtracking line search (``c1``) on the chosen ``p`` from ``t = 1``.

Trial points (``x + p``, the backtracking iterates, the Armijo steps) are evaluated for f
only; the gradient is taken once per iteration, at the accepted point (with ``jac=True``
from the call that gave f there, so ``njev = nit + 1``).  ``njev + nhev`` is what the
comparison with SciPy's Newton-CG counts.

Stops when ``max |g_i| <= gtol`` (status 0); status 3 after ``max_failures``
consecutive outer iterations without decrease; status 4 when a Hessian-vector product is
NaN or infinite (from ``hessp``, ``hess`` or the gradient differences: the message says
which), since CG cannot tell such a product from negative curvature.  With ``hess`` and no
``hessp``, ``hess(x)`` is evaluated once per outer iteration, not per product.
"""
import math

import numpy as np

from fastopt.second_order import _vec
from fastopt.second_order._docs import fill_doc
from fastopt.second_order._driver import gnorm
from fastopt.second_order._objective import EvaluationLimit
from fastopt.second_order.linesearch import armijo_search

__all__ = ["minimize_hessian_free", "truncated_cg"]

_LAMBDA_MIN = 1e-12


def _inf_if_not_finite(f):
    """f for comparisons between trial points: a NaN or infinite value is as bad as +inf."""
    return f if math.isfinite(f) else math.inf


def _backtrack_steps(limit):
    """CG iterations whose iterates are kept for backtracking: ceil(1.3^j)."""
    steps, j = set(), 0
    while True:
        s = math.ceil(1.3 ** j)
        if s > limit:
            return steps
        steps.add(s)
        j += 1


def truncated_cg(Av, g, lam, x0=None, maxiter=250, eps=5e-4, eta=0.5, keep=()):
    """Approximately minimize ``q(p) = g.p + 1/2 p.(A + lam I)p`` by CG (A through ``Av``).

    Returns ``(p, q, pp, pAp, stored, n_products, reason)``: the last iterate, its damped
    model value, ``p.p``, ``p.(A + lam I)p`` (NaN for the steepest-descent fallback), a list
    of ``(i, p_i, q_i)`` for the CG steps i in ``keep`` before the last one (the last is
    ``p``: backtracking must not evaluate it twice), the number of products and why CG
    stopped.  ``reason == "non-finite product"`` when a product (or ``d.(A + lam I)d``) is
    NaN or infinite; then ``p`` is 0 and ``q`` NaN.
    """
    b = np.negative(g)
    gnorm2 = _vec.dot(g, g)
    nprod = 0
    p, r, q = np.zeros_like(g), b.copy(), 0.0
    if x0 is not None:
        Ax = Av(x0)
        nprod += 1
        _vec.combine((1.0, lam), (Ax, x0), Ax)                 # (A + lam I) x0
        # q(x0) = g.x0 + 1/2 x0.(A + lam I)x0; use x0 only when it beats p = 0
        D = _vec.multidot([x0], [g, Ax])
        if not math.isfinite(D[0, 1]):
            return p, math.nan, 0.0, math.nan, [], nprod, "non-finite product"
        q0 = D[0, 0] + 0.5 * D[0, 1]
        if q0 < 0:
            p = x0.copy()
            _vec.combine((-1.0, -1.0), (g, Ax), r)            # r = b - A p
            q = q0
    d = r.copy()
    rr = _vec.dot(r, r)
    history = [q]
    stored = []
    reason = "maxiter"
    i = 0
    while i < maxiter:
        if rr <= eta * eta * gnorm2:
            reason = "residual"
            break
        Ad = Av(d)
        nprod += 1
        dAd = _vec.combine((1.0, lam), (Ad, d), Ad, d)          # Ad <- (A + lam I) d
        if not math.isfinite(dAd):
            # not negative curvature: the product is unusable (NaN would read as dAd <= 0)
            return np.zeros_like(g), math.nan, 0.0, math.nan, [], nprod, "non-finite product"
        if not dAd > 0:
            reason = "negative curvature"
            if i == 0 and not np.any(p):
                p = b.copy()                                   # steepest descent
                q = math.nan
            break
        alpha = rr / dAd
        _vec.combine((1.0, alpha), (p, d), p)
        rr_new = _vec.combine((1.0, -alpha), (r, Ad), r, r)
        i += 1
        # q(p) = -1/2 p.(b + r) since (A + lam I) p = b - r
        D = _vec.multidot([p], [b, r])
        q = -0.5 * (D[0, 0] + D[0, 1])
        history.append(q)
        if i in keep:
            stored.append((i, p.copy(), q))
        k = max(10, int(math.ceil(0.1 * i)))
        if i > k and q < 0 and (q - history[i - k]) / q < k * eps:
            reason = "relative progress"
            break
        _vec.combine((1.0, rr_new / rr), (r, d), d)
        rr = rr_new
    if stored and stored[-1][0] == i:        # that is p itself (1.3^j covers steps 1..7)
        stored.pop()
    if math.isnan(q):
        return p, q, _vec.dot(p, p), math.nan, stored, nprod, reason
    D = _vec.multidot([p], [b, r, p])
    return p, q, D[0, 2], D[0, 0] - D[0, 1], stored, nprod, reason     # p.(A+lam I)p = p.(b-r)


@fill_doc
def minimize_hessian_free(run, x, *, gtol=1e-5, damping=1e-3, decay=0.95, cg_maxiter=250,
                          cg_eps=5e-4, backtrack=False, maxiter=None, maxfun=None, maxls=30,
                          c1=1e-4, max_failures=10, disp=False):
    """Hessian-free optimization from ``x``: what
    ``fastopt.minimize(..., method="hessian-free", options=...)`` runs.

    {options_doc}
    The finer ranges are checked here: a finite ``damping``, ``decay <= 1``, a known
    ``backtrack``.

    Parameters
    ----------
    {run_doc}
    {x_doc}
    {gtol_doc}
    damping : float
        The initial Levenberg–Marquardt damping lambda_0.
    decay : float in [0, 1]
        Warm start CG from ``decay`` times the previous solution (0: start from 0).
    cg_maxiter : int
        Hessian-vector products per CG run.
    cg_eps : float
        Martens' relative-progress tolerance for stopping CG.
    backtrack : {False, "fallback", "martens"}
        CG-iterate backtracking: never, only when the last iterate gives no sufficient
        decrease, or always (Martens' rule).
    {limits_per_n_doc}
    maxls : int
        Trial points per Armijo search.
    c1 : float
        The Armijo sufficient-decrease constant.
    max_failures : int
        Consecutive outer iterations without decrease before the run stops (status 3).
    {disp_doc}

    {returns_doc}

    References
    ----------
    J. Martens, "Deep learning via Hessian-free optimization", *ICML*, 2010.
    {nocedal_wright_ref}
    Section 7.1 (inexact Newton: the forcing sequence ``eta``).

    {example_doc}
    >>> from fastopt.problems import ExtendedRosenbrock
    >>> p = ExtendedRosenbrock(1000)
    >>> r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hessp=p.hessp, method="hessian-free")
    >>> r.success, r.njev == r.nit + 1       # one gradient per iteration
    (True, True)
    """
    obj = run.obj
    if not math.isfinite(damping):
        raise ValueError(f"damping must be a non-negative number, got {damping!r}")
    if not decay <= 1:
        raise ValueError(f"decay must be in [0, 1], got {decay!r}")
    if backtrack not in ("fallback", "martens", False, None):
        raise ValueError(f"backtrack must be 'fallback', 'martens' or False, got {backtrack!r}")
    f, g, done = run.start(x, gtol)
    if done is not None:
        return done
    nit, lam, failures, p_prev = 0, damping, 0, None
    keep = _backtrack_steps(cg_maxiter) if backtrack else set()
    while True:
        try:
            eta = min(0.5, math.sqrt(math.sqrt(_vec.dot(g, g))))
            x0 = None
            if p_prev is not None and decay > 0:
                # the warm start costs a product; take it only when the last curvature
                # p.(A_prev + lam_prev I)p, shifted to the current lam, predicts that
                # decay * p_prev lowers the model (near a minimum g.p_prev ~ 0, and it
                # would not)
                q_pred = decay * _vec.dot(g, p_prev) + 0.5 * decay * decay * (
                    pAp_prev + (lam - lam_prev) * pp_prev)
                if not q_pred >= 0:              # also when the curvature is unknown (NaN)
                    x0 = decay * p_prev
            lam_prev = lam
            p, qd, pp, pAp_prev, stored, _, reason = truncated_cg(
                obj.product(x, g), g, lam, x0, cg_maxiter, cg_eps, eta, keep)
            if reason == "non-finite product":
                return run.result(x, f, g, nit, 4, "stopped: a Hessian-vector product "
                                  f"(from {obj.product_source}) is non-finite")
            if math.isnan(qd):                                 # steepest descent fallback
                D = _vec.multidot([p], [g])
                gtp = D[0, 0]
                q_model = gtp
            else:
                gtp = _vec.dot(g, p)
                q_model = qd - 0.5 * lam * pp                      # undamped model value
            p_prev, pp_prev = p, pp
            # CG-iterate backtracking: the last iterate, then (backtrack="martens" always,
            # "fallback" only when it gives no sufficient decrease) earlier ones while f drops
            x_try = np.empty_like(x)
            _vec.combine((1.0, 1.0), (x, p), x_try)
            f_try = obj.f(x_try, keep=True)          # its gradient is taken only if kept
            # f enters the comparisons below as +inf when it is NaN or infinite: against a
            # NaN, "fi < f_chosen" is always false and every earlier iterate would be
            # discarded, however good
            chosen = (p, _inf_if_not_finite(f_try), q_model, gtp, x_try)
            go_back = backtrack == "martens" or (
                backtrack == "fallback" and not (f_try <= f + c1 * min(gtp, 0.0)))
            if go_back and math.isfinite(qd):
                for (_, p_i, q_i) in reversed(stored):      # earlier iterates, newest first
                    xi = np.empty_like(x)
                    _vec.combine((1.0, 1.0), (x, p_i), xi)
                    fi = _inf_if_not_finite(obj.f(xi, keep=True))
                    if not fi < chosen[1]:
                        break
                    gtp_i = _vec.dot(g, p_i)
                    chosen = (p_i, fi, q_i - 0.5 * lam * _vec.dot(p_i, p_i), gtp_i, xi)
            p_c, f_c, q_c, gtp_c, x_c = chosen
            rho = (f_c - f) / q_c if q_c < 0 else -math.inf
            if not math.isfinite(rho) or rho < 0.25:
                lam *= 1.5
            elif rho > 0.75:
                lam = max(lam * (2.0 / 3.0), _LAMBDA_MIN)
            if not gtp_c < 0:
                failures += 1
                if failures >= max_failures:
                    return run.result(x, f, g, nit, 3, "stopped: CG produced no descent "
                                      f"direction in {failures} consecutive iterations")
                continue
            # Armijo line search along the chosen p, reusing f(x + p)
            if math.isfinite(f_c) and f_c <= f + c1 * gtp_c:
                x_new, f_new = x_c, f_c
            else:
                if math.isfinite(f_c):
                    den = 2.0 * (f_c - f - gtp_c)
                    t0 = min(max(-gtp_c / den if den > 0 else 0.5, 0.1), 0.5)
                else:
                    t0 = 0.5
                ls = armijo_search(lambda z: obj.f(z, keep=True), x, p_c, f, gtp_c,
                                   t0=t0, c1=c1, maxiter=maxls)
                if not ls.success:
                    if ls.limit:
                        return run.result(x, f, g, nit, *run.limit_message())
                    failures += 1
                    lam *= 1.5
                    p_prev = None
                    if failures >= max_failures:
                        return run.result(x, f, g, nit, 4 if ls.nonfinite else 3,
                                          f"stopped: no decrease along the truncated-Newton "
                                          f"step in {failures} consecutive iterations "
                                          f"({ls.message})")
                    continue
                x_new, f_new = ls.x, ls.f
            g_new = obj.kept_grad(x_new)     # no new evaluation when x_new was the last one
        except EvaluationLimit:
            return run.result(x, f, g, nit, *run.limit_message())
        failures = 0
        nit += 1
        x, f, g = x_new, f_new, g_new
        stop = run.check(x, f, g, nit, gnorm(g), gtol)
        if stop is not None:
            return run.result(x, f, g, nit, *stop)
