"""The noise prototypes: their sample statistics and their numerically integrated moments."""
import math

import numpy as np
import pytest

from fastopt.unittests.noise import KIND_CODES, NOISES, moments, sample

N = 200_000


def draw(name):
    kind, s = NOISES[name]
    return sample(np.full(N, KIND_CODES[kind]), s, np.random.default_rng(0))


@pytest.mark.parametrize("name", ["gauss_add_low", "gauss_add_normal", "gauss_add_high"])
def test_additive_gaussian_noise_has_zero_mean_and_its_scale_as_std(name):
    m, a = draw(name)
    s = NOISES[name][1]
    assert np.all(m == 1)
    assert abs(a.mean()) < 5 * s / math.sqrt(N)
    assert a.std() == pytest.approx(s, rel=0.01)


@pytest.mark.parametrize("name", ["gauss_mul_low", "gauss_mul_normal", "gauss_mul_high"])
def test_multiplicative_noise_is_log_normal_with_its_scale(name):
    m, a = draw(name)
    s = NOISES[name][1]
    assert np.all(a == 0) and np.all(m > 0)
    assert abs(np.log(m).mean()) < 5 * s / math.sqrt(N)
    assert np.log(m).std() == pytest.approx(s, rel=0.01)


def test_cauchy_noise_has_median_zero_and_unit_quartiles():
    _, a = draw("cauchy_add_normal")
    assert abs(np.median(a)) < 0.02
    q1, q3 = np.percentile(a, [25, 75])
    assert (q1, q3) == pytest.approx((-1.0, 1.0), abs=0.02)


@pytest.mark.parametrize("name,p", [("maskout_low", 0.1), ("maskout_high", 0.9)])
def test_maskout_zeroes_the_sample_with_its_probability(name, p):
    m, a = draw(name)
    assert set(np.unique(m)) <= {0.0, 1.0} and np.all(a == 0)
    assert np.mean(m == 0) == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / N))


@pytest.mark.parametrize("name", sorted(NOISES))
def test_the_integrated_moments_are_the_exact_expectations(name):
    kind, s = NOISES[name]
    mean_m, mean_a = moments(name)
    exact_m = {"gauss_mul": math.exp(s * s / 2), "maskout": 1 - s}.get(kind, 1.0)
    assert mean_m == pytest.approx(exact_m, rel=1e-8)
    assert mean_a == pytest.approx(0.0, abs=1e-10)


def test_noise_scale_can_vary_per_element():
    scales = np.array([0.0, 1.0, 100.0])
    rng = np.random.default_rng(1)
    m, a = sample(np.full((5000, 3), KIND_CODES["gauss_add"]), scales, rng)
    np.testing.assert_allclose(a.std(axis=0), scales, rtol=0.05)
