"""pytest-benchmark cases of the step inside the user's loop, with default thread settings
(see ``fastopt/benchmarks/inloop.py``): a 256 x 256 NumPy matmul then one Adam step, and a
whole NumPy MLP iteration (512-2048-10, batch 64), for each Adam implementation.

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

from fastopt.benchmarks import cases as C
from fastopt.benchmarks import inloop

SIZES = ["1048576"]
if os.environ.get("FASTOPT_BENCH_LARGE") == "1":
    SIZES += ["33554432", "gpt2-small"]
IMPLEMENTATIONS = ["gradient alone"] + list(inloop.INLOOP_IMPLEMENTATIONS)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("size", SIZES)
def test_matmul_then_adam_step(benchmark, size, implementation):
    params, grads = C._arrays(C.SIZES[size], np.float32, np.random.default_rng(0))
    a = np.random.default_rng(1).standard_normal((inloop.MATMUL_N, inloop.MATMUL_N),
                                                 dtype=np.float32)
    out = np.empty_like(a)
    if implementation == "gradient alone":
        def step(_):
            pass
    else:
        steps, skipped = inloop.adam_steppers(params, [implementation])
        if implementation in skipped:
            pytest.skip(skipped[implementation])
        step = steps[implementation]

    def iteration():
        np.matmul(a, a, out=out)
        step(grads)

    benchmark.group = f"matmul then Adam, {size}"
    benchmark(iteration)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_numpy_mlp_iteration(benchmark, implementation):
    model = inloop.NumpyMLP()
    if implementation == "gradient alone":
        def step(_):
            pass
    else:
        steps, skipped = inloop.adam_steppers(model.params, [implementation])
        if implementation in skipped:
            pytest.skip(skipped[implementation])
        step = steps[implementation]

    def iteration():
        step(model.gradient())

    benchmark.group = "NumPy MLP iteration 512-2048-10"
    benchmark(iteration)
