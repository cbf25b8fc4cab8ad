"""The compiled vector kernels against NumPy and the textbook two-loop recursion."""
import numpy as np
import pytest

import fastopt
from fastopt.second_order import _vec
from two_loop import two_loop_direction


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 2048, 5000, 70001])
def test_multidot_and_combine_match_numpy(dtype, n):
    rng = np.random.default_rng(n)
    V = [rng.standard_normal(n).astype(dtype) for _ in range(3)]
    W = [rng.standard_normal(n).astype(dtype) for _ in range(2)]
    D = _vec.multidot(V, W)
    ref = np.array([[v.astype(np.float64) @ w.astype(np.float64) for w in W] for v in V])
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(D, ref, rtol=tol, atol=tol * n)
    out = np.empty(n, dtype)
    dot = _vec.combine([0.5, -2.0, 3.0], V, out, W[0])
    expect = 0.5 * V[0].astype(np.float64) - 2 * V[1] + 3 * V[2]
    np.testing.assert_allclose(out, expect.astype(dtype), rtol=tol, atol=tol)
    assert out.dtype == dtype
    assert dot == pytest.approx(float(out.astype(np.float64) @ W[0]), rel=1e-6, abs=1e-6)
    assert _vec.absmax(V[0]) == np.abs(V[0]).max()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 15, 16, 17, 1001])
def test_absmax_is_the_largest_magnitude_and_propagates_nan(dtype, n):
    rng = np.random.default_rng(n)
    v = rng.standard_normal(n).astype(dtype)
    v[rng.integers(n)] = -7.5                      # the largest magnitude is negative
    assert _vec.absmax(v) == 7.5
    assert _vec.absmax(np.full(n, -0.0, dtype)) == 0.0
    for k in {0, n // 2, n - 1}:                   # in a vector lane and in the tail
        w = v.copy()
        w[k] = -np.inf
        assert _vec.absmax(w) == np.inf
        w[(k + 1) % n] = np.nan                    # NaN wins over inf, wherever it lies
        assert np.isnan(_vec.absmax(w))
        w = v.copy()
        w[k] = -np.nan
        assert np.isnan(_vec.absmax(w))


def test_combine_may_write_into_an_input():
    x = np.arange(5000.0)
    d = np.ones(5000)
    _vec.combine((1.0, 2.0), (x, d), x)                 # x += 2 d, in place
    np.testing.assert_array_equal(x, np.arange(5000.0) + 2)


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(300_000), rng.standard_normal(300_000)
    old = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        one = _vec.multidot([a, b], [a])
        fastopt.set_num_threads(2)
        two = _vec.multidot([a, b], [a])
    finally:
        fastopt.set_num_threads(old)
    np.testing.assert_array_equal(one, two)


def test_kernels_reject_bad_arrays():
    with pytest.raises(TypeError):
        _vec.multidot([np.ones(3)], [np.ones(3, np.float32)])
    with pytest.raises(ValueError):
        _vec.multidot([np.ones(3)], [np.ones(4)])
    with pytest.raises(TypeError):
        _vec.multidot([np.ones(3, np.int64)], [np.ones(3, np.int64)])
    with pytest.raises(ValueError):
        _vec.combine([1.0], [np.ones(3)], np.ones((3, 1)))
    with pytest.raises(ValueError):
        _vec.LBFGSMemory(0, 3, np.float64)


@pytest.mark.parametrize("n", [300, 5001])       # one tile; many tiles, a partial last one
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-11), (np.float32, 2e-4)])
def test_lbfgs_memory_matches_the_two_loop_recursion(dtype, tol, n):
    rng = np.random.default_rng(3)
    m = 4
    A = np.diag(rng.uniform(1, 20, n))
    mem = _vec.LBFGSMemory(m, n, dtype)
    x = rng.standard_normal(n).astype(dtype)
    g = (A @ x).astype(dtype)
    pairs = []
    d = np.empty(n, dtype)
    for _ in range(9):                                  # wraps the ring twice
        x1 = (x - 0.05 * g + 0.01 * rng.standard_normal(n)).astype(dtype)
        g1 = (A @ x1).astype(dtype)
        stored, sy, yy = mem.update(x1, x, g1, g)
        assert stored
        pairs = (pairs + [((x1 - x).astype(np.float64), (g1 - g).astype(np.float64))])[-m:]
        s_new, y_new = mem.pair(mem.k - 1)                  # stored exactly as x1 - x, g1 - g
        np.testing.assert_array_equal(s_new, x1 - x)
        np.testing.assert_array_equal(y_new, g1 - g)
        x, g = x1, g1
        assert mem.gmax == np.abs(g).max()
        gtd = mem.direction(g, d)
        assert mem.dmax == np.abs(d).max()
        ref = two_loop_direction(pairs, g.astype(np.float64))
        np.testing.assert_allclose(d, ref, rtol=tol, atol=tol * np.abs(ref).max())
        assert gtd == pytest.approx(float(g.astype(np.float64) @ d), rel=1e-5)
    assert mem.k == m


def test_lbfgs_memory_skips_pairs_without_positive_curvature():
    mem = _vec.LBFGSMemory(3, 2, np.float64)
    x0, x1 = np.zeros(2), np.array([1.0, 0.0])
    stored, sy, yy = mem.update(x1, x0, np.array([-1.0, 0.0]), np.zeros(2))   # s.y < 0
    assert not stored and sy == -1.0 and mem.k == 0
    d = np.empty(2)
    assert mem.direction(np.array([1.0, 2.0]), d) == -5.0
    np.testing.assert_array_equal(d, [-1.0, -2.0])
    assert mem.dmax == 2.0


def test_lbfgs_memory_gmax_and_dmax_propagate_nan_and_bad_vectors_are_rejected():
    mem = _vec.LBFGSMemory(2, 3000, np.float64)
    x0, x1, g0 = np.zeros(3000), np.full(3000, 0.1), np.ones(3000)
    g1 = np.full(3000, 0.5)
    g1[2500] = np.nan
    mem.update(x1, x0, g1, g0)
    assert np.isnan(mem.gmax)
    g1[2500] = -np.inf
    mem.update(x1, x0, g1, g0)
    assert mem.gmax == np.inf
    g1[2500] = -3.0
    mem.update(x1, x0, g1.astype(np.float64), g0)
    assert mem.gmax == 3.0
    d = np.empty(3000)
    mem.direction(g1, d)
    assert mem.dmax == np.abs(d).max() > 0
    g1[2999] = np.nan         # the last element of the last tile: d and max |d| are NaN
    mem.direction(g1, d)
    assert np.isnan(d[2999]) and np.isnan(mem.dmax)
    with pytest.raises(ValueError):
        mem.update(x1[:10], x0[:10], g1[:10], g0[:10])
    with pytest.raises(TypeError):
        mem.direction(g0.astype(np.float32), np.empty(3000, np.float32))
    with pytest.raises(IndexError):
        mem.pair(5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lbfgs_memory_keeps_a_pair_of_very_high_curvature(dtype):
    # f = c/2 x^2 from x = 1 to x = 0: s = -1, y = -c, s.y = c, y.y = c^2
    c = 1e17 if dtype == np.float64 else 1e8
    mem = _vec.LBFGSMemory(3, 1, dtype)
    x0, x1 = np.ones(1, dtype), np.zeros(1, dtype)
    stored, sy, yy = mem.update(x1, x0, np.zeros(1, dtype), np.full(1, c, dtype))
    assert stored and mem.k == 1 and mem.gamma() == pytest.approx(1 / c, rel=1e-6)


def test_lbfgs_memory_still_rejects_pairs_without_curvature():
    mem = _vec.LBFGSMemory(3, 2, np.float64)
    x0, x1 = np.zeros(2), np.array([1.0, 0.0])
    # s.y = 0: rejected, whatever g0 . s is
    stored, sy, _ = mem.update(x1, x0, np.array([0.0, 5.0]), np.array([0.0, 1.0]))
    assert not stored and sy == 0.0
    # an ascent step (g0 . s > 0) with s.y < 0
    stored, sy, _ = mem.update(x1, x0, np.array([1.0, 0.0]), np.array([2.0, 0.0]))
    assert not stored and sy < 0 and mem.k == 0
    # s.y = 1e-200 > 0 but y.y underflows to 0: gamma = s.y / y.y would be infinite
    stored, sy, yy = mem.update(x1, x0, np.zeros(2), np.array([-1e-200, 0.0]))
    assert not stored and sy > 0 and yy == 0.0 and mem.k == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_lbfgs_update_inner_products_equal_multidot_bit_for_bit(dtype, m):
    """The update pass adds its inner products in multidot's blocks and lanes (two history
    vectors at a time, g1 and y converted once per tile), whatever the history's size: the
    ones it returns, s.y and y.y, are multidot's bit for bit."""
    rng = np.random.default_rng(5)
    for n in (1, 7, 9, 511, 513, 2049, 70_001):
        mem = _vec.LBFGSMemory(m, n, dtype)
        x, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
        for _ in range(m + 2):                          # a full ring, then wrapped
            x1 = (x + 0.1 * rng.standard_normal(n)).astype(dtype)
            g1 = (g + (x1 - x) + 0.01 * rng.standard_normal(n)).astype(dtype)
            stored, sy, yy = mem.update(x1, x, g1, g)
            s, y = x1 - x, g1 - g
            ref = _vec.multidot([s, y], [y])
            assert stored and sy == ref[0, 0] and yy == ref[1, 0], n
            x, g = x1, g1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lbfgs_direction_slope_equals_multidot_and_does_not_depend_on_threads(dtype):
    """The direction pass adds g . d in multidot's blocks and lanes, the blocks' sums in
    block order whatever order the blocks are computed in (the pass takes its chunks in
    reverse): g . d is multidot's bit for bit, and d and g . d are the same on 1 and 3
    threads.  n = 300,007 spans many chunks, with a ragged last tile."""
    rng = np.random.default_rng(6)
    n, m = 300_007, 3
    mem = _vec.LBFGSMemory(m, n, dtype)
    x, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    old = fastopt.get_num_threads()
    try:
        for _ in range(m + 2):
            x1 = (x + 0.1 * rng.standard_normal(n)).astype(dtype)
            g1 = (g + (x1 - x) + 0.01 * rng.standard_normal(n)).astype(dtype)
            mem.update(x1, x, g1, g)
            x, g = x1, g1
            runs = []
            for threads in (1, 3):
                fastopt.set_num_threads(threads)
                d = np.empty(n, dtype)
                runs.append((d, mem.direction(g, d), mem.dmax))
            (d1, gtd1, dmax1), (d3, gtd3, dmax3) = runs
            np.testing.assert_array_equal(d1, d3)
            assert gtd1 == gtd3 == _vec.multidot([d1], [g])[0, 0]
            assert dmax1 == dmax3 == np.abs(d1).max()
    finally:
        fastopt.set_num_threads(old)
