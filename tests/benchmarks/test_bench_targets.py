"""The speed-target checks evaluate measured rows correctly (no timing is asserted)."""
from fastopt.benchmarks.targets import check


def _row(algorithm, size, impl, t, gbps=None):
    return {"algorithm": algorithm, "size": size, "implementation": impl, "dtype": "float32",
            "median_s": t, "gb_per_s": gbps if gbps is not None else 1.0 / t}


def _by_target(rows):
    return {t["target"]: t for t in check(rows)}


def test_nothing_measured():
    results = check([])
    assert len(results) == 12 and all(t["met"] is None for t in results)
    assert all(t["measured"] == "not measured" for t in results)


def test_met_and_not_met():
    rows = [_row("adam", "33554432", "fastopt", 1.00), _row("adam", "33554432", "bound", 0.96),
            _row("adam", "33554432", "torch.fused", 1.3),
            _row("adam", "1048576", "fastopt", 1.0, gbps=90),
            _row("adam", "1048576", "bound", 0.8, gbps=100),
            _row("sgd", "1048576", "fastopt", 1.0, gbps=86),
            _row("adam", "1000", "fastopt", 1.0), _row("adam", "1000", "torch.fused", 19.0),
            _row("adam", "1000", "numpy", 6.0),
            _row("adam", "1000x1000", "fastopt", 1.49),
            {"implementation": "fastopt", "traced_bytes": 140, "traced_arrays": 0.0,
             "largest_array_bytes": 4000}]
    t = _by_target(rows)
    assert t["Adam float32 33,554,432 elements: >= 95% of the bound"]["met"] is True
    assert t["Adam float32 33,554,432 elements: not slower than torch fused"]["met"] is True
    assert t["Adam float32 33,554,432 elements: not slower than DeepSpeed"]["met"] is None
    assert t["Adam float32 1,048,576 elements: >= 90% of the bound"]["met"] is False  # 80%
    assert t["Adam float32 1,000 elements, Optimizer.step: <= 1/20 of torch fused"]["met"] \
        is False
    assert t["Adam float32 1,000 elements, Optimizer.step: <= 1/5 of NumPy"]["met"] is True
    assert t["Adam float32 1,000 x 1,000 elements: <= 1.5x one 1,048,576-element array"][
        "met"] is True
    every = t["Every algorithm, float32 1,048,576 elements: effective GB/s >= 85% of the Adam "
              "bound's"]
    assert every["met"] is True and "86%" in every["measured"]
    assert t["No array allocation per step (fastopt Optimizer.step)"]["met"] is True
    rows[-1] = dict(rows[-1], traced_bytes=8000, traced_arrays=2.0)
    rows[5] = dict(rows[5], gb_per_s=84)
    t = _by_target(rows)
    assert t["No array allocation per step (fastopt Optimizer.step)"]["met"] is False
    assert t["Every algorithm, float32 1,048,576 elements: effective GB/s >= 85% of the Adam "
             "bound's"]["met"] is False
