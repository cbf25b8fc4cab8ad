"""The 1-D prototypes and their concatenation, against hand-computed values."""
import math

import numpy as np
import pytest

from fastopt.unittests.prototypes import (KINKED, PROTOTYPES, SCALES, concatenate,
                                          evaluate_segments, prototype)
from fastopt.unittests.suite import full_suite

NORMAL = SCALES["normal"]


def value(name, x, **scale):
    f, g = prototype(name, **{**NORMAL, **scale})(x)
    return float(f), float(g)


def test_line_relu_abs_bend_have_their_hand_computed_values():
    assert value("line", 0.3) == pytest.approx((199.7, -1.0))
    xm = 1 / (1 + math.sqrt(2))                       # relu: the kink where both arms match
    assert value("relu", 0.2) == pytest.approx((199.8, -1.0))
    assert value("relu", 0.9) == pytest.approx((200 - xm, 0.0))
    assert value("abs", 0.25) == pytest.approx((199.75, -1.0))
    assert value("abs", 0.75) == pytest.approx((199.75, 1.0))
    xb = 1 / (1 + math.sqrt(0.5))                     # bend: flat, then the scale's slope
    assert value("bend", 0.3) == pytest.approx((200.0, 0.0))
    assert value("bend", 0.9) == pytest.approx((200 - (0.9 - xb), -1.0))


def test_cliff_and_ridge_turn_to_ten_times_the_slope_at_their_kink():
    gamma = math.sqrt(2 / 101)
    xm = 1 / (1 + gamma)
    fm = 200 - xm
    assert value("cliff", 0.95) == pytest.approx((fm + 10 * (0.95 - xm), 10.0))
    assert value("ridge", 0.95) == pytest.approx((fm - 10 * (0.95 - xm), -10.0))
    assert value("cliff", 0.5) == pytest.approx((199.5, -1.0))


def test_smooth_prototypes_have_their_hand_computed_values():
    b = math.log(1000)
    assert value("exponential", 1.0) == pytest.approx((200 + (1e-3 - 1) / b, -1e-3))
    xo, a = 1 / 0.9, 0.45                             # quad_convex: slope 1/10 at the end
    assert value("quad_convex", 1.0) == pytest.approx((200 + a * ((1 - xo) ** 2 - xo ** 2), -0.1))
    assert value("quad_bowl", 0.2) == pytest.approx((199.84, -0.6))
    bg = 25 / math.exp(-0.01)                         # gauss_bowl: c = 5, mu = 0.5
    assert value("gauss_bowl", 0.5) == pytest.approx((200 + 25 - bg, 0.0))
    bl = 5 / math.exp(-0.1)                           # laplace_bowl: c = 5, mu = 0.5
    assert value("laplace_bowl", 0.5) == pytest.approx((200 + 5 - bl, 0.0))
    assert value("laplace_bowl", 0.75)[1] == pytest.approx(bl / 5 * math.exp(-0.05))


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_every_prototype_starts_at_its_start_value_and_slope(scale):
    spec = SCALES[scale]
    for name in sorted(PROTOTYPES):
        f, g = prototype(name, **spec)(spec["xs"])
        assert float(f) == pytest.approx(spec["fs"], rel=1e-12), name
        expected_slope = 0.0 if name == "bend" else spec["fprime"]
        assert float(g) == pytest.approx(expected_slope, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("name", sorted(PROTOTYPES))
def test_every_prototype_derivative_matches_finite_differences(name):
    for scale in SCALES.values():
        f = prototype(name, **scale)
        kinks = np.concatenate([f.starts[1:], f.coefs[f.coefs[:, 6] != 0, 0]])  # |x - mu|
        xs = np.linspace(-0.4, 1.4, 37)
        xs = xs[np.min(np.abs(xs[:, None] - kinks[None]), axis=1, initial=1) > 1e-3]
        h = 1e-6
        fd = (f(xs + h)[0] - f(xs - h)[0]) / (2 * h)
        np.testing.assert_allclose(f(xs)[1], fd, rtol=1e-5, atol=1e-6)


def _concatenations():
    return sorted({(p.shapes[0], p.scales[0]) for p in full_suite()
                   if p.dim == 1 and "-" in p.shapes[0]})


def test_concatenations_are_continuous_in_value_and_slope_where_pieces_meet():
    cases = _concatenations()
    assert cases
    for shape, scale in cases:
        f = concatenate(shape, **SCALES[scale])
        assert [p[0] for p in f.pieces] == shape.split("-")
        eps = 1e-9
        for _, _, b in f.pieces[:-1]:
            (fl, gl), (fr, gr) = f(b - eps), f(b + eps)
            where = f"{shape} ({scale}) at {b}"
            tol = 1e-7 * max(1.0, abs(fl)) + 4 * eps * max(abs(gl), abs(gr))
            assert abs(fr - fl) <= tol, where
            assert gr == pytest.approx(gl, rel=1e-6, abs=2e-7), where


def test_a_bend_resumes_the_slope_before_the_flat_stretch():
    f = concatenate("relu-bend-line", **SCALES["steep"])
    assert float(f(0.5)[1]) == 0.0                 # flat after the relu
    assert float(f(0.99)[1]) == pytest.approx(-10.0)  # the line continues the bend's slope


def test_kinked_prototypes_have_a_kink_and_smooth_ones_do_not():
    for name in PROTOTYPES:
        n_segments = len(prototype(name, **NORMAL).starts)
        assert (n_segments == 2) == (name in KINKED and name != "laplace_bowl"), name


def test_evaluate_segments_broadcasts_a_table_over_many_points():
    f = concatenate("quad_convex-abs-quad_convex", **NORMAL)
    xs = np.linspace(-1, 2, 50)
    fs, gs = evaluate_segments(xs[:, None], f.starts, f.coefs)
    np.testing.assert_array_equal(fs[:, 0], f(xs)[0])
    np.testing.assert_array_equal(gs[:, 0], f(xs)[1])


def test_bad_prototype_specifications_raise_value_errors():
    with pytest.raises(ValueError, match="unknown prototype"):
        concatenate("line-wiggle")
    with pytest.raises(ValueError, match="xs < xe"):
        concatenate("line", xs=1.0, xe=0.0)
    with pytest.raises(ValueError, match="slope is 0"):
        concatenate("relu-cliff")
    with pytest.raises(ValueError, match="bend must start"):
        concatenate("line-bend")
