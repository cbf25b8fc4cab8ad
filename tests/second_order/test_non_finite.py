"""NaN and infinite values: the line searches step back from them or say that no trial point
was finite, and the solvers stop with status 4 (non-finite value) rather than run on."""
import math

import numpy as np
import pytest

import fastopt
from fastopt import problems
from fastopt.second_order import line_search_armijo, line_search_wolfe

METHODS = ["lbfgs", "newton", "hessian-free", "cg"]


def _quad(x):
    return float((x - 3) @ (x - 3)), 2 * (x - 3)


def _nan_beyond_x0(x0):
    def fg(x):
        if np.array_equal(x, x0):
            return float(x @ x), 2 * x
        return math.nan, np.full_like(x, math.nan)
    return fg


def test_line_searches_report_that_no_trial_point_was_finite():
    x0 = np.ones(3)
    r = line_search_wolfe(_nan_beyond_x0(x0), x0, -x0, 3.0, 2 * x0)
    assert not r.success and r.nonfinite and "not finite" in r.message
    r = line_search_armijo(lambda x: math.nan, x0, -x0, 3.0, -6.0)
    assert not r.success and r.nonfinite and "not finite" in r.message
    r = line_search_armijo(lambda x: 10.0, x0, -x0, 3.0, -6.0, maxiter=3)   # finite, no decrease
    assert not r.success and not r.nonfinite


@pytest.mark.parametrize("method", METHODS)
def test_solvers_stop_with_status_4_when_every_trial_point_is_nan(method):
    x0 = np.array([1.0, 2.0])
    r = fastopt.minimize(_nan_beyond_x0(x0), x0, jac=True, method=method,
                         hess=lambda x: 2 * np.eye(2), hessp=lambda x, v: 2 * v)
    assert r.status == 4 and not r.success, (r.status, r.message)
    assert "not finite" in r.message
    np.testing.assert_array_equal(r.x, x0)


@pytest.mark.parametrize("method", METHODS)
def test_non_finite_start_is_an_error_and_a_nan_region_is_stepped_around(method):
    with pytest.raises(ValueError, match="x0"):
        fastopt.minimize(_quad, [0.0, np.nan], jac=True, method=method)
    with pytest.raises(ValueError, match="not finite"):
        fastopt.minimize(lambda x: (math.inf, x), [1.0], jac=True, method=method)

    def fg(x):                       # NaN beyond x = 2: the searches step back and converge
        if x[0] > 2:
            return math.nan, np.full(1, np.nan)
        return float((x[0] - 1.9) ** 2), 2 * (x - 1.9)
    r = fastopt.minimize(fg, [0.0], jac=True, hess=lambda x: np.eye(1) * 2, method=method)
    assert r.success and abs(r.x[0] - 1.9) < 1e-5


@pytest.mark.parametrize("which", ["hessp", "hess"])
def test_hessian_free_stops_on_a_non_finite_product(which):
    p = problems.get("rosenbrock")
    kw = ({"hessp": lambda x, v: np.full(2, np.nan)} if which == "hessp"
          else {"hess": lambda x: np.full((2, 2), np.nan)})
    r = fastopt.minimize(p.fun, p.x0, jac=p.grad, method="hessian-free", **kw)
    assert r.status == 4 and not r.success and r.nit == 0, r.message
    assert which in r.message and "non-finite" in r.message


def test_hessian_free_stops_when_the_product_becomes_non_finite_later():
    p = problems.get("rosenbrock")
    seen = []

    def hessp(x, v):
        seen.append(1)
        return p.hessp(x, v) * (math.inf if len(seen) > 6 else 1.0)

    r = fastopt.minimize(p.fun, p.x0, jac=p.grad, hessp=hessp, method="hessian-free")
    assert r.status == 4 and "hessp" in r.message and 0 < r.nit < 10


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_hessian_free_backtracks_past_a_non_finite_last_iterate(monkeypatch, bad):
    from fastopt.second_order import hessian_free as hfm
    orig = hfm.truncated_cg
    # CG run to (near) the exact step, so that the last iterate lands just outside the
    # region where f is finite and an earlier kept iterate just inside it, at f ~ 0
    monkeypatch.setattr(hfm, "truncated_cg", lambda Av, g, lam, x0, mi, eps, eta, keep:
                        orig(Av, g, lam, x0, mi, 1e-9, 0.0, keep))
    n = 40
    lam = np.logspace(0, 4, n)
    x0 = np.zeros(n)
    R = float(np.sqrt(n)) - 1e-5                       # |x* - x0| = sqrt(40) = 6.32456
    seen = []

    def f(x):
        v = 0.5 * float(((x - 1) ** 2 * lam).sum()) if np.linalg.norm(x - x0) < R else bad
        seen.append(v)
        return v
    r = fastopt.minimize(f, x0, method="hessian-free", jac=lambda x: lam * (x - 1),
                         hessp=lambda x, p: lam * p,
                         options=dict(backtrack="fallback", maxiter=1, damping=0.0))
    assert not np.isfinite(seen[1])                    # the last CG iterate
    assert seen[2] < 1e-3                              # the kept one before it: taken ...
    assert r.nit == 1 and r.fun == min(seen[2:]) < 1e-3   # ... not a halved step (f ~ 5942)
