"""The source distribution holds everything a build needs (MANIFEST.in), and setup.py never
builds a package without its kernels.  The full check -- build the sdist and the wheel,
install each into a fresh virtual environment, import and step -- is .ci/check_dist, which
CI (.ci/run) runs: it needs the network and minutes, not seconds."""
import os
import subprocess
import sys
from glob import glob

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "setup.py")),
                                reason="not a source tree (an installed package)")


def _manifest_files(monkeypatch):
    """The files MANIFEST.in selects from the tree, as setuptools' sdist applies it."""
    from setuptools.command.egg_info import FileList

    monkeypatch.chdir(ROOT)
    files = FileList()
    files.findall()
    with open("MANIFEST.in") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                files.process_template_line(line)
    return {os.path.normpath(p) for p in files.files}


def _tree(*patterns):
    return {os.path.normpath(os.path.relpath(p, ROOT))
            for pattern in patterns
            for p in glob(os.path.join(ROOT, pattern), recursive=True)}


def test_the_sdist_holds_every_cython_source_and_declaration(monkeypatch):
    needed = _tree("fastopt/**/*.pyx", "fastopt/**/*.pxd")
    assert any(p.endswith("_step.pyx") or p.endswith(".pyx") for p in needed)
    missing = needed - _manifest_files(monkeypatch)
    assert not missing, f"MANIFEST.in leaves out {sorted(missing)}"


def test_the_sdist_holds_every_header_and_c_source_in_src(monkeypatch):
    needed = _tree("src/**/*.h", "src/**/*.c")
    assert any(p.endswith("simd.h") for p in needed)
    missing = needed - _manifest_files(monkeypatch)
    assert not missing, f"MANIFEST.in leaves out {sorted(missing)}"


def test_the_sdist_holds_the_build_files_and_python_modules(monkeypatch):
    files = _manifest_files(monkeypatch)
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in"):
        assert name in files
    missing = _tree("fastopt/**/*.py") - files
    assert not missing, f"MANIFEST.in leaves out {sorted(missing)}"


def test_the_sdist_leaves_out_generated_files(monkeypatch):
    generated = [p for p in _manifest_files(monkeypatch)
                 if p.startswith("fastopt") and p.endswith((".c", ".so", ".pyd", ".html"))]
    assert not generated, f"MANIFEST.in ships generated files {generated}"


def test_setup_py_refuses_a_tree_without_cython_sources(tmp_path):
    with open(os.path.join(ROOT, "setup.py")) as f:
        (tmp_path / "setup.py").write_text(f.read())
    r = subprocess.run([sys.executable, "setup.py", "--name"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "no fastopt/**/*.pyx found" in r.stderr


def test_every_test_module_has_a_basename_of_its_own():
    """pytest imports test modules by basename (rootdir-relative "prepend" import mode, no
    __init__.py in tests/), so two test files of one name fail the whole collection."""
    seen = {}
    for path in sorted(glob(os.path.join(ROOT, "tests", "**", "test_*.py"), recursive=True)):
        seen.setdefault(os.path.basename(path), []).append(os.path.relpath(path, ROOT))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
