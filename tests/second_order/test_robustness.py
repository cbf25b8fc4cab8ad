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
