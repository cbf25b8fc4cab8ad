"""``fastopt.minimize``: one entry point, SciPy's signature and result, four methods."""
import inspect
import math
import numbers
from collections.abc import Mapping

from fastopt.second_order._driver import Run
from fastopt.second_order._objective import Objective, prepare_x0

__all__ = ["minimize", "METHODS"]


def _methods():
    """method name -> its solver; a solver's keyword-only arguments are its options."""
    from fastopt.second_order import cg, hessian_free, lbfgs, newton
    return {"lbfgs": lbfgs.minimize_lbfgs, "newton": newton.minimize_newton,
            "hessian-free": hessian_free.minimize_hessian_free, "cg": cg.minimize_cg}


def option_defaults(solver):
    """A solver's options and their defaults, read from its signature (the one place they
    are written)."""
    return {name: p.default for name, p in inspect.signature(solver).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


#: The method names :func:`minimize` accepts (``"l-bfgs"``, ``"newton-cg"``-style aliases are
#: not accepted: a name means exactly one algorithm).
METHODS = ("lbfgs", "newton", "hessian-free", "cg")

# the methods that use curvature (a Hessian or Hessian-vector products): they need either
# the user's hess/hessp or an analytic gradient to difference
_NEEDS_CURVATURE = ("newton", "hessian-free")

# options whose default depends on n (None in the signatures): 200 n, as SciPy's CG and
# Newton-CG
_PER_N = {"maxiter": 200}
# the integer options and their smallest value (maxiter = 0 returns x0; maxfun must allow
# f(x0)); maxiter and maxfun may also be None (no limit)
_INTEGER = {"maxiter": 0, "maxfun": 1, "maxcor": 1, "maxls": 1, "ftol_iters": 1,
            "cg_maxiter": 1, "max_failures": 1}
# the real options, all >= 0 (methods check the finer ranges: c1 < c2, decay <= 1)
_REAL = ("gtol", "ftol", "c1", "c2", "damping", "decay", "cg_eps")


def _integer(name, v):
    low = _INTEGER[name]
    if v is None and name in ("maxiter", "maxfun"):
        return None
    if not (isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
            and v == int(v) and v >= low):
        none = " or None" if name in ("maxiter", "maxfun") else ""
        raise ValueError(f"{name} must be an integer >= {low}{none}, got {v!r}")
    return int(v)


def _real(name, v):
    if not (isinstance(v, numbers.Real) and not isinstance(v, bool) and v >= 0):
        raise ValueError(f"{name} must be a non-negative number, got {v!r}")
    return float(v)


def resolve_options(method, options, tol, n):
    """The full option dict of ``method``: defaults, then ``tol``, then ``options``.
    Unknown option names are a ValueError that lists the valid ones; options of the wrong
    type or range are a ValueError that names them."""
    table = _methods()
    key = method.lower() if isinstance(method, str) else method
    if key not in table:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    func = table[key]
    defaults = option_defaults(func)
    opts = dict(defaults)
    for k, v in opts.items():
        if v is None and k in _PER_N:
            opts[k] = _PER_N[k] * n
    if tol is not None:
        opts["gtol"] = _real("tol", tol)
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    if options:
        unknown = sorted(set(options) - set(defaults), key=repr)
        if unknown:
            raise ValueError(
                f"unknown option(s) {', '.join(map(repr, unknown))} for method {key!r}; "
                f"valid options: {', '.join(sorted(defaults))}")
        opts.update(options)
    for name, v in opts.items():
        if name in _INTEGER:
            opts[name] = _integer(name, v)
        elif name in _REAL:
            opts[name] = _real(name, v)
    return key, func, opts


def minimize(fun, x0, args=(), method="lbfgs", jac=None, hess=None, hessp=None, tol=None,
             callback=None, options=None):
    """Minimize ``fun(x, *args)`` from ``x0``; SciPy's ``scipy.optimize.minimize`` signature.

    Methods (each solver's docstring gives its algorithm and its options with their defaults;
    ``options`` holds any of them):

    * ``"lbfgs"`` (default): L-BFGS with a Moré–Thuente strong Wolfe line search
      (:func:`~fastopt.second_order.lbfgs.minimize_lbfgs`).
    * ``"newton"``: Newton's method on the exact Hessian ``hess`` (without it, built from
      n products ``hessp(x, e_i)``, or else from finite differences of the gradient), with
      ``tau I`` added until Cholesky succeeds
      (:func:`~fastopt.second_order.newton.minimize_newton`).
    * ``"hessian-free"``: truncated Newton with CG on ``hessp`` (``hess(x) @ p``, or finite
      differences of the gradient, without it), Martens' stopping rule and damping
      (:func:`~fastopt.second_order.hessian_free.minimize_hessian_free`).
    * ``"cg"``: nonlinear conjugate gradients, Polak–Ribière+ or Hager–Zhang
      (:func:`~fastopt.second_order.cg.minimize_cg`).

    ``"newton"`` and ``"hessian-free"`` need ``jac`` (callable or True) unless ``hess`` or
    ``hessp`` is given: without any of them they raise ValueError, since differences of a
    difference gradient are wrong by about |f| (SciPy's Newton-CG likewise requires jac).

    ``jac``: a callable returning the gradient, ``True`` when ``fun`` returns
    ``(f, gradient)``, or None (or False, ``"2-point"``, ``"3-point"``, ``"cs"``: all mean
    forward differences here; other strings are a ValueError).
    ``tol`` sets ``gtol``.  ``options`` is a dict; an option of the wrong type or range
    is a ValueError that names it.  ``maxiter = 0`` returns x0 (status 1) after evaluating
    f and the gradient there; ``maxfun`` must be at least 1, and when it runs out before
    the gradient at x0 is known (finite differences take n + 1 evaluations) the result has
    status 2.  ``callback(xk)`` or
    ``callback(intermediate_result)`` runs after every iteration; raising StopIteration
    ends the run (status 99).

    As in SciPy, ``fun``, ``jac``, ``hess`` and ``hessp`` receive their own copy of ``x``
    (and of ``p``): they may keep or modify it.  Returned gradients are copied too, so a
    function may return a buffer it reuses.

    x0 keeps its dtype: float32 problems are solved in float32 (dot products accumulate in
    float64).  Returns an :class:`OptimizeResult` with ``x, fun, jac, nit, nfev, njev, nhev,
    status, success, message`` (status codes in ``fastopt.second_order.STATUS``).

    >>> import numpy as np, fastopt
    >>> from fastopt.problems import rosenbrock
    >>> p = rosenbrock(2)
    >>> r = fastopt.minimize(p.fun, p.x0, jac=p.grad)
    >>> r.success, np.allclose(r.x, 1.0, atol=1e-4)
    (True, True)
    """
    x = prepare_x0(x0)
    key, func, opts = resolve_options(method, options, tol, x.size)
    if not isinstance(args, tuple):
        args = (args,)
    obj = Objective(fun, x, args, jac, hess, hessp, maxfun=opts["maxfun"])
    if key in _NEEDS_CURVATURE and hess is None and hessp is None and obj.jac_mode == "fd":
        # differences of difference gradients: each gradient entry has an error of about
        # eps |f| / h, and differencing it again divides by h once more, so the Hessian is
        # off by ~ eps |f| / h^2 = |f| with h = sqrt(eps) -- useless (Rosenbrock + 1e4 gets
        # a Hessian wrong by 1e4).  SciPy refuses the same (Newton-CG requires jac,
        # trust-constr will not difference a difference gradient).
        raise ValueError(
            f"method {key!r} needs second derivatives, and second derivatives from "
            "finite-difference gradients are unreliable (errors of the order of |f|): "
            "pass jac (a callable, or True when fun returns (f, gradient)), or hess/hessp")
    run = Run(obj, callback, maxiter=opts["maxiter"], disp=opts["disp"])
    return func(run, x, **opts)
