"""The bandwidth-bound kernel: it reads w + 1 arrays, writes w, and computes x = a x + b g."""
import numpy as np
import pytest

import fastopt
from fastopt.benchmarks._bound import PARALLEL_MIN, StreamBound


def _arrays(n, w, dtype, k=1, seed=0):
    rng = np.random.default_rng(seed)
    written = [[rng.standard_normal(n).astype(dtype) for _ in range(w)] for _ in range(k)]
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(k)]
    return written, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("w", [1, 2, 3, 4])
def test_bytes_per_step(w, dtype):
    written, grads = _arrays(1000, w, dtype, k=3)
    bound = StreamBound(written, grads)
    itemsize = np.dtype(dtype).itemsize
    assert bound.writes == w and bound.size == 3000 and bound.itemsize == itemsize
    assert bound.bytes_per_step == (2 * w + 1) * itemsize * 3000


def test_adam_pattern_is_28_bytes_per_float32_element():
    written, grads = _arrays(10, 3, np.float32)
    assert StreamBound(written, grads).bytes_per_step == 28 * 10


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_updates_every_written_element(dtype, threads):
    """x = a x + b g on every element of every written array (rounded as NumPy rounds, since
    the build does not contract a x + b g into an FMA); the gradients are only read."""
    a, b = dtype(0.75), dtype(-1.5)
    for sizes in ([0], [1], [7], [31, 0, 1000], [2 * PARALLEL_MIN + 5, 17]):
        for w in (1, 3, 4):
            where = f"sizes {sizes}, {w} written arrays each"
            rng = np.random.default_rng(1)
            written = [[rng.standard_normal(n).astype(dtype) for _ in range(w)] for n in sizes]
            grads = [rng.standard_normal(n).astype(dtype) for n in sizes]
            before = [[x.copy() for x in ws] for ws in written]
            grads_before = [g.copy() for g in grads]
            StreamBound(written, grads)(0.75, -1.5, num_threads=threads)
            for ws, xs0, g in zip(written, before, grads):
                for x, x0 in zip(ws, xs0):
                    np.testing.assert_array_equal(x, a * x0 + b * g, err_msg=where)
            for g, g0 in zip(grads, grads_before):
                np.testing.assert_array_equal(g, g0, err_msg=where)


def test_default_call_leaves_data_unchanged_and_follows_fastopt_threads():
    written, grads = _arrays(3 * PARALLEL_MIN, 3, np.float32)
    before = [x.copy() for x in written[0]]
    old = fastopt.get_num_threads()
    try:
        for t in (1, 2):
            fastopt.set_num_threads(t)
            StreamBound(written, grads)()
    finally:
        fastopt.set_num_threads(old)
    for x, x0 in zip(written[0], before):
        np.testing.assert_array_equal(x, x0)


def test_rejects_bad_input():
    (ws,), (g,) = _arrays(8, 2, np.float32)
    with pytest.raises(ValueError, match="1..4"):
        StreamBound([[]], [g])
    with pytest.raises(ValueError, match="1..4"):
        StreamBound([[ws[0]] * 5], [g])
    with pytest.raises(ValueError, match="gradients"):
        StreamBound([ws], [g, g])
    with pytest.raises(ValueError, match="at least one"):
        StreamBound([], [])
    with pytest.raises(ValueError, match="sizes"):
        StreamBound([[ws[0], np.zeros(9, np.float32)]], [g])
    with pytest.raises(TypeError, match="share one dtype"):
        StreamBound([[ws[0], ws[1].astype(np.float64)]], [g])
    with pytest.raises(TypeError, match="float32 or float64"):
        StreamBound([[np.zeros(8, np.int32)]], [np.zeros(8, np.int32)])
    with pytest.raises(TypeError, match="numpy arrays"):
        StreamBound([[[0.0] * 8]], [g])
    with pytest.raises(ValueError, match="C-contiguous"):
        StreamBound([[np.zeros(16, np.float32)[::2]]], [g])
    ro = ws[0].copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        StreamBound([[ro]], [g])
    with pytest.raises(ValueError, match="num_threads"):
        StreamBound([ws], [g])(num_threads=0)
