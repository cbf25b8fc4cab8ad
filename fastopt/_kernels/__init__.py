"""Compiled internals of the Python layer: ``algorithms`` (the algorithm table,
hyperparameters, kernels), ``checks`` (input checks), ``driver`` (the parallel driver),
``threads`` (thread settings), ``plan`` (an optimizer's step) and ``functional_step`` (the
functional step).  ``_coef.pxd`` declares the C core's kernels for the driver;
``first_order.pxd`` re-exports the public Cython API of ``fastopt/kernels.pxd`` under its
older path."""
