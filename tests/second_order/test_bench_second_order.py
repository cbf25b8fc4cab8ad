"""The second-order benchmark module's contract (collect / format_table / plot_profile), and
what its quick rows show about fastopt's solvers against SciPy's, run live."""
import numpy as np
import pytest

from fastopt.benchmarks import second_order as bench

KEYS = {"problem", "n", "method", "implementation", "success", "nit", "nfev", "njev", "nhev",
        "grad_norm", "wall_s", "overhead_s"}


@pytest.fixture(scope="module")
def rows():
    seen = []
    out = bench.collect(quick=True, progress=seen.append)
    assert seen and all(isinstance(s, str) for s in seen)
    return out


def test_collect_quick_rows(rows):
    assert rows and all(KEYS <= set(r) for r in rows)
    assert {r["implementation"] for r in rows} <= {"fastopt", "scipy"}
    fo = [r for r in rows if r["implementation"] == "fastopt" and r["method"] == "lbfgs"]
    assert len(fo) == 33 + 5
    for r in rows:
        assert r["overhead_s"] <= r["wall_s"] + 1e-9 or np.isnan(r["wall_s"])
    assert sum(r["solved"] for r in fo) >= 33


def test_format_table_and_summaries(rows):
    text = bench.format_table(rows)
    assert "rosenbrock" in text and "fastopt" in text
    if any(r["implementation"] == "scipy" for r in rows):
        s = bench.lbfgs_summary(rows)
        assert s["both"] >= 20 and s["ratio"] <= 1.10
        assert "L-BFGS vs L-BFGS-B" in text and "Hessian-free vs Newton-CG" in text


def _by_problem(rows, impl, method):
    return {r["problem"]: r for r in rows if r["implementation"] == impl
            and r["method"] == method and r["n"] < 1000}       # the MGH set


def test_lbfgs_solves_every_mgh_problem_l_bfgs_b_solves(rows):
    theirs = _by_problem(rows, "scipy", "L-BFGS-B")
    if not theirs:
        pytest.skip("needs SciPy")
    ours = _by_problem(rows, "fastopt", "lbfgs")
    solved = {k for k, r in ours.items() if r["solved"]}
    solved_ref = {k for k, r in theirs.items() if r["solved"]}
    assert solved_ref <= solved and len(solved) > len(solved_ref), solved_ref - solved


def test_cg_needs_no_more_evaluations_than_scipy_cg_on_the_mgh_set(rows):
    theirs = _by_problem(rows, "scipy", "CG")
    if not theirs:
        pytest.skip("needs SciPy")
    ours = _by_problem(rows, "fastopt", "cg")
    both = [k for k in ours if ours[k]["solved"] and theirs[k]["solved"]]
    fo, sp = sum(ours[k]["nfev"] for k in both), sum(theirs[k]["nfev"] for k in both)
    assert len(both) >= 20 and fo <= sp, (len(both), fo, sp)


def test_plot_profile(rows, tmp_path):
    pytest.importorskip("matplotlib")
    path = bench.plot_profile(rows, tmp_path / "profile.png")
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_overhead_rows_shape():
    out = bench.lbfgs_overhead(n=2000, m=3, iters=5, repeats=1, scipy_ok=False)
    assert len(out) == 1 and out[0]["method"] == "lbfgs-overhead" and out[0]["nit"] == 5
    assert KEYS <= set(out[0])


def test_hf_vs_newton_cg_rows():
    pytest.importorskip("scipy")
    from fastopt import problems
    rows = bench.hf_vs_newton_cg(sizes=(100,), problems_=lambda n: [problems.ExtendedPowell(n)])
    assert len(rows) == 1 and rows[0]["hf_evals"] <= rows[0]["ncg_evals"]
    assert "extended_powell" in bench.format_hf_vs_newton_cg(rows)
