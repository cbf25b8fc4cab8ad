"""Kernels vs the NumPy reference: every algorithm and option combination, both dtypes, sizes
around SIMD widths and beyond the threading threshold, 1 and 2 threads (bit-identical), 60
steps.  Empty arrays: in every combination's many-array group, and a group of only empty
arrays once per algorithm (no option can change a step that has no element)."""
import numpy as np
import pytest

import fastopt
from fastopt import functional
from fastopt._kernels import driver
from first_order_cases import (
    ALGORITHMS, ALL_CASES, ReferenceOptimizer, assert_close, case_id, gradient, gradient_pool,
    option_combinations,
)

SIZES = [1, 7, 31, 1000, 100003]
STEPS = 60


@pytest.fixture
def small_parallel_min():
    """Let tiny steps run on several threads, so shares split arrays at odd places."""
    before = driver._set_parallel_min(5)
    yield
    driver._set_parallel_min(before)


def _run(name, kw, params, pools, steps=STEPS, change_lr_at=None):
    opt = ALGORITHMS[name][0](params, **kw)
    for t in range(1, steps + 1):
        if t == change_lr_at:
            opt.param_groups[0]["lr"] = kw["lr"] * 0.5
        opt.step([gradient(pool, t) for pool in pools])
    return opt


def _run_reference(name, kw, params, pools, steps=STEPS, change_lr_at=None):
    ref = ReferenceOptimizer(name, params, **kw)
    for t in range(1, steps + 1):
        if t == change_lr_at:
            ref.kw = {**ref.kw, "lr": kw["lr"] * 0.5}
        ref.step([gradient(pool, t) for pool in pools])
    return ref


def _compare_state(opt, ref, dtype, where=""):
    for i, st in enumerate(ref.state):
        for name, expected in st.items():
            if name in opt.state[i]:
                assert_close(opt.state[i][name], expected, dtype,
                             f"{where}: state {name} of param {i}")
        assert int(opt.state[i].get("step", ref.t)) == ref.t, where


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw", ALL_CASES, ids=[case_id(*c) for c in ALL_CASES])
def test_optimizer_matches_reference(name, kw, dtype, threads):
    """Every size of SIZES (tails around the SIMD widths, one beyond the threading
    threshold), 1 and 2 threads, bit-identical across thread counts, the state too."""
    for size in SIZES:
        rng = np.random.default_rng(size)
        p0 = rng.standard_normal(size).astype(dtype)
        pools = [gradient_pool(rng, size, dtype)]
        ref = _run_reference(name, kw, [p0.copy()], pools, change_lr_at=STEPS // 2)
        results = []
        for n_threads in (1, 2):
            threads(n_threads)
            p = p0.copy()
            opt = _run(name, kw, [p], pools, change_lr_at=STEPS // 2)
            results.append(p)
            assert_close(p, ref.params[0], dtype, f"size {size}, {n_threads} thread(s)")
            _compare_state(opt, ref, dtype, f"size {size}, {n_threads} thread(s)")
        np.testing.assert_array_equal(results[0], results[1],
                                      err_msg=f"size {size}: 1 and 2 threads differ")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw", ALL_CASES, ids=[case_id(*c) for c in ALL_CASES])
def test_many_arrays_one_step(name, kw, dtype, threads, small_parallel_min):
    """Arrays of many sizes in one group, stepped together; threads split them anywhere."""
    rng = np.random.default_rng(1)
    shapes = [(3, 5), (0,), (1,), (31,), (2, 0, 3), (7, 11), (1000,), (17,)]
    p0 = [rng.standard_normal(s).astype(dtype) for s in shapes]
    pools = [gradient_pool(rng, s, dtype, k=2) for s in shapes]
    ref = _run_reference(name, kw, [p.copy() for p in p0], pools, steps=12)
    runs = []
    for n_threads in (1, 2, 3):
        threads(n_threads)
        params = [p.copy() for p in p0]
        _run(name, kw, params, pools, steps=12)
        runs.append(params)
        for p, q in zip(params, ref.params):
            assert p.shape == q.shape
            assert_close(p, q, dtype)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_a_group_of_only_empty_arrays_steps_and_keeps_empty_state_of_its_dtype(dtype):
    for name in ALGORITHMS:
        kw = option_combinations(name)[-1]          # the one with the most options on
        params = [np.zeros(0, dtype), np.zeros((2, 0), dtype)]
        opt = ALGORITHMS[name][0](params, **kw)
        for t in range(1, 4):
            opt.step([np.zeros(0, dtype), np.zeros((2, 0), dtype)])
        for i, p in enumerate(params):
            st = opt.state[i]
            assert name == "sgd" or int(st["step"]) == 3, name     # SGD keeps no count
            arrays = {k: v for k, v in st.items() if k in ALGORITHMS[name][2]}
            assert arrays and all(v.shape == p.shape and v.dtype == dtype
                                  for v in arrays.values()), (name, st)


# (algorithm, an option setting that cannot change the result, the setting it equals)
NO_EFFECT = [("sgd", dict(momentum=0.0, dampening=0.2), dict(momentum=0.0)),
             ("sgd", dict(momentum=0.0, dampening=0.2, weight_decay=0.01),
              dict(momentum=0.0, weight_decay=0.01)),
             ("adam", dict(weight_decay=0.0, decoupled_weight_decay=True), dict(weight_decay=0.0)),
             ("adam", dict(amsgrad=True, decoupled_weight_decay=True), dict(amsgrad=True)),
             ("nadam", dict(weight_decay=0.0, decoupled_weight_decay=True), dict(weight_decay=0.0))]


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("name,kw,same", NO_EFFECT, ids=[f"{c[0]}-{i}" for i, c in enumerate(NO_EFFECT)])
def test_options_without_effect_give_bit_identical_steps(name, kw, same, maximize):
    """The combinations left out of the matrix (first_order_cases.can_change_the_result):
    they compute exactly what the setting without them computes."""
    rng = np.random.default_rng(9)
    p0 = rng.standard_normal(1000).astype(np.float32)
    pools = [gradient_pool(rng, 1000, np.float32)]
    lr = {"sgd": 0.05}.get(name, 0.01)
    a, b = p0.copy(), p0.copy()
    _run(name, dict(lr=lr, maximize=maximize, **kw), [a], pools, steps=12)
    _run(name, dict(lr=lr, maximize=maximize, **same), [b], pools, steps=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, p0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_functional_matches_reference(name, dtype):
    """fastopt.functional.<name>_ and fastopt.reference.<name>_ take the same arguments."""
    from first_order_cases import reference_kwargs

    fn = getattr(functional, f"{name}_")
    ref_fn = ALGORITHMS[name][1]
    state_names = ALGORITHMS[name][2]
    rng = np.random.default_rng(2)
    shapes = [(33,), (4, 4), (1,)]
    for kw in option_combinations(name):
        kw = reference_kwargs(kw)
        arrays = {}
        for label in ("fast", "ref"):
            rng_l = np.random.default_rng(3)
            params = [rng_l.standard_normal(s).astype(dtype) for s in shapes]
            states = [[np.zeros(s, dtype) for s in shapes] for _ in state_names]
            arrays[label] = (params, states)
        mu = {"fast": 1.0, "ref": 1.0}
        for t in range(1, 8):
            grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
            for label, f in (("fast", fn), ("ref", ref_fn)):
                params, states = arrays[label]
                extra = {"mu_product": mu[label]} if name == "nadam" else {}
                out = f(params, grads, *states, step=t, **kw, **extra)
                if name == "nadam":
                    mu[label] = out
                else:
                    assert out is None
        if name == "nadam":
            assert mu["fast"] == pytest.approx(mu["ref"], rel=1e-15)
        for a, b in zip(arrays["fast"][0], arrays["ref"][0]):
            assert_close(a, b, dtype, f"{name} {kw}")


def test_functional_accepts_single_arrays():
    p, g, m, v = np.zeros(5), np.ones(5), np.zeros(5), np.zeros(5)
    q, m2, v2 = p.copy(), m.copy(), v.copy()
    functional.adam_(p, g, m, v, step=1, lr=0.1)
    fastopt.reference.adam_(q, g, m2, v2, step=1, lr=0.1)
    assert_close(p, q, np.float64)
    assert np.all(p < 0)


def test_aliases_equal_adam_options():
    rng = np.random.default_rng(4)
    p0 = rng.standard_normal(50)
    pools = [gradient_pool(rng, 50, np.float64)]
    pairs = [(fastopt.AdamW, dict(lr=0.01, weight_decay=0.1),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
             (fastopt.AMSGrad, dict(lr=0.01), dict(lr=0.01, amsgrad=True))]
    for cls, kw_alias, kw_adam in pairs:
        a, b = p0.copy(), p0.copy()
        opt_a, opt_b = cls([a], **kw_alias), fastopt.Adam([b], **kw_adam)
        for t in range(1, 20):
            opt_a.step([gradient(pools[0], t)])
            opt_b.step([gradient(pools[0], t)])
        np.testing.assert_array_equal(a, b)
    assert fastopt.AdamW([np.zeros(1)]).defaults["weight_decay"] == 1e-2


def test_param_groups_have_their_own_hyperparameters():
    rng = np.random.default_rng(5)
    a0, b0 = rng.standard_normal(10), rng.standard_normal(20)
    a, b = a0.copy(), b0.copy()
    opt = fastopt.SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    ga, gb = np.ones(10), np.ones(20)
    for _ in range(3):
        opt.step([ga, gb])
    ra, rb = a0.copy(), b0.copy()
    ref_a = ReferenceOptimizer("sgd", [ra], lr=0.1)
    ref_b = ReferenceOptimizer("sgd", [rb], lr=0.5, momentum=0.9)
    for _ in range(3):
        ref_a.step([ga])
        ref_b.step([gb])
    assert_close(a, ra, np.float64)
    assert_close(b, rb, np.float64)


def test_none_gradient_skips_the_parameter():
    a, b = np.ones(4), np.ones(4)
    opt = fastopt.Adam([a, b], lr=0.1)
    opt.step([np.ones(4), None])
    assert np.all(a < 1) and np.all(b == 1)
    assert 1 not in opt.state and int(opt.state[0]["step"]) == 1
    opt.step([None, np.ones(4)])
    assert int(opt.state[0]["step"]) == 1 and int(opt.state[1]["step"]) == 1
    np.testing.assert_array_equal(a, b)  # b got the same first step a got


def test_mixed_dtypes_in_one_group():
    rng = np.random.default_rng(6)
    p32, p64 = rng.standard_normal(100).astype(np.float32), rng.standard_normal(100)
    q32, q64 = p32.copy(), p64.copy()
    opt = fastopt.Adam([p32, p64], lr=0.01)
    ref = ReferenceOptimizer("adam", [q32, q64], lr=0.01)
    for _ in range(10):
        g32, g64 = rng.standard_normal(100).astype(np.float32), rng.standard_normal(100)
        opt.step([g32, g64])
        ref.step([g32, g64])
    assert_close(p32, q32, np.float32)
    assert_close(p64, q64, np.float64)


def test_options_switched_on_between_steps():
    """State that a new option needs is created when it is first needed (zeros), as if it
    had been there from the start with zero content."""
    p = np.ones(8)
    opt = fastopt.Adam([p], lr=0.1)
    opt.step([np.ones(8)])
    opt.param_groups[0]["amsgrad"] = True
    opt.step([np.ones(8)])
    assert "max_exp_avg_sq" in opt.state[0]
    np.testing.assert_array_equal(opt.state[0]["max_exp_avg_sq"], opt.state[0]["exp_avg_sq"])
    sgd_p = np.ones(3)
    sgd = fastopt.SGD([sgd_p], lr=0.1)
    sgd.step([np.ones(3)])
    sgd.param_groups[0]["momentum"] = 0.9
    sgd.step([np.full(3, 2.0)])
    # the buffer starts as the gradient on its first step (PyTorch's rule)
    np.testing.assert_array_equal(sgd.state[0]["momentum_buffer"], np.full(3, 2.0))
    np.testing.assert_allclose(sgd_p, 1 - 0.1 - 0.2)


def test_nan_and_inf_gradients_propagate():
    p = np.zeros(6, dtype=np.float32)
    q = p.copy()
    g = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0, -1.0], dtype=np.float32)
    opt = fastopt.Adam([p], lr=0.1, amsgrad=True)
    ref = ReferenceOptimizer("adam", [q], lr=0.1, amsgrad=True)
    with np.errstate(invalid="ignore"):
        for _ in range(3):
            opt.step([g])
            ref.step([g])
    np.testing.assert_array_equal(np.isnan(p), np.isnan(q))
    assert np.isnan(p[:3]).all() and np.isfinite(p[3:]).all()
    assert_close(p[3:], q[3:], np.float32)
