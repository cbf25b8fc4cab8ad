"""Benchmark cases: shapes, bytes counted, shared memory, and that every implementation of
a case really performs the algorithm's update."""
import numpy as np
import pytest

from fastopt.benchmarks import cases as C


def test_gpt2_small_shapes():
    shapes = C.gpt2_small_shapes()
    assert len(shapes) == 148
    assert sum(int(np.prod(s)) for s in shapes) == 124_439_808
    assert shapes[:2] == [(50257, 768), (1024, 768)] and shapes[-2:] == [(768,), (768,)]


def test_sizes():
    assert C.SIZES["1000x1000"] == [(1000,)] * 1000
    assert [C.SIZES[k] for k in ("1000", "65536", "1048576", "33554432")] == [
        [(1000,)], [(65536,)], [(1048576,)], [(33554432,)]]


@pytest.mark.parametrize("name,nbytes", [("adam", 28), ("adamw", 28), ("amsgrad", 36),
                                         ("sgd", 20), ("adagrad", 20), ("rmsprop", 20),
                                         ("adadelta", 28), ("adamax", 28), ("nadam", 28)])
def test_bytes_per_element(name, nbytes):
    algo = C.ALGORITHMS[name]
    assert algo.bytes_per_element(4) == nbytes
    assert algo.bytes_per_element(8) == 2 * nbytes


def test_build_case_rejects_unknown_names():
    with pytest.raises(ValueError, match="algorithm"):
        C.build_case("adamm", "1000")
    with pytest.raises(ValueError, match="size"):
        C.build_case("adam", "999")
    with pytest.raises(ValueError, match="implementation"):
        C.build_case("adam", "1000", implementations=["fastopt", "jax"])


def _snapshot(case, state):
    return [p.copy() for p in case.params], [[s.copy() for s in arrs] for arrs in state]


def _restore(case, state, snap):
    for p, p0 in zip(case.params, snap[0]):
        p[...] = p0
    for arrs, arrs0 in zip(state, snap[1]):
        for s, s0 in zip(arrs, arrs0):
            s[...] = s0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_implementation_does_the_same_sgd_step(dtype):
    """SGD with momentum does not depend on the step count after step 1, so from the same
    parameters and state every implementation must produce the same new parameters."""
    impls = ["fastopt", "fastopt.functional", "numpy", "torch", "torch.foreach", "torch.fused"]
    case = C.build_case("sgd", "1000", dtype, impls)
    state = case.state
    assert state[0][0] is case.optimizer.state[0]["momentum_buffer"]
    snap = _snapshot(case, state)
    results = {}
    for name, step in case.steps.items():
        _restore(case, state, snap)
        step()
        results[name] = case.params[0].copy()
    assert not np.array_equal(results["fastopt"], snap[0][0])
    tol = 1e-6 if dtype == "float32" else 1e-14
    for name, r in results.items():
        np.testing.assert_allclose(r, results["fastopt"], rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("algorithm", sorted(C.ALGORITHMS))
def test_implementations_share_memory_and_update(algorithm):
    case = C.build_case(algorithm, "1000", "float32", C.IMPLEMENTATIONS)
    assert set(case.steps) | set(case.skipped) == set(C.IMPLEMENTATIONS)
    assert {"fastopt", "fastopt.functional", "bound", "numpy"} <= set(case.steps)
    fo_state = case.optimizer.state[0]
    for name in case.algorithm.state:
        assert fo_state[name].shape == case.params[0].shape
    for name, step in case.steps.items():
        before = case.params[0].copy()
        step()
        assert np.isfinite(case.params[0]).all(), name
        if name != "bound":  # the bound moves the bytes but leaves the values
            assert not np.array_equal(case.params[0], before), name
        if name.startswith(("torch", "deepspeed")):
            t_state = step.__self__.state
            (t_param,) = [p for g in step.__self__.param_groups for p in g["params"]]
            assert np.shares_memory(t_param.numpy(), case.params[0])
            for s in case.algorithm.state:
                assert np.shares_memory(t_state[t_param][s].numpy(), fo_state[s]), (name, s)
    assert case.bytes_per_step == case.algorithm.bytes_per_element(4) * 1000


def test_multi_array_case():
    case = C.build_case("adam", "1000x1000", "float32", ["fastopt", "bound"])
    assert len(case.params) == 1000 and case.elements == 1_000_000
    assert case.steps["bound"].bytes_per_step == case.bytes_per_step == 28_000_000


def test_time_interleaved_rotates_and_flushes():
    calls = []
    steps = {n: (lambda n=n: calls.append(n)) for n in "abc"}
    flushes = []
    samples = C.time_interleaved(steps, repeat=4, flush=lambda: flushes.append(1))
    assert {n: len(s) for n, s in samples.items()} == {"a": 4, "b": 4, "c": 4}
    assert calls == list("abc" "bca" "cab" "abc")  # with flush: no calibration, 1 call each
    assert len(flushes) == 12


def test_time_interleaved_calibrates_number_and_stops_at_max_time():
    count = {"n": 0}

    def f():
        count["n"] += 1

    samples = C.time_interleaved({"f": f}, repeat=1000, min_sample=1e-4, max_time=0.0)
    assert len(samples["f"]) == 3  # at least 3 repetitions, then max_time stops it
    assert count["n"] > 3  # several calls per sample for a sub-microsecond function
    assert all(t > 0 for t in samples["f"])


def test_summarize():
    case = C.build_case("adam", "1000", "float32", ["fastopt", "bound", "deepspeed"])
    samples = {"fastopt": [2e-6, 3e-6, 4e-6], "bound": [1e-6, 1e-6, 1e-6]}
    case.skipped.setdefault("deepspeed", "not installed")
    rows = {r["implementation"]: r for r in C.summarize(case, samples, threads=2)}
    f, b = rows["fastopt"], rows["bound"]
    assert f["median_s"] == 3e-6 and f["vs_fastopt"] == 1.0 and f["bytes"] == 28_000
    assert f["gb_per_s"] == pytest.approx(28_000 / 3e-6 / 1e9)
    assert f["bound_fraction"] == pytest.approx(1 / 3) and b["bound_fraction"] == 1.0
    assert b["vs_fastopt"] == pytest.approx(1 / 3) and f["threads"] == 2
    assert "skipped" in rows["deepspeed"]


def test_cache_flusher_is_larger_than_the_caches():
    flush = C.CacheFlusher(nbytes=1 << 16)
    assert flush.buffer.nbytes == 2 << 16
    assert flush() == flush.buffer.size  # reads every element
    assert C.cache_bytes() > 0
