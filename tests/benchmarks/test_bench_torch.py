"""The torch suite of ``python -m fastopt bench`` (fastopt/benchmarks/torch_suite.py): its
training iterations run, and its targets are read correctly from its rows."""
import pytest

pytest.importorskip("torch")
from fastopt.benchmarks import torch_suite as T  # noqa: E402


@pytest.mark.parametrize("model", list(T.MODELS))
def test_a_training_iteration_returns_the_iteration_and_the_step_inside_it(model):
    run = T._training_iteration(model, T.TRAINING["Adam"][T.FASTOPT])
    iteration, step = run()
    assert 0 < step < iteration


def _row(case, implementation, seconds, step=None):
    r = dict(case=case, implementation=implementation, seconds=seconds, ratio=1.0)
    if step is not None:
        r.update(step_seconds=step, step_ratio=1.0)
    return r


def test_targets_compare_the_step_in_the_loop_the_bound_and_lbfgs_time():
    rows = []
    for model in T.MODELS:
        for case in T.TRAINING:
            name = f"{model} training iteration, {case}"
            rows += [_row(name, T.FASTOPT, 2.0, 0.2), _row(name, "torch fused", 2.0, 0.3)]
    rows.append(_row("MLP training iteration, Adam", "deepspeed", 2.0, 0.1))
    rows += [_row("GPT-2-small step, Adam (30 tensors)", T.FASTOPT, 1.0),
             _row("GPT-2-small step, Adam (30 tensors)", "bound", 0.9),
             _row("LBFGS own time per iteration, n=100,000", T.FASTOPT, 1.0),
             _row("LBFGS own time per iteration, n=100,000", "torch", 6.0),
             _row("LBFGS own time per iteration, n=100,000", T.HISTORY_FLOOR, 2.0)]
    met = {t["target"]: t["met"] for t in T.check(rows)}
    assert met["MLP Adam: step in the loop not slower than torch fused"]
    assert not met["MLP Adam: step in the loop not slower than deepspeed"]
    assert met["transformer SGD momentum: step in the loop not slower than torch fused"]
    assert not met["GPT-2-small step, Adam (30 tensors): >= 95% of the bandwidth bound"]
    assert met["LBFGS own time per iteration, n=100,000: <= 1/5 of torch.optim.LBFGS's"]
    measured = {t["target"]: t["measured"] for t in T.check(rows)}
    assert measured["LBFGS own time per iteration, n=100,000: <= 1/5 of torch.optim.LBFGS's"] \
        == "1/6.0 (the history read twice: 1/3.0)"
    assert len(met) == 2 * len(T.TRAINING) + 1 + 1 + 1
