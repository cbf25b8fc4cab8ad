"""The C-level API (fastopt/_kernels/first_order.pxd) from another project's Cython code:
compiled here against fastopt.get_include(), run inside the caller's own nogil block."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastopt
from fastopt import reference

pytest.importorskip("Cython")

CALLER = textwrap.dedent("""
    # cython: language_level=3
    from fastopt._kernels.first_order cimport AdamHyper, SGDHyper, adam_f32, adam_f64, sgd_f64

    def adam(p, const float[::1] g, float[::1] m, float[::1] v, long long step, double lr):
        cdef float[::1] pv = p
        cdef AdamHyper h = AdamHyper(lr=lr, beta1=0.9, beta2=0.999, eps=1e-8,
                                     weight_decay=0.0, amsgrad=False, maximize=False,
                                     decoupled_weight_decay=False)
        with nogil:
            adam_f32(&pv[0], &g[0], &m[0], &v[0], NULL, pv.shape[0], &h, step)

    def adam_amsgrad64(double[::1] p, const double[::1] g, double[::1] m, double[::1] v,
                       double[::1] vmax, long long step):
        cdef AdamHyper h = AdamHyper(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8,
                                     weight_decay=0.1, amsgrad=True, maximize=True,
                                     decoupled_weight_decay=True)
        with nogil:
            adam_f64(&p[0], &g[0], &m[0], &v[0], &vmax[0], p.shape[0], &h, step)

    def sgd_nesterov(double[::1] p, const double[::1] g, double[::1] b, long long step):
        cdef SGDHyper h = SGDHyper(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
                                   nesterov=True, maximize=False)
        with nogil:
            sgd_f64(&p[0], &g[0], &b[0], p.shape[0], &h, step)
""")

SETUP = textwrap.dedent("""
    import sys
    from Cython.Build import cythonize
    from setuptools import Extension, setup
    setup(ext_modules=cythonize([Extension("caller", ["caller.pyx"])],
                                include_path=[sys.argv.pop()]),
          script_args=["build_ext", "--inplace", "-q"])
""")


@pytest.fixture(scope="module")
def caller(tmp_path_factory):
    d = tmp_path_factory.mktemp("c_api")
    (d / "caller.pyx").write_text(CALLER)
    (d / "setup.py").write_text(SETUP)
    proc = subprocess.run([sys.executable, "setup.py", fastopt.get_include()], cwd=d,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sys.path.insert(0, str(d))
    try:
        import caller
        yield caller
    finally:
        sys.path.remove(str(d))
        sys.modules.pop("caller", None)


def test_adam_f32_from_cython(caller):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(101).astype(np.float32)
    q = p.copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    m2, v2 = m.copy(), v.copy()
    for t in range(1, 6):
        g = rng.standard_normal(101).astype(np.float32)
        caller.adam(p, g, m, v, t, 0.01)
        fastopt.functional.adam_(q, g, m2, v2, step=t, lr=0.01)
    np.testing.assert_array_equal(p, q)  # the very same kernel
    np.testing.assert_array_equal(m, m2)


def test_adam_f64_options_from_cython(caller):
    rng = np.random.default_rng(1)
    p = rng.standard_normal(33)
    q = p.copy()
    state = [np.zeros(33) for _ in range(3)]
    ref_state = [np.zeros(33) for _ in range(3)]
    for t in range(1, 6):
        g = rng.standard_normal(33)
        caller.adam_amsgrad64(p, g, *state, t)
        reference.adam_(q, g, *ref_state, step=t, lr=0.01, beta1=0.9, beta2=0.99,
                        weight_decay=0.1, amsgrad=True, maximize=True,
                        decoupled_weight_decay=True)
    np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-12)


def test_sgd_first_step_rule_from_cython(caller):
    p, b = np.ones(5), np.full(5, 123.0)  # step 1 ignores the old buffer content
    caller.sgd_nesterov(p, np.ones(5), b, 1)
    np.testing.assert_array_equal(b, 1.0)
    np.testing.assert_allclose(p, 1 - 0.1 * (1 + 0.9))
