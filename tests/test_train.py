"""fastopt.train.fit: batching, shuffling, curriculum order, early stopping, history,
callbacks, clipping, schedules, the progress bar and the error paths."""
import importlib.util
import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import fastopt
from fastopt import schedules as S
from fastopt.train import fit

ROOT = pathlib.Path(__file__).resolve().parents[1]


def regression(n=64, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1)
    return X, y


def mse_grad(params, Xb, yb):
    r = Xb @ params[0] - yb
    return 0.5 * float(np.mean(r ** 2)), [Xb.T @ r / len(yb)]


class Recorder:
    """A grad function that records the example ids (column 0 of X) of every batch."""

    def __init__(self):
        self.batches = []

    def __call__(self, params, Xb, yb):
        self.batches.append(Xb[:, 0].astype(int).copy())
        return 0.0, [np.zeros_like(params[0])]


def ids(n):
    return np.arange(n, dtype=np.float64)[:, None], np.zeros(n)


# ----------------------------------------------------------------------------- batching

def test_batch_mode_is_one_step_per_epoch_on_the_data_itself():
    X, y = regression()
    seen = []

    def grad(params, Xb, yb):
        seen.append((Xb, yb))
        return mse_grad(params, Xb, yb)
    hist = fit(fastopt.SGD([np.zeros(3)], lr=0.1), grad, X, y, epochs=4)
    assert hist.steps == 4 and hist.epochs == 4 and len(hist.history["loss"]) == 4
    assert all(Xb is X and yb is y for Xb, yb in seen)


def test_stochastic_mode_visits_every_example_once_per_epoch_in_a_new_order():
    X, y = ids(20)
    rec = Recorder()
    hist = fit(fastopt.SGD([np.zeros(1)], lr=0.1), rec, X, y, epochs=3, batch_size=1)
    assert hist.steps == 60 and all(len(b) == 1 for b in rec.batches)
    epochs = [np.concatenate(rec.batches[i * 20:(i + 1) * 20]) for i in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(20))
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1],
                                                                           epochs[2])


@pytest.mark.parametrize("drop_last, sizes", [(False, [8, 8, 8, 6]), (True, [8, 8, 8])])
def test_mini_batches_cover_the_data_with_a_smaller_last_batch_or_drop_it(drop_last, sizes):
    X, y = ids(30)
    rec = Recorder()
    fit(fastopt.SGD([np.zeros(1)], lr=0.1), rec, X, y, batch_size=8, drop_last=drop_last)
    assert [len(b) for b in rec.batches] == sizes
    got = np.concatenate(rec.batches)
    assert len(set(got)) == len(got)


def test_shuffling_is_reproducible_from_the_seed_and_off_when_asked():
    X, y = ids(25)

    def orders(**kw):
        rec = Recorder()
        fit(fastopt.SGD([np.zeros(1)], lr=0.1), rec, X, y, epochs=2, batch_size=5, **kw)
        return np.concatenate(rec.batches)
    assert np.array_equal(orders(seed=3), orders(seed=3))
    assert not np.array_equal(orders(seed=3), orders(seed=4))
    assert np.array_equal(orders(seed=np.random.default_rng(9)),
                          orders(seed=np.random.default_rng(9)))
    np.testing.assert_array_equal(orders(shuffle=False), np.tile(np.arange(25), 2))


def test_epoch_loss_is_the_batch_size_weighted_mean_of_the_batch_losses():
    X, y = ids(10)
    losses = iter(range(1, 100))

    def grad(params, Xb, yb):
        return float(next(losses)) * len(Xb), [np.zeros(1)]     # loss per example = k
    hist = fit(fastopt.SGD([np.zeros(1)], lr=0.1), grad, X, y, batch_size=4, epochs=2)
    # batches of 4, 4, 2: losses 4*1, 4*2, 2*3 -> mean (16 + 32 + 12) / 10
    assert hist.history["loss"] == [(4 * 4 + 4 * 8 + 2 * 6) / 10,
                                    (4 * 16 + 4 * 20 + 2 * 12) / 10]


# ----------------------------------------------------------------------------- curriculum

def test_sorted_curriculum_goes_easy_to_hard_with_ties_reshuffled():
    n = 40
    X, y = ids(n)
    key = np.repeat(np.arange(8), 5)[np.random.default_rng(0).permutation(n)]
    rec = Recorder()
    fit(fastopt.SGD([np.zeros(1)], lr=0.1), rec, X, y, epochs=2, batch_size=4,
        curriculum=key)
    e1, e2 = np.concatenate(rec.batches[:10]), np.concatenate(rec.batches[10:])
    for order in (e1, e2):
        assert sorted(order) == list(range(n))
        assert np.all(np.diff(key[order]) >= 0)
    assert not np.array_equal(e1, e2)                    # ties in a new order


def test_curriculum_key_may_be_a_function_of_the_data():
    X, y = ids(12)
    rec = Recorder()
    fit(fastopt.SGD([np.zeros(1)], lr=0.1), rec, X, y, batch_size=3, shuffle=False,
        curriculum=lambda X, y: -X[:, 0])
    np.testing.assert_array_equal(np.concatenate(rec.batches), np.arange(12)[::-1])


@pytest.mark.parametrize("mix", [0.0, 0.3, 1.0])
def test_mixed_curriculum_reshuffles_the_chosen_fraction_of_positions(mix):
    n = 200
    X, y = ids(n)
    key = np.random.default_rng(1).permutation(n)      # distinct keys: one sorted order
    rec = Recorder()
    fit(fastopt.SGD([np.zeros(1)], lr=0.1), rec, X, y, batch_size=10, curriculum=key,
        curriculum_strategy="mixed", curriculum_mix=mix)
    order = np.concatenate(rec.batches)
    assert sorted(order) == list(range(n))
    in_place = np.mean(key[order] == np.arange(n))       # key rank == position
    moved = round(mix * n)
    # exactly the chosen positions can move (a few may draw themselves)
    assert 1 - moved / n <= in_place <= 1 - moved / n + (0.05 if mix else 0)
    if mix == 1.0:
        assert in_place < 0.05


# ----------------------------------------------------------------------------- validation

def scripted_validation(values):
    """A loss function returning ``values`` one after the other (one per epoch)."""
    it = iter(values)
    return lambda params, X, y: next(it)


def test_early_stopping_stops_after_patience_and_restores_the_best_parameters():
    X, y = regression()
    w = np.zeros(3)
    snapshots = []
    val = [5.0, 4.0, 3.0, 3.5, 2.9999, 3.2, 3.3, 1.0]

    def record(epoch, logs):
        snapshots.append(w.copy())
    hist = fit(fastopt.SGD([w], lr=0.05), mse_grad, X, y, epochs=8,
               validation_data=(X, y), loss=scripted_validation(val), patience=2,
               min_delta=1e-3, callbacks=[record])
    # epoch 2 (3.0) is the best by more than min_delta; 3, 4 do not improve -> stop after 4
    assert hist.stop_reason == "early stopping" and hist.epochs == 5
    assert hist.best_epoch == 2 and hist.best == 3.0 and hist.monitor == "val_loss"
    assert hist.history["val_loss"] == val[:5]
    np.testing.assert_array_equal(w, snapshots[2])
    assert not np.array_equal(w, snapshots[4])


def test_without_restore_best_the_last_parameters_stay():
    X, y = regression()
    w = np.zeros(3)
    last = []
    fit(fastopt.SGD([w], lr=0.05), mse_grad, X, y, epochs=8, validation_data=(X, y),
        loss=scripted_validation([1.0, 2.0, 3.0, 4.0]), patience=3, restore_best=False,
        callbacks=[lambda e, logs: last.append(w.copy())])
    np.testing.assert_array_equal(w, last[-1])


def test_patience_without_validation_monitors_the_training_loss():
    X, y = regression()
    hist = fit(fastopt.SGD([np.zeros(3)], lr=10.0), mse_grad, X, y, epochs=50,
               batch_size=8, patience=1)          # lr too large: the loss grows
    assert hist.monitor == "loss" and hist.stop_reason in ("early stopping",
                                                           "non-finite loss")
    assert hist.epochs < 50


def test_metrics_on_validation_data_and_on_training_data_without_it():
    X, y = regression()
    w = np.zeros(3)
    metric = {"l1": lambda p, X, y: float(np.mean(np.abs(X @ p[0] - y)))}
    hist = fit(fastopt.Adam([w], lr=0.1), mse_grad, X, y, epochs=3, batch_size=16,
               validation_data=(X[:10], y[:10]), metrics=metric)
    assert set(hist.history) == {"loss", "lr", "val_loss", "val_l1"}
    assert hist.history["val_l1"][-1] == metric["l1"]([w], X[:10], y[:10])
    hist = fit(fastopt.Adam([np.zeros(3)], lr=0.1), mse_grad, X, y, metrics=metric)
    assert set(hist.history) == {"loss", "lr", "l1"}


def test_callbacks_get_each_epochs_logs_and_true_stops():
    X, y = regression()
    calls = []

    def cb(epoch, logs):
        calls.append((epoch, sorted(logs)))
        return epoch == 2
    hist = fit(fastopt.SGD([np.zeros(3)], lr=0.01), mse_grad, X, y, epochs=10,
               callbacks=[cb, lambda e, logs: calls.append("second")])
    assert hist.stop_reason == "callback" and hist.epochs == 3
    assert calls[::2] == [(e, ["loss", "lr"]) for e in range(3)] and calls[1] == "second"


def test_a_non_finite_loss_stops_the_run():
    X, y = regression()
    losses = iter([1.0, 2.0, math.inf])

    def grad(params, Xb, yb):
        return next(losses), [np.zeros(3)]
    hist = fit(fastopt.SGD([np.zeros(3)], lr=0.1), grad, X, y, epochs=5)
    assert hist.stop_reason == "non-finite loss" and hist.epochs == 2 and hist.steps == 2


# ----------------------------------------------------------------------------- optimizers

OPTIMIZERS = {
    "sgd": lambda p: fastopt.SGD(p, lr=0.05),
    "momentum": lambda p: fastopt.SGD(p, lr=0.02, momentum=0.9),
    "nesterov": lambda p: fastopt.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    "adagrad": lambda p: fastopt.Adagrad(p, lr=0.5),
    "adadelta": lambda p: fastopt.Adadelta(p, lr=10.0),
    "rmsprop": lambda p: fastopt.RMSprop(p, lr=0.05),
    "adam": lambda p: fastopt.Adam(p, lr=0.05),
    "adamw": lambda p: fastopt.AdamW(p, lr=0.05, weight_decay=1e-4),
    "amsgrad": lambda p: fastopt.AMSGrad(p, lr=0.05),
    "adamax": lambda p: fastopt.Adamax(p, lr=0.2),
    "nadam": lambda p: fastopt.NAdam(p, lr=0.05),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_every_optimizer_with_and_without_a_schedule_reduces_the_loss(make, dtype):
    X, y = regression(n=128, d=4, seed=2)
    X, y = X.astype(dtype), y.astype(dtype)
    for scheduled in (False, True):
        w = np.zeros(4, dtype=dtype)
        opt = make([w])
        if scheduled:
            lr = opt.param_groups[0]["lr"]
            opt = S.attach(opt, lr=S.warmup_cosine(lr, warmup_steps=5, decay_steps=80,
                                                   final_value=lr / 10))
        hist = fit(opt, mse_grad, X, y, epochs=10, batch_size=16)
        first, last = hist.history["loss"][0], hist.history["loss"][-1]
        assert last < 0.5 * first, (scheduled, hist.history["loss"])
        if scheduled:
            assert opt.count == hist.steps == 80


SCHEDULES = {
    "constant": lambda: S.constant(0.3),
    "time_based": lambda: S.time_based(0.3, decay=0.1),
    "step_decay": lambda: S.step_decay(0.3, rate=0.5, every=10),
    "exponential": lambda: S.exponential(0.3, decay=0.02),
    "linear": lambda: S.linear(0.06, 0.3, steps=8),
    "polynomial": lambda: S.polynomial(0.3, 0.03, steps=40, power=2.0),
    "cosine": lambda: S.cosine(0.3, steps=40, final_value=0.03),
    "cosine_restarts": lambda: S.cosine_restarts(0.3, T_0=8, T_mult=2, final_value=0.03),
    "one_cycle": lambda: S.one_cycle(0.3, total_steps=40),
    "join": lambda: S.join([S.linear(0.06, 0.3, 8), S.exponential(0.3, 0.3)], [8]),
    "warmup_cosine": lambda: S.warmup_cosine(0.3, warmup_steps=4, decay_steps=36,
                                             final_value=0.03),
    "per_epoch": lambda: S.per_epoch(S.step_decay(0.3, rate=0.7, every=2), steps_per_epoch=4),
    "reduce_on_plateau": lambda: S.ReduceOnPlateau(0.3, factor=0.5, patience=1),
}


@pytest.mark.parametrize("make", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_every_schedule_drives_the_learning_rate_of_each_step_in_fit(make):
    X, y = regression(n=64, d=4, seed=3)
    sched = make()
    lrs = []

    class Spy:                                   # records the lr each step runs with
        def __init__(self, opt):
            self.opt = opt
            self.param_groups = opt.param_groups

        def step(self, grads, **kw):
            lrs.append(self.opt.param_groups[0]["lr"])
            self.opt.step(grads, **kw)
    w = np.zeros(4)
    opt = S.attach(Spy(fastopt.Adam([w], lr=1.0)), lr=sched)
    hist = fit(opt, mse_grad, X, y, epochs=10, batch_size=16, noise=None)
    assert hist.steps == opt.count == 40
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["lr"] == lrs[3::4]       # group 0's lr at each epoch's last step
    if isinstance(sched, S.ReduceOnPlateau):
        assert lrs[0] == 0.3 and all(a >= b for a, b in zip(lrs, lrs[1:]))
    else:
        assert lrs == [sched(n) for n in range(40)]


def test_reduce_on_plateau_is_driven_by_the_monitored_value():
    X, y = regression()
    plateau = S.ReduceOnPlateau(0.1, factor=0.5, patience=0)
    opt = S.attach(fastopt.SGD([np.zeros(3)], lr=0.1), lr=plateau)
    hist = fit(opt, mse_grad, X, y, epochs=4, validation_data=(X, y),
               loss=scripted_validation([3.0, 4.0, 4.0, 1.0]))
    # epoch 0 sets the best; epochs 1 and 2 are bad: halved twice; lr logged at each epoch
    assert hist.history["lr"] == [0.1, 0.1, 0.05, 0.025]
    assert plateau(0) == 0.025


def test_clip_value_clamps_the_gradient_before_the_step():
    X, y = regression()
    w = np.zeros(3)

    def grad(params, Xb, yb):
        return 0.0, [np.array([10.0, -10.0, 0.5])]
    fit(fastopt.SGD([w], lr=1.0), grad, X, y, epochs=2, clip_value=1.0)
    np.testing.assert_array_equal(w, [-2.0, 2.0, -1.0])


def test_max_norm_records_the_mean_gradient_norm_of_the_epoch():
    X, y = regression()
    w = np.zeros(3)
    grads = iter([np.array([3.0, 4.0, 0.0]), np.array([0.0, 0.0, 1.0])] * 3)

    def grad(params, Xb, yb):
        return 0.0, [next(grads)]
    hist = fit(fastopt.SGD([w], lr=1.0), grad, X, y, epochs=1, batch_size=32,
               max_norm=1e6)
    assert hist.history["grad_norm"] == [3.0]
    np.testing.assert_array_equal(w, [-3.0, -4.0, -1.0])


def test_max_norm_clips_each_step_to_the_global_norm():
    X, y = regression()
    w = np.zeros(3)

    def grad(params, Xb, yb):
        return 0.0, [np.array([3.0, 4.0, 0.0])]
    fit(fastopt.SGD([w], lr=1.0), grad, X, y, epochs=2, max_norm=1.0)
    f = 1.0 / (5.0 + 1e-6)
    np.testing.assert_array_equal(w, -2 * (np.array([3.0, 4.0, 0.0]) * f))


def test_noise_is_added_inside_every_step_as_a_manual_loop_adds_it():
    X, y = regression(n=40)
    for max_norm in (None, 1.0):
        w_fit, w_loop = np.zeros(3), np.zeros(3)
        noise = fastopt.GradientNoise(eta=0.3, seed=11)
        hist = fit(fastopt.Adam([w_fit], lr=0.05), mse_grad, X, y, epochs=3, batch_size=8,
                   shuffle=False, noise=noise, max_norm=max_norm)
        assert noise.step == hist.steps == 15
        opt, mirror = fastopt.Adam([w_loop], lr=0.05), fastopt.GradientNoise(eta=0.3, seed=11)
        for _ in range(3):
            for b in range(0, 40, 8):
                _, g = mse_grad([w_loop], X[b:b + 8], y[b:b + 8])
                if max_norm is None:
                    opt.step(g, noise=mirror)
                else:
                    fastopt.clip.step_clipped(opt, g, max_norm, noise=mirror)
        assert w_fit.tobytes() == w_loop.tobytes()
        quiet = np.zeros(3)
        fit(fastopt.Adam([quiet], lr=0.05), mse_grad, X, y, epochs=3, batch_size=8,
            shuffle=False, max_norm=max_norm)
        assert not np.array_equal(quiet, w_fit)


def test_noise_passes_through_a_scheduled_optimizer_in_fit():
    X, y = regression(n=16)
    w = np.zeros(3)

    def zero(params, Xb, yb):
        return 0.0, [np.zeros(3)]
    noise = fastopt.GradientNoise(eta=1.0, seed=4)
    expected = -0.5 * noise.sample(3, t=0) - 0.25 * noise.sample(3, t=1)
    opt = S.attach(fastopt.SGD([w], lr=1.0), lr=S.exponential(0.5, decay=math.log(2.0)))
    fit(opt, zero, X, y, epochs=2, noise=noise)
    np.testing.assert_allclose(w, expected, rtol=1e-15)
    assert noise.step == opt.count == 2


# ----------------------------------------------------------------------------- progress

def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    pytest.importorskip("tqdm")
    X, y = regression()
    fit(fastopt.SGD([np.zeros(3)], lr=0.01), mse_grad, X, y, epochs=3)
    assert capsys.readouterr().err == ""            # pytest's stderr is not a terminal
    fit(fastopt.SGD([np.zeros(3)], lr=0.01), mse_grad, X, y, epochs=3, progress=True)
    assert "step" in capsys.readouterr().err
    fit(fastopt.SGD([np.zeros(3)], lr=0.01), mse_grad, X, y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- errors

def wrong_shape(params, Xb, yb):
    return 0.0, [np.zeros(2)]


def wrong_count(params, Xb, yb):
    return 0.0, [np.zeros(3), np.zeros(3)]


def not_a_pair(params, Xb, yb):
    return [np.zeros(3)]


def bad_loss(params, Xb, yb):
    return "low", [np.zeros(3)]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(y=np.zeros(5)), ValueError, "64 examples but y has 5"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=65), ValueError, "batch_size"),
    (dict(batch_size=2.0), TypeError, "batch_size"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(grad=wrong_shape), ValueError, r"gradient 0 has shape \(2,\)"),
    (dict(grad=wrong_count), ValueError, "2 gradients for 1 parameters"),
    (dict(grad=not_a_pair), TypeError, "tuple"),
    (dict(grad=bad_loss), TypeError, "loss"),
    (dict(grad=None), TypeError, "grad"),
    (dict(curriculum=np.zeros(3)), ValueError, "one key per example"),
    (dict(curriculum=np.zeros(64), curriculum_strategy="random"), ValueError, "strategy"),
    (dict(curriculum=np.zeros(64), curriculum_mix=1.5), ValueError, "curriculum_mix"),
    (dict(validation_data=(np.zeros((4, 3)), np.zeros(5))), ValueError, "4 examples"),
    (dict(validation_data=(np.zeros((4, 2)), np.zeros(4))), ValueError, "shape"),
    (dict(validation_data=np.zeros((4, 3))), TypeError, "pair"),
    (dict(patience=-1), ValueError, "patience"),
    (dict(max_norm=0.0), ValueError, "max_norm"),
    (dict(clip_value=-1.0), ValueError, "clip_value"),
    (dict(noise=0.3), TypeError, "GradientNoise"),
    (dict(callbacks=[1]), TypeError, "callable"),
    (dict(metrics={"acc": 3}), TypeError, "acc"),
])
def test_bad_arguments_raise_before_any_parameter_is_written(kwargs, error, match):
    X, y = regression()
    w = np.ones(3)
    args = dict(grad=mse_grad, y=y)
    args.update(kwargs)
    grad = args.pop("grad")
    yy = args.pop("y")
    with pytest.raises(error, match=match):
        fit(fastopt.SGD([w], lr=0.1), grad, X, yy, **args)
    np.testing.assert_array_equal(w, 1.0)


def test_fit_needs_an_optimizer():
    X, y = regression()
    with pytest.raises(TypeError, match="optimizer"):
        fit([np.zeros(3)], mse_grad, X, y)


# ----------------------------------------------------------------------------- the example

def load_digits_example():
    spec = importlib.util.spec_from_file_location("digits_example",
                                                  ROOT / "examples" / "digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DIGITS_RUN = """
import importlib.util, json, sys
import fastopt
from fastopt.train import History
spec = importlib.util.spec_from_file_location("digits_example", sys.argv[1])
digits = importlib.util.module_from_spec(spec)
spec.loader.exec_module(digits)
data = digits.load_data(seed=0)
model, hist = digits.train(data, "softmax", digits.OPTIMIZERS["Adam"], epochs=30,
                           batch_size=32)
print(json.dumps({"fastopt": fastopt.__file__, "history": isinstance(hist, History),
                  "epochs": hist.epochs, "val_acc": hist.history["val_acc"][-1],
                  "test_acc": digits.accuracy(model, data.X_test, data.y_test)}))
"""


def test_softmax_regression_with_adam_reaches_95_percent_on_digits_in_a_fresh_process():
    """The example's own softmax + Adam run (30 epochs, a few seconds), in a new interpreter
    that imports the fastopt under test: nothing set up by the test session helps it."""
    pytest.importorskip("sklearn")
    env = dict(os.environ)
    package_root = str(pathlib.Path(fastopt.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in [env.get("PYTHONPATH")]
                                                          if p])
    done = subprocess.run([sys.executable, "-c", DIGITS_RUN, str(ROOT / "examples" / "digits.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert pathlib.Path(out["fastopt"]).resolve() == pathlib.Path(fastopt.__file__).resolve()
    assert out["history"] and out["epochs"] == 30
    assert out["test_acc"] >= 0.95, out
    assert out["val_acc"] >= 0.9, out


def test_digits_table_and_figure_have_every_run(tmp_path):
    pytest.importorskip("matplotlib")
    digits = load_digits_example()
    rows = [{"model": m, "optimizer": o, "schedule": s, "seconds": 0.1,
             "loss": [1.0, 0.5, 0.25], "val_loss": 0.3, "test_acc": 0.9}
            for m in digits.MODELS for o in digits.OPTIMIZERS for s in (False, True)]
    text = digits.table(rows)
    assert len(text.splitlines()) == 2 + 2 * 8 * 2 and "warm-up + cosine" in text
    digits.figure(rows, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_lists_are_taken_as_arrays_and_a_scalar_y_is_rejected():
    X, y = regression(n=16)
    w = np.zeros(3)
    fit(fastopt.SGD([w], lr=0.1), mse_grad, X.tolist(), y.tolist(), batch_size=4)
    assert np.all(w != 0)
    with pytest.raises(ValueError, match="a scalar"):
        fit(fastopt.SGD([w], lr=0.1), mse_grad, X, 1.0)


def test_a_scheduled_optimizer_delegates_attributes_and_a_bare_one_has_none():
    w = np.zeros(2)
    opt = S.attach(fastopt.SGD([w], lr=0.1), lr=S.constant(0.1))
    assert opt.param_groups is opt.optimizer.param_groups and opt.state is opt.optimizer.state
    bare = S.Scheduled.__new__(S.Scheduled)          # as copy/pickle create it
    assert not hasattr(bare, "param_groups")
