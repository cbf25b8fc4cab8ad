"""fastopt.clip: the deterministic global norm against an exact-order NumPy reference and
torch, the clip factor folded into the optimizer's step, and clipping by value."""
import math

import numpy as np
import pytest

import fastopt
from fastopt import _clip, clip
from fastopt import schedules as S

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

SIZES = [1, 7, 8, 9, 17, 4095, 4096, 4097, 8193, 10001]


def reference_norm(grads, p):
    """The defined reduction, in NumPy: float64 chunks of CHUNK elements, LANES interleaved
    sequential accumulators per chunk combined pairwise, partials added in chunk order."""
    chunk, lanes = _clip.CHUNK_SIZE, _clip.N_LANES
    total = 0.0
    for g in grads:
        x = np.asarray(g, dtype=np.float64).reshape(-1)
        for start in range(0, x.size, chunk):
            c = np.abs(x[start:start + chunk])
            c = c * c if p == 2 else (c if p == 1 else c ** p)
            c = np.concatenate([c, np.zeros(-c.size % lanes)]).reshape(-1, lanes)
            a = np.cumsum(c, axis=0)[-1]             # sequential per lane
            total += ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
    return math.sqrt(total) if p == 2 else (total if p == 1 else total ** (1.0 / p))


def random_grads(sizes, dtypes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(n) * 10.0 ** rng.integers(-3, 3)).astype(d)
            for n, d in zip(sizes, dtypes)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_global_norm_is_bit_identical_to_the_chunk_order_reference(dtype, p):
    for n in SIZES:
        grads = random_grads([n, 5, n + 3], [dtype] * 3, seed=n)
        assert clip.global_norm(grads, p) == reference_norm(grads, p), f"size {n}"


def test_global_norm_of_mixed_dtypes_and_shapes_matches_numpy():
    grads = random_grads([4097, 33, 1, 9000], [np.float32, np.float64, np.float32, np.float64])
    grads[1] = grads[1].reshape(3, 11)
    flat = np.concatenate([g.astype(np.float64).ravel() for g in grads])
    assert clip.global_norm(grads) == pytest.approx(np.linalg.norm(flat), rel=1e-14)
    assert clip.global_norm(grads, 1) == pytest.approx(np.abs(flat).sum(), rel=1e-14)
    assert clip.global_norm(grads, 3.5) == pytest.approx(
        (np.abs(flat) ** 3.5).sum() ** (1 / 3.5), rel=1e-13)
    assert clip.global_norm(grads, 3.5) == pytest.approx(reference_norm(grads, 3.5),
                                                         rel=1e-15)
    assert clip.global_norm(grads, math.inf) == np.abs(flat).max()


def test_global_norm_skips_none_and_reads_views_and_float16_as_their_values():
    base = np.arange(60, dtype=np.float64).reshape(6, 10) - 30
    view = base[::2, 1::3]                                   # not contiguous
    half = np.linspace(-2, 2, 11).astype(np.float16)
    got = clip.global_norm([view, None, half])
    assert got == reference_norm([np.ascontiguousarray(view), half.astype(np.float64)], 2)
    assert clip.global_norm([]) == 0.0 and clip.global_norm([np.zeros(0)]) == 0.0


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
def test_a_nan_anywhere_gives_a_nan_norm(p):
    grads = random_grads([5000, 10], [np.float32, np.float64])
    grads[0][4500] = np.nan
    assert math.isnan(clip.global_norm(grads, p))
    grads = random_grads([10], [np.float64])
    grads[0][-1] = np.nan
    assert math.isnan(clip.global_norm(grads, p))


def test_global_norm_is_the_same_for_any_thread_count():
    grads = random_grads([100_000, 4097, 3], [np.float32, np.float64, np.float32])
    before = fastopt.get_num_threads()
    try:
        norms = set()
        for k in (1, 2, 3, 8):
            fastopt.set_num_threads(k)
            norms.add(clip.global_norm(grads))
    finally:
        fastopt.set_num_threads(before)
    assert len(norms) == 1


@pytest.mark.parametrize("bad, error", [
    ([np.arange(3)], TypeError),                      # integer gradient
    ([[1.0, 2.0]], TypeError),                        # not an array
    ("abc", TypeError),
])
def test_global_norm_rejects_bad_gradients(bad, error):
    with pytest.raises(error):
        clip.global_norm(bad)


@pytest.mark.parametrize("norm_type, error", [(0, ValueError), (-2, ValueError),
                                              (float("nan"), ValueError), ("2", TypeError)])
def test_global_norm_rejects_bad_norm_types(norm_type, error):
    with pytest.raises(error):
        clip.global_norm([np.ones(2)], norm_type)


def test_clip_factor_is_torchs_formula():
    assert clip.clip_factor(10.0, 1.0) == 1.0 / (10.0 + 1e-6)
    assert clip.clip_factor(0.0, 1.0) == 1.0 and clip.clip_factor(1.0, 2.0) == 1.0
    assert clip.clip_factor(math.inf, 1.0) == 0.0
    assert math.isnan(clip.clip_factor(math.nan, 1.0))
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            clip.clip_factor(1.0, bad)


def test_clip_grad_norm_returns_norm_and_factor_and_writes_nothing():
    grads = random_grads([100, 7], [np.float32, np.float64])
    copies = [g.copy() for g in grads]
    norm, factor = clip.clip_grad_norm(grads, max_norm=0.5)
    assert norm == clip.global_norm(grads) and factor == clip.clip_factor(norm, 0.5)
    for g, c in zip(grads, copies):
        np.testing.assert_array_equal(g, c)
    grads[0][0] = np.inf
    with pytest.raises(ValueError, match="error_if_nonfinite"):
        clip.clip_grad_norm(grads, 1.0, error_if_nonfinite=True)


@needs_torch
@pytest.mark.parametrize("dtype, rel", [(np.float64, 1e-13), (np.float32, 2e-6)])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_norm_and_clipped_gradients_match_torch_clip_grad_norm(dtype, rel, norm_type):
    grads = random_grads([4099, 17, 1], [dtype] * 3, seed=7)
    ts = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
          for g in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.from_numpy(g.copy())
    max_norm = 0.3 * clip.global_norm(grads, norm_type)
    t_norm = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type=norm_type)
    norm, factor = clip.clip_grad_norm(grads, max_norm, norm_type)
    assert norm == pytest.approx(float(t_norm), rel=rel)
    for t, g in zip(ts, grads):
        np.testing.assert_allclose(g * g.dtype.type(factor), t.grad.numpy(), rtol=rel * 4)


@needs_torch
def test_clip_grad_value_matches_torch_bit_for_bit():
    grads = random_grads([50, 4097], [np.float32, np.float64])
    grads[0][3] = np.nan
    ts = [torch.from_numpy(g.copy()) for g in grads]
    params = [torch.nn.Parameter(torch.zeros_like(t)) for t in ts]
    for p, t in zip(params, ts):
        p.grad = t
    torch.nn.utils.clip_grad_value_(params, 0.25)
    clip.clip_grad_value_(grads, 0.25)
    for g, p in zip(grads, params):
        np.testing.assert_array_equal(g, p.grad.numpy())


def test_clip_grad_value_checks_every_array_before_writing():
    a = np.array([5.0, -5.0])
    ro = np.array([5.0])
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        clip.clip_grad_value_([a, ro], 1.0)
    np.testing.assert_array_equal(a, [5.0, -5.0])
    with pytest.raises(ValueError):
        clip.clip_grad_value_([a], -1.0)
    with pytest.raises(TypeError):
        clip.clip_grad_value_([np.arange(3)], 1.0)


# ----------------------------------------------------------------------------- in the step

ALL_OPTIMIZERS = [
    lambda p: fastopt.SGD(p, lr=0.1),
    lambda p: fastopt.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: fastopt.Adagrad(p, lr=0.1),
    lambda p: fastopt.Adadelta(p),
    lambda p: fastopt.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    lambda p: fastopt.Adam(p, lr=0.01),
    lambda p: fastopt.AdamW(p, lr=0.01, amsgrad=True),
    lambda p: fastopt.AMSGrad(p, lr=0.01),
    lambda p: fastopt.Adamax(p, lr=0.01),
    lambda p: fastopt.NAdam(p, lr=0.01),
]


def params_for(dtype):
    return [np.linspace(-1, 1, 37).astype(dtype), np.linspace(0, 1, 8).reshape(2, 4).astype(dtype)]


def test_step_clipped_within_the_limit_is_a_plain_step():
    p1, p2 = params_for(np.float32), params_for(np.float32)
    o1, o2 = fastopt.Adam(p1, lr=0.1), fastopt.Adam(p2, lr=0.1)
    for t in range(4):
        g = random_grads([37, 8], [np.float32] * 2, seed=t)
        g[1] = g[1].reshape(2, 4)
        norm = clip.step_clipped(o1, g, max_norm=1e9)
        o2.step(g)
        assert norm == clip.global_norm(g)
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_step_clipped_equals_stepping_with_prescaled_gradients_and_leaves_grads(make, dtype):
    p1, p2 = params_for(dtype), params_for(dtype)
    o1, o2 = make(p1), make(p2)
    for t in range(5):
        g = random_grads([37, 8], [dtype] * 2, seed=t)
        g[1] = g[1].reshape(2, 4)
        copies = [x.copy() for x in g]
        norm, factor = clip.clip_grad_norm(g, 0.5)
        assert factor < 1.0
        assert clip.step_clipped(o1, g, max_norm=0.5) == norm
        o2.step([x * x.dtype.type(factor) for x in g])
        for x, c in zip(g, copies):
            np.testing.assert_array_equal(x, c)
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a, b)


def test_step_clipped_passes_through_a_scheduled_optimizer():
    p1, p2 = params_for(np.float64), params_for(np.float64)
    o1 = S.attach(fastopt.SGD(p1, lr=1.0), lr=S.exponential(0.5, decay=0.2))
    o2 = fastopt.SGD(p2, lr=1.0)
    for t in range(4):
        g = random_grads([37, 8], [np.float64] * 2, seed=t)
        g[1] = g[1].reshape(2, 4)
        _, factor = clip.clip_grad_norm(g, 0.1)
        clip.step_clipped(o1, g, 0.1)
        o2.param_groups[0]["lr"] = 0.5 * math.exp(-0.2 * t)
        o2.step([x * x.dtype.type(factor) for x in g])
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
def test_global_norm_on_the_pool_is_bit_identical_for_1_2_3_threads_and_the_serial_order(p):
    # many arrays, some empty or shorter than a chunk, mixed dtypes: chunks of several arrays
    # fall in one task of the pool, and tasks cut arrays in the middle
    sizes = [100_003, 0, 1, 4097, 3, 70_000, 4096, 5, 33_000]
    dtypes = [np.float32, np.float64] * 5
    grads = random_grads(sizes, dtypes, seed=3)
    before = fastopt.get_num_threads()
    old_min = _clip._set_parallel_min(1)      # every size runs in parallel
    try:
        norms = []
        for k in (1, 2, 3):
            fastopt.set_num_threads(k)
            norms.append(clip.global_norm(grads, p))
    finally:
        fastopt.set_num_threads(before)
        _clip._set_parallel_min(old_min)
    assert norms[0] == norms[1] == norms[2]
    if p != math.inf:
        assert norms[0] == reference_norm(grads, p)
    else:
        assert norms[0] == max(np.abs(g).max() for g in grads if g.size)


def test_global_norm_releases_the_gil():
    import sys
    import threading
    import time
    grads = [np.ones(16_000_000, dtype=np.float32)]
    ticks, calls = [], []
    started, done = threading.Event(), threading.Event()

    def count():                  # runs only while the main thread has released the GIL
        started.set()
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0)         # (gives the GIL back)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)  # the main thread is never made to give the GIL away
    t = threading.Thread(target=count)
    t.start()
    try:
        started.wait()
        for _ in range(10):
            t0 = time.perf_counter()
            clip.global_norm(grads)
            calls.append((t0, time.perf_counter()))
    finally:
        done.set()
        sys.setswitchinterval(interval)
        t.join()
    ticks = np.array(ticks)
    assert any(((ticks > a) & (ticks < b)).any() for a, b in calls)


# ------------------------------------------------- the clipped step: every algorithm, threads

from first_order_cases import (  # noqa: E402
    ALGORITHMS, FunctionalOptimizer, ReferenceOptimizer, assert_close, case_id,
    option_combinations,
)

# the option combination of each algorithm with the most terms that see the gradient
CLIP_CASES = [(name, option_combinations(name)[-1]) for name in ALGORITHMS]
# 120,023 elements: a group of this size runs on up to 3 threads (total // 32768), and no
# array is a multiple of a SIMD width, so every thread's share ends in a tail
BIG_SIZES = (50_003, 40_009, 30_011)
MAX_NORM = 50.0                           # the gradients' norms are about 350: always clipped


def clip_grads(t, dtype):
    rng = np.random.default_rng(100 + t)
    return [rng.standard_normal(n).astype(dtype) for n in BIG_SIZES]


def start_params(dtype):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(n).astype(dtype) for n in BIG_SIZES]


def state_bytes(opt):
    return [(i, k, np.asarray(v).tobytes()) for i in sorted(opt.state)
            for k, v in sorted(opt.state[i].items())]


def clipped_run(name, kw, dtype, steps=3):
    """Optimizer.step with max_norm clipping (clip.step_clipped), the factors it used."""
    params = start_params(dtype)
    opt = ALGORITHMS[name][0](params, **kw)
    factors = []
    for t in range(steps):
        g = clip_grads(t, dtype)
        norm, factor = clip.clip_grad_norm(g, MAX_NORM)
        assert clip.step_clipped(opt, g, max_norm=MAX_NORM) == norm
        factors.append(factor)
    return params, opt, factors


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw", CLIP_CASES, ids=[case_id(n, k) for n, k in CLIP_CASES])
def test_clipped_step_matches_the_reference_on_scaled_grads_and_any_thread_count(
        name, kw, dtype, threads):
    runs = []
    for k in (1, 2, 3):
        threads(k)
        runs.append(clipped_run(name, kw, dtype))
    params, opt, factors = runs[0]
    assert all(f < 0.5 for f in factors)
    for p2, o2, f2 in runs[1:]:
        assert f2 == factors
        assert [p.tobytes() for p in p2] == [p.tobytes() for p in params]
        assert state_bytes(o2) == state_bytes(opt)
    # the NumPy reference, stepped on g * dtype(factor)
    ref = ReferenceOptimizer(name, start_params(dtype), **kw)
    for t, factor in enumerate(factors):
        ref.step([g * dtype(factor) for g in clip_grads(t, dtype)])
    for i, (p, expected) in enumerate(zip(params, ref.params)):
        assert_close(p, expected, dtype, f"param {i}")
        for key, value in ref.state[i].items():
            if key in opt.state[i]:
                assert_close(opt.state[i][key], value, dtype, f"state {key} of param {i}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw", CLIP_CASES, ids=[case_id(n, k) for n, k in CLIP_CASES])
def test_functional_step_with_the_clip_factor_is_the_clipped_optimizer_step(name, kw, dtype,
                                                                          threads):
    threads(1)
    params, opt, factors = clipped_run(name, kw, dtype)
    for k in (1, 3):
        threads(k)
        fun = FunctionalOptimizer(name, start_params(dtype), **kw)
        for t in range(3):
            g = clip_grads(t, dtype)
            norm, factor = clip.clip_grad_norm(g, MAX_NORM)
            assert factor == factors[t]
            fun.step(g, grad_scale=factor)
        assert [p.tobytes() for p in fun.params] == [p.tobytes() for p in params]
        for i, st in enumerate(fun.state):
            for key, value in st.items():
                if key in opt.state[i]:
                    assert value.tobytes() == np.asarray(opt.state[i][key]).tobytes(), key


# ------------------------------------------------------------- clip by value, every algorithm

CLIP_VALUE = 0.5


def value_grads(t, dtype, sizes=(37, 8, 1)):
    rng = np.random.default_rng(200 + t)
    return [rng.standard_normal(n).astype(dtype) for n in sizes]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw", CLIP_CASES, ids=[case_id(n, k) for n, k in CLIP_CASES])
def test_clip_by_value_then_step_matches_the_reference_on_clamped_grads(name, kw, dtype):
    def start():
        return [np.linspace(-1, 1, n).astype(dtype) for n in (37, 8, 1)]

    p_opt = start()
    opt = ALGORITHMS[name][0](p_opt, **kw)
    fun = FunctionalOptimizer(name, start(), **kw)
    ref = ReferenceOptimizer(name, start(), **kw)
    clamped_any = False
    for t in range(5):
        g = value_grads(t, dtype)
        for target in (opt, fun):
            h = [x.copy() for x in g]
            clip.clip_grad_value_(h, CLIP_VALUE)
            assert all(np.abs(x).max() <= CLIP_VALUE for x in h)
            target.step(h)
        clamped = [np.clip(x, -CLIP_VALUE, CLIP_VALUE) for x in g]
        clamped_any |= any(not np.array_equal(c, x) for c, x in zip(clamped, g))
        ref.step(clamped)
    assert clamped_any
    for i, (a, b, c) in enumerate(zip(p_opt, fun.params, ref.params)):
        assert a.tobytes() == b.tobytes()
        assert_close(a, c, dtype, f"param {i}")
        for key, value in ref.state[i].items():    # the moments saw the clamped gradients
            if key in opt.state[i]:
                assert_close(opt.state[i][key], value, dtype, f"state {key} of param {i}")
