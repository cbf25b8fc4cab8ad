"""Helpers of the C API tests: building a small external extension at test time, and
the inputs of a multi-array step."""
import os
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

import fastopt


def require_compiler():
    """Skip the test unless the C compiler Python's extensions are built with is present."""
    cc = os.environ.get("CC") or (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc})")


def setup_py(name, source, compile_args=(), link_args=()):
    """The ``setup.py`` text that builds extension ``name`` from ``source`` (a ``.c`` file,
    or a ``.pyx`` file, cythonized) in place, against the include directory given as its
    last argument."""
    ext = (f"Extension({name!r}, [{source!r}], include_dirs=[include], "
           f"extra_compile_args={list(compile_args)!r}, extra_link_args={list(link_args)!r})")
    if source.endswith(".pyx"):
        modules, imports = f"cythonize([{ext}])", "from Cython.Build import cythonize\n"
    else:
        modules, imports = f"[{ext}]", ""
    return (f"import sys\n{imports}from setuptools import Extension, setup\n"
            f"include = sys.argv.pop()\n"
            f"setup(ext_modules={modules}, script_args=['build_ext', '--inplace', '-q'])\n")


def build_extension(directory, name, files, setup_code):
    """Write ``files`` ({file name: text}) and ``setup.py`` (``setup_code``, see
    :func:`setup_py`) into ``directory``, build in place with the fastopt under test first
    on sys.path, and import the module ``name`` (removed again by the returned cleanup).
    Skips the test when there is no C compiler."""
    require_compiler()
    for fname, text in files.items():
        (directory / fname).write_text(text)
    (directory / "setup.py").write_text(setup_code)
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(fastopt.__file__))}
    proc = subprocess.run([sys.executable, "setup.py", fastopt.get_include()], cwd=directory,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sys.path.insert(0, str(directory))
    module = __import__(name)

    def cleanup():
        sys.path.remove(str(directory))
        sys.modules.pop(name, None)
    return module, cleanup


def step_inputs(sizes, steps, dtype, seed):
    """Parameters of these sizes and ``steps`` lists of gradients for them."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    grads = [[rng.standard_normal(n).astype(dtype) for n in sizes] for _ in range(steps)]
    return params, grads


def own_copies(params, n_states):
    """The caller's own arrays for a route under test: copies of ``params`` and
    ``n_states`` lists of zero state arrays like them."""
    return [p.copy() for p in params], [[np.zeros_like(p) for p in params]
                                        for _ in range(n_states)]
