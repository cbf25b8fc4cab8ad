"""The problem bank: derivatives against finite differences, the paper's values."""
import numpy as np
import pytest

from fastopt import problems
from fastopt.problems import mgh


BANK = problems.bank(8)


def _step(p, x, i):
    # central differences; a larger step where f is huge (Brown badly scaled: f ~ 1e12)
    return 1e-6 * max(1.0, abs(x[i])) * max(1.0, abs(p.fun(x))) ** (1 / 6)


def _central_differences(p, f, x):
    """Row i: ``(f(x + h e_i) - f(x - h e_i)) / 2h``; the gradient when ``f`` is ``p.fun``,
    the Hessian (row by row) when it is ``p.grad``."""
    rows = []
    for i in range(p.n):
        h = _step(p, x, i)
        e = np.zeros(p.n)
        e[i] = h
        rows.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(rows)


@pytest.mark.parametrize("p", BANK, ids=[f"{p.name}-{p.n}" for p in BANK])
def test_derivatives_match_finite_differences(p):
    rng = np.random.default_rng(0)
    for x in (p.x0, p.x0 + 0.05 * rng.standard_normal(p.n) * np.maximum(0.1, abs(p.x0))):
        g, H = p.grad(x), p.hess(x)
        scale_g = max(1.0, np.abs(g).max())
        np.testing.assert_allclose(g, _central_differences(p, p.fun, x), atol=2e-5 * scale_g,
                                   rtol=2e-5)
        scale_h = max(1.0, np.abs(H).max())
        np.testing.assert_allclose(H, _central_differences(p, p.grad, x), atol=2e-5 * scale_h,
                                   rtol=2e-5)
        np.testing.assert_allclose(H, H.T, atol=1e-12 * scale_h)
        v = rng.standard_normal(p.n)
        np.testing.assert_allclose(p.hessp(x, v), H @ v, atol=1e-10 * scale_h * p.n)
        f, g2 = p.fun_grad(x)
        assert f == p.fun(x)
        np.testing.assert_array_equal(g2, g)


def test_bank_has_the_mgh_set():
    ps = problems.mgh_problems()
    assert len(ps) == 33
    assert sorted(p.number for p in ps) == [n for n in range(1, 36) if n not in (11, 19)]


@pytest.mark.parametrize("name,f0", [
    ("rosenbrock", 24.2), ("beale", 14.203125), ("wood", 19192.0), ("powell_singular", 215.0),
    ("helical_valley", 2500.0), ("box_3d", 1031.1538106093983), ("brown_badly_scaled",
                                                                  999998000003.0)])
def test_starting_values_of_the_paper(name, f0):
    p = problems.get(name)
    assert p.fun(p.x0) == pytest.approx(f0, rel=1e-12)


@pytest.mark.parametrize("p,xstar", [
    (mgh.Rosenbrock(), [1, 1]), (mgh.FreudensteinRoth(), [5, 4]), (mgh.Beale(), [3, 0.5]),
    (mgh.HelicalValley(), [1, 0, 0]), (mgh.Box3D(), [1, 10, 1]), (mgh.Wood(), [1, 1, 1, 1]),
    (mgh.BrownBadlyScaled(), [1e6, 2e-6]), (mgh.BiggsExp6(), [1, 10, 1, 5, 4, 3]),
    (mgh.PowellSingular(), [0, 0, 0, 0]), (mgh.VariablyDimensioned(5), np.ones(5)),
    (mgh.BrownAlmostLinear(5), np.ones(5))])
def test_known_minimizers_have_zero_value_and_gradient(p, xstar):
    x = np.asarray(xstar, float)
    assert p.fun(x) == pytest.approx(0.0, abs=1e-20)
    np.testing.assert_allclose(p.grad(x), 0.0, atol=1e-9)
    assert p.solved(p.fun(x))


def test_linear_problems_minimum_values():
    for p in (mgh.LinearFullRank(10), mgh.LinearRank1(10), mgh.LinearRank1ZeroColumns(10)):
        x = np.linalg.lstsq(p.A, np.ones(p.A.shape[0]), rcond=None)[0]
        assert p.fun(x) == pytest.approx(p.f_star, rel=1e-10)


@pytest.mark.parametrize("cls", [problems.ExtendedRosenbrock, problems.ChainedRosenbrock,
                                 problems.ExtendedPowell, problems.BroydenTridiagonalN])
def test_scalable_problems_match_the_small_versions_and_scale(cls):
    small = cls(8)
    dense = {"extended_rosenbrock": None, "chained_rosenbrock": None,
             "extended_powell": mgh.PowellSingular(8),
             "broyden_tridiagonal_n": mgh.BroydenTridiagonal(8)}[small.name]
    if dense is not None:
        x = np.linspace(-1, 1, 8)
        assert small.fun(x) == pytest.approx(dense.fun(x), rel=1e-12)
        np.testing.assert_allclose(small.hess(x), dense.hess(x), rtol=1e-12, atol=1e-12)
    big = cls(1_000_000)
    g = big.grad(big.x0)
    assert g.shape == (1_000_000,) and np.all(np.isfinite(g))
    assert big.hessp(big.x0, g).shape == (1_000_000,)
    with pytest.raises(ValueError, match="hessp"):
        big.hess(big.x0)


def test_quadratic_is_ill_conditioned_and_float32_stays_float32():
    q = problems.Quadratic(50, cond=1e6, rotated=True)
    w = np.linalg.eigvalsh(q.hess(q.x0))
    assert w.max() / w.min() == pytest.approx(1e6, rel=1e-6)
    x32 = q.x0.astype(np.float32)
    assert q.grad(x32).dtype == np.float32 and q.hessp(x32, x32).dtype == np.float32


def test_shape_errors():
    with pytest.raises(ValueError, match="shape"):
        problems.get("wood").fun(np.ones(3))


def test_every_problem_name_in_the_error_message_is_gettable():
    with pytest.raises(ValueError, match="unknown problem.*known: ") as e:
        problems.get("no such problem")
    names = str(e.value).split("known: ")[1].split(", ")
    assert "quadratic_cond1e+04" in names
    for name in names:
        assert problems.get(name, n=8 if name.startswith("quadratic") else None).name == name
    q = problems.get("quadratic_cond1e+04")
    assert q.n == 1000 and q.cond == 1e4 and not q.rotated
    assert problems.get("quadratic_rot_cond1e+03", n=8).rotated
