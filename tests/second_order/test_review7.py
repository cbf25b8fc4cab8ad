"""Regression tests for the seventh review's findings (scripts in the review's notes)."""
import numpy as np
import pytest

import fastopt
from fastopt import problems

scipy = pytest.importorskip("scipy")
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod  # noqa: E402

X0 = np.array([-1.2, 1.0, -1.2, 1.0])


# ----------------------------------------- 1. no Hessian from difference gradients

@pytest.mark.parametrize("method", ["newton", "hessian-free"])
@pytest.mark.parametrize("jac", [None, False, "2-point", "3-point", "cs"])
def test_second_derivatives_of_difference_gradients_are_refused(method, jac):
    with pytest.raises(ValueError, match="finite-difference gradients are unreliable"):
        fastopt.minimize(rosen, X0, method=method, jac=jac)


@pytest.mark.parametrize("adapter", ["newton", "hessian_free"])
def test_scipy_adapter_refuses_them_too(adapter):
    import fastopt.scipy as fs
    with pytest.raises(ValueError, match="pass jac"):
        scipy.optimize.minimize(rosen, X0, method=getattr(fs, adapter), jac="2-point")


@pytest.mark.parametrize("method", ["newton", "hessian-free"])
def test_difference_hessian_of_an_analytic_gradient_and_the_reverse_still_work(method):
    r = fastopt.minimize(rosen, X0, method=method, jac=rosen_der)
    assert r.success and np.allclose(r.x, 1, atol=1e-4)
    r = fastopt.minimize(lambda x: (rosen(x), rosen_der(x)), X0, method=method, jac=True)
    assert r.success
    for kw in ({"hess": rosen_hess}, {"hessp": rosen_hess_prod}):
        r = fastopt.minimize(rosen, X0, method=method, jac=None, **kw)
        assert r.success and np.allclose(r.x, 1, atol=1e-3), kw


# ------------------------------------------------- 6. every listed problem name works

def test_every_problem_name_in_the_error_message_is_gettable():
    with pytest.raises(ValueError, match="known: ") as e:
        problems.get("no such problem")
    names = str(e.value).split("known: ")[1].split(", ")
    assert "quadratic_cond1e+04" in names
    for name in names:
        assert problems.get(name, n=8 if name.startswith("quadratic") else None).name == name
    q = problems.get("quadratic_cond1e+04")
    assert q.n == 1000 and q.cond == 1e4 and not q.rotated
    assert problems.get("quadratic_rot_cond1e+03", n=8).rotated


# ------------------------------------------- 2. Newton's shift is relative, no floor

def test_newton_takes_the_same_iterations_on_c_times_rosenbrock_for_every_c():
    runs = []
    for c in (1e-18, 1e-12, 1e-8, 1e-4, 1.0, 1e4, 1e18, 1e30):
        r = fastopt.minimize(lambda x: c * rosen(x), X0, method="newton",
                             jac=lambda x: c * rosen_der(x), hess=lambda x: c * rosen_hess(x),
                             options={"gtol": 1e-5 * c})
        assert r.status == 0 and np.allclose(r.x, 1, atol=1e-6), (c, r.message)
        runs.append((r.nit, r.nfev))
    assert runs == [runs[4]] * len(runs)                  # c = 1 took 28 iterations


def test_modified_cholesky_shift_scales_with_the_hessian():
    from fastopt.second_order.newton import modified_cholesky_solve
    H = np.array([[1.0, 2.0], [2.0, 1.0]])                # indefinite
    b = np.array([1.0, -1.0])
    d1, tau1 = modified_cholesky_solve(H, b)
    for c in (1e-12, 1e-6, 1e6):
        d, tau = modified_cholesky_solve(c * H, c * b)
        np.testing.assert_allclose(tau, c * tau1, rtol=1e-12)
        np.testing.assert_allclose(d, d1, rtol=1e-10)
    d, tau = modified_cholesky_solve(np.array([[0.0, 1.0], [1.0, 0.0]]), b)   # zero diagonal
    assert d is not None and tau > 1


# ------------------------------------------------- 5. Newton uses hessp without hess

def test_newton_builds_the_hessian_from_hessp():
    calls = []
    def hessp(x, p):
        calls.append(1)
        return rosen_hess_prod(x, p)
    r = fastopt.minimize(rosen, X0, method="newton", jac=rosen_der, hessp=hessp)
    ref = fastopt.minimize(rosen, X0, method="newton", jac=rosen_der, hess=rosen_hess)
    assert r.success
    # the same Hessians, so the same iterates as with hess; n products per iteration
    np.testing.assert_allclose(r.x, ref.x, rtol=0, atol=1e-12)
    assert (r.nit, r.nfev, r.njev) == (ref.nit, ref.nfev, ref.njev)
    assert r.nhev == len(calls) == X0.size * ref.nhev


# ------------------------------------------ 3. L-BFGS's ftol test is absolute for |f| < 1

def test_lbfgs_docstring_tells_the_truth_about_scale_invariance():
    from fastopt.second_order import lbfgs
    doc = " ".join(lbfgs.__doc__.split())
    assert "takes the iterations f takes for any c > 0" not in doc
    assert "absolute" in doc and "ftol=0" in doc
    # what it says: the default ftol stops 1e-14 f early (absolute test), ftol=0 does not
    runs = {}
    for c in (1.0, 1e-14):
        for ftol in (1e-12, 0.0):
            r = fastopt.minimize(lambda x: c * rosen(x), X0, jac=lambda x: c * rosen_der(x),
                                 options={"gtol": 1e-5 * c, "ftol": ftol})
            runs[c, ftol] = r.nit
    assert runs[1e-14, 1e-12] < runs[1.0, 1e-12] == runs[1.0, 0.0] == runs[1e-14, 0.0]


# -------------------------- 4. HF backtracking past a last CG iterate where f is NaN

@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_hessian_free_backtracks_past_a_non_finite_last_iterate(monkeypatch, bad):
    from fastopt.second_order import hessian_free as hfm
    orig = hfm.truncated_cg
    # CG run to (near) the exact step, so the last iterate lands just outside the region
    # where f is finite and an earlier kept iterate just inside it, at f ~ 0
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


# ------------------------------------- 7. the public line searches convert their inputs

def _fg(z):
    return float(z @ z), 2 * z


@pytest.mark.parametrize("case", ["list", "int", "grad list", "strided d", "f32 x f64 d",
                                  "f32 x f64 grad"])
def test_public_line_searches_accept_array_likes(case):
    from fastopt.second_order import line_search_armijo, line_search_wolfe
    x, d, g0, fg = np.array([1.0, 1.0]), np.array([-2.0, -2.0]), np.array([2.0, 2.0]), _fg
    dtype = np.float64
    if case == "list":
        x, d, g0 = x.tolist(), d.tolist(), g0.tolist()
    elif case == "int":
        x, d, g0 = x.astype(int), d.astype(int), g0.astype(int)
    elif case == "grad list":
        fg = lambda z: (float(z @ z), list(2 * z))
    elif case == "strided d":
        d = np.array([-2.0, 0.0, -2.0, 0.0])[::2]
    elif case == "f32 x f64 d":
        x, g0, dtype = x.astype(np.float32), g0.astype(np.float32), np.float32
    else:
        x, d, g0, dtype = x.astype(np.float32), d.astype(np.float32), g0, np.float32
        fg = lambda z: (float(z @ z), 2 * z.astype(np.float64))
    r = line_search_wolfe(fg, x, d, 2.0, g0)
    assert r.wolfe and r.x.dtype == dtype and r.g.dtype == dtype and r.x.flags.c_contiguous
    np.testing.assert_allclose(r.x, 1 - 2 * r.t, rtol=1e-6)
    a = line_search_armijo(lambda z: float(np.dot(z, z)), x, d, 2.0, -8.0)
    assert a.wolfe and a.x.dtype == dtype and a.t == 0.5


def test_line_searches_still_reject_bad_shapes_and_overlapping_work():
    from fastopt.second_order import line_search_wolfe
    x = np.ones(2)
    with pytest.raises(ValueError, match="1-D"):
        line_search_wolfe(_fg, np.ones((2, 2)), -2 * np.ones((2, 2)), 4.0, 2 * np.ones((2, 2)))
    with pytest.raises(ValueError, match="1-D"):
        line_search_wolfe(_fg, x, -np.ones(3), 2.0, 2 * x)
    with pytest.raises(ValueError, match="overlap"):
        line_search_wolfe(_fg, x, -2 * x, 2.0, 2 * x, work=[x, np.empty(2)])


def test_the_solvers_call_the_line_searches_without_conversion(monkeypatch):
    from fastopt.second_order import linesearch
    def no_copies(*a):
        raise AssertionError("a solver went through the converting entry point")
    monkeypatch.setattr(linesearch, "_as_vectors", no_copies)
    for method, kw in [("lbfgs", {}), ("cg", {}), ("newton", {"hess": rosen_hess}),
                       ("newton", {"hess": rosen_hess, "options": {"line_search": "armijo"}}),
                       ("hessian-free", {"hessp": rosen_hess_prod})]:
        assert fastopt.minimize(rosen, X0, method=method, jac=rosen_der, **kw).success
