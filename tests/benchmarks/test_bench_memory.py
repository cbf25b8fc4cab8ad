"""Peak extra memory of a step: it sees NumPy temporaries, and fastopt's step has none."""
import numpy as np
import pytest

import fastopt
from fastopt.benchmarks import memory
from fastopt.benchmarks.cases import build_case


def test_sees_a_temporary_array():
    a = np.ones(1 << 18)  # 2 MiB

    def step():
        b = a * 2.0  # one temporary of a.nbytes, freed at once
        del b

    m = memory.step_memory(step, a.nbytes)
    assert m["traced_bytes"] >= a.nbytes
    assert m["traced_arrays"] == pytest.approx(1.0, abs=0.05)
    if m["rss_bytes"] is not None:
        assert m["rss_bytes"] >= a.nbytes // 2


def test_no_allocation_is_zero_arrays():
    m = memory.step_memory(lambda: None, 4000)
    assert m["traced_bytes"] < 1024 and m["traced_arrays"] < 0.25


@pytest.mark.parametrize("algorithm", ["sgd", "adam", "nadam"])
def test_fastopt_step_allocates_no_array(algorithm):
    p = np.zeros(1 << 16, dtype=np.float32)
    g = np.full(1 << 16, 1e-3, dtype=np.float32)
    cls = {"sgd": fastopt.SGD, "adam": fastopt.Adam, "nadam": fastopt.NAdam}[algorithm]
    opt = cls([p], lr=1e-3) if algorithm != "sgd" else cls([p], lr=1e-3, momentum=0.9)
    opt.step([g])
    grads = [g]
    m = memory.step_memory(lambda: opt.step(grads), p.nbytes)
    assert m["traced_bytes"] < 1024, m


def test_case_memory_rows():
    case = build_case("adam", "65536", "float32", ["fastopt", "numpy"])
    rows = {r["implementation"]: r for r in memory.case_memory(case, steps=2)}
    assert set(rows) == {"fastopt", "numpy"}
    assert rows["fastopt"]["traced_arrays"] == 0.0
    assert rows["numpy"]["traced_arrays"] >= 1.0  # the reference allocates temporaries
    assert rows["numpy"]["largest_array_bytes"] == 65536 * 4


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        memory.step_memory(lambda: None, 100, steps=0)
    with pytest.raises(ValueError):
        memory.step_memory(lambda: None, 0)
