"""What every method's loop shares: the callback protocol, the stopping tests and the
result.

Callbacks follow SciPy: ``callback(intermediate_result)`` when its only parameter is named
``intermediate_result`` (it receives an :class:`OptimizeResult` with ``x`` and ``fun``),
``callback(xk)`` otherwise; raising ``StopIteration`` ends the run cleanly (status 99).
"""
import inspect
import math

import numpy as np

from fastopt.second_order import _vec
from fastopt.second_order._objective import EvaluationLimit
from fastopt.second_order._result import OptimizeResult

__all__ = ["Run", "gnorm", "steepest_descent"]


def _wants_result(callback):
    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False
    return set(params) == {"intermediate_result"}


class Run:
    """One minimization run: the objective, the limits, the callback and the result.

    ``obj`` is an :class:`fastopt.second_order._objective.Objective`; ``maxiter`` bounds the
    iterations (``nit``), ``obj.maxfun`` the function evaluations.
    """

    def __init__(self, obj, callback=None, maxiter=None, disp=False):
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self.obj, self.callback, self.maxiter, self.disp = obj, callback, maxiter, disp
        self.result_style = callback is not None and _wants_result(callback)

    def stop_by_callback(self, x, f, g, nit):
        """Call the callback after iteration ``nit``; True when it raised StopIteration."""
        if self.callback is None:
            return False
        try:
            if self.result_style:
                self.callback(intermediate_result=OptimizeResult(
                    x=x.copy(), fun=f, jac=g.copy(), nit=nit))
            else:
                self.callback(x.copy())
        except StopIteration:
            return True
        return False

    def check(self, x, f, g, nit, gnorm, gtol):
        """The stopping tests after an iteration: ``(status, message)`` or None to go on."""
        if self.stop_by_callback(x, f, g, nit):
            return 99, "stopped by the callback (StopIteration)"
        if not (math.isfinite(f) and math.isfinite(gnorm)):
            return 4, "the function or gradient value became non-finite"
        return self._limits(nit, gnorm, gtol)

    def _limits(self, nit, gnorm, gtol):
        if gnorm <= gtol:
            at = " at x0" if nit == 0 else ""
            return 0, f"converged: max |gradient| = {gnorm:.3g} <= gtol = {gtol:.3g}{at}"
        if self.maxiter is not None and nit >= self.maxiter:
            return 1, f"stopped: the iteration limit maxiter = {self.maxiter} was reached"
        if self.obj.maxfun is not None and self.obj.nfev >= self.obj.maxfun:
            return self.limit_message()
        return None

    def limit_message(self):
        return 2, f"stopped: the evaluation limit maxfun = {self.obj.maxfun} was reached"

    def start(self, x, gtol):
        """f and the gradient at x0, and the result if the run ends there (converged,
        ``maxiter = 0``, ``maxfun`` used up), else None.  Every method starts here.  When
        ``maxfun`` runs out before f and the gradient are known (finite differences need
        n + 1 evaluations) the result has status 2 and NaN ``fun`` and ``jac``."""
        try:
            f, g = first_point(self.obj, x)
        except EvaluationLimit:
            status, message = self.limit_message()
            nan = np.full_like(x, np.nan)
            return math.nan, nan, self.result(
                x, math.nan, nan, 0, status, message + " before f and the gradient at x0 "
                "were known")
        stop = self._limits(0, gnorm(g), gtol)
        return f, g, None if stop is None else self.result(x, f, g, 0, *stop)

    def result(self, x, f, g, nit, status, message):
        """The OptimizeResult; the same fields for every method and exit."""
        obj = self.obj
        res = OptimizeResult(
            x=x, fun=f, jac=g, nit=nit, nfev=obj.nfev, njev=obj.njev, nhev=obj.nhev,
            status=status, success=status == 0, message=message)
        if self.disp:
            print(f"{message}\n  f = {f:.6g}, nit = {nit}, nfev = {obj.nfev}, "
                  f"njev = {obj.njev}, nhev = {obj.nhev}")
        return res


def gnorm(g):
    """max |g_i| (the stopping test of every method, as SciPy's gtol)."""
    return _vec.absmax(g)


def first_point(obj, x):
    """f and gradient at x0, with a clear error when either is not finite."""
    f, g = obj.fg(x)
    if not math.isfinite(f):
        raise ValueError(f"fun(x0) is not finite ({f}); start from a point where it is")
    if not np.all(np.isfinite(g)):
        raise ValueError("the gradient at x0 has non-finite entries")
    return f, g


def steepest_descent(g, gmax, d):
    """``d[:] = -g / ||g||``; returns ``g . d = -||g||``.

    The unit length makes the step t = 1 move x by a unit distance, the first trial of
    L-BFGS-B (which takes ``t = 1 / ||g||`` along ``-g``), while ``g . d`` stays
    representable for any finite ``g != 0``: ``g . g`` itself overflows for
    ``||g|| > 1e154`` and underflows to 0 below ``1e-162`` in float64, so the norm is formed
    from ``g / max |g_i|`` (``gmax``), whose squares sum to a value in ``[1, n]``."""
    # 1 / gmax overflows for a subnormal gmax; 2^1000 then scales g to entries below 11
    scale = 1.0 / gmax if gmax >= 1e-300 else math.ldexp(1.0, 1000)
    ss = _vec.combine((-scale,), (g,), d, d)            # d = -g / gmax, ss = d.d
    return _vec.combine((1.0 / math.sqrt(ss),), (d,), d, g)
