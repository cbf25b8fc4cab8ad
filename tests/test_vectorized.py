"""The compiler really vectorizes every per-element loop of the first-order kernels.

Memoryviews that may alias, ``sqrt`` with errno semantics or mixed float/double arithmetic
each silently turn a kernel into scalar code (2-3x slower); nothing else in the suite would
notice.  This compiles ``src/fastopt/first_order.h`` (every algorithm header) alone with
setup.py's flags and GCC's ``-fopt-info-vec-optimized`` report, and checks that every inner
loop over a block (``for (ptrdiff_t j = 0; j < nb; j++)``) of every algorithm header is
reported vectorized, for float and double.
"""
import ast
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
KERNELS = ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamax", "nadam"]
HEADERS = {k: os.path.join(SRC, "fastopt", f"{k}.h") for k in KERNELS}



def _base_flags():
    """setup.py's BASE_FLAGS, the flags the extensions are built with (read, not imported:
    importing setup.py would run the build)."""
    try:
        with open(os.path.join(ROOT, "setup.py")) as f:
            tree = ast.parse(f.read())
    except OSError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "BASE_FLAGS":
            return ast.literal_eval(node.value)
    return None


BASE_FLAGS = _base_flags()

CC = os.environ.get("CC", "gcc")


def _is_gcc():
    if shutil.which(CC) is None:
        return False
    out = subprocess.run([CC, "--version"], capture_output=True, text=True).stdout
    return "GCC" in out or "gcc" in out.split("\n")[0]


pytestmark = [
    pytest.mark.skipif(not all(map(os.path.isfile, HEADERS.values())),
                       reason="needs the source checkout"),
    pytest.mark.skipif(BASE_FLAGS is None, reason="no BASE_FLAGS in setup.py"),
    pytest.mark.skipif(not _is_gcc(), reason="-fopt-info-vec is GCC's report"),
]


def _inner_loops():
    """(header, line) of every inner block loop of every algorithm header."""
    loops = []
    for k, path in HEADERS.items():
        with open(path) as f:
            loops += [(f"{k}.h", i) for i, line in enumerate(f, 1)
                      if "for (ptrdiff_t j = 0; j < nb; j++)" in line]
    return loops


@pytest.mark.parametrize("isa", ["default", "avx2"])
def test_every_inner_loop_is_vectorized(tmp_path, isa):
    # One translation unit that keeps every kernel (float and double) alive.
    names = [f"fo_{k}_{t}" for k in KERNELS for t in ("f32", "f64")]
    c = tmp_path / "kernels.c"
    c.write_text('#include "fastopt/first_order.h"\n'
                 f"void *fastopt_kernels[] = {{{', '.join('(void *)' + n for n in names)}}};\n")
    # One ISA at a time (no target_clones), so each report line belongs to that ISA.
    flags = list(BASE_FLAGS) + ["-DFASTOPT_NO_CLONES", "-fopt-info-vec-optimized"]
    if isa == "avx2":
        flags.append("-mavx2")
    proc = subprocess.run([CC, *flags, "-I", SRC, "-c", str(c), "-o", str(tmp_path / "k.o")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    done = {(m.group(1), int(m.group(2))) for m in
            re.finditer(r"(\w+\.h):(\d+):\d+: optimized: ", proc.stderr)}
    loops = _inner_loops()
    assert len(loops) >= 28  # every stage of every algorithm
    missed = [f"{h}:{n}" for h, n in loops if (h, n) not in done]
    assert not missed, f"{isa}: loops at {missed} not vectorized"
