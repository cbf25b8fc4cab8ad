"""The C API through the capsule (fastopt/fastopt_capi.h): a C extension with no Cython and
no link-time dependency on fastopt (tests/c_api/capsule_caller.c), compiled here against
fastopt.get_include() with -ffp-contract=fast (its own flags do not matter: the work runs in
fastopt's compiled code), runs the multi-array step, the L-BFGS blocks and the thread
count through the table, bit-identical to the Python API for 1 and 2 threads.  The table's
layout is pinned, and import_fastopt() refuses an older table."""
import ctypes
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import types

import numpy as np
import pytest

import fastopt
from fastopt import _capi
from fastopt._kernels import driver
from fastopt.second_order import _vec

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [1, 17, 1003, 20001, 15, 0, 64]  # tails around the SIMD width; > 1 pool chunk
STEPS = 5
CODE = {np.float32: 4, np.float64: 8}

# The table's layout in version 1 (LP64).  These numbers never change: entries are only
# appended, and each append raises FASTOPT_CAPI_VERSION and the size.
PINNED = {"version": 0, "size": 8, "fastopt_version": 16, "step": 24, "nadam_mu_product": 32,
          "get_num_threads": 40, "set_num_threads": 48, "multidot": 56, "combine": 64,
          "lbfgs_new": 72, "lbfgs_free": 80, "lbfgs_update": 88, "lbfgs_direction": 96,
          "sizeof": 104}

SETUP = textwrap.dedent("""
    import sys
    from setuptools import Extension, setup
    include = sys.argv.pop()
    setup(ext_modules=[Extension("capsule_caller", ["capsule_caller.c"], include_dirs=[include],
                                 extra_compile_args=["-O2", "-ffp-contract=fast"])],
          script_args=["build_ext", "--inplace", "-q"])
""")


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    cc = os.environ.get("CC") or (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc})")
    if sys.maxsize != 2**63 - 1:
        pytest.skip("the pinned layout is the LP64 one")
    d = tmp_path_factory.mktemp("capsule")
    shutil.copy(os.path.join(HERE, "capsule_caller.c"), d)
    (d / "setup.py").write_text(SETUP)
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(fastopt.__file__))}
    proc = subprocess.run([sys.executable, "setup.py", fastopt.get_include()], cwd=d,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sys.path.insert(0, str(d))
    try:
        import capsule_caller
        yield capsule_caller
    finally:
        sys.path.remove(str(d))
        sys.modules.pop("capsule_caller", None)


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """1 or 2 threads, with the per-thread minimum lowered so that 2 threads really split
    the ~21,000 elements."""
    old_n, old_min = fastopt.get_num_threads(), driver._set_parallel_min(1024)
    fastopt.set_num_threads(request.param)
    yield request.param
    fastopt.set_num_threads(old_n)
    driver._set_parallel_min(old_min)


def arrays(dtype, seed):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(n).astype(dtype) for n in SIZES]
    grads = [[rng.standard_normal(n).astype(dtype) for n in SIZES] for _ in range(STEPS)]
    return params, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_capsule_adam_over_several_arrays_matches_optimizer_step(ext, dtype, threads):
    params, grads = arrays(dtype, 0)
    mine = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    opt = fastopt.Adam(params, lr=1e-2)
    for t in range(1, STEPS + 1):
        rows = [(p, g, a, b, None) for p, g, a, b in zip(mine, grads[t - 1], m, v)]
        assert ext.adam(CODE[dtype], rows, t, 1e-2, 0.5) == 0
        opt.step(grads[t - 1], grad_scale=0.5)
    for i, p in enumerate(params):
        np.testing.assert_array_equal(mine[i], p)
        np.testing.assert_array_equal(m[i], opt.state[i]["exp_avg"])
        np.testing.assert_array_equal(v[i], opt.state[i]["exp_avg_sq"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_capsule_sgd_nesterov_over_several_arrays_matches_optimizer_step(ext, dtype, threads):
    params, grads = arrays(dtype, 1)
    mine = [p.copy() for p in params]
    buf = [np.full_like(p, 7.0) for p in params]  # step 1 starts it from the gradient
    opt = fastopt.SGD(params, lr=0.1, momentum=0.9, nesterov=True)
    for t in range(1, STEPS + 1):
        rows = [(p, g, b, None, None) for p, g, b in zip(mine, grads[t - 1], buf)]
        assert ext.sgd_nesterov(CODE[dtype], rows, t, 0.1, 0.9) == 0
        opt.step(grads[t - 1])
    for i, p in enumerate(params):
        np.testing.assert_array_equal(mine[i], p)
        np.testing.assert_array_equal(buf[i], opt.state[i]["momentum_buffer"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_capsule_lbfgs_direction_matches_lbfgs_memory(ext, dtype, threads):
    rng = np.random.default_rng(2)
    n, m, k = 5003, 3, 7  # more iterations than pairs: the ring wraps
    scale = np.linspace(0.5, 3.0, n)
    xs = [rng.standard_normal(n).astype(dtype) for _ in range(k)]
    gs = [(scale * x + 0.01 * rng.standard_normal(n)).astype(dtype) for x in xs]
    ds = [np.empty(n, dtype) for _ in range(k - 1)]
    rows = ext.lbfgs(CODE[dtype], m, xs, gs, ds)
    memory = _vec.LBFGSMemory(m, n, dtype)
    d = np.empty(n, dtype)
    for i in range(1, k):
        stored, sy, yy = memory.update(xs[i], xs[i - 1], gs[i], gs[i - 1])
        gtd = memory.direction(gs[i], d)
        assert rows[i - 1] == (stored, sy, yy, gtd)
        np.testing.assert_array_equal(ds[i - 1], d)
    assert all(row[0] for row in rows)


def test_capsule_multidot_matches_the_fixed_order_dot(ext):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(10007).astype(np.float32), rng.standard_normal(10007).astype(
        np.float32)
    assert ext.dot(4, a, b) == _vec.dot(a, b)


def test_capsule_bad_arguments_return_their_codes_and_write_nothing(ext):
    p, g = np.ones(4), np.ones(4)
    codes = ext.bad_calls(p, g)
    assert codes == [-3, -3, -4, -1, -1, -2, -2, -1, -1, -5, -6, -7, -2]
    np.testing.assert_array_equal(p, 1.0)


def test_capsule_sets_and_reads_fastopts_thread_count(ext):
    old = fastopt.get_num_threads()
    try:
        assert ext.threads(1) == 1 == fastopt.get_num_threads()
        assert ext.threads(2) == 2 == fastopt.get_num_threads()
    finally:
        fastopt.set_num_threads(old)


def test_table_layout_is_pinned_in_header_and_build(ext):
    header = ext.layout()
    assert header.pop("FASTOPT_CAPI_VERSION") == 1 == _capi.version()
    assert header.pop("installed_fastopt_version") == fastopt.__version__
    assert header == PINNED            # the header, as a C extension compiles it
    assert _capi._layout() == PINNED   # the table, as fastopt was compiled


def _fake_capsule(version, size):
    class Head(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint), ("size", ctypes.c_size_t)]
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    head, name = Head(version, size), ctypes.create_string_buffer(b"fastopt._capi._C_API")
    module = types.ModuleType("fastopt._capi")
    module._C_API = new(ctypes.addressof(head), name, None)
    module.keep = (head, name)         # the capsule points into these
    return module


@pytest.mark.parametrize("version, size", [(0, 104), (1, 24)], ids=["version", "size"])
def test_import_fastopt_refuses_an_older_table(ext, monkeypatch, version, size):
    monkeypatch.setitem(sys.modules, "fastopt._capi", _fake_capsule(version, size))
    with pytest.raises(ImportError, match=f"version {version} .table of {size} bytes.*"
                                          f"older than version 1 .104 bytes."):
        ext.reimport()
    monkeypatch.undo()
    ext.reimport()                     # the real table still imports
    assert ext.threads() == fastopt.get_num_threads()


def test_import_fastopt_refuses_a_foreign_capsule(ext, monkeypatch):
    module = types.ModuleType("fastopt._capi")
    module._C_API = fastopt._pool._C_API  # a capsule, but not the table's
    monkeypatch.setitem(sys.modules, "fastopt._capi", module)
    with pytest.raises(RuntimeError, match="not a capsule named fastopt._capi._C_API"):
        ext.reimport()
