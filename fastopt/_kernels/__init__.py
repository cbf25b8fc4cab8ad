"""Compiled kernels.  ``first_order`` is the C-level API (see its ``.pxd``).  Behind the
Python layer: ``algorithms`` (the algorithm table, hyperparameters, kernels), ``checks``
(input checks), ``driver`` (the parallel driver), ``threads`` (thread settings), ``plan``
(an optimizer's step) and ``functional_step`` (the functional step)."""
