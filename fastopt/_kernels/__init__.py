"""Compiled internals of the Python layer.  ``first_order.pxd`` re-exports the public Cython
API of ``fastopt/kernels.pxd`` under its older path; ``_coef.pxd`` declares the C core's
kernels for the multi-array driver."""
