"""Second-order and quasi-Newton methods for full-batch problems behind one
SciPy-compatible entry point, :func:`minimize`.

* :mod:`~fastopt.second_order.lbfgs` (``method="lbfgs"``), :mod:`~fastopt.second_order.newton`
  (``"newton"``), :mod:`~fastopt.second_order.hessian_free` (``"hessian-free"``),
  :mod:`~fastopt.second_order.cg` (``"cg"``);
* :mod:`~fastopt.second_order.linesearch`: strong Wolfe (Moré–Thuente) and Armijo line
  searches, usable on their own;
* :mod:`~fastopt.second_order._vec`: the compiled vector kernels (multi-dot products,
  fused linear combinations, the L-BFGS history).

>>> import numpy as np
>>> from fastopt.second_order import minimize
>>> r = minimize(lambda x: (float(x @ x), 2 * x), np.ones(3, np.float32), jac=True)
>>> r.success, r.x.dtype
(True, dtype('float32'))
"""
from fastopt.second_order._minimize import METHODS, minimize
from fastopt.second_order._result import STATUS, OptimizeResult
from fastopt.second_order.linesearch import (
    LineSearchResult, line_search_armijo, line_search_wolfe,
)

__all__ = ["minimize", "OptimizeResult", "STATUS", "METHODS", "LineSearchResult",
           "line_search_wolfe", "line_search_armijo"]
