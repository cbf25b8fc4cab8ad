"""Shared by the C API tests: running a test on 1 and 2 of fastopt's threads."""
import pytest

import fastopt
from fastopt._kernels import driver


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """1 or 2 threads, with the per-thread minimum lowered so that 2 threads really split
    a step of ~21,000 elements."""
    old_n, old_min = fastopt.get_num_threads(), driver._set_parallel_min(1024)
    fastopt.set_num_threads(request.param)
    yield request.param
    fastopt.set_num_threads(old_n)
    driver._set_parallel_min(old_min)
