"""A process forked after a threaded step works (issue 12, item 1): the child's steps
finish, threaded, with the parent's results.  Each check runs in a fresh interpreter that
forks and waits for its child with a timeout, so a hang FAILS the test instead of hanging
the suite."""
import os
import subprocess
import sys
import textwrap

import pytest

import fastopt
from fastopt import _pool

# the fastopt under test, also in the child interpreter
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastopt.__file__)))

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")

CHILD_TIMEOUT = 60

SETUP = textwrap.dedent("""\
    import os, sys, time
    import numpy as np
    import fastopt

    fastopt.set_num_threads(2)

    def first_order():
        p = np.linspace(-1, 1, 200_000, dtype=np.float32)
        opt = fastopt.SGD([p], lr=0.1, momentum=0.9)
        for k in range(3):
            opt.step([np.cos(p * (k + 1))])
        return p

    def second_order():
        def fg(x):
            d = x[1:] - x[:-1] ** 2
            g = np.zeros_like(x)
            g[:-1] = -400.0 * x[:-1] * d - 2 * (1 - x[:-1])
            g[1:] += 200.0 * d
            return 100.0 * (d @ d) + ((1 - x[:-1]) @ (1 - x[:-1])), g
        return fastopt.minimize(fg, np.full(100_000, -1.2), jac=True, method="lbfgs",
                                options={"maxiter": 10}).x

    KINDS = {KINDS}

    def check():
        return all(np.array_equal(run(), EXPECT[run.__name__]) for run in KINDS)

    EXPECT = {run.__name__: run() for run in KINDS}   # the parent's threaded steps

    def wait(pid, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return "hung"
""")

OS_FORK = SETUP + textwrap.dedent(f"""
    pid = os.fork()
    if pid == 0:
        ok = check() and fastopt.get_num_threads() == 2
        os._exit(0 if ok else 3)
    rc = wait(pid, {CHILD_TIMEOUT})
    if rc != 0:
        sys.exit(f"child: {{rc}}")
    assert check()   # the parent's pool still works after the fork
""")

MP_FORK = SETUP + textwrap.dedent(f"""
    import multiprocessing as mp

    def task(_):
        return check()

    if __name__ == "__main__":
        with mp.get_context("fork").Pool(2) as pool:
            res = pool.map_async(task, range(4))
            try:
                out = res.get(timeout={CHILD_TIMEOUT})
            except mp.TimeoutError:
                pool.terminate()
                sys.exit("child: hung")
        if not all(out):
            sys.exit(f"child results differ: {{out}}")
""")


# the threaded paths: the first-order steps and the second-order vector kernels
KINDS = ["first_order", "second_order"]


def _run(code, tmp_path):
    script = tmp_path / "fork_check.py"
    script.write_text(code.replace("{KINDS}", "(" + ", ".join(KINDS) + ",)"))
    try:
        env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=4 * CHILD_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("the forking process itself hung")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


@pytest.mark.skipif(not _pool.threads_enabled(), reason="serial build: nothing to fork")
def test_child_of_os_fork_after_threaded_steps_steps_threaded(tmp_path):
    _run(OS_FORK, tmp_path)


@pytest.mark.skipif(not _pool.threads_enabled(), reason="serial build: nothing to fork")
def test_multiprocessing_fork_workers_after_threaded_steps_work(tmp_path):
    _run(MP_FORK, tmp_path)
