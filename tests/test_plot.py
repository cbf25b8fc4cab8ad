"""Trajectory pictures: files written and readable, and the paths behave as the literature says."""
import numpy as np
import pytest

from fastopt.plot import FUNCTIONS, OPTIMIZERS, main, plot, trajectories

ADAPTIVE = ["adagrad", "adadelta", "rmsprop", "adam", "adamax", "nadam", "amsgrad"]


def test_every_method_ends_near_beales_minimum_with_its_default_rate():
    paths = trajectories("beale", list(OPTIMIZERS))
    for name, path in paths.items():
        assert np.linalg.norm(path[-1] - [3.0, 0.5]) < 0.1, name
        assert len(path) == 2001


def test_gradient_descent_started_on_the_saddles_ridge_stays_on_it():
    path = trajectories("saddle", ["sgd"], start=(1.0, 0.0))["sgd"]
    assert np.all(path[:, 1] == 0.0)
    assert abs(path[-1, 0]) < 0.01                   # it walked into the saddle point


def test_adaptive_methods_leave_the_saddle_while_gradient_descent_lingers():
    paths = trajectories("saddle", ["sgd"] + ADAPTIVE)
    assert abs(paths["sgd"][-1, 1]) < 0.5
    for name in ADAPTIVE:
        assert abs(paths[name][-1, 1]) > 1.0, name


def test_gradient_descent_crawls_into_the_monkey_saddle_and_adaptive_methods_do_not():
    paths = trajectories("monkey", ["sgd", "adagrad", "rmsprop", "adam"])
    assert np.linalg.norm(paths["sgd"][-1]) < 0.2
    for name in ("adagrad", "rmsprop", "adam"):
        assert np.linalg.norm(paths[name][-1]) > 1.0, name


def test_rosenbrock_and_himmelblau_paths_reach_a_minimum_with_adam():
    assert np.linalg.norm(trajectories("rosenbrock", ["adam"])["adam"][-1] - 1) < 0.01
    end = trajectories("himmelblau", ["adam"])["adam"][-1]
    minima = np.array(FUNCTIONS["himmelblau"][3])
    assert np.min(np.linalg.norm(minima - end, axis=1)) < 1e-3


def test_png_and_animated_gif_are_written_and_readable(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image
    png, gif = tmp_path / "beale.png", tmp_path / "saddle.gif"
    plot("beale", ["sgd", "adam"], str(png), steps=50)
    assert Image.open(png).size[0] > 300
    plot("saddle", ["sgd", "rmsprop"], str(gif), frames=8)
    with Image.open(gif) as im:
        assert im.n_frames > 1


def test_the_command_writes_the_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "b.png"
    assert main(["--function", "beale", "--optimizers", "sgd,adam", "--steps", "20",
                 "--lr", "adam=0.1", "--out", str(out)]) == 0
    assert out.stat().st_size > 0 and "adam" in capsys.readouterr().out


def test_bad_arguments_raise_precise_errors():
    with pytest.raises(ValueError, match="unknown function"):
        trajectories("booth", ["sgd"])
    with pytest.raises(ValueError, match="unknown optimizer"):
        trajectories("beale", ["lbfgs"])
    with pytest.raises(ValueError, match="start"):
        trajectories("beale", ["sgd"], start=(1.0,))
    with pytest.raises(SystemExit):
        main(["--optimizers", "sgd,foo", "--out", "x.png"])
