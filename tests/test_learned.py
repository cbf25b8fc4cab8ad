"""The learned optimizer: the shipped checkpoint beats tuned SGD on held-out quadratics; the
NumPy forward pass is the torch one; the commands run."""
import numpy as np
import pytest

from fastopt.learned import CHECKPOINT, LSTMOptimizer, load_weights
from fastopt.learned.cli import main
from fastopt.learned.compare import BASELINES, compare, run_optimizer, tune
from fastopt.learned.quadratics import Quadratics


def test_the_shipped_learned_optimizer_beats_tuned_sgd_on_held_out_quadratics():
    curves = compare(problems=128, steps=100, baselines=("sgd", "adam"))
    assert curves["lstm"][-1] < 0.5 * curves["sgd"][-1]
    assert curves["lstm"][-1] < curves["adam"][-1]
    assert curves["lstm"][-1] < 0.05 * curves["lstm"][0]


def test_sgd_tuning_picks_a_rate_of_the_grid_that_converges():
    q = Quadratics.sample(64, seed=5)
    lr = tune("sgd", q, 50)
    cls, kwargs = BASELINES["sgd"]
    curve = run_optimizer(lambda x: cls([x], lr=lr, **kwargs), q, 50)
    assert np.isfinite(curve).all() and curve[-1] < curve[0]


def test_the_quadratics_gradient_is_the_derivative_of_the_loss():
    q = Quadratics.sample(3, seed=0)
    x = np.random.default_rng(1).normal(size=(3, 10))
    h = 1e-6
    fd = np.stack([(q.loss(x + h * e) - q.loss(x - h * e)) / (2 * h) for e in np.eye(10)], 1)
    np.testing.assert_allclose(q.grad(x), fd, rtol=1e-6, atol=1e-8)


def test_the_optimizer_updates_several_arrays_in_place_and_checks_its_input():
    a, b = np.zeros(3), np.zeros((2, 2), dtype=np.float32)
    opt = LSTMOptimizer([a, b])
    opt.step([np.ones(3), -np.ones((2, 2), dtype=np.float32)])
    assert np.all(a < 0) and np.all(b > 0) and b.dtype == np.float32
    with pytest.raises(ValueError, match="expected 2 gradients"):
        opt.step([np.ones(3)])
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.ones(4), np.ones((2, 2))])
    with pytest.raises(TypeError):
        LSTMOptimizer([np.zeros(3, dtype=int)])


def test_the_numpy_forward_pass_matches_torch():
    torch = pytest.importorskip("torch")
    from fastopt.learned.train import LSTMNet
    w = load_weights(CHECKPOINT)
    net = LSTMNet(hidden=w["hidden"]).double()
    with torch.no_grad():
        for cell, i in ((net.cell0, 0), (net.cell1, 1)):
            cell.weight_ih.copy_(torch.from_numpy(w[f"w_ih{i}"]))
            cell.weight_hh.copy_(torch.from_numpy(w[f"w_hh{i}"]))
            cell.bias_ih.copy_(torch.from_numpy(w[f"b{i}"]))
            cell.bias_hh.zero_()
        net.out.weight.copy_(torch.from_numpy(w["w_out"]))
        net.out.bias.copy_(torch.from_numpy(w["b_out"]))
        g = np.random.default_rng(0).normal(scale=3.0, size=(4, 50))
        x = np.zeros(50)
        opt = LSTMOptimizer([x], weights=w)
        state = net.initial_state(50, dtype=torch.float64)
        for row in g:
            ours = opt.update(row)
            theirs, state = net(torch.from_numpy(row), state)
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-14)


def test_meta_training_runs_and_writes_a_checkpoint_the_optimizer_reads(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "net.npz"
    assert main(["train", "--epochs", "1", "--batch", "4", "--out", str(out)]) == 0
    x = np.zeros(5)
    LSTMOptimizer([x], weights=str(out)).step([np.ones(5)])
    assert np.all(np.isfinite(x)) and "meta-loss" in capsys.readouterr().out


def test_the_compare_command_prints_the_table_and_writes_the_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "learned.png"
    assert main(["compare", "--problems", "16", "--steps", "30", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "lstm" in text and "sgd" in text and out.stat().st_size > 0
