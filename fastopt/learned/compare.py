r"""The learned optimizer against fastopt's hand-designed ones on fresh random quadratics.

Every hand-designed optimizer gets its learning rate tuned on a grid (log-spaced, 1e-4 to 1)
on a separate, larger set of *validation* quadratics, by the mean loss after the last step; then all
run on the same *test* quadratics, which neither the tuning nor the meta-training has seen.
All problems of a run are one parameter array of shape ``(problems, 10)``, so each step of a
fastopt optimizer is one fused kernel call over all of them.

Example::

    >>> from fastopt.learned.compare import compare
    >>> curves = compare(problems=64, steps=100)
    >>> curves["lstm"].shape, sorted(curves)[:3]
    ((101,), ['adam', 'lstm', 'momentum'])
    >>> bool(curves["lstm"][-1] < curves["sgd"][-1])     # beats tuned SGD after 100 steps
    True
"""
import numpy as np

import fastopt
from fastopt.learned.lstm import LSTMOptimizer
from fastopt.learned.quadratics import Quadratics

__all__ = ["BASELINES", "LR_GRID", "run_optimizer", "tune", "compare", "save_figure"]

#: name -> (fastopt class, fixed keyword arguments)
BASELINES = {
    "sgd": (fastopt.SGD, {}),
    "momentum": (fastopt.SGD, {"momentum": 0.9}),
    "nesterov": (fastopt.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (fastopt.RMSprop, {}),
    "adam": (fastopt.Adam, {}),
}

#: the learning rates tried for every baseline
LR_GRID = [float(f"{v:.3g}") for v in np.logspace(-4, 0, 17)]

_VALIDATION_SEED, _TEST_SEED = 1001, 2002


def run_optimizer(make, problems, steps):
    """Mean loss over the problems before each step and after the last one (``steps + 1``
    values), for the optimizer ``make(x)`` returns on the parameter array ``x``."""
    x = problems.x0.copy()
    opt = make(x)
    curve = [problems.loss(x).mean()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            opt.step([problems.grad(x)])
            curve.append(problems.loss(x).mean())
    curve = np.array(curve)
    return np.where(np.isfinite(curve), curve, np.inf)


def tune(name, problems, steps, grid=LR_GRID):
    """The learning rate of the grid with the lowest final mean loss on ``problems``."""
    cls, kwargs = BASELINES[name]
    finals = [run_optimizer(lambda x: cls([x], lr=lr, **kwargs), problems, steps)[-1]
              for lr in grid]
    return grid[int(np.argmin(finals))]


def compare(problems=128, steps=100, weights=None, baselines=tuple(BASELINES)):
    """Loss curves (``{name: array of steps + 1 mean losses}``) of the learned optimizer
    (``"lstm"``, weights: default the shipped checkpoint) and the tuned baselines on
    ``problems`` fresh test quadratics; the tuned rates are in ``curves.lrs``."""
    # a large validation set, so a rate at the edge of stability for some quadratics loses
    validation = Quadratics.sample(max(512, 4 * problems), seed=_VALIDATION_SEED)
    test = Quadratics.sample(problems, seed=_TEST_SEED)
    curves = _Curves()
    curves["lstm"] = run_optimizer(lambda x: LSTMOptimizer([x], weights=weights), test, steps)
    for name in baselines:
        lr = tune(name, validation, steps)
        cls, kwargs = BASELINES[name]
        curves[name] = run_optimizer(lambda x: cls([x], lr=lr, **kwargs), test, steps)
        curves.lrs[name] = lr
    return curves


class _Curves(dict):
    def __init__(self):
        super().__init__()
        self.lrs = {}


def save_figure(curves, path):
    """Loss against steps, log scale (needs matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, curve in curves.items():
        lr = getattr(curves, "lrs", {}).get(name)
        label = f"{name} (lr={lr:g})" if lr is not None else "learned LSTM"
        ax.plot(curve, label=label, lw=2.4 if name == "lstm" else 1.4,
                color="k" if name == "lstm" else None)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("mean loss ||Wx - y||^2")
    ax.set_title("Random 10-D quadratics (held out): learned vs tuned optimizers")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
