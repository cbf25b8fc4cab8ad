"""A bank of smooth unconstrained test problems with analytic derivatives.

* :mod:`fastopt.problems.mgh`: 33 problems of the Moré–Garbow–Hillstrom set (1981) with
  their standard starting points and known minima;
* :mod:`fastopt.problems.scalable`: extended/chained Rosenbrock, extended Powell, Broyden
  tridiagonal and ill-conditioned quadratics with O(n) derivatives, for n up to 10^6.

Every problem has ``fun, grad, fun_grad, hess, hessp, x0, n, name, f_star`` (see
:class:`Problem`), so it plugs straight into ``fastopt.minimize`` and SciPy:

>>> import fastopt
>>> from fastopt import problems
>>> p = problems.get("wood")
>>> r = fastopt.minimize(p.fun_grad, p.x0, jac=True)
>>> r.success, p.solved(r.fun)
(True, True)
"""
import re

from fastopt.problems._base import LeastSquares, Problem
from fastopt.problems.mgh import MGH_PROBLEMS, mgh_problems
from fastopt.problems.scalable import (
    ChainedRosenbrock, BroydenTridiagonalN, ExtendedPowell, ExtendedRosenbrock, Quadratic,
)

__all__ = ["Problem", "LeastSquares", "mgh_problems", "scalable_problems", "bank", "get",
           "rosenbrock", "ExtendedRosenbrock", "ChainedRosenbrock", "ExtendedPowell",
           "BroydenTridiagonalN", "Quadratic", "MGH_PROBLEMS"]


def rosenbrock(n=2):
    """The chained Rosenbrock function of dimension n (n = 2: MGH #1)."""
    return ChainedRosenbrock(n)


def scalable_problems(n=1000):
    """The scalable problems at dimension n (n divisible by 4)."""
    return [ExtendedRosenbrock(n), ChainedRosenbrock(n), ExtendedPowell(n),
            BroydenTridiagonalN(n), Quadratic(n, 1e4)]


def bank(n=1000):
    """Every problem: the MGH set followed by :func:`scalable_problems` at n."""
    return mgh_problems() + scalable_problems(n)


def get(name, n=None):
    """The problem called ``name`` (the MGH size, or ``n`` for a scalable one).

    Every name the error message lists is accepted, including the quadratics' names
    ``quadratic_cond1e+04`` / ``quadratic_rot_cond1e+06`` (the condition number is read
    back from the name)."""
    for p in mgh_problems():
        if p.name == name and (n is None or p.n == n):
            return p
    for cls in (ExtendedRosenbrock, ChainedRosenbrock, ExtendedPowell, BroydenTridiagonalN):
        if cls.name == name:
            return cls(1000 if n is None else n)
    # Quadratic's name encodes its parameters (see Quadratic.__init__): parse them back so
    # that the names listed below, which come from bank(), can all be fetched
    m = re.fullmatch(r"quadratic(_rot)?_cond(.+)", name)
    if m:
        try:
            cond = float(m.group(2))
        except ValueError:
            cond = None
        if cond is not None and cond >= 1:
            return Quadratic(1000 if n is None else n, cond, rotated=bool(m.group(1)))
    names = sorted({p.name for p in bank(8)})
    raise ValueError(f"unknown problem {name!r}; known: {', '.join(names)}")
