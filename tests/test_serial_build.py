"""Without OpenMP the extensions still compile (src/fastopt/omp_shim.h stands in for
omp.h): the C that Cython generated for every extension is compiled here without
-fopenmp (at -O0: only whether it compiles matters).  setup.py then warns and builds
serial kernels.  And the serial pool (``FASTOPT_SERIAL=1``) builds and steps."""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

from test_vectorized import CC, ROOT, SRC

GENERATED = sorted(glob.glob(os.path.join(ROOT, "fastopt", "**", "*.c"), recursive=True))


@pytest.mark.skipif(not GENERATED, reason="no Cython-generated C in the checkout")
@pytest.mark.skipif(shutil.which(CC) is None, reason="needs a C compiler")
@pytest.mark.parametrize("path", GENERATED, ids=[os.path.relpath(p, ROOT) for p in GENERATED])
def test_extension_compiles_without_openmp(tmp_path, path):
    includes = [SRC, np.get_include(), sysconfig.get_paths()["include"]]
    cmd = [CC, "-O0", "-fPIC", "-c", path, "-o", str(tmp_path / "x.o"),
           "-Werror=implicit-function-declaration"]
    for inc in includes:
        cmd += ["-I", inc]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "omp" not in proc.stderr.lower(), proc.stderr[-3000:]


# a first-order step and an L-BFGS solve; writes their results to out.npy
SMOKE = """
import sys
import numpy as np
import fastopt
from fastopt import _pool

if sys.argv[1] == "serial":
    assert not _pool.threads_enabled(), "the serial build reports threads"
fastopt.set_num_threads(4)                  # serial: accepted, every chunk on the caller
rng = np.random.default_rng(0)
p = rng.standard_normal(100_003).astype(np.float32)
opt = fastopt.Adam([p], lr=1e-2)
for t in range(3):
    opt.step([np.sin(p + t)])
r = fastopt.minimize(lambda x: (float(x @ x), 2 * x), np.arange(50_000.0), jac=True)
np.save("out.npy", np.concatenate([p.astype(np.float64), r.x, [r.nit]]))
"""


def _smoke(path, build):
    """SMOKE in a fresh process on the fastopt under ``path``; its results."""
    proc = subprocess.run([sys.executable, "-c", SMOKE, build], cwd=path,
                          env={**os.environ, "PYTHONPATH": str(path)}, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return np.load(os.path.join(path, "out.npy"))


@pytest.mark.skipif(shutil.which(CC) is None, reason="needs a C compiler")
@pytest.mark.skipif(not os.path.isfile(os.path.join(ROOT, "fastopt", "_pool.c")),
                    reason="no Cython-generated C of fastopt._pool in the checkout")
def test_the_serial_pool_build_steps_bit_identically(tmp_path):
    """``FASTOPT_SERIAL=1`` changes one thing in the build: ``fastopt._pool`` is compiled
    with ``-DFO_POOL_SERIAL`` and without ``-pthread`` (the other extensions bind to the
    pool through its capsule).  That extension is built so here, put in a copy of the
    package, and a first-order step and an L-BFGS solve run on it, bit-identical to the
    threaded build's."""
    serial, threaded = tmp_path / "serial", tmp_path / "threaded"
    threaded.mkdir()
    package = serial / "fastopt"
    shutil.copytree(os.path.join(ROOT, "fastopt"), package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.c"))
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    cmd = [CC, "-O1", "-fPIC", "-shared", "-DFO_POOL_SERIAL", "-ffp-contract=off",
           os.path.join(ROOT, "fastopt", "_pool.c"), os.path.join(SRC, "fastopt", "pool.c"),
           "-o", str(package / f"_pool{suffix}"), "-I", SRC, "-I", np.get_include(),
           "-I", sysconfig.get_paths()["include"]]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (threaded / "fastopt").symlink_to(os.path.join(ROOT, "fastopt"))
    np.testing.assert_array_equal(_smoke(serial, "serial"), _smoke(threaded, "threaded"))
