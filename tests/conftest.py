"""Test-session settings.

SciPy's solvers, the live references of tests/second_order, call OpenBLAS on tiny vectors;
with OpenBLAS's default of one thread per core its idle threads spin, and on a shared or
busy machine one L-BFGS-B run on a 2-variable problem takes 0.9 s instead of 0.02 s.  One
BLAS thread changes no result that the tests compare (counts and iterates are the same) and
keeps the suite fast.  It must be set before NumPy and SciPy load OpenBLAS, hence here.
fastopt's own threads (its pool, src/fastopt/pool.c) are not affected.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


import pytest  # noqa: E402  (after the BLAS setting above)


@pytest.fixture
def threads():
    """``fastopt.set_num_threads`` for one test; the thread count is restored afterwards."""
    import fastopt
    before = fastopt.get_num_threads()
    yield fastopt.set_num_threads
    fastopt.set_num_threads(before)
