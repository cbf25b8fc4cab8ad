"""The batched problems, the normalisation and categories, and a small suite end to end."""
import json

import numpy as np
import pytest

from fastopt.unittests import Config, Problem, categorise, configs, quick_suite, run
from fastopt.unittests.batch import Batch
from fastopt.unittests.cli import main as cli_main
from fastopt.unittests.protocol import normalise
from fastopt.unittests.prototypes import SCALES, concatenate
from fastopt.unittests.report import summary, table, to_json
from fastopt.unittests.suite import GROUPS, full_suite, groups_of


def sgd(lr):
    return Config("sgd", (("lr", lr),))


def bowl(noise="noiseless", scale="normal", **kw):
    return Problem(("quad_bowl",), (noise,), (scale,), **kw)


def test_normalise_is_one_for_the_reference_and_zero_for_no_progress():
    assert normalise(0.0, 10.0, 0.0) == 1.0
    assert normalise(10.0, 10.0, 0.0) == 0.0
    assert normalise(-10.0, 10.0, 0.0) == 2.0
    assert normalise(-1e20, 10.0, 0.0) == pytest.approx((-1e10 - 10) / -10)


def test_categories_follow_the_papers_rules_in_order():
    f_init, f_best = 10.0, 0.0
    finals = np.array([
        [0.5, 0.5, 0.5, 0.5],       # normalised 0.95: good
        [-20, -20, -20, -20],       # 3: excellent
        [9.5, 9.5, 9.5, 9.5],       # 0.05: poor
        [1.0, 1.0, 9.9, 9.9],       # median 5.45 -> 0.455, half the runs poor: unstable
        [1.0, 1.0, 1.0, 1.0],       # one run diverged: partly diverged
        [1.0, 1.0, 1.0, 1.0],       # three of four diverged: diverged
    ])
    diverged = np.zeros(finals.shape, bool)
    diverged[4, 0] = True
    diverged[5, :3] = True
    norm, cats = categorise(finals, diverged, f_init, f_best)
    assert cats == ["good", "excellent", "poor", "unstable", "partly diverged", "diverged"]
    np.testing.assert_allclose(norm[:5], [0.95, 3.0, 0.05, 0.455, 0.9])
    assert norm[5] == np.inf


def test_a_run_on_the_bowl_gives_the_known_answer():
    # f = (x - 1/2)^2 + 199.75 from x = 0: lr = 1/2 is the exact Newton step (normalised 1),
    # lr = 1 bounces between 0 and 1 (no progress after an even number of steps), lr = 2
    # diverges, lr = 1e-12 does nothing.
    result = run([bowl()], [sgd(0.5), sgd(1.0), sgd(2.0), sgd(1e-12)], repetitions=3,
                 steps=40)
    assert result.f_init[0] == pytest.approx(200.0)
    assert result.f_best[0] == pytest.approx(199.75)
    assert result.best_sgd[0] == 0
    cats = [row[0] for row in result.categories]
    assert cats == ["good", "poor", "diverged", "poor"]
    assert result.normalised[0, 0] == pytest.approx(1.0)
    assert result.normalised[1, 0] == pytest.approx(0.0, abs=1e-12)


def test_a_problem_no_sgd_rate_improves_has_no_reference():
    flat = Problem(("bend",), ("noiseless",), ("normal",))   # starts on a plateau: g = 0
    result = run([flat, bowl()], [sgd(0.1), Config("adam", (("lr", 0.1),))], repetitions=2,
                 steps=10)
    assert result.scored == [1]
    assert result.categories[1][0] is None


def test_batched_gradients_match_the_single_functions_at_every_coordinate():
    problems = [bowl(), Problem(("quad_convex-relu-bend-exponential",), ("noiseless",),
                                ("steep",)),
                Problem(("abs", "quad_bowl"), ("noiseless",) * 2, ("normal",) * 2)]
    b = Batch(problems, repetitions=2)
    b.advance(0)
    x = np.random.default_rng(0).uniform(-0.5, 1.5, size=(3, 2, b.n))
    g = b.gradient(x)
    f1 = concatenate("quad_bowl", **SCALES["normal"])
    np.testing.assert_allclose(g[..., 0], f1(x[..., 0])[1])
    f2 = concatenate("quad_convex-relu-bend-exponential", **SCALES["steep"])
    np.testing.assert_allclose(g[..., 1], f2(x[..., 1])[1])
    fa, ga = concatenate("abs", **SCALES["normal"])(x[..., 2])
    fb, gb = concatenate("quad_bowl", **SCALES["normal"])(x[..., 3])
    np.testing.assert_allclose(g[..., 2], np.sign(fa) * ga)       # L1 norm of the two
    np.testing.assert_allclose(g[..., 3], np.sign(fb) * gb)
    expected, diverged = b.expected(x)
    np.testing.assert_allclose(expected[..., 2], np.abs(fa) + np.abs(fb))
    assert not diverged.any()


def test_rotated_gradients_are_the_gradients_of_the_rotated_function():
    p = Problem(("abs", "quad_bowl"), ("noiseless",) * 2, ("normal",) * 2, rotate=True)
    b = Batch([p], repetitions=1)
    b.advance(0)
    x = np.array([[[0.3, -0.2]]])
    g = b.gradient(x)
    h = 1e-6
    fd = [(b.expected(x + h * e)[0] - b.expected(x - h * e)[0])[0, 0, 0] / (2 * h)
          for e in np.eye(2)]
    np.testing.assert_allclose(g[0, 0], fd, rtol=1e-6)
    assert b.expected(b.start[None])[0][0, 0, 0] == pytest.approx(400.0)   # |200| + |200|


def test_a_curl_adds_a_field_orthogonal_to_the_position():
    plain = Problem(("quad_bowl",) * 10, ("noiseless",) * 10, ("normal",) * 10)
    curled = Problem(("quad_bowl",) * 10, ("noiseless",) * 10, ("normal",) * 10, curl=True)
    b = Batch([plain, curled], repetitions=1)
    b.advance(0)
    x = np.random.default_rng(1).normal(size=(1, 1, 10))
    g = b.gradient(np.concatenate([x, x], axis=-1))
    extra = g[..., 10:] - g[..., :10]
    assert np.abs(extra).max() > 0.1
    assert float(np.sum(extra * x)) == pytest.approx(0.0, abs=1e-12)


def test_noisy_gradients_average_to_the_true_gradient_and_noise_is_shared_by_configs():
    b = Batch([bowl("gauss_add_high")], repetitions=4000)
    b.advance(0)
    x = np.zeros((2, 4000, 1))
    g = b.gradient(x)
    np.testing.assert_array_equal(g[0], g[1])          # the same stream for every config
    assert g[0].mean() == pytest.approx(-1.0, abs=5 * 10 / np.sqrt(4000))
    assert g[0].std() == pytest.approx(10.0, rel=0.05)


def test_non_stationarities_change_the_function_on_their_schedule():
    kinds = ["scale", "offset", "switch", "moving", "noise"]
    problems = [bowl(nonstationary=k) for k in kinds[:4]]
    problems.append(bowl("gauss_add_normal", nonstationary="noise"))
    b = Batch(problems, repetitions=3)
    x = b.start[None].copy()
    grads = []
    for t in range(21):
        b.advance(t)
        if t in (0, 9, 10, 19, 20):
            grads.append((t, b.gradient(x)[0].copy(), b.scale.copy()))
    g = {t: (gr, sc) for t, gr, sc in grads}
    # scale and offset: unchanged within the first period, changed at step 10, per repetition
    for j in (0, 1):
        np.testing.assert_array_equal(g[0][0][:, j], g[9][0][:, j])
        assert np.all(g[10][0][:, j] != g[9][0][:, j])
        assert len(set(g[10][0][:, j])) == 3
    # switching: normal slope -1 until step 20, then the steep scale's -10
    assert np.all(g[19][0][:, 2] == -1.0) and np.all(g[20][0][:, 2] == -10.0)
    # moving target: the slope at the start drifts every step
    assert np.all(g[9][0][:, 3] != g[0][0][:, 3])
    # noise: the noise scale is redrawn every 10 steps
    assert np.all(g[9][1][:, 4] == 0.1) and np.all(g[10][1][:, 4] != 0.1)


def test_the_suite_covers_every_group_with_distinct_problems():
    problems = full_suite()
    assert len({p.name for p in problems}) == len(problems) > 2000
    covered = {g for p in problems for g in groups_of(p)}
    assert covered == set(GROUPS)
    assert {p.dim for p in problems} == {1, 2, 10}
    quick = quick_suite()
    assert {g for p in quick for g in groups_of(p)} == set(GROUPS) and len(quick) < 120


def test_every_family_has_a_grid_and_sgd_a_log_spaced_reference():
    cfgs = configs()
    sgd_lrs = [dict(c.hyper)["lr"] for c in cfgs if c.family == "sgd"]
    assert len(sgd_lrs) >= 20 and np.all(np.diff(np.log10(sgd_lrs)) == pytest.approx(0.25,
                                                                                    abs=0.01))
    assert {c.family for c in cfgs} == {"sgd", "momentum", "nesterov", "adagrad", "adadelta",
                                        "rmsprop", "adam", "amsgrad", "adamax", "nadam"}


def test_a_small_suite_runs_end_to_end_with_table_json_and_grid(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_json, out_png = tmp_path / "u.json", tmp_path / "u.png"
    assert cli_main(["--quick", "--repetitions", "2", "--steps", "15", "--no-progress",
                     "--json", str(out_json), "--png", str(out_png)]) == 0
    text = capsys.readouterr().out
    assert "1D noiseless" in text and "adam" in text and "best sgd" in text
    data = json.loads(out_json.read_text())
    assert data["repetitions"] == 2 and data["steps"] == 15
    assert len(data["categories"]) == len(data["configs"])
    assert len(data["categories"][0]) == len(data["problems"])
    import matplotlib.image
    img = matplotlib.image.imread(out_png)
    assert img.shape[0] > 100 and img.shape[1] > 100


def test_reports_summarise_every_family():
    result = run(quick_suite()[:12], configs(quick=True), repetitions=2, steps=10)
    summ = summary(result)
    assert set(summ) == {c.family for c in result.configs}
    for entry in summ.values():
        for key, val in entry.items():
            if key != "best":
                assert 0 <= val[0] <= 1 and 0 <= val[1] <= 1
    assert "sgd" in table(result)
    assert json.dumps(to_json(result))


def test_bad_cli_arguments_exit_with_usage_errors():
    with pytest.raises(SystemExit):
        cli_main(["--families", "sgd,lbfgs"])
    with pytest.raises(SystemExit):
        cli_main(["--steps", "0"])
