"""Compiled internals of the Python layer: ``algorithms`` (the algorithm table,
hyperparameters, kernels), ``checks`` (input checks), ``driver`` (the parallel driver),
``threads`` (thread settings), ``plan`` (an optimizer's step) and ``functional_step`` (the
functional step).  ``table.py`` is the algorithm table itself (plain data), from which
``_generate.py`` generates, at build time, the per-algorithm code of the ``*.pxi.tp``
templates (see ``docs/adding_an_algorithm.md``).  ``_coef.pxd`` declares what the driver
needs of the C core whatever the algorithm; ``first_order.pxd`` re-exports the public
Cython API of ``fastopt/kernels.pxd`` under its older path."""
