"""Scale invariance, limits at the first point, non-finite products, the result's keys and
option checking: each test here failed before the fix it names."""
import math

import numpy as np
import pytest

import fastopt
from fastopt import problems
from fastopt.second_order import lbfgs
from fastopt.second_order.newton import modified_cholesky_solve

METHODS = ["lbfgs", "newton", "hessian-free", "cg"]
FIELDS = {"x", "fun", "jac", "nit", "nfev", "njev", "nhev", "status", "success", "message"}


def _scaled(p, c):
    """f = c * p.fun with its derivatives."""
    return dict(fun=lambda x: (c * p.fun(x), c * p.grad(x)), jac=True,
                hess=lambda x: c * p.hess(x), hessp=lambda x, v: c * p.hessp(x, v))


# ------------------------------------------------------------- L-BFGS curvature-pair test

@pytest.mark.parametrize("c", [1e14, 1e20])
def test_lbfgs_converges_on_a_steeply_scaled_function_as_on_the_original(c):
    # the old test s.y > eps y.y rejected every pair once the curvature exceeded 1 / eps
    # (y.y grows as c^2, s.y as c): L-BFGS became steepest descent and stopped at nit = 1
    p = problems.get("rosenbrock")
    base = fastopt.minimize(p.fun_grad, p.x0, jac=True)
    kw = _scaled(p, c)
    r = fastopt.minimize(kw["fun"], p.x0, jac=True, options={"gtol": 1e-5 * c})
    assert r.status == 0 and p.solved(r.fun / c), r.message
    assert abs(r.nit - base.nit) <= 0.2 * base.nit, (r.nit, base.nit)


def test_lbfgs_float32_on_a_function_with_curvature_above_one_over_eps():
    p = problems.get("rosenbrock")
    c = 1e6                          # curvature ~ 1e9 > 1 / eps(float32) = 8.4e6
    x0 = p.x0.astype(np.float32)
    base = fastopt.minimize(p.fun_grad, x0, jac=True, options={"gtol": 1e-2})
    r = fastopt.minimize(_scaled(p, c)["fun"], x0, jac=True, options={"gtol": 1e-2 * c})
    assert base.status == 0 and r.status == 0, r.message
    assert r.nit <= 2 * base.nit, (r.nit, base.nit)


def test_lbfgs_retry_along_minus_gradient_after_a_reset_starts_at_unit_distance(monkeypatch):
    # after a failed search the memory is dropped and the search retried along -g; its
    # first trial must move x by ||t0 d|| = 1 (t0 = 1 / ||g|| along -g), as on the first
    # iteration, not by ||g||
    calls = []
    real = lbfgs.wolfe_search

    def spy(fg, x, d, f0, g0, gtd0, t0, **kw):
        calls.append((t0 * float(np.linalg.norm(d)), d.copy(), g0.copy()))
        res = real(fg, x, d, f0, g0, gtd0, t0=t0, **kw)
        if len(calls) == 3:          # the third search (memory of 2 pairs) "fails"
            res.success = res.limit = False
        return res

    monkeypatch.setattr(lbfgs, "wolfe_search", spy)
    p = problems.get("rosenbrock")
    r = fastopt.minimize(lambda x: (1e3 * p.fun(x), 1e3 * p.grad(x)), p.x0, jac=True,
                         options={"maxiter": 5})
    assert r.nit == 5 and len(calls) >= 4
    dist, d, g = calls[3]                         # the retry
    np.testing.assert_allclose(d / np.linalg.norm(d), -g / np.linalg.norm(g), rtol=1e-12)
    assert dist == pytest.approx(1.0, rel=1e-12)
    assert calls[0][0] == pytest.approx(1.0, rel=1e-12)     # the first iteration


# ------------------------------------------------------------- maxfun at the first point

@pytest.mark.parametrize("method", METHODS)
def test_maxfun_below_one_is_a_clear_error(method):
    p = problems.get("rosenbrock")
    with pytest.raises(ValueError, match="maxfun"):
        fastopt.minimize(p.fun, p.x0, jac=p.grad, method=method, options={"maxfun": 0})


@pytest.mark.parametrize("method", METHODS)
def test_maxfun_too_small_for_the_first_gradient_gives_status_2(method):
    p = problems.get("rosenbrock")         # forward differences need n + 1 = 3 evaluations
    # newton / hessian-free need hess with a difference gradient
    r = fastopt.minimize(p.fun, p.x0, method=method, options={"maxfun": 2},
                         hess=p.hess if method in ("newton", "hessian-free") else None)
    assert r.status == 2 and not r.success and "maxfun" in r.message
    assert r.nit == 0 and r.nfev == 2 and np.array_equal(r.x, p.x0)
    assert set(r) == FIELDS


# ------------------------------------------------------------- maxiter = 0

@pytest.mark.parametrize("method", METHODS)
def test_maxiter_zero_does_no_iteration(method):
    p = problems.get("rosenbrock")
    r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hess=p.hess, hessp=p.hessp,
                         method=method, options={"maxiter": 0})
    assert r.status == 1 and r.nit == 0 and "maxiter" in r.message
    assert np.array_equal(r.x, p.x0) and r.nfev == 1 and r.nhev == 0
    assert r.fun == p.fun(p.x0)


# ------------------------------------------------------------- huge and tiny gradients

@pytest.mark.parametrize("method", ["lbfgs", "cg"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_huge_and_tiny_gradient_norms(method, scale):
    # g.g overflows (1e400) or underflows (1e-400) in float64; the first step must not
    fg = lambda x: (0.5 * scale * float(x @ x), scale * x)
    r = fastopt.minimize(fg, np.ones(2), jac=True, method=method, tol=1e-8 * scale)
    assert r.status == 0, r.message
    assert np.abs(r.x).max() <= 1e-8


@pytest.mark.parametrize("method", ["lbfgs", "cg"])
def test_tiny_gradient_with_tol_zero_ends_cleanly(method):
    fg = lambda x: (0.5e-200 * float(x @ x), 1e-200 * x)
    r = fastopt.minimize(fg, np.ones(2), jac=True, method=method, tol=0)
    assert r.status in (0, 3) and np.abs(r.x).max() <= 1e-8, r.message


def test_huge_gradient_default_tol_does_not_raise():
    for method in ("lbfgs", "cg"):
        r = fastopt.minimize(lambda x: (0.5e200 * float(x @ x), 1e200 * x), np.ones(2),
                             jac=True, method=method)
        assert r.fun < 1e200 * 1e-10, (method, r.message)


# ------------------------------------------------------------- option checking

@pytest.mark.parametrize("options,match", [
    ({"maxiter": "a"}, "maxiter must be"), ({"maxiter": math.inf}, "maxiter must be"),
    ({"maxiter": 2.5}, "maxiter must be"), ({"maxfun": "10"}, "maxfun must be"),
    ({"gtol": "small"}, "gtol must be"), ({"maxcor": "a"}, "maxcor must be"),
    ({"maxls": math.nan}, "maxls must be"),
])
def test_options_of_the_wrong_type_are_clear_errors(options, match):
    with pytest.raises((TypeError, ValueError), match=match):
        fastopt.minimize(lambda x: (float(x @ x), 2 * x), np.ones(2), jac=True,
                         options=options)


@pytest.mark.parametrize("options", ["maxiter", [("maxiter", 3)], 3])
def test_options_must_be_a_dict(options):
    with pytest.raises(TypeError, match="options must be a dict"):
        fastopt.minimize(lambda x: (float(x @ x), 2 * x), np.ones(2), jac=True,
                         options=options)


def test_integral_float_options_are_accepted():
    r = fastopt.minimize(lambda x: (float(x @ x), 2 * x), np.ones(2), jac=True,
                         options={"maxiter": 50.0, "maxfun": np.int64(100)})
    assert r.success


@pytest.mark.parametrize("jac", ["2-point", "3-point", "cs"])
def test_finite_difference_jac_strings(jac):
    r = fastopt.minimize(lambda x: float((x - 1) @ (x - 1)), np.zeros(2), jac=jac)
    assert r.success and np.allclose(r.x, 1, atol=1e-4)


@pytest.mark.parametrize("jac", ["2point", "exact", ""])
def test_other_jac_strings_are_rejected(jac):
    with pytest.raises(ValueError, match="jac"):
        fastopt.minimize(lambda x: float(x @ x), np.zeros(2), jac=jac)


# ------------------------------------------------------------- Newton: tau relative to H

def test_newton_converges_on_rosenbrock_scaled_by_1e18():
    p = problems.get("rosenbrock")
    x0 = np.array([0.0, 1.0])               # H_11 = -398 c there: tau must exceed 398 c
    for c in (1.0, 1e18):
        kw = _scaled(p, c)
        r = fastopt.minimize(kw["fun"], x0, jac=True, hess=kw["hess"], method="newton",
                             options={"gtol": 1e-5 * c})
        assert r.status == 0 and p.solved(r.fun / c), (c, r.message)


def test_modified_cholesky_limit_is_relative_to_the_diagonal():
    H = np.diag([-4e30, 1e30])
    d, tau = modified_cholesky_solve(H, np.ones(2))
    assert d is not None and 4e30 < tau < 1e31 and np.all(np.isfinite(d))
    assert modified_cholesky_solve(np.full((2, 2), np.nan), np.ones(2))[0] is None


# ------------------------------------------------------------- Hessian-free: bad products

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
    assert r.status == 4 and "hessp" in r.message and r.nit < 10


def test_hessian_free_with_hess_only_evaluates_it_once_per_outer_iteration():
    p = problems.ExtendedRosenbrock(20)
    calls = []

    def hess(x):
        calls.append(1)
        return p.hess(x)

    r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hess=hess, method="hessian-free")
    ref = fastopt.minimize(p.fun_grad, p.x0, jac=True, hessp=p.hessp, method="hessian-free")
    assert r.success and r.nit == ref.nit          # the same products, so the same run
    assert len(calls) == r.nhev < ref.nhev          # ref.nhev counts products
    assert r.nhev <= r.nit + 10                     # one per outer iteration (and failures)


# ------------------------------------------------------------- the result's keys

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("options", [{}, {"maxiter": 2}, {"maxfun": 4}, {"gtol": 1e3}])
def test_every_method_and_exit_gives_the_same_keys(method, options):
    p = problems.get("rosenbrock")
    r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hess=p.hess, hessp=p.hessp,
                         method=method, options=options)
    assert set(r) == FIELDS, set(r) ^ FIELDS


# ------------------------------------------------------------- Newton with Armijo

def _counting(p):
    """p.fun and p.fun_grad that count evaluations at an x seen before."""
    seen, repeats = set(), [0]

    def note(x):
        key = x.tobytes()
        repeats[0] += key in seen
        seen.add(key)

    def fun(x):
        note(x)
        return p.fun(x)

    def fun_grad(x):
        note(x)
        return p.fun_grad(x)
    return fun, fun_grad, repeats


@pytest.mark.parametrize("jac", ["fun", "callable", "differences"])
def test_newton_armijo_never_evaluates_f_twice_at_a_point(jac):
    # the accepted point's gradient used to come from a new (f, g) evaluation there
    p = problems.get("beale")
    fun, fun_grad, repeats = _counting(p)
    kw = {"fun": dict(fun=fun_grad, jac=True), "callable": dict(fun=fun, jac=p.grad),
          "differences": dict(fun=fun)}[jac]
    r = fastopt.minimize(x0=p.x0, hess=p.hess, method="newton",
                         options={"line_search": "armijo"}, **kw)
    assert r.success and p.solved(r.fun, atol=1e-6)
    assert repeats[0] == 0 and r.njev == r.nit + 1
