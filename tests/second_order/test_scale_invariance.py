"""f and c f take the same steps: the solvers' tests and shifts are relative to the problem's
scale, for tiny and huge c, tiny and huge gradients, float64 and float32."""
import numpy as np
import pytest

import fastopt
from fastopt import problems
from fastopt.second_order.newton import modified_cholesky_solve


def _scaled(p, c):
    """c * p.fun with its derivatives: (fun returning (f, g), hess)."""
    return (lambda x: (c * p.fun(x), c * p.grad(x))), (lambda x: c * p.hess(x))


@pytest.mark.parametrize("x0", [[-1.2, 1.0, -1.2, 1.0], [0.0, 1.0]], ids=["4d", "indefinite"])
def test_newton_takes_the_same_steps_on_c_times_rosenbrock_for_every_c(x0):
    # at (0, 1) H_11 = -398 c: the shift must exceed 398 c, whatever c is
    p = problems.ExtendedRosenbrock(len(x0))
    x0 = np.array(x0)
    runs = []
    for c in (1e-18, 1e-8, 1e-4, 1.0, 1e4, 1e18, 1e30):
        fg, hess = _scaled(p, c)
        r = fastopt.minimize(fg, x0, jac=True, hess=hess, method="newton",
                             options={"gtol": 1e-5 * c})
        assert r.status == 0 and np.allclose(r.x, 1, atol=1e-6), (c, r.message)
        runs.append((r.nit, r.nfev, r.njev))
    assert runs == [runs[3]] * len(runs)


def test_modified_cholesky_shift_and_limit_scale_with_the_hessian():
    H = np.array([[1.0, 2.0], [2.0, 1.0]])                # indefinite
    b = np.array([1.0, -1.0])
    d1, tau1 = modified_cholesky_solve(H, b)
    for c in (1e-12, 1e-6, 1e6, 1e30):
        d, tau = modified_cholesky_solve(c * H, c * b)
        np.testing.assert_allclose(tau, c * tau1, rtol=1e-12)
        np.testing.assert_allclose(d, d1, rtol=1e-10)
    d, tau = modified_cholesky_solve(np.array([[0.0, 1.0], [1.0, 0.0]]), b)   # zero diagonal
    assert d is not None and tau > 1
    d, tau = modified_cholesky_solve(np.diag([-4e30, 1e30]), np.ones(2))    # huge entries
    assert d is not None and 4e30 < tau < 1e31 and np.all(np.isfinite(d))
    assert modified_cholesky_solve(np.full((2, 2), np.nan), np.ones(2))[0] is None


@pytest.mark.parametrize("c", [1e14, 1e20])
def test_lbfgs_keeps_its_pairs_on_a_steeply_scaled_function(c):
    # y.y grows as c^2 and s.y as c: a test against y.y would reject every pair and leave
    # steepest descent; L-BFGS-B's test against g.s takes the same iterations as for f
    p = problems.get("rosenbrock")
    base = fastopt.minimize(p.fun_grad, p.x0, jac=True, options={"ftol": 0})
    r = fastopt.minimize(_scaled(p, c)[0], p.x0, jac=True,
                         options={"gtol": 1e-5 * c, "ftol": 0})
    assert r.status == 0 and p.solved(r.fun / c), r.message
    assert r.nit == base.nit


def test_lbfgs_float32_with_curvature_above_one_over_eps():
    p = problems.get("rosenbrock")
    c = 1e6                          # curvature ~ 1e9 > 1 / eps(float32) = 8.4e6
    x0 = p.x0.astype(np.float32)
    base = fastopt.minimize(p.fun_grad, x0, jac=True, options={"gtol": 1e-2})
    r = fastopt.minimize(_scaled(p, c)[0], x0, jac=True, options={"gtol": 1e-2 * c})
    assert base.status == 0 and r.status == 0, r.message
    assert r.nit <= 2 * base.nit, (r.nit, base.nit)


def test_lbfgs_ftol_test_is_absolute_below_one_and_ftol_zero_turns_it_off():
    p = problems.get("rosenbrock")
    nit = {}
    for c in (1.0, 1e-14):
        for ftol in (1e-12, 0.0):
            r = fastopt.minimize(_scaled(p, c)[0], p.x0, jac=True,
                                 options={"gtol": 1e-5 * c, "ftol": ftol})
            nit[c, ftol] = r.nit
    assert nit[1e-14, 1e-12] < nit[1.0, 1e-12] == nit[1.0, 0.0] == nit[1e-14, 0.0]


@pytest.mark.parametrize("method", ["lbfgs", "cg"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_huge_and_tiny_gradient_norms(method, scale):
    # g.g overflows (1e400) or underflows (1e-400) in float64; the first step must not
    fg = lambda x: (0.5 * scale * float(x @ x), scale * x)
    r = fastopt.minimize(fg, np.ones(2), jac=True, method=method, tol=1e-8 * scale)
    assert r.status == 0, r.message
    assert np.abs(r.x).max() <= 1e-8
    r = fastopt.minimize(fg, np.ones(2), jac=True, method=method,
                         tol=0 if scale < 1 else None)      # tol=0, or the default
    assert r.status in (0, 3), r.message
    assert (np.abs(r.x).max() <= 1e-8) if scale < 1 else (r.fun < scale * 1e-10)
