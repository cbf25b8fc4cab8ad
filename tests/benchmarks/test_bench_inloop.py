"""The in-loop benchmark suite (fastopt/benchmarks/inloop.py) runs and reports every part:
tiny sizes, one round; no timing is asserted."""
import numpy as np
import pytest

import fastopt
from fastopt.benchmarks import cli, inloop


def test_matmul_case_times_both_parts_of_every_iteration():
    rows = inloop.matmul_case("1000", ["fastopt", "numpy", "numpy.inplace"], rounds=1, block=2)
    by = {r["implementation"]: r for r in rows}
    assert set(by) == {"fastopt", "numpy", "numpy.inplace"}
    for r in rows:
        assert r["step_in_loop_s"] > 0 and r["gradient_in_loop_s"] > 0
        assert r["loop_s"] == pytest.approx(r["step_in_loop_s"] + r["gradient_in_loop_s"])
    assert "step_alone_1_thread_s" in by["fastopt"]
    assert fastopt.get_num_threads() >= 1


def test_inplace_numpy_adam_matches_the_reference():
    rng = np.random.default_rng(0)
    p1 = [rng.standard_normal(100).astype(np.float32)]
    p2 = [p1[0].copy()]
    a = inloop.adam_steppers(p1, ["numpy"])[0]["numpy"]
    b = inloop.adam_steppers(p2, ["numpy.inplace"])[0]["numpy.inplace"]
    for k in range(5):
        g = [np.sin(p1[0] * (k + 1))]
        a(g)
        b(g)
    np.testing.assert_allclose(p1[0], p2[0], rtol=1e-5, atol=1e-6)


def test_numpy_mlp_gradient_matches_finite_differences():
    model = inloop.NumpyMLP()
    g = [x.copy() for x in model.gradient()]
    W2 = model.params[2]

    def loss():
        W1, b1, W2_, b2 = model.params
        h = np.maximum(model.x @ W1 + b1, 0)
        z = (h @ W2_ + b2).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(inloop.BATCH), model.y].mean()
    eps = 1e-2
    old = W2[3, 4]
    W2[3, 4] = old + eps
    up = loss()
    W2[3, 4] = old - eps
    down = loss()
    W2[3, 4] = old
    assert g[2][3, 4] == pytest.approx((up - down) / (2 * eps), rel=5e-2, abs=1e-4)


def test_check_reports_each_target_with_its_figure():
    rows = inloop.matmul_case("1000", ["fastopt", "numpy"], rounds=1, block=2)
    results = inloop.check([dict(r, size="1048576") for r in rows])
    assert results and all({"target", "measured", "met"} <= set(t) for t in results)
    assert "1048576" in inloop.format_table(rows) or "1000" in inloop.format_table(rows)


def test_cli_accepts_the_inloop_suite():
    args = cli.build_parser().parse_args(["--suite", "inloop"])
    assert args.suite == "inloop"
