"""Softmax regression and a small MLP on scikit-learn's digits, trained with fastopt.

Compares SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta, Adam and AdamW, each with a
constant learning rate and with linear warm-up + cosine annealing, using
:func:`fastopt.train.fit` (mini-batches of 32, reshuffled every epoch, a validation split).
Prints a table (final validation loss, test accuracy, seconds) and, with matplotlib, draws
the training-loss curves.

    pip install 'fastopt[train,plot]'
    python examples/digits.py                     # table + docs/images/training_curves.png
    python examples/digits.py --epochs 10 --no-figure

The digits data set (1797 8x8 images, 10 classes) ships with scikit-learn: nothing is
downloaded.
"""
import argparse
import pathlib
import time
from dataclasses import dataclass

import numpy as np

import fastopt
from fastopt import schedules
from fastopt.train import fit

DTYPE = np.float32


@dataclass
class Data:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_data(seed=0):
    """Digits split 65/15/20 (train/validation/test, stratified), standardized with the
    training split's mean and standard deviation."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y,
                                                      random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.15 / 0.8,
                                                      stratify=y_rest, random_state=seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-3
    scale = lambda a: ((a - mean) / std).astype(DTYPE)   # noqa: E731
    return Data(scale(X_train), y_train, scale(X_val), y_val, scale(X_test), y_test)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of integer labels ``y`` and its gradient in the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -float(np.mean(np.log(p[np.arange(n), y] + 1e-12)))
    p[np.arange(n), y] -= 1.0
    return loss, p / n


class Softmax:
    """Multinomial logistic regression: ``logits = X W + b``."""

    def __init__(self, n_features, n_classes, seed=0):
        self.params = [np.zeros((n_features, n_classes), DTYPE), np.zeros(n_classes, DTYPE)]

    @staticmethod
    def logits(params, X):
        W, b = params
        return X @ W + b

    @staticmethod
    def grad(params, X, y):
        loss, d = softmax_cross_entropy(Softmax.logits(params, X), y)
        return loss, [X.T @ d, d.sum(axis=0)]


class MLP:
    """One hidden ReLU layer: ``logits = relu(X W1 + b1) W2 + b2`` (He initialization)."""

    def __init__(self, n_features, n_classes, hidden=64, seed=0):
        rng = np.random.default_rng(seed)
        self.params = [
            (rng.standard_normal((n_features, hidden)) * np.sqrt(2.0 / n_features)).astype(DTYPE),
            np.zeros(hidden, DTYPE),
            (rng.standard_normal((hidden, n_classes)) * np.sqrt(2.0 / hidden)).astype(DTYPE),
            np.zeros(n_classes, DTYPE),
        ]

    @staticmethod
    def logits(params, X):
        W1, b1, W2, b2 = params
        return np.maximum(X @ W1 + b1, 0) @ W2 + b2

    @staticmethod
    def grad(params, X, y):
        W1, b1, W2, b2 = params
        pre = X @ W1 + b1
        h = np.maximum(pre, 0)
        loss, d = softmax_cross_entropy(h @ W2 + b2, y)
        dh = (d @ W2.T) * (pre > 0)
        return loss, [X.T @ dh, dh.sum(axis=0), h.T @ d, d.sum(axis=0)]


MODELS = {"softmax": Softmax, "mlp": MLP}

# Learning rates tuned roughly by hand for this problem (not torch's defaults where those
# are too small for a 30-epoch run).
OPTIMIZERS = {
    "SGD": lambda p: fastopt.SGD(p, lr=0.1),
    "Momentum": lambda p: fastopt.SGD(p, lr=0.05, momentum=0.9),
    "Nesterov": lambda p: fastopt.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: fastopt.Adagrad(p, lr=0.1),
    "RMSprop": lambda p: fastopt.RMSprop(p, lr=0.002),
    "Adadelta": lambda p: fastopt.Adadelta(p, lr=1.0),
    "Adam": lambda p: fastopt.Adam(p, lr=0.005),
    "AdamW": lambda p: fastopt.AdamW(p, lr=0.005, weight_decay=0.01),
}


def accuracy(model, X, y):
    """The fraction of ``X`` whose most likely class is ``y``."""
    return float(np.mean(np.argmax(model.logits(model.params, X), axis=1) == y))


def train(data, kind, make_optimizer, *, epochs=30, batch_size=32, schedule=False, seed=0):
    """Train a fresh ``kind`` model ("softmax" or "mlp"); returns ``(model, history)``.

    ``schedule``: attach linear warm-up over the first epoch, then cosine annealing to a
    tenth of the optimizer's learning rate at the last step.
    """
    model = MODELS[kind](data.X_train.shape[1], 10, seed=seed)
    opt = make_optimizer(model.params)
    if schedule:
        steps_per_epoch = -(-len(data.X_train) // batch_size)
        lr = opt.param_groups[0]["lr"]
        opt = schedules.attach(opt, lr=schedules.warmup_cosine(
            lr, warmup_steps=steps_per_epoch, decay_steps=(epochs - 1) * steps_per_epoch,
            final_value=lr / 10))
    hist = fit(opt, model.grad, data.X_train, data.y_train, epochs=epochs,
               batch_size=batch_size, seed=seed, validation_data=(data.X_val, data.y_val),
               metrics={"acc": lambda p, X, y: accuracy(model, X, y)}, progress=False)
    return model, hist


def compare(data, epochs=30, batch_size=32):
    """Every model x optimizer x (constant, warm-up + cosine): a list of result rows."""
    rows = []
    for kind in MODELS:
        for name, make in OPTIMIZERS.items():
            for schedule in (False, True):
                start = time.perf_counter()
                model, hist = train(data, kind, make, epochs=epochs, batch_size=batch_size,
                                    schedule=schedule)
                rows.append({"model": kind, "optimizer": name, "schedule": schedule,
                             "seconds": time.perf_counter() - start,
                             "loss": hist.history["loss"],
                             "val_loss": hist.history["val_loss"][-1],
                             "test_acc": accuracy(model, data.X_test, data.y_test)})
    return rows


def table(rows):
    """A Markdown table of the results."""
    lines = ["| model | optimizer | lr schedule | final train loss | final val loss "
             "| test accuracy | seconds |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['optimizer']} | "
                     f"{'warm-up + cosine' if r['schedule'] else 'constant'} | "
                     f"{r['loss'][-1]:.4f} | {r['val_loss']:.4f} | {r['test_acc']:.3f} | "
                     f"{r['seconds']:.2f} |")
    return "\n".join(lines)


def figure(rows, path):
    """Training-loss curves: one panel per model and schedule, one line per optimizer."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharey="row")
    for i, kind in enumerate(MODELS):
        for j, schedule in enumerate((False, True)):
            ax = axes[i, j]
            for r in rows:
                if r["model"] == kind and r["schedule"] == schedule:
                    ax.plot(np.arange(1, len(r["loss"]) + 1), r["loss"], label=r["optimizer"])
            ax.set_yscale("log")
            ax.set_title(f"{kind}, {'warm-up + cosine' if schedule else 'constant'} lr")
            ax.set_xlabel("epoch")
            ax.set_ylabel("training loss")
            ax.grid(alpha=0.3)
    axes[0, 1].legend(loc="upper right", fontsize=8)
    fig.suptitle("scikit-learn digits: mini-batch training with fastopt (batch 32)")
    fig.tight_layout()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--figure", default="docs/images/training_curves.png")
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args(argv)
    rows = compare(load_data(), epochs=args.epochs, batch_size=args.batch_size)
    print(table(rows))
    if not args.no_figure:
        figure(rows, args.figure)
        print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    main()
