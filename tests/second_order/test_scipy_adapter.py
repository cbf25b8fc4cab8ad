"""fastopt's methods plugged into scipy.optimize.minimize."""
import numpy as np
import pytest

import fastopt
import fastopt.scipy as fs
from fastopt import problems

so = pytest.importorskip("scipy.optimize")

ADAPTERS = [fs.lbfgs, fs.newton, fs.hessian_free, fs.cg]


@pytest.mark.parametrize("method", ADAPTERS, ids=lambda m: m.__name__)
def test_scipy_minimize_with_fastopt_methods(method):
    p = problems.get("rosenbrock")
    r = so.minimize(p.fun_grad, p.x0, jac=True, method=method, hess=p.hess, hessp=p.hessp)
    assert isinstance(r, so.OptimizeResult)
    assert r.success and p.solved(r.fun)
    assert {"x", "fun", "jac", "nit", "nfev", "njev", "nhev", "status", "message"} <= set(r)


@pytest.mark.parametrize("method", ADAPTERS, ids=lambda m: m.__name__)
def test_string_jac_tol_options_and_callbacks(method):
    calls = []
    # newton / hessian-free need hess with a difference gradient (test_minimize_api.py)
    hess = so.rosen_hess if method in (fs.newton, fs.hessian_free) else None
    r = so.minimize(so.rosen, np.zeros(4), jac="2-point", method=method, tol=1e-6, hess=hess,
                    callback=lambda xk: calls.append(1), options={"maxiter": 500})
    assert r.success and np.allclose(r.x, 1, atol=1e-3) and len(calls) == r.nit

    def cb(intermediate_result):
        raise StopIteration
    r = so.minimize(so.rosen, np.zeros(4), jac=so.rosen_der, hess=so.rosen_hess,
                    method=method, callback=cb)
    assert r.status == 99 and not r.success and r.nit == 1


def test_same_iterates_as_through_fastopt_minimize():
    p = problems.ChainedRosenbrock(10)
    a = so.minimize(p.fun_grad, p.x0, jac=True, method=fs.lbfgs)
    b = fastopt.minimize(p.fun_grad, p.x0, jac=True)
    np.testing.assert_array_equal(a.x, b.x)
    assert (a.nit, a.nfev) == (b.nit, b.nfev)


def test_l_bfgs_b_settings_reproduce_l_bfgs_b():
    p = problems.get("rosenbrock")
    a = so.minimize(p.fun_grad, p.x0, jac=True, method=fs.lbfgs,
                    options={"ftol": 2.220446049250313e-09, "ftol_iters": 1})
    b = so.minimize(p.fun_grad, p.x0, jac=True, method="L-BFGS-B")
    assert (a.nit, a.nfev) == (b.nit, b.nfev)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-8)


def test_bounds_constraints_and_unknown_options_are_rejected():
    with pytest.raises(ValueError, match="bounds"):
        so.minimize(so.rosen, np.zeros(2), method=fs.lbfgs, bounds=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="constraints"):
        so.minimize(so.rosen, np.zeros(2), method=fs.lbfgs,
                    constraints={"type": "eq", "fun": lambda x: x[0]})
    with pytest.raises(ValueError, match="unknown option"):
        so.minimize(so.rosen, np.zeros(2), method=fs.cg, options={"xrtol": 1e-3})


def test_float32_is_kept_through_scipy():
    r = so.minimize(lambda x: (float(x @ x), 2 * x), np.ones(3, np.float32), jac=True,
                    method=fs.lbfgs)
    assert r.x.dtype == np.float32 and r.success


@pytest.mark.parametrize("method", [fs.newton, fs.hessian_free], ids=lambda m: m.__name__)
def test_second_derivatives_of_difference_gradients_are_refused_through_scipy(method):
    with pytest.raises(ValueError, match="pass jac"):
        so.minimize(so.rosen, np.zeros(4), method=method, jac="2-point")


def test_star_import_does_not_shadow_scipy():
    namespace = {}
    exec("import scipy\nfrom fastopt import *", namespace)
    assert namespace["scipy"].__name__ == "scipy" and "minimize" in namespace
