"""Newton on a gradient that turns NaN reports a non-finite value (status 4), and a complex
Hessian is refused as complex gradients are."""
import numpy as np
import pytest

import fastopt


def _nan_beyond_one(x):
    """(x - 3)^2 whose gradient is NaN where x[1] > 1 (x0 = [0, 1] sits on the edge)."""
    g = 2 * (x - 3)
    if x[1] > 1.0:
        g = g * np.nan
    return float((x - 3) @ (x - 3)), g


def test_newton_stops_with_status_4_when_the_difference_hessian_meets_a_nan_gradient():
    r = fastopt.minimize(_nan_beyond_one, np.array([0.0, 1.0]), jac=True, method="newton")
    assert r.status == 4 and not r.success
    assert "non-finite" in r.message
    np.testing.assert_array_equal(r.x, [0.0, 1.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_newton_stops_with_status_4_on_a_non_finite_user_hessian(bad):
    r = fastopt.minimize(_nan_beyond_one, np.array([0.0, 0.0]), jac=True, method="newton",
                         hess=lambda x: np.full((2, 2), bad))
    assert r.status == 4 and "non-finite" in r.message


@pytest.mark.parametrize("method", ["newton", "hessian-free"])
@pytest.mark.parametrize("hess", [
    lambda x: 2j * np.eye(x.size),
    lambda x: (2 + 0j) * np.eye(x.size),              # complex dtype, zero imaginary part
    lambda x: np.eye(x.size).astype(object),
])
def test_a_hessian_that_is_not_real_is_a_type_error(method, hess):
    with pytest.raises(TypeError, match="hess must return real numbers"):
        fastopt.minimize(lambda x: (float(x @ x), 2 * x), np.ones(3), jac=True,
                         method=method, hess=hess)


def test_a_real_integer_hessian_is_still_accepted():
    r = fastopt.minimize(lambda x: (float(x @ x), 2 * x), np.ones(3), jac=True,
                         method="newton", hess=lambda x: 2 * np.eye(x.size, dtype=int))
    assert r.success
