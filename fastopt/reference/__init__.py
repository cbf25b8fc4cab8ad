"""Plain NumPy implementations of :mod:`fastopt.functional`, written straight from the
update rules: the test oracle and the benchmarks' NumPy baseline.  Same signatures and the
same in-place semantics; no validation, one array at a time, temporaries allowed.  The
functions are those of ``fastopt/reference/first_order.py``, one per row of the algorithm
table (``fastopt/_kernels/table.py``)."""
from fastopt._kernels.table import ALGORITHMS as _TABLE
from fastopt.reference import first_order as _first_order

__all__ = [row["name"] + "_" for row in _TABLE]
globals().update({name: getattr(_first_order, name) for name in __all__})
