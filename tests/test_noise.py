"""Annealed Gaussian gradient noise (fastopt.GradientNoise): the Philox4x32-10 generator
against its known answers and a NumPy transcription, the statistics and the schedule of the
noise a step adds, its reproducibility (seed, state_dict; any thread count and any cut of
the work), every algorithm and dtype with grad_scale, the functional steps, and the
rejection of bad arguments before anything is written."""
import copy
import math
import pickle

import numpy as np
import pytest
from scipy import stats

import fastopt
from fastopt import _noise, functional
from fastopt._kernels import driver
from fastopt.noise import GradientNoise
from first_order_cases import ALGORITHMS, case_id, option_combinations

U32 = np.uint64(0xFFFFFFFF)


def philox_reference(ctr, key):
    """Philox4x32-10 in NumPy uint64 arithmetic (the Random123 round), element-wise over
    arrays of counter words."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in ctr)
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & U32,
                          (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & U32)
        k0 = (k0 + np.uint64(0x9E3779B9)) & U32
        k1 = (k1 + np.uint64(0xBB67AE85)) & U32
    return c0, c1, c2, c3


def normals_reference(seed, t, param, n):
    """The normals of noise.h's stream, in NumPy (Box-Muller: a 52-bit uniform for the
    radius, a quadrant and a 51-bit fraction for the angle; NumPy's log, cos and sin)."""
    b = np.arange((n + 1) // 2, dtype=np.uint64)
    full = lambda v: np.full(b.shape, v, dtype=np.uint64)
    x0, x1, x2, x3 = philox_reference((b & U32, b >> np.uint64(32), full(param), full(t)),
                                      (seed & 0xFFFFFFFF, seed >> 32))
    a = ((x0 << np.uint64(32)) | x1) >> np.uint64(12)
    c = ((x2 << np.uint64(32)) | x3) >> np.uint64(11)
    u1 = (a.astype(np.float64) + 0.5) * 2.0 ** -52
    q = (c >> np.uint64(51)).astype(np.float64)
    f = (c & np.uint64((1 << 51) - 1)).astype(np.float64) * 2.0 ** -51
    theta = q * (np.pi / 2) + (f - 0.5) * (np.pi / 2)
    r = np.sqrt(-2.0 * np.log(u1))
    z = np.empty(2 * b.size)
    z[0::2] = r * np.cos(theta)
    z[1::2] = r * np.sin(theta)
    return z[:n]


@pytest.fixture
def threads():
    before = fastopt.get_num_threads()
    old_min = driver._set_parallel_min(64)   # small steps run on several threads too
    yield fastopt.set_num_threads
    driver._set_parallel_min(old_min)
    fastopt.set_num_threads(before)


# ------------------------------------------------------------------------------ generator

@pytest.mark.parametrize("ctr,key,expected", [   # Random123's kat_vectors
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_gives_random123s_known_answers(ctr, key, expected):
    assert _noise.philox4x32_10(ctr, key) == expected
    assert tuple(int(w) for w in philox_reference(ctr, key)) == expected


def test_philox_matches_the_numpy_transcription_on_random_counters():
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2 ** 32, size=(50, 6), dtype=np.uint64)
    for w in words:
        ctr, key = tuple(int(x) for x in w[:4]), (int(w[4]), int(w[5]))
        assert _noise.philox4x32_10(ctr, key) == tuple(int(x) for x in
                                                       philox_reference(ctr, key))


@pytest.mark.parametrize("seed,t,param", [(0, 0, 0), (2 ** 64 - 1, 2 ** 32 - 1, 7),
                                          (123456789012345, 17, 3)])
def test_the_normals_are_box_muller_of_the_philox_words(seed, t, param):
    noise = GradientNoise(eta=1.0, gamma=0.0, seed=seed)   # sigma = 1: the normals
    got = noise.sample(1001, param=param, t=t)
    np.testing.assert_allclose(got, normals_reference(seed, t, param, 1001), rtol=1e-13,
                               atol=1e-15)
    f32 = noise.sample(1001, param=param, t=t, dtype=np.float32)
    assert f32.tobytes() == got.astype(np.float32).tobytes()   # T(sigma z), z in double


def test_any_range_of_the_stream_is_the_same_as_drawn_whole():
    whole = _noise.fill(5, 3, 2, 0, 3000, 0.5, np.float64)
    for offset in (0, 1, 2, 511, 512, 513, 1000):
        for n in (0, 1, 2, 3, 600, 1025):
            where = f"offset {offset}, n {n}"
            assert _noise.fill(5, 3, 2, offset, n, 0.5, np.float64).tobytes() == \
                whole[offset:offset + n].tobytes(), where
            assert _noise.fill(5, 3, 2, offset, n, 0.5, np.float32).tobytes() == \
                whole[offset:offset + n].astype(np.float32).tobytes(), where

# ----------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_zero_gradient_sgd_step_moves_by_minus_the_noise_with_its_distribution(dtype):
    n, eta = 1_000_000, 0.3
    w = np.zeros(n, dtype=dtype)
    opt = fastopt.SGD([w], lr=1.0)
    noise = GradientNoise(eta=eta, seed=2015)
    expected = -noise.sample(n, dtype=dtype)
    g = np.zeros(n, dtype=dtype)
    opt.step([g], noise=noise)
    assert w.tobytes() == expected.tobytes()
    assert not g.any()                                       # the gradient was not written
    x = -w.astype(np.float64)
    sigma = math.sqrt(eta)
    assert abs(x.mean()) < 5 * sigma / math.sqrt(n)
    assert abs(x.var() / eta - 1) < 5 * math.sqrt(2 / n)
    assert abs(stats.skew(x)) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(x)) < 5 * math.sqrt(24 / n)
    assert stats.kstest(x / sigma, "norm").pvalue > 1e-3
    # neighbouring elements and parameters are uncorrelated
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 5 / math.sqrt(n)


def test_sigma_follows_the_annealing_schedule_over_the_steps():
    n, eta, gamma = 200_000, 1.0, 0.55
    w = np.zeros(n)
    opt = fastopt.SGD([w], lr=1.0)
    noise = GradientNoise(eta=eta, gamma=gamma, seed=1)
    for t in range(6):
        assert noise.step == t
        sigma = noise.sigma()
        assert sigma == math.sqrt(eta / (1 + t) ** gamma)
        before = w.copy()
        expected = noise.sample(n)
        opt.step([np.zeros(n)], noise=noise)
        delta = before - w
        assert delta.tobytes() == (before - (before - expected)).tobytes()
        assert abs(delta.std() / sigma - 1) < 5 / math.sqrt(2 * n)
    assert noise.step == 6
    assert noise.sigma(0) ** 2 == pytest.approx(1.0)
    assert noise.sigma(99) ** 2 == pytest.approx(100 ** -0.55)


def test_eta_zero_adds_no_noise_but_still_counts():
    w, ref = np.ones(10), np.ones(10)
    g = np.linspace(-1, 1, 10)
    noise = GradientNoise(eta=0.0)
    fastopt.Adam([w], lr=0.1).step([g], noise=noise)
    fastopt.Adam([ref], lr=0.1).step([g])
    assert w.tobytes() == ref.tobytes() and noise.step == 1

# -------------------------------------------------------------------------- reproducibility


def _noisy_run(seed, sizes=(3, 5000, 40000), steps=3, dtype=np.float64, skip_first=False,
               cls=fastopt.Adam, **kw):
    params = [np.linspace(-1, 1, n).astype(dtype) for n in sizes]
    opt = cls(params, **kw)
    noise = GradientNoise(eta=0.3, seed=seed)
    for t in range(steps):
        grads = [np.cos(np.arange(n) + t).astype(dtype) for n in sizes]
        if skip_first:
            grads[0] = None
        opt.step(grads, noise=noise)
    return params


def test_the_noise_is_reproducible_for_a_seed_and_differs_for_another():
    a, b, c = _noisy_run(3), _noisy_run(3), _noisy_run(4)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b))
    assert all(x.tobytes() != z.tobytes() for x, z in zip(a, c))


def test_each_step_and_each_parameter_position_gets_its_own_noise():
    noise = GradientNoise(eta=1.0, seed=9)
    draws = [noise.sample(64, param=k, t=t) for k in range(3) for t in range(3)]
    for i in range(len(draws)):
        for j in range(i):
            assert abs(np.corrcoef(draws[i], draws[j])[0, 1]) < 0.6
            assert not np.array_equal(draws[i], draws[j])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_result_is_bit_identical_for_1_2_3_threads_and_any_cut_of_the_work(threads,
                                                                            dtype):
    sizes = (5, 16411, 40003)   # cuts of the driver's 16384-index chunks land mid-array
    results = []
    for k in (1, 2, 3):
        threads(k)
        results.append(_noisy_run(11, sizes, dtype=dtype))
    # parameter 0 skipped: the others start at other joint indices, so the chunks (and the
    # threads' pieces) cut them elsewhere; their noise depends on their own indices only
    threads(3)
    shifted = _noisy_run(11, sizes, dtype=dtype, skip_first=True)
    for r in results[1:]:
        assert all(x.tobytes() == y.tobytes() for x, y in zip(results[0], r))
    assert all(x.tobytes() == y.tobytes() for x, y in zip(results[0][1:], shifted[1:]))


def test_state_dict_resumes_the_same_noise_and_trajectory():
    def build(w):
        return fastopt.SGD([w], lr=0.1, momentum=0.9), GradientNoise(eta=0.01, seed=77)

    w = np.ones(1000, dtype=np.float32)
    opt, noise = build(w)
    g = np.full(1000, 0.5, dtype=np.float32)
    for _ in range(4):
        opt.step([g], noise=noise)
    saved = pickle.dumps((opt.state_dict(), noise.state_dict()))
    w2 = w.copy()
    opt2, noise2 = build(w2)
    state, noise_state = pickle.loads(saved)
    opt2.load_state_dict(state)
    noise2.load_state_dict(noise_state)
    assert noise2.step == 4
    for _ in range(3):
        opt.step([g], noise=noise)
        opt2.step([g], noise=noise2)
    assert w.tobytes() == w2.tobytes()
    copied = copy.deepcopy(noise)
    assert copied.state_dict() == noise.state_dict() == pickle.loads(pickle.dumps(noise)
                                                                      ).state_dict()

# ------------------------------------------------------------- every algorithm, grad_scale

CASES = [(name, option_combinations(name)[-1]) for name in ALGORITHMS]
SIZES = (1, 7, 33, 511, 513, 1025, 2500)    # tails around the SIMD width and the 4 KiB blocks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 0.37])
@pytest.mark.parametrize("name,kw", CASES, ids=[case_id(n, k) for n, k in CASES])
def test_a_noisy_step_equals_a_step_on_the_scaled_gradient_plus_the_noise(name, kw, scale,
                                                                          dtype):
    cls = ALGORITHMS[name][0]
    rng = np.random.default_rng(5)
    start = [rng.standard_normal(n).astype(dtype) for n in SIZES]
    noisy, plain = [p.copy() for p in start], [p.copy() for p in start]
    opt, ref = cls(noisy, **kw), cls(plain, **kw)
    noise, mirror = GradientNoise(eta=0.3, seed=21), GradientNoise(eta=0.3, seed=21)
    for t in range(4):
        grads = [rng.standard_normal(n).astype(dtype) for n in SIZES]
        kept = [g.copy() for g in grads]
        opt.step(grads, grad_scale=scale, noise=noise)
        assert all(g.tobytes() == k.tobytes() for g, k in zip(grads, kept))
        ref.step([g * dtype(scale) + mirror.sample(g.shape, param=i, dtype=dtype)
                  for i, g in enumerate(grads)])
        mirror._counter[()] += 1
        assert noise.step == t + 1
    for a, b in zip(noisy, plain):
        assert a.tobytes() == b.tobytes()
    without = [p.copy() for p in start]
    cls(without, **kw).step([np.ones(n, dtype) for n in SIZES])
    assert any(a.tobytes() != b.tobytes() for a, b in zip(noisy, without))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_steps_add_the_same_noise_as_optimizer_step(dtype):
    rng = np.random.default_rng(8)
    start = [rng.standard_normal(n).astype(dtype) for n in (3, 700, 5000)]
    grads = [[rng.standard_normal(p.size).astype(dtype) for p in start] for _ in range(3)]
    p_opt = [p.copy() for p in start]
    opt = fastopt.Adam(p_opt, lr=0.01, weight_decay=0.1)
    noise_opt = GradientNoise(eta=0.3, seed=4)
    p_fun = [p.copy() for p in start]
    m = [np.zeros_like(p) for p in start]
    v = [np.zeros_like(p) for p in start]
    noise_fun = GradientNoise(eta=0.3, seed=4)
    for t, g in enumerate(grads, start=1):
        opt.step(g, grad_scale=0.5, noise=noise_opt)
        functional.adam_(p_fun, g, m, v, step=t, lr=0.01, weight_decay=0.1, grad_scale=0.5,
                         noise=noise_fun)
    assert noise_fun.step == noise_opt.step == 3 == int(opt.state[0]["step"])
    for a, b in zip(p_opt, p_fun):
        assert a.tobytes() == b.tobytes()
    # NAdam's functional step returns its product as without noise
    p = np.zeros(4, dtype)
    mu = functional.nadam_(p, np.ones(4, dtype), np.zeros(4, dtype), np.zeros(4, dtype),
                           step=1, noise=GradientNoise(0.1))
    assert mu == functional.nadam_(np.zeros(4, dtype), np.ones(4, dtype), np.zeros(4, dtype),
                                   np.zeros(4, dtype), step=1)


def test_the_noise_passes_through_a_scheduled_optimizer():
    from fastopt import schedules as S
    w, ref = np.zeros(6), np.zeros(6)
    opt = S.attach(fastopt.SGD([w], lr=1.0), lr=S.constant(0.5))
    noise = GradientNoise(eta=1.0, seed=2)
    expected = 0.5 * noise.sample(6)
    opt.step([np.zeros(6)], noise=noise)
    assert w.tobytes() == (ref - expected).tobytes() and noise.step == 1

# ---------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("kw,error,match", [
    (dict(eta=-0.1), ValueError, "eta"), (dict(eta=float("nan")), ValueError, "eta"),
    (dict(eta=float("inf")), ValueError, "eta"), (dict(eta="0.3"), TypeError, "eta"),
    (dict(eta=True), TypeError, "eta"), (dict(eta=None), TypeError, "eta"),
    (dict(eta=0.3, gamma=-1.0), ValueError, "gamma"),
    (dict(eta=0.3, gamma="x"), TypeError, "gamma"),
    (dict(eta=0.3, seed=1.5), TypeError, "seed"), (dict(eta=0.3, seed="1"), TypeError, "seed"),
    (dict(eta=0.3, seed=True), TypeError, "seed"), (dict(eta=0.3, seed=-1), ValueError, "seed"),
    (dict(eta=0.3, seed=2 ** 64), ValueError, "seed"),
])
def test_bad_noise_parameters_are_rejected(kw, error, match):
    with pytest.raises(error, match=match):
        GradientNoise(**kw)


def test_numpy_scalars_are_accepted_as_parameters():
    noise = GradientNoise(np.float32(0.5), gamma=np.float64(0.55), seed=np.uint64(2 ** 63))
    assert noise.eta == 0.5 and noise.seed == 2 ** 63


@pytest.mark.parametrize("bad", ["noise", 0.3, object()])
def test_a_step_with_something_else_as_noise_writes_nothing(bad):
    p = np.ones(5)
    opt = fastopt.Adam([p])
    with pytest.raises(TypeError, match="GradientNoise"):
        opt.step([np.ones(5)], noise=bad)
    assert np.all(p == 1) and len(opt.state) == 0
    m, v = np.zeros(5), np.zeros(5)
    with pytest.raises(TypeError, match="GradientNoise"):
        functional.adam_(p, np.ones(5), m, v, step=1, noise=bad)
    assert np.all(p == 1) and not m.any()


def test_a_failed_step_leaves_the_noise_counter_alone():
    p = np.ones(5)
    opt = fastopt.Adam([p])
    noise = GradientNoise(eta=0.3)
    with pytest.raises(ValueError):
        opt.step([np.ones(4)], noise=noise)                 # wrong shape
    with pytest.raises(ValueError, match="grad_scale"):
        opt.step([np.ones(5)], grad_scale=-1.0, noise=noise)
    with pytest.raises(ValueError):
        functional.adam_(p, np.ones(5), np.zeros(5), np.zeros(4), step=1, noise=noise)
    assert noise.step == 0 and np.all(p == 1) and len(opt.state) == 0


def test_the_counter_stops_at_2_to_the_32():
    noise = GradientNoise(eta=0.3)
    noise.load_state_dict({**noise.state_dict(), "step": 2 ** 32 - 1})
    p = np.zeros(3)
    opt = fastopt.SGD([p], lr=1.0)
    opt.step([np.zeros(3)], noise=noise)
    assert noise.step == 2 ** 32 and p.any()
    before = p.copy()
    with pytest.raises(ValueError, match="2\\*\\*32"):
        opt.step([np.zeros(3)], noise=noise)
    assert p.tobytes() == before.tobytes() and noise.step == 2 ** 32


@pytest.mark.parametrize("state,error", [
    ({"eta": 0.3, "gamma": 0.55, "seed": 0}, ValueError),
    ({"eta": 0.3, "gamma": 0.55, "seed": 0, "step": -1}, ValueError),
    ({"eta": 0.3, "gamma": 0.55, "seed": 0, "step": 2 ** 32}, ValueError),
    ({"eta": 0.3, "gamma": 0.55, "seed": 0, "step": 1.0}, TypeError),
    ({"eta": -1, "gamma": 0.55, "seed": 0, "step": 1}, ValueError),
    ([], ValueError),
])
def test_a_bad_state_dict_is_rejected_and_changes_nothing(state, error):
    noise = GradientNoise(eta=0.5, gamma=0.5, seed=3)
    before = noise.state_dict()
    with pytest.raises(error):
        noise.load_state_dict(state)
    assert noise.state_dict() == before


def test_sample_rejects_other_dtypes():
    with pytest.raises(TypeError, match="float32 or float64"):
        GradientNoise(0.1).sample(3, dtype=np.float16)

# ----------------------------------------------------------------------------- plain C

C_PROGRAM = r"""
#include <stdio.h>
#include "fastopt/noise.h"

int main(void)
{
    static float f32[3001];
    static double f64[3001];
    fo_noise_fill_f32(UINT64_C(12345678901234), 5, 2, 0, 3001, 0.3, f32);
    fo_noise_fill_f64(UINT64_C(12345678901234), 5, 2, 0, 3001, 0.3, f64);
    fwrite(f32, sizeof f32, 1, stdout);
    fwrite(f64, sizeof f64, 1, stdout);
    return 0;
}
"""


@pytest.mark.parametrize("flags", [["-O2"], ["-O3", "-DFASTOPT_NO_CLONES"], ["-O0"]],
                         ids=["O2-clones", "O3-one-version", "O0"])
def test_the_plain_c_header_gives_the_same_noise_in_every_build(tmp_path, flags):
    import os
    import shutil
    import subprocess
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc})")
    (tmp_path / "main.c").write_text(C_PROGRAM)
    proc = subprocess.run([cc, *flags, "-std=c99", "-ffp-contract=off", "-I",
                           fastopt.get_include(), "main.c", "-o", "main", "-lm"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(tmp_path / "main")], capture_output=True, check=True).stdout
    noise = GradientNoise(eta=0.09, gamma=0.0, seed=12345678901234)   # sigma 0.3
    assert noise.sigma(5) == 0.3
    f32 = np.frombuffer(out[:3001 * 4], dtype=np.float32)
    f64 = np.frombuffer(out[3001 * 4:], dtype=np.float64)
    assert f32.tobytes() == noise.sample(3001, param=2, dtype=np.float32, t=5).tobytes()
    assert f64.tobytes() == noise.sample(3001, param=2, t=5).tobytes()


def test_step_clipped_scales_the_gradient_and_adds_the_noise_unscaled():
    from fastopt import clip
    g = np.full(50, 2.0)
    w, ref = np.zeros(50), np.zeros(50)
    noise, mirror = GradientNoise(eta=0.3, seed=6), GradientNoise(eta=0.3, seed=6)
    norm = clip.step_clipped(fastopt.SGD([w], lr=1.0), [g], max_norm=1.0, noise=noise)
    factor = clip.clip_factor(norm, 1.0)
    assert factor < 1 and noise.step == 1
    fastopt.SGD([ref], lr=1.0).step([g * factor + mirror.sample(50)])
    assert w.tobytes() == ref.tobytes() and np.all(g == 2.0)
