"""Every method reaches the known minima, with the properties its algorithm promises (one
Hessian per Newton iteration, one gradient per Hessian-free iteration, fewer iterations for
Newton than for L-BFGS), and against SciPy's solvers, run live, where SciPy is installed."""
import warnings

import numpy as np
import pytest

import fastopt
from fastopt import problems
from fastopt.second_order import lbfgs


def _solve(p, method, **kw):
    return fastopt.minimize(p.fun_grad, p.x0, jac=True, method=method, hess=p.hess,
                            hessp=p.hessp, **kw)


def _mgh_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield from problems.mgh_problems()


PROBLEMS = {
    "lbfgs": ["rosenbrock", "wood", "beale", "helical_valley", "watson", "chebyquad",
              "powell_badly_scaled"],
    "newton": ["rosenbrock", "wood", "beale", "helical_valley", "brown_dennis", "watson",
               "powell_badly_scaled"],
    "hessian-free": ["rosenbrock", "beale", "helical_valley", "brown_dennis", "watson",
                     "freudenstein_roth"],
    "cg": ["rosenbrock", "wood", "beale", "helical_valley", "freudenstein_roth"],
}
CASES = [(m, name) for m, names in PROBLEMS.items() for name in names]


@pytest.mark.parametrize("method,name", CASES, ids=[f"{m}-{n}" for m, n in CASES])
def test_reaches_the_known_minimum(method, name):
    p = problems.get(name)
    r = _solve(p, method)
    assert r.success and r.status == 0, r.message
    assert p.solved(r.fun), (r.fun, p.minima())
    assert r.njev <= r.nfev + 1
    if method == "newton":
        assert r.nhev == r.nit                      # one Hessian per iteration
        assert r.nit < _solve(p, "lbfgs").nit       # and fewer iterations than L-BFGS
    elif method == "hessian-free":
        assert r.njev == r.nit + 1                  # one gradient per iteration
    else:
        assert r.nhev == 0 and r.nfev == r.njev     # every trial point takes (f, g)


@pytest.mark.parametrize("method,at_least", [("lbfgs", 30), ("newton", 32)])
def test_solves_nearly_all_of_the_mgh_set(method, at_least):
    # L-BFGS against SciPy's L-BFGS-B, on the same set: tests/second_order/test_bench_second_order.py
    solved = [p.name for p in _mgh_quietly() if p.solved(_solve(p, method).fun)]
    assert len(solved) >= at_least, solved


@pytest.mark.parametrize("method", ["lbfgs", "hessian-free", "cg"])
def test_scalable_problems(method):
    for p in (problems.ExtendedRosenbrock(2000), problems.BroydenTridiagonalN(2000),
              problems.Quadratic(2000, cond=1e3)):
        r = _solve(p, method, options={"gtol": 1e-6})
        assert r.success, (p.name, r.message)
        if p.name == "broyden_tridiagonal_n" and method == "lbfgs":
            # L-BFGS (and SciPy's L-BFGS-B) end in a local minimum, f = 0.7125
            assert np.abs(p.grad(r.x)).max() < 1e-4 and r.fun == pytest.approx(0.7125, abs=1e-3)
        else:
            assert p.solved(r.fun, atol=1e-8), (p.name, r.fun)


@pytest.mark.parametrize("method", ["lbfgs", "newton", "hessian-free", "cg"])
def test_float32_stays_float32(method):
    p = problems.ChainedRosenbrock(6)
    x0 = p.x0.astype(np.float32)
    r = fastopt.minimize(p.fun_grad, x0, jac=True, method=method, hess=p.hess,
                         hessp=p.hessp, options={"gtol": 1e-3})
    assert r.x.dtype == np.float32 and r.jac.dtype == np.float32
    assert r.success, r.message
    assert r.fun < 1e-4 or abs(r.fun - 3.9739405) < 1e-4      # global or local minimum


def test_newton_modifies_an_indefinite_hessian():
    # f = x^4/4 - x^2/2 + y^2: H(0.1, 1) has a negative eigenvalue
    def fg(x):
        return (x[0] ** 4 / 4 - x[0] ** 2 / 2 + x[1] ** 2,
                np.array([x[0] ** 3 - x[0], 2 * x[1]]))
    hess = lambda x: np.diag([3 * x[0] ** 2 - 1, 2.0])
    r = fastopt.minimize(fg, [0.1, 1.0], jac=True, hess=hess, method="newton")
    assert r.success and abs(abs(r.x[0]) - 1) < 1e-6 and abs(r.x[1]) < 1e-6


def test_newton_armijo_and_finite_difference_hessian():
    p = problems.get("beale")
    r1 = fastopt.minimize(p.fun_grad, p.x0, jac=True, method="newton",
                          options={"line_search": "armijo"}, hess=p.hess)
    r2 = fastopt.minimize(p.fun_grad, p.x0, jac=True, method="newton")      # no hess
    for r in (r1, r2):
        assert r.success and p.solved(r.fun)
    assert r2.nhev == 0 and r2.njev > r2.nit * 2          # n gradients per Hessian


def test_hessian_free_without_hessp_uses_gradient_differences():
    p = problems.ExtendedRosenbrock(100)
    r = fastopt.minimize(p.fun_grad, p.x0, jac=True, method="hessian-free")
    assert r.success and p.solved(r.fun) and r.nhev == 0


@pytest.mark.parametrize("backtrack", ["martens", "fallback"])
def test_hessian_free_backtracking_modes(backtrack):
    p = problems.get("rosenbrock")
    r = _solve(p, "hessian-free", options={"backtrack": backtrack})
    assert r.success and p.solved(r.fun)


def test_cg_hager_zhang():
    p = problems.get("rosenbrock")
    r = _solve(p, "cg", options={"beta": "hz"})
    pr = _solve(p, "cg")
    assert r.success and p.solved(r.fun)
    assert r.nit != pr.nit or not np.array_equal(r.x, pr.x)    # another recurrence


SCALABLE = ["extended_rosenbrock", "extended_powell", "broyden_tridiagonal_n",
            "quadratic_cond1e+04"]


def _scalable(name, n=1000):
    return {p.name: p for p in problems.scalable_problems(n)}[name]


@pytest.mark.parametrize("name", SCALABLE)
def test_hessian_free_needs_no_more_evaluations_than_newton_cg(name):
    # gradients + Hessian-vector products, Hessian-free stopping at the max |g| that
    # SciPy's Newton-CG ends with
    minimize = pytest.importorskip("scipy.optimize").minimize
    p = _scalable(name)
    ref = minimize(p.fun_grad, p.x0, jac=True, method="Newton-CG", hessp=p.hessp)
    gtol = float(np.abs(p.grad(ref.x)).max())
    r = fastopt.minimize(p.fun_grad, p.x0, jac=True, method="hessian-free", hessp=p.hessp,
                         options={"gtol": gtol})
    assert r.success and np.abs(p.grad(r.x)).max() <= gtol
    assert r.njev == r.nit + 1      # one gradient per iteration, none at rejected points
    assert r.njev + r.nhev <= ref.njev + ref.nhev, (r.njev + r.nhev, ref.njev + ref.nhev)


@pytest.mark.parametrize("backtrack", ["martens", "fallback"])
def test_hessian_free_backtracking_never_evaluates_f_twice_at_a_point(backtrack):
    # the newest kept CG iterate is usually the last one (1.3^j covers every step up to 7):
    # evaluating it again found "no decrease" and ended the backtracking before any
    # earlier iterate was tried
    p = problems.get("rosenbrock")
    seen, repeats = set(), [0]

    def fun(x):
        repeats[0] += x.tobytes() in seen
        seen.add(x.tobytes())
        return p.fun(x)

    r = fastopt.minimize(fun, p.x0, jac=p.grad, hessp=p.hessp, method="hessian-free",
                         options={"backtrack": backtrack})
    assert r.success and p.solved(r.fun)
    assert repeats[0] == 0


def test_truncated_cg_keeps_only_iterates_before_the_last():
    from fastopt.second_order.hessian_free import _backtrack_steps, truncated_cg
    A = np.diag(np.linspace(1.0, 100.0, 50))
    g = np.ones(50)
    keep = _backtrack_steps(250)
    for maxiter in (1, 3, 7, 9, 40):
        p, q, pp, pAp, stored, nprod, reason = truncated_cg(
            lambda v: A @ v, g, 0.0, maxiter=maxiter, eta=1e-12, keep=keep)
        steps = [s[0] for s in stored]
        assert steps == sorted(keep & set(range(1, nprod)))      # nprod = the last step
        assert all(not np.array_equal(s[1], p) for s in stored)


def test_newton_builds_the_hessian_from_hessp():
    p = problems.ExtendedRosenbrock(4)
    calls = []

    def hessp(x, v):
        calls.append(1)
        return p.hessp(x, v)
    r = fastopt.minimize(p.fun, p.x0, method="newton", jac=p.grad, hessp=hessp)
    ref = fastopt.minimize(p.fun, p.x0, method="newton", jac=p.grad, hess=p.hess)
    assert r.success
    # the same Hessians, so the same iterates as with hess; n products per iteration
    np.testing.assert_allclose(r.x, ref.x, rtol=0, atol=1e-12)
    assert (r.nit, r.nfev, r.njev) == (ref.nit, ref.nfev, ref.njev)
    assert r.nhev == len(calls) == p.n * ref.nhev


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
    p = problems.get("beale")
    fun, fun_grad, repeats = _counting(p)
    kw = {"fun": dict(fun=fun_grad, jac=True), "callable": dict(fun=fun, jac=p.grad),
          "differences": dict(fun=fun)}[jac]
    r = fastopt.minimize(x0=p.x0, hess=p.hess, method="newton",
                         options={"line_search": "armijo"}, **kw)
    assert r.success and p.solved(r.fun, atol=1e-6)
    assert repeats[0] == 0 and r.njev == r.nit + 1


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


def test_lbfgs_retry_along_minus_gradient_after_a_reset_starts_at_unit_distance(monkeypatch):
    # after a failed search the memory is dropped and the search retried along -g; its
    # first trial moves x by ||t0 d|| = 1, as on the first iteration
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
