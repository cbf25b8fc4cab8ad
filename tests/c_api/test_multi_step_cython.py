"""The multi-array step from another project's Cython code (``multi_step`` of
fastopt/kernels.pxd): one extension compiled here runs Adam (with grad_scale) and NAdam (with
its mu_product) over several arrays of odd sizes in one call, bit-identical to
Optimizer.step, and an L-BFGS direction, bit-identical to the L-BFGS memory of
fastopt.minimize, for float32 and float64, 1 and 2 threads."""
import textwrap

import numpy as np
import pytest

import fastopt
from fastopt.second_order import _vec
from c_api_helpers import build_extension, own_copies, setup_py, step_inputs

pytest.importorskip("Cython")

SIZES = [3, 1, 20001, 0, 1003, 31]  # tails around the SIMD width; > 1 pool chunk
STEPS = 5
CODE = {np.float32: 4, np.float64: 8}

CALLER = textwrap.dedent("""
    # cython: language_level=3
    from libc.stdlib cimport free, malloc
    from fastopt.kernels cimport (
        FASTOPT_ADAM, FASTOPT_NADAM, AdamHyper, GradOptions, NAdamHyper, StepArray,
        adam_defaults, grad_options_default, import_fastopt, lbfgs_direction, lbfgs_free,
        lbfgs_new, lbfgs_update, multi_step, nadam_defaults, nadam_mu_product,
    )

    BEFORE_IMPORT = multi_step(FASTOPT_ADAM, 8, NULL, 1, 1.0, NULL, NULL, 0)
    import_fastopt()  # fills the table the calls go through, as numpy's import_array()

    cdef void* _ptr(a):
        return NULL if a is None else <void*><size_t>a.ctypes.data

    cdef StepArray* _arrays(list rows) except NULL:
        # rows: (param, grad, state0, state1[, state2]) with None for an unused state
        cdef StepArray* a = <StepArray*>malloc(max(len(rows), 1) * sizeof(StepArray))
        if a == NULL:
            raise MemoryError()
        for i, row in enumerate(rows):
            a[i].param = _ptr(row[0])
            a[i].grad = _ptr(row[1])
            for j in range(3):
                a[i].state[j] = _ptr(row[2 + j]) if len(row) > 2 + j else NULL
            a[i].n = row[0].size
        return a

    def adam(int dtype, list rows, long long step, double lr, double grad_scale):
        cdef AdamHyper h = adam_defaults()
        h.lr = lr
        cdef GradOptions options = grad_options_default()
        options.grad_scale = grad_scale
        cdef StepArray* a = _arrays(rows)
        cdef Py_ssize_t n = len(rows)
        cdef int rc
        with nogil:
            rc = multi_step(FASTOPT_ADAM, dtype, &h, step, 1.0, &options, a, n)
        free(a)
        return rc

    def nadam(int dtype, list rows, long long step, double mu_product, double lr):
        # returns (code, mu_product after the step)
        cdef NAdamHyper h = nadam_defaults()
        h.lr = lr
        cdef StepArray* a = _arrays(rows)
        cdef Py_ssize_t n = len(rows)
        cdef int rc
        with nogil:
            rc = multi_step(FASTOPT_NADAM, dtype, &h, step, mu_product, NULL, a, n)
        free(a)
        return rc, nadam_mu_product(&h, step, mu_product)

    def lbfgs(int dtype, int m, list xs, list gs, list ds):
        # for k = 1..: update with (x_k, x_{k-1}, g_k, g_{k-1}), then d_{k-1} = -H g_k
        cdef void* memory = lbfgs_new(m, xs[0].size, dtype)
        cdef int stored
        cdef double sy, yy, gtd
        rows = []
        try:
            for k in range(1, len(xs)):
                if lbfgs_update(memory, _ptr(xs[k]), _ptr(xs[k - 1]), _ptr(gs[k]),
                                _ptr(gs[k - 1]), &stored, &sy, &yy) != 0:
                    raise RuntimeError("lbfgs_update")
                if lbfgs_direction(memory, _ptr(gs[k]), _ptr(ds[k - 1]), &gtd) != 0:
                    raise RuntimeError("lbfgs_direction")
                rows.append((stored, sy, yy, gtd))
        finally:
            lbfgs_free(memory)
        return rows
""")

SETUP = setup_py("multi_caller", "multi_caller.pyx")


@pytest.fixture(scope="module")
def caller(tmp_path_factory):
    module, cleanup = build_extension(tmp_path_factory.mktemp("multi_step"), "multi_caller",
                                      {"multi_caller.pyx": CALLER}, SETUP)
    yield module
    cleanup()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_cython_multi_step_adam_with_grad_scale_matches_optimizer_step(caller, dtype, threads):
    params, grads = step_inputs(SIZES, STEPS, dtype, 10)
    mine, (m, v) = own_copies(params, 2)
    opt = fastopt.Adam(params, lr=3e-3)
    for t in range(1, STEPS + 1):
        rows = [(p, g, a, b) for p, g, a, b in zip(mine, grads[t - 1], m, v)]
        assert caller.adam(CODE[dtype], rows, t, 3e-3, 0.25) == 0
        opt.step(grads[t - 1], grad_scale=0.25)
    for i, p in enumerate(params):
        np.testing.assert_array_equal(mine[i], p)
        np.testing.assert_array_equal(v[i], opt.state[i]["exp_avg_sq"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_cython_multi_step_nadam_with_mu_product_matches_optimizer_step(caller, dtype, threads):
    params, grads = step_inputs(SIZES, STEPS, dtype, 11)
    mine, (m, v) = own_copies(params, 2)
    opt = fastopt.NAdam(params, lr=2e-3)
    mu = 1.0
    for t in range(1, STEPS + 1):
        rows = [(p, g, a, b) for p, g, a, b in zip(mine, grads[t - 1], m, v)]
        rc, mu = caller.nadam(CODE[dtype], rows, t, mu, 2e-3)
        assert rc == 0
        opt.step(grads[t - 1])
    for i, p in enumerate(params):
        np.testing.assert_array_equal(mine[i], p)
    assert mu == float(opt.state[0]["mu_product"])


def test_cython_multi_step_with_a_bad_dtype_writes_nothing(caller):
    p, g, m, v = np.ones(5), np.ones(5), np.zeros(5), np.zeros(5)
    assert caller.adam(2, [(p, g, m, v)], 1, 0.1, 1.0) == -4   # FASTOPT_ERR_DTYPE
    assert caller.adam(8, [(p, None, m, v)], 1, 0.1, 1.0) == -1  # FASTOPT_ERR_NULL
    np.testing.assert_array_equal(p, 1.0)
    np.testing.assert_array_equal(m, 0.0)


def test_cython_multi_step_before_import_fastopt_returns_err_import(caller):
    assert caller.BEFORE_IMPORT == -9  # FASTOPT_ERR_IMPORT, not a crash


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_cython_lbfgs_direction_matches_lbfgs_memory(caller, dtype, threads):
    rng = np.random.default_rng(12)
    n, m, k = 3001, 2, 5
    xs = [rng.standard_normal(n).astype(dtype) for _ in range(k)]
    gs = [(np.linspace(1.0, 4.0, n) * x).astype(dtype) for x in xs]
    ds = [np.empty(n, dtype) for _ in range(k - 1)]
    rows = caller.lbfgs(CODE[dtype], m, xs, gs, ds)
    memory, d = _vec.LBFGSMemory(m, n, dtype), np.empty(n, dtype)
    for i in range(1, k):
        stored, sy, yy = memory.update(xs[i], xs[i - 1], gs[i], gs[i - 1])
        assert rows[i - 1] == (stored, sy, yy, memory.direction(gs[i], d))
        np.testing.assert_array_equal(ds[i - 1], d)
