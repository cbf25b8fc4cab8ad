"""The public Cython API (fastopt/kernels.pxd) from another project's Cython code: an
extension compiled here against fastopt.get_include(), run inside the caller's own nogil
block and prange, bit-identical to the Python API."""
import os
import textwrap

import numpy as np
import pytest

import fastopt
from c_api_helpers import build_extension, setup_py
from fastopt import reference

pytest.importorskip("Cython")

CALLER = textwrap.dedent("""
    # cython: language_level=3
    from cython cimport floating
    from cython.parallel cimport prange
    from fastopt.kernels cimport (
        AdamHyper, SGDHyper, adam_defaults, adam_f32, adam_f64, adam_step, sgd_defaults, sgd_f64,
    )
    # the older internal path keeps working
    from fastopt._kernels.first_order cimport AdamHyper as OldAdamHyper

    def adam_prange(floating[::1] p, const floating[::1] g, floating[::1] m, floating[::1] v,
                    long long step, double lr, Py_ssize_t chunk):
        # Adam on memoryviews, one slice per iteration of the caller's own prange; one
        # fused-type function serves float32 and float64
        cdef AdamHyper h = adam_defaults()
        cdef Py_ssize_t k, lo, hi, n = p.shape[0], bad = 0
        h.lr = lr
        for k in prange((n + chunk - 1) // chunk, nogil=True, num_threads=2):
            lo = k * chunk
            hi = min(lo + chunk, n)
            bad += adam_step(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], v[lo:lo], &h, step)
        return bad

    def adam_mismatch(double[::1] p, const double[::1] g, double[::1] m, double[::1] v):
        cdef AdamHyper h = adam_defaults()
        return adam_step(p, g[1:], m, v, v, &h, 1)

    def defaults():
        return adam_defaults(), sgd_defaults()

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

SETUP = setup_py("caller", "caller.pyx", ["-fopenmp"], ["-fopenmp"])


@pytest.fixture(scope="module")
def caller(tmp_path_factory):
    module, cleanup = build_extension(tmp_path_factory.mktemp("c_api"), "caller",
                                      {"caller.pyx": CALLER}, SETUP)
    yield module
    cleanup()


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_adam_memoryviews_in_callers_prange_match_the_optimizer(caller, dtype):
    rng = np.random.default_rng(2)
    n = 1000  # chunks of 96: tails around the SIMD width in every slice
    p = rng.standard_normal(n).astype(dtype)
    q = p.copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    opt = fastopt.Adam([q], lr=0.01)
    for t in range(1, 8):
        g = rng.standard_normal(n).astype(dtype)
        assert caller.adam_prange(p, g, m, v, t, 0.01, 96) == 0
        opt.step([g])
    np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(m, opt.state[0]["exp_avg"])
    np.testing.assert_array_equal(v, opt.state[0]["exp_avg_sq"])


def test_memoryview_step_with_mismatched_lengths_writes_nothing(caller):
    p, g, m, v = np.ones(8), np.ones(8), np.zeros(8), np.zeros(8)
    assert caller.adam_mismatch(p, g, m, v) == -1
    np.testing.assert_array_equal(p, 1.0)
    np.testing.assert_array_equal(m, 0.0)


def test_defaults_are_torchs(caller):
    torch = pytest.importorskip("torch")
    adam, sgd = caller.defaults()
    opt = torch.optim.Adam([torch.zeros(1)]).defaults
    assert (adam["lr"], (adam["beta1"], adam["beta2"]), adam["eps"], adam["weight_decay"]) == \
        (opt["lr"], opt["betas"], opt["eps"], opt["weight_decay"])
    assert not (adam["amsgrad"] or adam["maximize"] or adam["decoupled_weight_decay"])
    assert sgd["lr"] == torch.optim.SGD([torch.zeros(1)]).defaults["lr"]


def test_get_include_holds_the_headers():
    inc = fastopt.get_include()
    for name in ["first_order.h", "adam.h", "sgd.h", "nadam.h", "simd.h", "fo_common.h"]:
        assert os.path.isfile(os.path.join(inc, "fastopt", name)), name
