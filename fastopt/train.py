r"""A training loop over NumPy data: :func:`fit`.

``fit(optimizer, grad, X, y)`` runs epochs of batch, stochastic or mini-batch gradient
descent with any fastopt optimizer (with or without schedules, :mod:`fastopt.schedules`),
over a user gradient function ``grad(params, X_batch, y_batch) -> (loss, grads)``; it
reshuffles every epoch with a seeded generator, can order the examples by a curriculum, clips
gradients (:mod:`fastopt.clip`), adds annealed gradient noise (:mod:`fastopt.noise`),
evaluates a validation set, stops early with patience and
restores the best parameters, records a history and calls callbacks::

    >>> import numpy as np, fastopt
    >>> from fastopt.train import fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3)); y = X @ np.array([1.0, -2.0, 0.5])
    >>> w = np.zeros(3)
    >>> def grad(params, Xb, yb):
    ...     r = Xb @ params[0] - yb
    ...     return 0.5 * np.mean(r ** 2), [Xb.T @ r / len(yb)]
    >>> hist = fit(fastopt.Adam([w], lr=0.1), grad, X, y, epochs=30, batch_size=20)
    >>> bool(hist.history["loss"][-1] < 1e-4), w.round(2)
    (True, array([ 1. , -2. ,  0.5]))

See ``docs/training.md`` for the options and a worked example on scikit-learn's digits.
"""
import math
import numbers
import sys
from dataclasses import dataclass, field

import numpy as np

from fastopt import clip as _clip
from fastopt.noise import GradientNoise

__all__ = ["fit", "History"]


@dataclass
class History:
    """What :func:`fit` did.

    ``history``: per-epoch lists: ``"loss"`` (the mean training loss over the epoch's
    batches, weighted by batch size), ``"lr"`` (group 0's learning rate at the epoch's last
    step), ``"grad_norm"`` (the mean global gradient norm, when clipping by norm),
    ``"val_loss"`` and one entry per metric (``"val_<name>"`` on the validation set, or
    ``"<name>"`` on the training set when there is none).  ``epochs``/``steps``: how many ran.
    ``best_epoch``/``best``: the best epoch (0-based) and value of the monitored quantity
    (``monitor``) when early stopping is on.  ``stop_reason``: ``"epochs"``, ``"early
    stopping"``, ``"callback"`` or ``"non-finite loss"``.
    """

    history: dict = field(default_factory=dict)
    epochs: int = 0
    steps: int = 0
    monitor: str = None
    best_epoch: int = None
    best: float = None
    stop_reason: str = "epochs"

    def _log(self, logs):
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


# ----------------------------------------------------------------------------- checks

def _params_of(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if groups is None or not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"fit needs a fastopt optimizer, got {type(optimizer).__name__}")
    return [p for g in groups for p in g["params"]]


def _int(value, name, minimum, maximum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def _data(X, y, what):
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"{what} X must have at least one dimension (the examples)")
    n = len(X)
    if n == 0:
        raise ValueError(f"{what} X has no examples")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != n:
            got = len(y) if y.ndim else "a scalar"
            raise ValueError(f"{what} X has {n} examples but y has {got}")
    return X, y, n


def _take(data, index):
    if data is None or index is None:
        return data
    return data[index]


def _check_grad_result(result, params):
    """``(loss, grads)`` from the user's grad function, checked against the parameters."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError("grad(params, X_batch, y_batch) must return a tuple (loss, grads), "
                        f"got {type(result).__name__}")
    loss, grads = result
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        raise TypeError(f"grad's loss must be a real scalar, got {type(loss).__name__}"
                        ) from None
    if isinstance(grads, np.ndarray):
        grads = [grads]
    elif isinstance(grads, (list, tuple)):
        grads = list(grads)
    else:
        raise TypeError(f"grad's grads must be a list of arrays, got {type(grads).__name__}")
    if len(grads) != len(params):
        raise ValueError(f"grad returned {len(grads)} gradients for {len(params)} parameters")
    for i, (g, p) in enumerate(zip(grads, params)):
        if g is None:
            continue
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grad's gradient {i} must be a numpy array, "
                            f"got {type(g).__name__}")
        if g.shape != p.shape:
            raise ValueError(f"grad's gradient {i} has shape {g.shape}, "
                             f"its parameter has shape {p.shape}")
    return loss, grads


# ----------------------------------------------------------------------------- order

def _curriculum_keys(curriculum, X, y, n):
    keys = curriculum(X, y) if callable(curriculum) else curriculum
    keys = np.asarray(keys)
    if keys.shape != (n,):
        raise ValueError(f"the curriculum needs one key per example ({n}), "
                         f"got shape {keys.shape}")
    if keys.dtype.kind not in "biuf":
        raise TypeError(f"curriculum keys must be numbers, got dtype {keys.dtype}")
    if keys.dtype.kind == "f" and not np.all(np.isfinite(keys)):
        raise ValueError("curriculum keys must be finite")
    return keys


def _epoch_order(n, rng, shuffle, keys, strategy, mix):
    """The example order of one epoch (None: the data's own order, no indexing)."""
    if keys is None:
        return rng.permutation(n) if shuffle else None
    ties = rng.random(n) if shuffle else np.arange(n)
    order = np.lexsort((ties, keys))            # easy to hard; ties random when shuffling
    if strategy == "mixed":
        k = int(round(mix * n))
        slots = np.sort(rng.choice(n, size=k, replace=False))
        order[slots] = order[slots[rng.permutation(k)]]
    return order


# ----------------------------------------------------------------------------- progress

def _progress_bar(progress, total):
    if progress is False:
        return None
    if progress is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress is True:
            raise ImportError("progress=True needs tqdm: pip install 'fastopt[train]'"
                              ) from None
        return None
    # on a terminal by default: only runs longer than 2 s show a bar
    return tqdm(total=total, unit="step", delay=0 if progress is True else 2.0, leave=False)


# ----------------------------------------------------------------------------- fit

def fit(optimizer, grad, X, y=None, *, epochs=1, batch_size=None, shuffle=True, seed=0,
        drop_last=False, curriculum=None, curriculum_strategy="sorted", curriculum_mix=0.5,
        validation_data=None, loss=None, metrics=None, patience=None, min_delta=0.0,
        restore_best=True, max_norm=None, norm_type=2.0, clip_value=None, noise=None,
        callbacks=(), progress=None):
    r"""Train the parameters of ``optimizer`` on ``(X, y)``; returns a :class:`History`.

    Each step takes a batch ``X[idx], y[idx]``, calls ``grad(params, X_batch, y_batch) ->
    (loss, grads)`` with ``params`` the optimizer's parameters (a list, in the order of its
    param groups) and steps the optimizer with ``grads`` (one array per parameter, in the
    same order).

    Args:
        optimizer: any fastopt optimizer, or one with schedules attached
            (:func:`fastopt.schedules.attach`); after each epoch its ``observe(metric)``
            gets the monitored value (for :class:`~fastopt.schedules.ReduceOnPlateau`).
        grad: ``grad(params, X_batch, y_batch) -> (loss, grads)``; it must not keep the
            gradient arrays it returns for later use if ``clip_value`` is set (they are
            clipped in place).
        X, y: the examples along the first axis (arrays, or anything ``np.asarray``
            takes); ``y`` may be None (``grad`` then gets None).
        epochs (int): passes over the data (default 1).
        batch_size (int or None): examples per step: None or ``len(X)`` for batch gradient
            descent (the data in its order, not copied), 1 for stochastic gradient descent,
            anything between for mini-batches (default None).
        shuffle (bool): a new random order every epoch (default True).
        seed: seed of the ``numpy.random.default_rng`` that shuffles, or a Generator
            (default 0: reproducible runs; None for fresh entropy).
        drop_last (bool): skip an epoch's last batch when it is smaller (default False).
        curriculum: one difficulty key per example (an array, or ``curriculum(X, y) ->
            keys``): each epoch goes from easy (small key) to hard, ties in random order.
        curriculum_strategy (str): ``"sorted"`` (the curriculum order) or ``"mixed"``: the
            curriculum order with a random fraction ``curriculum_mix`` of its positions
            reshuffled among themselves every epoch, so hard examples appear early and
            easy ones late (Zaremba & Sutskever 2014's mixed strategy, default 0.5).
        validation_data: ``(X_val, y_val)``, evaluated after every epoch.
        loss: ``loss(params, X, y) -> float`` for the validation loss (default: the loss
            that ``grad`` returns on the whole validation set).
        metrics: ``{name: fn(params, X, y) -> float}``, evaluated after every epoch on the
            validation set (``"val_<name>"``), or on the training set without one.
        patience (int or None): stop when the monitored value (``val_loss``, or the
            training ``loss`` without validation data) has not improved by more than
            ``min_delta`` for ``patience`` epochs (default None: no early stopping).
        restore_best (bool): with ``patience``, copy the parameters of the best epoch back
            into the arrays at the end (default True).
        max_norm (float or None): clip the gradients of each step to this global
            ``norm_type``-norm, the factor applied inside the optimizer's pass
            (:func:`fastopt.clip.step_clipped`).
        clip_value (float or None): clamp every gradient element to ``[-clip_value,
            clip_value]`` first (in place).
        noise (:class:`fastopt.GradientNoise` or None): annealed Gaussian noise added to
            every step's (clipped) gradients inside the optimizer's pass
            (``optimizer.step(grads, noise=noise)``); its counter advances once per step, so
            a fresh one gives the paper's ``sigma_t`` at the optimizer's step ``t``.
        callbacks: callables ``cb(epoch, logs)`` after every epoch, ``logs`` the epoch's
            values (the keys of ``History.history``); a callback returning True stops.
        progress: a tqdm progress bar: None (default) shows one on a terminal when the run
            takes more than 2 s, True always, False never.

    Everything (data lengths, batch size, the curriculum, the validation set, the first
    gradient's shapes) is checked before the first step, with ValueError/TypeError.  A
    non-finite training loss stops the run (``stop_reason == "non-finite loss"``).
    """
    params = _params_of(optimizer)
    if not callable(grad):
        raise TypeError(f"grad must be callable, got {type(grad).__name__}")
    X, y, n = _data(X, y, "the training data:")
    epochs = _int(epochs, "epochs", 1)
    if batch_size is None:
        batch_size = n
    batch_size = _int(batch_size, "batch_size", 1, n)
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(seed)
    keys = None
    if curriculum is not None:
        keys = _curriculum_keys(curriculum, X, y, n)
        if curriculum_strategy not in ("sorted", "mixed"):
            raise ValueError("curriculum_strategy must be 'sorted' or 'mixed', "
                             f"got {curriculum_strategy!r}")
        if not (isinstance(curriculum_mix, numbers.Real) and 0.0 <= curriculum_mix <= 1.0):
            raise ValueError(f"curriculum_mix must be in [0, 1], got {curriculum_mix!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val, y_val, _ = _data(*validation_data, "the validation data:")
        if (y is None) != (y_val is None):
            raise ValueError("the validation data must have a y exactly when the "
                             "training data does")
        if X_val.shape[1:] != X.shape[1:]:
            raise ValueError(f"validation examples have shape {X_val.shape[1:]}, "
                             f"training examples {X.shape[1:]}")
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be callable, got {type(loss).__name__}")
    metrics = dict(metrics or {})
    for name, fn in metrics.items():
        if not callable(fn):
            raise TypeError(f"metric {name!r} must be callable, got {type(fn).__name__}")
    if patience is not None:
        patience = _int(patience, "patience", 0)
    if not (isinstance(min_delta, numbers.Real) and min_delta >= 0):
        raise ValueError(f"min_delta must be a number >= 0, got {min_delta!r}")
    if max_norm is not None:
        _clip.clip_factor(0.0, max_norm)       # checks max_norm
        _clip._norm_type(norm_type)
    if clip_value is not None and not (isinstance(clip_value, numbers.Real)
                                       and clip_value >= 0):
        raise ValueError(f"clip_value must be a number >= 0, got {clip_value!r}")
    if noise is not None and not isinstance(noise, GradientNoise):
        raise TypeError(f"noise must be a fastopt.GradientNoise or None, "
                        f"got {type(noise).__name__}")
    step_kw = {} if noise is None else {"noise": noise}
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callable, got {type(cb).__name__}")

    if batch_size == n:         # one batch of everything: the order changes nothing
        shuffle, keys = False, None
    batches_per_epoch = n // batch_size if drop_last else -(-n // batch_size)
    monitor = "val_loss" if validation_data is not None else "loss"
    hist = History(monitor=monitor if patience is not None else None)
    best, best_params, waited = math.inf, None, 0
    bar = _progress_bar(progress, epochs * batches_per_epoch)

    def evaluate(Xe, ye):
        if loss is not None:
            return float(loss(params, Xe, ye))
        return _check_grad_result(grad(params, Xe, ye), params)[0]

    try:
        for epoch in range(epochs):
            order = _epoch_order(n, rng, shuffle, keys, curriculum_strategy, curriculum_mix)
            total, seen, norms = 0.0, 0, []
            stop = None
            for b in range(batches_per_epoch):
                if batch_size == n:
                    index = None
                elif order is None:
                    index = slice(b * batch_size, min((b + 1) * batch_size, n))
                else:
                    index = order[b * batch_size:(b + 1) * batch_size]
                Xb, yb = _take(X, index), _take(y, index)
                batch_loss, grads = _check_grad_result(grad(params, Xb, yb), params)
                if not math.isfinite(batch_loss):
                    stop = "non-finite loss"
                    break
                if clip_value is not None:
                    _clip.clip_grad_value_(grads, clip_value)
                if max_norm is not None:
                    norms.append(_clip.step_clipped(optimizer, grads, max_norm, norm_type,
                                                    noise=noise))
                else:
                    optimizer.step(grads, **step_kw)
                size = len(Xb)
                total += batch_loss * size
                seen += size
                hist.steps += 1
                if bar is not None:
                    bar.update(1)
            if stop is not None and seen == 0:
                hist.stop_reason = stop
                break
            logs = {"loss": total / seen,
                    "lr": float(optimizer.param_groups[0].get("lr", math.nan))}
            if norms:
                logs["grad_norm"] = float(np.mean(norms))
            if validation_data is not None:
                logs["val_loss"] = evaluate(X_val, y_val)
                for name, fn in metrics.items():
                    logs[f"val_{name}"] = float(fn(params, X_val, y_val))
            else:
                for name, fn in metrics.items():
                    logs[name] = float(fn(params, X, y))
            hist._log(logs)
            hist.epochs += 1
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k != "lr"})
            if stop is not None:
                hist.stop_reason = stop
                break
            current = logs[monitor]
            if hasattr(optimizer, "observe"):
                optimizer.observe(current)
            if patience is not None:
                if current < best - min_delta:
                    best, waited = current, 0
                    hist.best, hist.best_epoch = current, epoch
                    if restore_best:
                        best_params = [p.copy() for p in params]
                else:
                    waited += 1
            answers = [cb(epoch, dict(logs)) for cb in callbacks]
            if any(answer is True for answer in answers):
                hist.stop_reason = "callback"
                break
            if patience is not None and waited > 0 and waited >= patience:
                hist.stop_reason = "early stopping"
                break
    finally:
        if bar is not None:
            bar.close()
    if best_params is not None:
        for p, saved in zip(params, best_params):
            np.copyto(p, saved)
    return hist
