"""fastopt.minimize: result fields, callbacks, limits, bad input."""
import math

import numpy as np
import pytest

import fastopt
from fastopt import problems
from fastopt.second_order import STATUS, OptimizeResult

METHODS = ["lbfgs", "newton", "hessian-free", "cg"]
FIELDS = {"x", "fun", "jac", "nit", "nfev", "njev", "nhev", "status", "success", "message"}


def _quad(x):
    return float((x - 3) @ (x - 3)), 2 * (x - 3)


@pytest.mark.parametrize("method", METHODS)
def test_same_result_fields_for_every_method_and_exit(method):
    r = fastopt.minimize(_quad, np.zeros(3), jac=True, method=method)
    assert isinstance(r, OptimizeResult) and set(r) == FIELDS
    assert r.success and r.status == 0 and r.message.startswith("converged")
    np.testing.assert_allclose(r.x, 3.0, atol=1e-6)
    assert r.fun == r["fun"] and isinstance(r.nit, int)
    p = problems.get("rosenbrock")
    for options in ({"maxiter": 2}, {"maxfun": 4}, {"gtol": 1e3}):
        r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hess=p.hess, hessp=p.hessp,
                             method=method, options=options)
        assert set(r) == FIELDS, (options, set(r) ^ FIELDS)


@pytest.mark.parametrize("method", METHODS)
def test_jac_forms_and_args(method):
    f = lambda x, a: float((x - a) @ (x - a))
    g = lambda x, a: 2 * (x - a)
    # newton / hessian-free refuse difference gradients without hess (see
    # test_second_derivatives_of_difference_gradients_are_refused): give them the Hessian
    h = {"hess": lambda x, a: 2 * np.eye(2)} if method in ("newton", "hessian-free") else {}
    for kw in (dict(jac=g), dict(jac=None, **h), dict(jac=False, **h),
               dict(jac="2-point", **h), dict(jac="3-point", **h), dict(jac="cs", **h)):
        r = fastopt.minimize(f, np.zeros(2), args=(1.5,), method=method, **kw)
        assert r.success, (kw, r.message)
        np.testing.assert_allclose(r.x, 1.5, atol=1e-4)
    r = fastopt.minimize(f, np.zeros(2), args=1.5, method=method, **h)     # args not a tuple
    assert r.success


def test_finite_difference_gradient_counts_function_evaluations():
    r = fastopt.minimize(lambda x: float(x @ x), np.ones(4))
    assert r.success and r.nfev >= 5 * r.njev - 1                           # n + 1 per gradient


@pytest.mark.parametrize("method", METHODS)
def test_callbacks_both_styles_and_stop_iteration(method):
    p = problems.get("rosenbrock")
    seen = []
    r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hess=p.hess, hessp=p.hessp,
                         method=method, callback=lambda xk: seen.append(xk.copy()))
    assert len(seen) == r.nit
    results = []
    def cb(intermediate_result):
        results.append(intermediate_result.fun)
        if len(results) == 3:
            raise StopIteration
    r = fastopt.minimize(p.fun_grad, p.x0, jac=True, hess=p.hess, hessp=p.hessp,
                         method=method, callback=cb)
    assert r.status == 99 and not r.success and r.nit == 3 and "callback" in r.message
    assert results[-1] == r.fun


@pytest.mark.parametrize("method", METHODS)
def test_limits_end_the_run(method):
    p = problems.ChainedRosenbrock(20)
    kw = dict(jac=True, hess=p.hess, hessp=p.hessp, method=method)
    r = fastopt.minimize(p.fun_grad, p.x0, options={"maxiter": 3}, **kw)
    assert r.status == 1 and not r.success and r.nit == 3 and "maxiter" in r.message
    r = fastopt.minimize(p.fun_grad, p.x0, options={"maxfun": 7}, **kw)
    assert r.status == 2 and not r.success and r.nfev <= 7 and "maxfun" in r.message
    assert r.fun <= p.fun(p.x0)
    r = fastopt.minimize(p.fun_grad, p.x0, options={"maxiter": 0}, **kw)
    assert r.status == 1 and r.nit == 0 and "maxiter" in r.message
    assert np.array_equal(r.x, p.x0) and r.nfev == 1 and r.nhev == 0
    assert r.fun == p.fun(p.x0)
    with pytest.raises(ValueError, match="maxfun"):
        fastopt.minimize(p.fun_grad, p.x0, options={"maxfun": 0}, **kw)


@pytest.mark.parametrize("method", METHODS)
def test_maxfun_too_small_for_the_first_difference_gradient_gives_status_2(method):
    p = problems.get("rosenbrock")         # forward differences need n + 1 = 3 evaluations
    r = fastopt.minimize(p.fun, p.x0, method=method, options={"maxfun": 2},
                         hess=p.hess if method in ("newton", "hessian-free") else None)
    assert r.status == 2 and not r.success and "maxfun" in r.message
    assert r.nit == 0 and r.nfev == 2 and np.array_equal(r.x, p.x0)
    assert set(r) == FIELDS


def test_line_search_failure_returns_best_point_with_a_message():
    # the gradient is wrong (sign flipped in one coordinate): no descent along -g
    def fg(x):
        return float(x @ x), np.array([2 * x[0], -2 * x[1]])
    r = fastopt.minimize(fg, [1.0, 1.0], jac=True)
    assert r.status == 3 and not r.success
    assert "line search" in r.message and r.fun <= 2.0


def test_bad_input_is_rejected_clearly():
    with pytest.raises(ValueError, match="unknown method"):
        fastopt.minimize(_quad, [1.0], jac=True, method="bfgs")
    with pytest.raises(ValueError, match="unknown option.*'foo'.*valid options"):
        fastopt.minimize(_quad, [1.0], jac=True, options={"foo": 1})
    with pytest.raises(ValueError, match="maxcor"):
        fastopt.minimize(_quad, [1.0], jac=True, options={"maxcor": 0})
    with pytest.raises(ValueError, match="maxiter"):
        fastopt.minimize(_quad, [1.0], jac=True, options={"maxiter": -1})
    with pytest.raises(ValueError, match="one-dimensional"):
        fastopt.minimize(_quad, np.ones((2, 2)), jac=True)
    with pytest.raises(TypeError, match="complex"):
        fastopt.minimize(_quad, [1j], jac=True)
    with pytest.raises(TypeError, match="callable"):
        fastopt.minimize(3, [1.0])
    with pytest.raises(ValueError, match="shape"):
        fastopt.minimize(lambda x: (1.0, np.ones(3)), [1.0, 2.0], jac=True)
    with pytest.raises(ValueError, match="scalar"):
        fastopt.minimize(lambda x: x, [1.0, 2.0])
    with pytest.raises(TypeError, match="pair"):
        fastopt.minimize(lambda x: 1.0, [1.0], jac=True)
    with pytest.raises(ValueError, match="line_search"):
        fastopt.minimize(_quad, [1.0], jac=True, method="newton",
                         options={"line_search": "exact"})
    with pytest.raises(ValueError, match="hess returned shape"):
        fastopt.minimize(_quad, [1.0, 1.0], jac=True, method="newton",
                         hess=lambda x: np.eye(3))
    with pytest.raises(ValueError, match="tol"):
        fastopt.minimize(_quad, [1.0], jac=True, tol=-1)


@pytest.mark.parametrize("options,match", [
    ({"maxiter": "a"}, "maxiter must be"), ({"maxiter": math.inf}, "maxiter must be"),
    ({"maxiter": 2.5}, "maxiter must be"), ({"maxfun": "10"}, "maxfun must be"),
    ({"gtol": "small"}, "gtol must be"), ({"maxcor": "a"}, "maxcor must be"),
    ({"maxls": math.nan}, "maxls must be"),
    ("maxiter", "options must be a dict"), ([("maxiter", 3)], "options must be a dict"),
    (3, "options must be a dict"),
])
def test_options_of_the_wrong_type_are_clear_errors(options, match):
    with pytest.raises((TypeError, ValueError), match=match):
        fastopt.minimize(_quad, np.ones(2), jac=True, options=options)


def test_integral_float_options_are_accepted_and_other_jac_strings_are_not():
    r = fastopt.minimize(_quad, np.ones(2), jac=True,
                         options={"maxiter": 50.0, "maxfun": np.int64(100)})
    assert r.success
    for jac in ("2point", "exact", ""):
        with pytest.raises(ValueError, match="jac"):
            fastopt.minimize(lambda x: float(x @ x), np.zeros(2), jac=jac)


@pytest.mark.parametrize("method", ["newton", "hessian-free"])
@pytest.mark.parametrize("jac", [None, False, "2-point", "3-point", "cs"])
def test_second_derivatives_of_difference_gradients_are_refused(method, jac):
    p = problems.get("rosenbrock")
    with pytest.raises(ValueError, match="finite-difference gradients are unreliable"):
        fastopt.minimize(p.fun, p.x0, method=method, jac=jac)


@pytest.mark.parametrize("method", ["newton", "hessian-free"])
def test_difference_hessian_of_an_analytic_gradient_and_the_reverse_work(method):
    p = problems.ExtendedRosenbrock(4)
    for fun, kw in ((p.fun, {"jac": p.grad}), (p.fun_grad, {"jac": True}),
                    (p.fun, {"hess": p.hess}), (p.fun, {"hessp": p.hessp})):
        r = fastopt.minimize(fun, p.x0, method=method, **kw)
        assert r.success and np.allclose(r.x, 1, atol=1e-3), kw


def test_x0_is_not_modified_and_dtype_rules():
    x0 = np.zeros(3)
    r = fastopt.minimize(_quad, x0, jac=True)
    assert np.all(x0 == 0) and r.x is not x0
    r = fastopt.minimize(_quad, [0, 0], jac=True)                      # integers -> float64
    assert r.x.dtype == np.float64
    r = fastopt.minimize(_quad, np.zeros(2, np.float32), jac=True)
    assert r.x.dtype == np.float32


def test_tol_sets_gtol_and_already_optimal_start():
    loose = fastopt.minimize(_quad, np.zeros(3), jac=True, method="cg", tol=1e-1)
    tight = fastopt.minimize(_quad, np.zeros(3), jac=True, method="cg", tol=1e-10)
    assert np.abs(tight.jac).max() <= 1e-10 and tight.nit >= loose.nit
    r = fastopt.minimize(_quad, np.full(3, 3.0), jac=True)
    assert r.success and r.nit == 0 and r.nfev == 1


def test_status_table_and_repr():
    assert set(STATUS) == {0, 1, 2, 3, 4, 5, 99}
    r = fastopt.minimize(_quad, np.zeros(2), jac=True)
    assert "success" in repr(r) and "fun" in dir(r)
    with pytest.raises(AttributeError):
        r.no_such_field


def test_a_gradient_that_is_x_itself_is_copied():
    # f = |x|^2 / 2 has gradient x: a gradient returned as x itself is copied, so it never
    # changes with the buffers the optimizer reuses for trial points
    fg = lambda x: (0.5 * float(x @ x), x)
    r = fastopt.minimize(fg, np.arange(1.0, 2001.0), jac=True)
    assert r.success and np.abs(r.x).max() < 1e-5 and r.jac is not r.x


@pytest.mark.parametrize("method", ["lbfgs", "cg", "newton", "hessian-free"])
def test_user_functions_get_private_copies(method):
    """SciPy's contract: fun may keep or modify the x it gets, and may return a gradient
    buffer it reuses; neither changes the run."""
    from fastopt.problems import rosenbrock

    p = rosenbrock(4)
    clean = fastopt.minimize(p.fun, p.x0, jac=p.grad, hess=p.hess, method=method)
    seen, buf = [], np.empty(4)

    def fun(x):
        seen.append(x)
        value = p.fun(x)
        x[:] = 123.0          # scribble on what we were given
        return value

    def grad(x):
        buf[:] = p.grad(x)
        x[:] = -7.0
        return buf            # the same buffer every call

    messy = fastopt.minimize(fun, p.x0, jac=grad, hess=p.hess, method=method)
    np.testing.assert_array_equal(messy.x, clean.x)
    assert (messy.nfev, messy.njev, messy.nit) == (clean.nfev, clean.njev, clean.nit)
    assert len({id(x) for x in seen}) == len(seen)   # a fresh array each call


def test_the_scipy_adapter_is_an_attribute_but_not_in_all():
    # ``from fastopt import *`` must not shadow SciPy's own package (without SciPy too)
    assert fastopt.scipy.__name__ == "fastopt.scipy"
    assert "scipy" not in fastopt.__all__
    assert all(hasattr(fastopt, name) for name in fastopt.__all__)
