"""Line searches: the conditions they promise, and clean failures."""
import math

import numpy as np
import pytest

import fastopt
from fastopt.second_order import line_search_armijo, line_search_wolfe
from fastopt import problems
from fastopt.problems import ChainedRosenbrock, mgh_problems


def _wolfe_holds(r, f0, gtd0, c1, c2):
    return r.f <= f0 + c1 * r.t * gtd0 and abs(r.gtd) <= c2 * abs(gtd0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # overflow at huge trial steps
@pytest.mark.parametrize("c2", [0.9, 0.1])
@pytest.mark.parametrize("t0", [1e-3, 1.0, 1e3])
def test_strong_wolfe_on_the_bank(c2, t0):
    for p in mgh_problems():
        f0, g0 = p.fun_grad(p.x0)
        d = -g0 / max(1.0, np.abs(g0).max())
        r = line_search_wolfe(p.fun_grad, p.x0, d, f0, g0, t0=t0, c2=c2, maxiter=40)
        assert r.success, (p.name, r.message)
        assert r.f < f0
        if r.wolfe:
            assert _wolfe_holds(r, f0, g0 @ d, 1e-4, c2), p.name
        np.testing.assert_allclose(r.x, p.x0 + r.t * d)


def test_strong_wolfe_counts_and_quadratic():
    fg = lambda x: (float(x @ x), 2 * x)
    x = np.array([3.0, -4.0])
    r = line_search_wolfe(fg, x, -2 * x, *fg(x))
    assert r.wolfe and r.nfev == 2 and r.t == pytest.approx(0.5, rel=1e-3)


def test_strong_wolfe_steps_back_from_non_finite_values():
    def fg(x):
        if x[0] > 2:
            return math.inf, np.full(1, np.nan)
        return float((x[0] - 1.5) ** 2), 2 * (x - 1.5)
    x = np.zeros(1)
    r = line_search_wolfe(fg, x, np.ones(1), *fg(x), t0=100.0)
    assert r.success and r.wolfe and 0 < r.t <= 2


def test_strong_wolfe_failure_is_reported():
    fg = lambda x: (float(x[0]), np.ones(1))         # slope claims descent, f increases
    r = line_search_wolfe(fg, np.zeros(1), np.ones(1), 0.0, -np.ones(1), gtd0=-1.0)
    assert not r.success and not r.wolfe and r.message and r.t == 0.0
    assert r.nfev <= 20


def test_line_searches_reject_ascent_directions():
    fg = lambda x: (float(x @ x), 2 * x)
    x = np.ones(2)
    with pytest.raises(ValueError, match="descent"):
        line_search_wolfe(fg, x, x, *fg(x))
    with pytest.raises(ValueError, match="descent"):
        line_search_armijo(lambda x: float(x @ x), x, x, 2.0, 4.0)
    with pytest.raises(ValueError, match="c1 < c2"):
        line_search_wolfe(fg, x, -x, *fg(x), c1=0.5, c2=0.1)


def test_armijo_backtracks_to_sufficient_decrease():
    p = ChainedRosenbrock(10)
    f0, g0 = p.fun_grad(p.x0)
    r = line_search_armijo(p.fun, p.x0, -g0, f0, float(g0 @ -g0), t0=1.0)
    assert r.wolfe and r.f <= f0 + 1e-4 * r.t * float(g0 @ -g0)
    assert 0 < r.t < 1 and r.g is None and r.nfev < 30


def test_wolfe_work_buffers_give_the_same_search_and_keep_the_best_point():
    p = problems.ExtendedRosenbrock(40)
    x = p.x0.copy()
    f0, g0 = p.fun_grad(x)
    d = -g0
    seen = []
    def fg(z):
        seen.append(z)
        return p.fun_grad(z)
    a = line_search_wolfe(p.fun_grad, x, d, f0, g0, t0=1.0)
    work = [np.empty_like(x), np.empty_like(x)]
    b = line_search_wolfe(fg, x, d, f0, g0, t0=1.0, work=work)
    assert (a.t, a.f, a.nfev) == (b.t, b.f, b.nfev) and a.nfev > 1
    assert any(b.x is w for w in work) and all(any(z is w for w in work) for z in seen)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(b.x, x + b.t * d)
    with pytest.raises(ValueError):
        line_search_wolfe(p.fun_grad, x, d, f0, g0, work=[work[0], work[0]])
    with pytest.raises(ValueError):
        line_search_wolfe(p.fun_grad, x, d, f0, g0, work=[x, work[0]])


def _fg(z):
    return float(z @ z), 2 * z


@pytest.mark.parametrize("case", ["list", "int", "grad list", "strided d", "f32 x f64 d",
                                  "f32 x f64 grad"])
def test_public_line_searches_accept_array_likes(case):
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


def test_line_searches_reject_bad_shapes_and_overlapping_work():
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
    p = problems.ExtendedRosenbrock(4)
    for method, kw in [("lbfgs", {}), ("cg", {}), ("newton", {"hess": p.hess}),
                       ("newton", {"hess": p.hess, "options": {"line_search": "armijo"}}),
                       ("hessian-free", {"hessp": p.hessp})]:
        assert fastopt.minimize(p.fun, p.x0, method=method, jac=p.grad, **kw).success
