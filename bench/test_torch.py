"""pytest-benchmark cases of fastopt.torch against torch.optim (see
``fastopt/benchmarks/torch_suite.py``): one training iteration (forward + backward + step)
of the small MLP for Adam, AdamW (with DeepSpeed's CPUAdam when installed) and SGD with
momentum, the step alone on the GPT-2-small parameter list, and one 10-iteration L-BFGS
step on a 10^5/10^6-parameter quadratic.

Run (not part of the test suite; ``pyproject.toml`` sets ``testpaths = ["tests"]``)::

    python -m pytest bench/test_torch.py --benchmark-group-by=group \\
        --benchmark-columns=median,iqr,rounds
    FASTOPT_BENCH_LARGE=1 python -m pytest bench/test_torch.py   # all 148 GPT-2 tensors

pytest-benchmark times one implementation after another; ``python -m fastopt bench --suite
torch`` measures them interleaved, times the step inside the iteration and the L-BFGS time
net of the closure, and checks the targets.
"""
import os

import pytest

torch = pytest.importorskip("torch")

from fastopt.benchmarks import torch_suite as T  # noqa: E402
from fastopt.benchmarks.cases import gpt2_small_shapes  # noqa: E402

LARGE = os.environ.get("FASTOPT_BENCH_LARGE") == "1"


def _impls(case):
    return list(T.TRAINING[case])


def _make(case, implementation):
    if implementation == "deepspeed" and not T._deepspeed_available():
        pytest.skip("deepspeed is not available")
    return T.TRAINING[case][implementation]


@pytest.mark.parametrize("model", list(T.MODELS))
@pytest.mark.parametrize("case,implementation",
                         [(c, i) for c in T.TRAINING for i in _impls(c)])
def test_training_iteration(benchmark, model, case, implementation):
    benchmark.group = f"{model} training iteration, {case}"
    benchmark(T._training_iteration(model, _make(case, implementation)))


@pytest.mark.parametrize("implementation", _impls("Adam") + ["bound"])
def test_gpt2_small_adam_step(benchmark, implementation):
    shapes = gpt2_small_shapes() if LARGE else gpt2_small_shapes()[:30]
    benchmark.group = f"GPT-2-small Adam step ({len(shapes)} tensors)"
    if implementation == "bound":
        benchmark(T._bound_of(shapes, writes=3))
    else:
        benchmark(T._step_only(_make("Adam", implementation), shapes))


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("n", [10 ** 5, 10 ** 6])
@pytest.mark.parametrize("implementation", ["fastopt.torch", "torch"])
def test_lbfgs_step(benchmark, implementation, n, line_search_fn):
    """One step of 10 iterations, closure included (the suite reports it net)."""
    benchmark.group = f"LBFGS step, n={n:,}, {line_search_fn}"
    cls = T.ft.LBFGS if implementation == "fastopt.torch" else torch.optim.LBFGS
    benchmark(T._lbfgs_own_time(cls, n, line_search_fn))
