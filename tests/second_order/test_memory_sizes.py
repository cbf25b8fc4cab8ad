"""L-BFGS memory sizes: any ``maxcor`` either works, with results that do not depend on it
while fewer pairs are stored, or is refused with a ValueError that says how much memory it
needs (never a crash, an aliased table or a bare MemoryError)."""
import numpy as np
import pytest

import fastopt
from fastopt import problems
from fastopt.second_order import _vec
from two_loop import two_loop_direction


def _lbfgs(maxcor, maxiter, p=None):
    p = problems.get("rosenbrock") if p is None else p
    return fastopt.minimize(p.fun_grad, p.x0, jac=True, method="lbfgs",
                            options=dict(maxcor=maxcor, maxiter=maxiter))


@pytest.mark.parametrize("maxcor", [46340, 46341, 50000, 65535, 65536])
def test_rosenbrock_does_not_depend_on_a_large_maxcor(maxcor):
    # 30 iterations store at most 30 pairs: maxcor = 40 keeps them all too
    r, ref = _lbfgs(maxcor, 30), _lbfgs(40, 30)
    assert r.nit == ref.nit == 30
    assert r.fun == ref.fun
    np.testing.assert_array_equal(r.x, ref.x)
    assert r.fun < 0.01


def test_a_large_maxcor_equals_maxcor_10_while_at_most_10_pairs_are_stored():
    r, ref = _lbfgs(65535, 10), _lbfgs(10, 10)
    assert r.fun == ref.fun and r.nfev == ref.nfev
    np.testing.assert_array_equal(r.x, ref.x)


def test_a_solve_that_outgrows_the_first_tables_matches_a_larger_maxcor():
    # more than 16 pairs (the tables' first size), fewer than 60
    p = problems.get("extended_rosenbrock", 100)
    r, ref = _lbfgs(60, 55, p), _lbfgs(100_000, 55, p)
    assert r.nit == ref.nit > 20 and r.nfev == ref.nfev
    assert r.fun == ref.fun
    np.testing.assert_array_equal(r.x, ref.x)


@pytest.mark.parametrize("m", [15, 16, 17, 40])
def test_memory_that_grows_its_tables_matches_the_two_loop_recursion(m):
    # the tables start at 16 slots and double: the ring (m + 1 slots) wraps after growing
    n = 50
    rng = np.random.default_rng(m)
    A = np.diag(rng.uniform(1, 20, n))
    mem = _vec.LBFGSMemory(m, n, np.float64)
    x = rng.standard_normal(n)
    g = A @ x
    pairs = []
    d = np.empty(n)
    for _ in range(2 * m + 3):
        x1 = x - 0.05 * g + 0.01 * rng.standard_normal(n)
        g1 = A @ x1
        assert mem.update(x1, x, g1, g)[0]
        pairs = (pairs + [(x1 - x, g1 - g)])[-m:]
        x, g = x1, g1
        mem.direction(g, d)
        ref = two_loop_direction(pairs, g)
        np.testing.assert_allclose(d, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
    assert mem.k == m


def test_memory_sizes_give_bit_identical_directions_while_not_full():
    n, steps = 300, 25
    rng = np.random.default_rng(1)
    A = np.diag(rng.uniform(1, 20, n))
    mems = [_vec.LBFGSMemory(m, n, np.float32) for m in (steps, 1000, 65535)]
    x = rng.standard_normal(n).astype(np.float32)
    g = (A @ x).astype(np.float32)
    for _ in range(steps):
        x1 = (x - 0.05 * g + 0.01 * rng.standard_normal(n)).astype(np.float32)
        g1 = (A @ x1).astype(np.float32)
        ds = []
        for mem in mems:
            mem.update(x1, x, g1, g)
            d = np.empty(n, np.float32)
            ds.append((mem.direction(g1, d), d, mem.gamma()))
        x, g = x1, g1
        for gtd, d, gamma in ds[1:]:
            assert gtd == ds[0][0] and gamma == ds[0][2]
            np.testing.assert_array_equal(d, ds[0][1])


@pytest.mark.parametrize("m", [_vec.MAX_PAIRS + 1, 2**31, 2**40])
def test_a_memory_size_beyond_the_limit_is_a_value_error_with_the_memory_it_needs(m):
    with pytest.raises(ValueError, match=r"must be <= 536870911.*GiB for the history"):
        _vec.LBFGSMemory(m, 2, np.float64)


def test_a_memory_that_cannot_be_allocated_is_a_value_error_with_the_memory_it_needs():
    # 2 (m + 1) n float64 values: 8 PiB of history
    with pytest.raises(ValueError, match=r"cannot allocate.*m=500000000 .*n=1000000 .*GiB"):
        _vec.LBFGSMemory(500_000_000, 1_000_000, np.float64)


def test_minimize_refuses_an_unallocatable_maxcor_before_evaluating():
    calls = []

    def fg(x):
        calls.append(1)
        return float(x @ x), 2 * x

    with pytest.raises(ValueError, match="GiB for the history"):
        fastopt.minimize(fg, np.ones(1_000_000), jac=True, method="lbfgs",
                         options=dict(maxcor=500_000_000))
    assert calls == []


@pytest.mark.parametrize("m", [0, -1, 2.5, True, "10"])
def test_a_memory_size_that_is_not_a_positive_integer_is_a_value_error(m):
    with pytest.raises(ValueError, match="memory size m"):
        _vec.LBFGSMemory(m, 2, np.float64)
