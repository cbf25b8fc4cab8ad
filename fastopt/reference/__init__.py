"""Plain NumPy implementations of :mod:`fastopt.functional`, written straight from the
update rules: the test oracle and the benchmarks' NumPy baseline.  Same signatures and the
same in-place semantics; no validation, one array at a time, temporaries allowed."""
from fastopt.reference.first_order import (
    adadelta_, adagrad_, adam_, adamax_, nadam_, rmsprop_, sgd_,
)

__all__ = ["sgd_", "adagrad_", "adadelta_", "rmsprop_", "adam_", "adamax_", "nadam_"]
