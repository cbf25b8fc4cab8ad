"""pytest-benchmark cases of the step inside the user's loop, with default thread settings
(see ``fastopt/benchmarks/inloop.py``): a 256 x 256 NumPy matmul then one Adam step, and a
whole NumPy MLP iteration (512-2048-10, batch 64), for each Adam implementation
(``fastopt.1thread``: fastopt on one thread).

Run (not part of the test suite)::

    python -m pytest bench/test_inloop.py --benchmark-group-by=group \
        --benchmark-columns=median,iqr,rounds
    FASTOPT_BENCH_LARGE=1 python -m pytest bench/test_inloop.py   # also 33,554,432, GPT-2

The benchmark times whole iterations (gradient + step); subtract the "gradient alone"
benchmark of the same group for the step inside the loop, or use
``python -m fastopt bench --suite inloop``, which times both parts of every iteration,
interleaved.
"""
import os

import numpy as np
import pytest

import fastopt
from fastopt.benchmarks import cases as C
from fastopt.benchmarks import inloop

SIZES = ["1048576"]
if os.environ.get("FASTOPT_BENCH_LARGE") == "1":
    SIZES += list(inloop.MATMUL_SIZES[1:])
IMPLEMENTATIONS = ["gradient alone"] + list(inloop.INLOOP_IMPLEMENTATIONS)
MLP_IMPLEMENTATIONS = ["gradient alone"] + list(inloop.MLP_IMPLEMENTATIONS)


@pytest.fixture
def fastopt_threads(request):
    """The fastopt thread count an implementation runs with (fastopt.1thread: 1), restored
    after the benchmark."""
    before = fastopt.get_num_threads()
    n = inloop.THREADS.get(request.node.callspec.params["implementation"])
    if n is not None:
        fastopt.set_num_threads(n)
    yield
    fastopt.set_num_threads(before)


def _step(params, implementation):
    """The implementation's step function (a no-op for "gradient alone"), or a skip."""
    if implementation == "gradient alone":
        return lambda grads: None
    steps, skipped = inloop.adam_steppers(params, [implementation])
    if implementation in skipped:
        pytest.skip(skipped[implementation])
    return steps[implementation]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("size", SIZES)
def test_matmul_then_adam_step(benchmark, fastopt_threads, size, implementation):
    params, grads = C._arrays(C.SIZES[size], np.float32, np.random.default_rng(0))
    a = np.random.default_rng(1).standard_normal((inloop.MATMUL_N, inloop.MATMUL_N),
                                                 dtype=np.float32)
    out = np.empty_like(a)
    step = _step(params, implementation)

    def iteration():
        np.matmul(a, a, out=out)
        step(grads)

    benchmark.group = f"matmul then Adam, {size}"
    benchmark(iteration)


@pytest.mark.parametrize("implementation", MLP_IMPLEMENTATIONS)
def test_numpy_mlp_iteration(benchmark, fastopt_threads, implementation):
    model = inloop.NumpyMLP()
    step = _step(model.params, implementation)

    def iteration():
        step(model.gradient())

    benchmark.group = "NumPy MLP iteration 512-2048-10"
    benchmark(iteration)
