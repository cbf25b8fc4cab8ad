"""fastopt.torch steps on torch's own OpenMP threads (fastopt/torch/_threads.py): every
chunk runs once on them, the results are the bits of one thread, and fastopt's own pool is
not used while a fastopt.torch optimizer steps."""
import contextlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import fastopt.torch as ft
from fastopt import _pool
from fastopt.torch import _threads

needs_torch_openmp = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and torch.backends.openmp.is_available()),
    reason="torch without OpenMP, or no /proc/self/maps")


@needs_torch_openmp
def test_torchs_openmp_runtime_is_found_on_linux():
    assert _threads.AVAILABLE, _threads._loaded_openmp_runtimes()


@needs_torch_openmp
@pytest.mark.parametrize("team", [2, 3, 8])
def test_every_chunk_runs_exactly_once_on_torchs_threads(team, threads):
    threads(team)
    _pool._use_openmp(team)
    try:
        for n_chunks in (0, 1, 2, 3, 17, 1000):
            for _ in range(10):
                counts = _pool._run_chunks(n_chunks, 8, 200)
                assert (counts == 1).all(), f"team {team}, {n_chunks} chunks"
    finally:
        _pool._use_openmp(0)


# the start of the scripts run in a fresh process: fastopt and torch on two threads each,
# and a fastopt.torch Adam over 1M elements that has taken its first two steps
STEPPED = """
import os, numpy as np, torch, fastopt, fastopt.torch as ft
from fastopt import _pool
fastopt.set_num_threads(2)
torch.set_num_threads(2)
p = torch.zeros(1_000_000, requires_grad=True)
p.grad = torch.ones_like(p)
opt = ft.Adam([p])
opt.step()
opt.step()
"""


def _in_a_fresh_process(code, env=None):
    """What the script ``code`` prints, run by a new interpreter (``env``: added to the
    environment)."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _run_chunks_in_a_fresh_process(env, team):
    return _in_a_fresh_process(f"""
        import torch, fastopt, fastopt.torch
        from fastopt import _pool
        fastopt.set_num_threads({team})
        _pool._use_openmp({team})
        bad = [n for n in (1, 2, 5, 64, 1000, 4097) if not (_pool._run_chunks(n, 64, 50) == 1).all()]
        print(bad)
    """, env)


@needs_torch_openmp
def test_every_chunk_runs_once_when_the_runtime_gives_a_smaller_team_than_asked():
    # OMP_THREAD_LIMIT=2: GOMP_parallel runs 2 threads of the 8 asked for; they take the
    # absent members' ranges too
    assert _run_chunks_in_a_fresh_process({"OMP_THREAD_LIMIT": "2"}, 8) == "[]"


@contextlib.contextmanager
def torch_threads(n):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _trajectory(cls, kwargs, sizes, dtype, steps=5):
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(n, generator=gen, dtype=dtype, requires_grad=True) for n in sizes]
    opt = cls(params, **kwargs)
    for _ in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen, dtype=dtype)
        opt.step()
    return [p.detach().clone() for p in params]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("cls,kwargs", [(ft.Adam, dict(lr=1e-2)),
                                        (ft.SGD, dict(lr=1e-2, momentum=0.9, nesterov=True)),
                                        (ft.NAdam, dict(lr=1e-2, weight_decay=0.1))])
def test_steps_on_several_torch_threads_equal_one_thread_bitwise(cls, kwargs, dtype, threads):
    sizes = (1, 17, 70_001, 200_003)        # several of the driver's chunks each
    with torch_threads(3):      # a team of min(fastopt's, torch's) threads
        threads(1)
        one = _trajectory(cls, kwargs, sizes, dtype)
        threads(4)
        several = _trajectory(cls, kwargs, sizes, dtype)
    for n, a, b in zip(sizes, one, several):
        assert torch.equal(a, b), f"size {n}"


@needs_torch_openmp
def test_fastopts_own_pool_stays_idle_while_fastopt_torch_steps():
    # a fresh process: fastopt's pool has started no worker yet
    printed = _in_a_fresh_process(STEPPED + textwrap.dedent("""
        opt.step()
        x = torch.zeros(300_000, dtype=torch.float64, requires_grad=True)
        lbfgs = ft.LBFGS([x], max_iter=3)
        def closure():
            lbfgs.zero_grad()
            loss = ((x - 1) ** 2).sum()
            loss.backward()
            return loss
        lbfgs.step(closure)
        during = _pool._workers()
        a, g = np.zeros(1_000_000, np.float32), np.ones(1_000_000, np.float32)
        fastopt.functional.sgd_(a, g, step=1, lr=0.1)
        print(during, _pool._workers())
    """))
    during, after = map(int, printed.split())
    assert during == 0, "fastopt's pool ran a fastopt.torch step"
    assert after >= 1, "the functional step outside fastopt.torch did not use the pool"


def test_lbfgs_on_several_torch_threads_equals_one_thread_bitwise(threads):
    def run():
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(300_000, generator=gen, dtype=torch.float64)
        x = torch.zeros(300_000, dtype=torch.float64, requires_grad=True)
        opt = ft.LBFGS([x], max_iter=8, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (a * (x - 1) ** 2).sum() + (x ** 4).sum()
            loss.backward()
            return loss
        opt.step(closure)
        return x.detach().clone()
    with torch_threads(3):      # the closure's torch reductions: the same in both runs
        threads(1)
        one = run()
        threads(4)
        several = run()
    assert torch.equal(one, several)
    assert np.isfinite(one.numpy()).all()


@needs_torch_openmp
def test_a_forked_child_steps_on_fastopts_pool_instead_of_hanging():
    # libgomp's threads do not survive a fork, and its next parallel region in the child
    # waits for them (torch's own ops hang there too); the child's steps stay on
    # fastopt's pool, which starts new workers
    assert _in_a_fresh_process(STEPPED + textwrap.dedent("""
        pid = os.fork()
        if pid == 0:
            opt.step()
            os._exit(0 if float(p[0]) < 0 else 1)
        _, status = os.waitpid(pid, 0)
        print(status)
    """)) == "0"
