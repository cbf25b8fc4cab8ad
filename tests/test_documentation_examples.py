"""Every ```python block of README.md and docs/*.md runs as written, in a fresh process.

A block that imports an optional package (SciPy, torch, matplotlib, scikit-learn, tqdm) is
skipped when that package is missing.  The process runs in the repository root, so it
imports the checkout's fastopt."""
import glob
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPTIONAL = ("scipy", "torch", "matplotlib", "sklearn", "tqdm")
FILES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


def _blocks():
    out = []
    for path in FILES:
        if not os.path.isfile(path):
            continue
        text = open(path, encoding="utf-8").read()
        for i, m in enumerate(re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)):
            line = text.count("\n", 0, m.start()) + 1
            out.append(pytest.param(m.group(1), id=f"{os.path.relpath(path, ROOT)}:{line}"))
    return out


BLOCKS = _blocks()


def test_the_readme_has_python_examples():
    assert any(p.id.startswith("README.md") for p in BLOCKS)


@pytest.mark.parametrize("code", BLOCKS)
def test_documented_python_block_runs(code):
    for package in OPTIONAL:
        if re.search(rf"^\s*(import|from)\s+{package}\b", code, re.M) and \
                importlib.util.find_spec(package) is None:
            pytest.skip(f"needs {package}")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_every_docs_page_is_read_and_no_python_block_escapes_the_runner():
    pages = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "docs", "*.md"))}
    assert pages and pages <= {os.path.basename(p) for p in FILES}
    for path in FILES:
        for line in open(path, encoding="utf-8"):
            fence = line.strip()
            if fence.startswith("```") and fence[3:].lower().startswith("py"):
                # ```py, ```python3, an indented ```python: not run by the test above
                assert line == "```python\n", f"{os.path.relpath(path, ROOT)}: {line!r}"
