"""Every docstring example in the package runs and prints what it shows.

The modules are found by walking the installed package (compiled extensions included), so a
new module's examples run without being listed here.  A module whose examples import an
optional package (SciPy, matplotlib, torch, scikit-learn, tqdm) is skipped when that
package is missing.
"""
import doctest
import importlib
import importlib.util
import pkgutil
import re

import pytest

import fastopt

OPTIONAL = ("scipy", "matplotlib", "torch", "sklearn", "tqdm")
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _modules():
    names = ["fastopt"]
    for info in pkgutil.walk_packages(fastopt.__path__, "fastopt."):
        if info.name.rsplit(".", 1)[-1] != "__main__":   # importing it runs the CLI
            names.append(info.name)
    return sorted(names)


def _examples(name):
    module = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder(exclude_empty=True).find(module)
            if any(not ex.options.get(doctest.SKIP) for ex in t.examples)]


MODULES = [name for name in _modules() if _examples(name)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    tests = _examples(name)
    source = "\n".join(ex.source for t in tests for ex in t.examples)
    for package in OPTIONAL:
        if re.search(rf"\b(import|from)\s+{package}\b", source) and \
                importlib.util.find_spec(package) is None:
            pytest.skip(f"the examples of {name} need {package}")
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_the_package_walk_finds_the_compiled_modules():
    """The walk sees extension modules too, not only .py files (pytest's --doctest-modules
    would not)."""
    found = set(_modules())
    assert {"fastopt.second_order._vec", "fastopt.functional", "fastopt.scipy"} <= found
