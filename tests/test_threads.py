"""fastopt's thread pool (src/fastopt/pool.c): every chunk runs once, results are
bit-identical for every thread count -- also while NumPy's BLAS works in another Python
thread -- and the thread count is controlled by set_num_threads, OMP_NUM_THREADS and
threadpoolctl."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastopt
from fastopt import _pool
from fastopt.second_order import _vec

THREAD_COUNTS = (1, 2, 3, 5, 8)


@pytest.fixture
def busy_blas():
    """NumPy matrix products running in another Python thread while the test runs."""
    stop = threading.Event()
    a = np.random.default_rng(0).standard_normal((256, 256))

    def work():
        while not stop.is_set():
            a @ a

    t = threading.Thread(target=work, daemon=True)
    t.start()
    yield
    stop.set()
    t.join()


@pytest.mark.parametrize("n_chunks", [0, 1, 2, 3, 17, 1000, 40000])
def test_every_chunk_runs_exactly_once(n_chunks, threads):
    threads(8)
    for max_threads in THREAD_COUNTS:
        for _ in range(20 if n_chunks < 1000 else 3):
            counts = _pool._run_chunks(n_chunks, max_threads, 200)
            assert counts.shape == (n_chunks,)
            assert (counts == 1).all(), f"{max_threads} threads: {np.unique(counts)}"


def test_jobs_from_two_python_threads_at_once_each_run_every_chunk(threads):
    threads(4)
    failures = []

    def run():
        for _ in range(300):
            counts = _pool._run_chunks(64, 4, 500)
            if not (counts == 1).all():
                failures.append(counts)

    ts = [threading.Thread(target=run) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not failures


def test_set_num_threads_rejects_non_positive_integers_and_keeps_the_count(threads):
    threads(1)
    for bad in (0, -1, 1.5, "2", True, None):
        with pytest.raises(ValueError):
            fastopt.set_num_threads(bad)
        assert fastopt.get_num_threads() == 1


def test_set_num_threads_is_what_get_num_threads_reports(threads):
    if not _pool.threads_enabled():
        pytest.skip("serial build: always one thread")
    for n in (1, 3, np.int64(2)):
        threads(n)
        assert fastopt.get_num_threads() == n


def _adam_run(n_threads, size, dtype, steps=12):
    fastopt.set_num_threads(n_threads)
    rng = np.random.default_rng(1)
    params = [rng.standard_normal(s).astype(dtype) for s in (size, 1000, 17)]
    opt = fastopt.Adam(params, lr=1e-2, weight_decay=0.01, amsgrad=True)
    for k in range(steps):
        grads = [np.sin(p * (k + 1)).astype(dtype) for p in params]
        opt.step(grads)
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_order_steps_are_bit_identical_for_every_thread_count_beside_busy_blas(
        dtype, threads, busy_blas):
    runs = [_adam_run(t, 300_007, dtype) for t in THREAD_COUNTS]
    for t, run in zip(THREAD_COUNTS[1:], runs[1:]):
        for a, b in zip(runs[0], run):
            np.testing.assert_array_equal(a, b, err_msg=f"{t} threads")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_second_order_kernels_are_bit_identical_for_every_thread_count_beside_busy_blas(
        dtype, threads, busy_blas):
    rng = np.random.default_rng(2)
    n = 300_001
    x0, x1, g0, g1 = (rng.standard_normal(n).astype(dtype) for _ in range(4))
    results = []
    for t in THREAD_COUNTS:
        threads(t)
        dots = _vec.multidot([x0, x1, g0], [g1, x0])
        out = np.empty(n, dtype)
        dot = _vec.combine([0.5, -2.0, 3.0], [x0, x1, g0], out, g1)
        mem = _vec.LBFGSMemory(4, n, dtype)
        d = np.empty(n, dtype)
        gtd = []
        for k in range(6):
            a, b = x1 + 0.1 * k * x0, g1 + 0.2 * k * g0
            mem.update(a, x1, b, g1)
            gtd.append(mem.direction(b, d))
        results.append((dots, out, dot, d.copy(), gtd))
    for t, r in zip(THREAD_COUNTS[1:], results[1:]):
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b, err_msg=f"{t} threads")


def test_lbfgs_minimize_is_bit_identical_for_every_thread_count(threads):
    n = 100_000

    def fg(x):
        d = x[1:] - x[:-1] ** 2
        f = 100.0 * (d @ d) + ((1 - x[:-1]) @ (1 - x[:-1]))
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * d - 2 * (1 - x[:-1])
        g[1:] += 200.0 * d
        return f, g

    xs = []
    for t in (1, 2, 3):
        threads(t)
        r = fastopt.minimize(fg, np.full(n, -1.2), jac=True, method="lbfgs",
                             options={"maxiter": 25})
        xs.append(r.x)
    for x in xs[1:]:
        np.testing.assert_array_equal(xs[0], x)


def _in_fresh_process(code, **env):
    e = dict(os.environ)
    e.pop("OMP_NUM_THREADS", None)
    e["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(fastopt.__file__)))
    e.update(env)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=e)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.skipif(not _pool.threads_enabled(), reason="serial build")
@pytest.mark.parametrize("value, expected", [("3", 3), ("2,1", 2), (" 5 ", 5)])
def test_omp_num_threads_at_import_sets_the_thread_count(value, expected):
    proc = _in_fresh_process("import fastopt; print(fastopt.get_num_threads())",
                             OMP_NUM_THREADS=value)
    assert proc.stdout.strip() == str(expected)


@pytest.mark.skipif(not _pool.threads_enabled(), reason="serial build")
def test_invalid_omp_num_threads_warns_and_uses_the_cpus():
    proc = _in_fresh_process(
        "import os, warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import fastopt\n"
        "assert any('OMP_NUM_THREADS' in str(x.message) for x in w), w\n"
        "assert fastopt.get_num_threads() == len(os.sched_getaffinity(0))\n",
        OMP_NUM_THREADS="many")


threadpoolctl = pytest.importorskip("threadpoolctl")


def _fastopt_entries():
    return [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "fastopt"]


@pytest.mark.skipif(not _pool.threads_enabled(), reason="serial build")
def test_threadpool_info_lists_fastopt_with_its_thread_count(threads):
    threads(3)
    (entry,) = _fastopt_entries()
    assert entry["user_api"] == "openmp"
    assert entry["num_threads"] == 3
    assert entry["version"] == fastopt.__version__


@pytest.mark.skipif(not _pool.threads_enabled(), reason="serial build")
@pytest.mark.parametrize("user_api", [None, "openmp"])
def test_threadpool_limits_limits_fastopt_and_restores_it(user_api, threads):
    threads(3)
    with threadpoolctl.threadpool_limits(1, user_api=user_api):
        assert fastopt.get_num_threads() == 1
        assert _fastopt_entries()[0]["num_threads"] == 1
    assert fastopt.get_num_threads() == 3


@pytest.mark.skipif(not _pool.threads_enabled(), reason="serial build")
def test_threadpool_limits_on_blas_leaves_fastopt_alone(threads):
    threads(3)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert fastopt.get_num_threads() == 3


def test_a_step_under_threadpool_limits_matches_the_unlimited_step(threads):
    threads(2)
    unlimited = _adam_run(2, 200_000, np.float32, steps=3)
    with threadpoolctl.threadpool_limits(1):
        limited = _adam_run(fastopt.get_num_threads(), 200_000, np.float32, steps=3)
    for a, b in zip(unlimited, limited):
        np.testing.assert_array_equal(a, b)
