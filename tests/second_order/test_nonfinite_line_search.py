"""A line search whose every trial point is NaN says so, and the solvers stop with status 4
(non-finite value), not 3 (no lower point)."""
import math

import numpy as np
import pytest

import fastopt
from fastopt.second_order import line_search_armijo, line_search_wolfe


def _nan_beyond_x0(x0):
    def fg(x):
        if np.array_equal(x, x0):
            return float(x @ x), 2 * x
        return math.nan, np.full_like(x, math.nan)
    return fg


def test_wolfe_search_reports_nonfinite_trials():
    x0 = np.ones(3)
    r = line_search_wolfe(_nan_beyond_x0(x0), x0, -x0, 3.0, 2 * x0)
    assert not r.success and r.nonfinite and "not finite" in r.message


def test_armijo_search_reports_nonfinite_trials():
    x0 = np.ones(3)
    r = line_search_armijo(lambda x: math.nan, x0, -x0, 3.0, -6.0)
    assert not r.success and r.nonfinite and "not finite" in r.message


def test_a_finite_but_failed_search_is_not_nonfinite():
    x0 = np.ones(3)
    r = line_search_armijo(lambda x: 10.0, x0, -x0, 3.0, -6.0, maxiter=3)
    assert not r.success and not r.nonfinite


@pytest.mark.parametrize("method", ["lbfgs", "cg", "newton", "hessian-free"])
def test_solvers_stop_with_status_4_when_every_trial_point_is_nan(method):
    x0 = np.array([1.0, 2.0])
    fg = _nan_beyond_x0(x0)
    r = fastopt.minimize(fg, x0, jac=True, method=method, hess=lambda x: 2 * np.eye(2),
                         hessp=lambda x, v: 2 * v)
    assert r.status == 4 and not r.success, (r.status, r.message)
    assert "not finite" in r.message
    np.testing.assert_array_equal(r.x, x0)
