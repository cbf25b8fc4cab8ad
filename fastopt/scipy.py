"""fastopt's solvers as custom methods of ``scipy.optimize.minimize``.

SciPy users switch with one word::

    scipy.optimize.minimize(fun, x0, method=fastopt.scipy.lbfgs, jac=True)

(also :func:`newton`, :func:`hessian_free`, :func:`cg`).  SciPy calls a callable method as
``method(fun, x0, args=..., jac=..., hess=..., hessp=..., bounds=..., constraints=...,
callback=..., **options)`` with ``tol`` among the options; these functions accept exactly
that, map ``tol`` as :func:`fastopt.minimize` does, reject bounds, constraints and unknown
options with a ValueError, and return a ``scipy.optimize.OptimizeResult``.  A string
``jac`` such as ``'2-point'`` reaches us as None: fastopt then does its own forward
differences.  Both callback styles work (``callback(xk)`` and
``callback(intermediate_result)``), and ``StopIteration`` ends the run with status 99.

This module never imports SciPy at import time; the result is converted to SciPy's class
only when SciPy is importable (it always is when SciPy is the caller).

>>> import numpy as np
>>> from scipy.optimize import minimize, rosen, rosen_der
>>> import fastopt.scipy
>>> r = minimize(rosen, np.zeros(5), jac=rosen_der, method=fastopt.scipy.lbfgs)
>>> r.success, bool(np.allclose(r.x, 1, atol=1e-3))
(True, True)
"""
from fastopt.second_order._minimize import minimize as _minimize

__all__ = ["lbfgs", "newton", "hessian_free", "cg"]

def _to_scipy(res):
    try:
        from scipy.optimize import OptimizeResult
    except ImportError:                      # called directly, without SciPy installed
        return res
    return OptimizeResult(dict(res))


def _solve(method, fun, x0, args, jac, hess, hessp, bounds, constraints, callback, options):
    if bounds is not None:
        raise ValueError(f"fastopt.scipy.{method.replace('-', '_')} is unconstrained: "
                         "bounds are not supported (use method='L-BFGS-B')")
    if constraints is not None and not (hasattr(constraints, "__len__")
                                        and len(constraints) == 0):
        raise ValueError(f"fastopt.scipy.{method.replace('-', '_')} is unconstrained: "
                         "constraints are not supported")
    tol = options.pop("tol", None)
    return _to_scipy(_minimize(fun, x0, args=args, method=method, jac=jac, hess=hess,
                               hessp=hessp, tol=tol, callback=callback, options=options))


def lbfgs(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None, constraints=(),
          callback=None, **options):
    """L-BFGS (``fastopt.minimize(method="lbfgs")``) for ``scipy.optimize.minimize``."""
    return _solve("lbfgs", fun, x0, args, jac, hess, hessp, bounds, constraints, callback,
                  options)


def newton(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None, constraints=(),
           callback=None, **options):
    """Modified Newton (``method="newton"``) for ``scipy.optimize.minimize``."""
    return _solve("newton", fun, x0, args, jac, hess, hessp, bounds, constraints, callback,
                  options)


def hessian_free(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None,
                 constraints=(), callback=None, **options):
    """Hessian-free / truncated Newton (``method="hessian-free"``) for
    ``scipy.optimize.minimize``."""
    return _solve("hessian-free", fun, x0, args, jac, hess, hessp, bounds, constraints,
                  callback, options)


def cg(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None, constraints=(),
       callback=None, **options):
    """Nonlinear CG (``method="cg"``) for ``scipy.optimize.minimize``."""
    return _solve("cg", fun, x0, args, jac, hess, hessp, bounds, constraints, callback,
                  options)
