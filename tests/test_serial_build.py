"""Without OpenMP the extensions still compile (src/fastopt/omp_shim.h stands in for
omp.h): the C that Cython generated for every extension is compiled here without
-fopenmp (at -O0: only whether it compiles matters).  setup.py then warns and builds
serial kernels."""
import glob
import os
import shutil
import subprocess
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
