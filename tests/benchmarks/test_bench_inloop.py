"""The in-loop benchmark suite (fastopt/benchmarks/inloop.py) runs and reports every part:
tiny sizes, one round; no timing is asserted."""
import numpy as np
import pytest

import fastopt
from fastopt.benchmarks import cli, inloop


def test_matmul_case_times_both_parts_of_every_iteration():
    before = fastopt.get_num_threads()
    rows = inloop.matmul_case("1000", ["fastopt", "fastopt.1thread", "numpy", "numpy.inplace"],
                              rounds=1, block=2)
    by = {r["implementation"]: r for r in rows}
    assert set(by) == {"fastopt", "fastopt.1thread", "numpy", "numpy.inplace"}
    for r in rows:
        assert r["step_in_loop_s"] > 0 and r["gradient_in_loop_s"] > 0 and r["loop_s"] > 0
        # the step inside the loop is the iteration minus the gradient computed alone
        assert r["step_inside_loop_s"] == r["loop_s"] - r["gradient_alone_s"]
    assert by["fastopt"]["step_alone_1_thread_s"] > 0
    assert by["fastopt"]["step_alone_2_threads_s"] > 0
    assert "step_alone_s" not in by["fastopt.1thread"]      # its alone step is fastopt's
    assert fastopt.get_num_threads() == before               # the thread count is restored


def test_fastopt_rows_carry_the_target_ratio_and_the_table_prints_it():
    rows = inloop.matmul_case("1000", ["fastopt", "numpy"], rounds=1, block=2)
    by = {r["implementation"]: r for r in rows}
    f = by["fastopt"]
    assert f["vs_1_thread"] == f["step_inside_loop_s"] / f["step_alone_1_thread_s"]
    assert f["met"] == (f["vs_1_thread"] <= inloop.VS_ONE_THREAD)
    assert "vs_1_thread" not in by["numpy"]
    table = inloop.format_table(rows)
    assert "step inside loop" in table and "alone, 2 threads" in table
    assert ("NOT met" in table) == (not f["met"])


def test_the_mlp_case_compares_whole_iterations_with_fastopt_on_one_thread():
    rows = inloop.mlp_case(rounds=1, block=1)
    assert {r["implementation"] for r in rows} == set(inloop.MLP_IMPLEMENTATIONS)
    assert all(r["loop_s"] > 0 for r in rows)


def test_two_processes_report_both_ranks_against_one_and_two_threads():
    rows = inloop.two_processes_case(seconds=0.05)
    assert [r["implementation"] for r in rows] == ["fastopt rank 0", "fastopt rank 1"]
    for r in rows:
        assert r["step_inside_loop_s"] > 0 and r["step_alone_2_threads_s"] > 0
        assert r["vs_1_thread"] == r["step_inside_loop_s"] / r["step_alone_1_thread_s"]


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


def test_lbfgs_rows_get_their_target_ratios_and_check_lists_them():
    rows = [{"case": "lbfgs", "size": "rosenbrock", "implementation": impl, "blas_threads": b,
             "own_per_iteration_s": t, "iterations": 10, "objective_per_eval_s": 1e-3}
            for impl, b, t in [("fastopt L-BFGS", "default", 3.0), ("fastopt L-BFGS", "1", 2.0),
                               ("scipy L-BFGS-B", "1", 10.0)]]
    inloop._lbfgs_ratios(rows)
    default = rows[0]
    assert default["vs_1_blas_thread"] == 1.5 and default["met_1_blas_thread"]
    assert default["vs_scipy"] == 0.3 and not default["met_scipy"]
    assert rows[1]["vs_scipy"] == 0.2 and rows[1]["met_scipy"]
    assert "vs_scipy" not in rows[2]
    met = {t["target"]: t["met"] for t in inloop.check(rows)}
    assert met == {"L-BFGS rosenbrock: default threads <= 1.5x OPENBLAS_NUM_THREADS=1": True,
                   "L-BFGS rosenbrock: <= 0.25 of L-BFGS-B with one BLAS thread": False}
    assert "0.30 NOT met" in inloop.format_table(rows)
