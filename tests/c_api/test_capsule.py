"""The C API through the capsule (fastopt/fastopt_capi.h): a C extension with no Cython and
no link-time dependency on fastopt (CALLER below), compiled here against
fastopt.get_include() with -ffp-contract=fast (its own flags do not matter: the work runs in
fastopt's compiled code), runs the multi-array step, the L-BFGS blocks and the thread
count through the table, bit-identical to the Python API for 1 and 2 threads.  The table's
layout is pinned, and import_fastopt() refuses an older table."""
import ctypes
import sys
import types

import numpy as np
import pytest

import fastopt
from c_api_helpers import build_extension, own_copies, setup_py, step_inputs
from fastopt import _capi
from fastopt.noise import GradientNoise
from fastopt.second_order import _vec

SIZES = [1, 17, 1003, 20001, 15, 0, 64]  # tails around the SIMD width; > 1 pool chunk
STEPS = 5
CODE = {np.float32: 4, np.float64: 8}

# The table's layout in version 1 (LP64).  These numbers never change: entries are only
# appended, and each append raises FASTOPT_CAPI_VERSION and the size.
PINNED = {"version": 0, "size": 8, "fastopt_version": 16, "step": 24, "nadam_mu_product": 32,
          "get_num_threads": 40, "set_num_threads": 48, "multidot": 56, "combine": 64,
          "lbfgs_new": 72, "lbfgs_free": 80, "lbfgs_update": 88, "lbfgs_direction": 96,
          "noise_sigma": 104, "sizeof": 112}
PINNED_OPTIONS = {"size": 0, "grad_scale": 8, "noise_sigma": 16, "noise_seed": 24,
                  "noise_step": 32, "noise_param": 36, "sizeof": 40}

CALLER = r"""/* A C extension (no Cython) that reaches fastopt only through the capsule table of
 * fastopt/fastopt_capi.h: built at test time by tests/c_api/test_capsule.py. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "fastopt/fastopt_capi.h"

#define MAX_ARRAYS 16

typedef struct {
    Py_buffer views[5 * MAX_ARRAYS];
    int n_views;
} held;

static void release(held *h)
{
    for (int i = 0; i < h->n_views; i++) PyBuffer_Release(&h->views[i]);
    h->n_views = 0;
}

/* one buffer's data (NULL for None), writable unless it is a gradient */
static int take(PyObject *o, int writable, held *h, void **data, Py_ssize_t *bytes)
{
    *data = NULL;
    *bytes = 0;
    if (o == Py_None) return 0;
    Py_buffer *v = &h->views[h->n_views];
    if (PyObject_GetBuffer(o, v, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    h->n_views++;
    *data = v->buf;
    *bytes = v->len;
    return 0;
}

/* arrays: a list of (param, grad, state0, state1, state2) with None for an unused state */
static Py_ssize_t fill(PyObject *arrays, int dtype, fastopt_array *out, held *h)
{
    Py_ssize_t n = PyList_Size(arrays), bytes, ignored;
    if (n < 0) return -1;
    if (n > MAX_ARRAYS) { PyErr_SetString(PyExc_ValueError, "too many arrays"); return -1; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyList_GetItem(arrays, i);
        void *grad;
        if (!PyTuple_Check(t) || PyTuple_Size(t) != 5) {
            PyErr_SetString(PyExc_TypeError, "expected 5-tuples");
            return -1;
        }
        if (take(PyTuple_GetItem(t, 0), 1, h, &out[i].param, &bytes) < 0 ||
            take(PyTuple_GetItem(t, 1), 0, h, &grad, &ignored) < 0)
            return -1;
        out[i].grad = grad;
        out[i].n = bytes / dtype;
        for (int j = 0; j < 3; j++)
            if (take(PyTuple_GetItem(t, 2 + j), 1, h, &out[i].state[j], &ignored) < 0)
                return -1;
    }
    return n;
}

/* adam(dtype, arrays, step, lr, grad_scale[, noise_sigma, noise_seed, noise_step,
 * noise_param, options_size]) -> return code */
static PyObject *adam(PyObject *self, PyObject *args)
{
    int dtype;
    long long step;
    double lr;
    PyObject *arrays;
    fastopt_array a[MAX_ARRAYS];
    held h = {.n_views = 0};
    fastopt_grad_options options = fastopt_grad_options_default();
    unsigned long long seed = 0;
    unsigned int noise_step = 0, noise_param = 0;
    Py_ssize_t size = (Py_ssize_t)options.size;
    if (!PyArg_ParseTuple(args, "iO!Ldd|dKIIn", &dtype, &PyList_Type, &arrays, &step, &lr,
                          &options.grad_scale, &options.noise_sigma, &seed, &noise_step,
                          &noise_param, &size))
        return NULL;
    options.noise_seed = seed;
    options.noise_step = noise_step;
    options.noise_param = noise_param;
    options.size = (size_t)size;
    Py_ssize_t n = fill(arrays, dtype, a, &h);
    if (n < 0) { release(&h); return NULL; }
    fo_adam_hyper hyper = fo_adam_defaults();
    hyper.lr = lr;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fastopt_api->step(FASTOPT_ADAM, dtype, &hyper, step, 1.0, &options, a, n);
    Py_END_ALLOW_THREADS
    release(&h);
    return PyLong_FromLong(rc);
}

/* sgd_nesterov(dtype, arrays, step, lr, momentum) -> return code (no options: defaults) */
static PyObject *sgd_nesterov(PyObject *self, PyObject *args)
{
    int dtype;
    long long step;
    double lr, momentum;
    PyObject *arrays;
    fastopt_array a[MAX_ARRAYS];
    held h = {.n_views = 0};
    if (!PyArg_ParseTuple(args, "iO!Ldd", &dtype, &PyList_Type, &arrays, &step, &lr,
                          &momentum))
        return NULL;
    Py_ssize_t n = fill(arrays, dtype, a, &h);
    if (n < 0) { release(&h); return NULL; }
    fo_sgd_hyper hyper = fo_sgd_defaults();
    hyper.lr = lr;
    hyper.momentum = momentum;
    hyper.nesterov = 1;
    int rc = fastopt_api->step(FASTOPT_SGD, dtype, &hyper, step, 1.0, NULL, a, n);
    release(&h);
    return PyLong_FromLong(rc);
}

/* bad_calls(param, grad): the codes of calls the step must refuse, writing nothing */
static PyObject *bad_calls(PyObject *self, PyObject *args)
{
    PyObject *po, *go;
    held h = {.n_views = 0};
    void *p, *g;
    Py_ssize_t bytes, ignored;
    if (!PyArg_ParseTuple(args, "OO", &po, &go)) return NULL;
    if (take(po, 1, &h, &p, &bytes) < 0 || take(go, 0, &h, &g, &ignored) < 0) {
        release(&h);
        return NULL;
    }
    fo_adam_hyper adam = fo_adam_defaults();
    fastopt_array ok[2] = {{p, g, {p, p, NULL}, bytes / 8}, {p, g, {p, p, NULL}, 1}};
    fastopt_array no_state[2] = {{p, g, {p, p, NULL}, 1}, {p, g, {p, NULL, NULL}, 1}};
    fastopt_array no_grad[2] = {{p, g, {p, p, NULL}, 1}, {p, NULL, {p, p, NULL}, 1}};
    fastopt_array negative[2] = {{p, g, {p, p, NULL}, 1}, {p, g, {p, p, NULL}, -1}};
    fastopt_grad_options nan_scale = fastopt_grad_options_default(), old = nan_scale;
    fastopt_grad_options nan_noise = nan_scale, negative_noise = nan_scale;
    nan_scale.grad_scale = Py_NAN;
    nan_noise.noise_sigma = Py_NAN;
    negative_noise.noise_sigma = -1.0;
    old.size = sizeof(size_t);
    int codes[] = {
        fastopt_api->step(7, FASTOPT_FLOAT64, &adam, 1, 1.0, NULL, ok, 2),
        fastopt_api->step(-1, FASTOPT_FLOAT64, &adam, 1, 1.0, NULL, ok, 2),
        fastopt_api->step(FASTOPT_ADAM, 2, &adam, 1, 1.0, NULL, ok, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, NULL, 1, 1.0, NULL, ok, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, NULL, NULL, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, NULL, ok, -1),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, NULL, negative, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, NULL, no_state, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, NULL, no_grad, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 0, 1.0, NULL, ok, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, &nan_scale, ok, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, &old, ok, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, &nan_noise, ok, 2),
        fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT64, &adam, 1, 1.0, &negative_noise, ok,
                          2),
        fastopt_api->set_num_threads(0),
    };
    release(&h);
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out != NULL && i < sizeof codes / sizeof codes[0]; i++) {
        PyObject *c = PyLong_FromLong(codes[i]);
        if (c == NULL || PyList_Append(out, c) < 0) Py_CLEAR(out);
        Py_XDECREF(c);
    }
    return out;
}

/* lbfgs(dtype, m, xs, gs) -> [(stored, s.y, y.y, g.d), ...], writing each direction into
 * ds[k - 1]: for k = 1.., update with (x_k, x_{k-1}, g_k, g_{k-1}), then direction at g_k */
static PyObject *lbfgs(PyObject *self, PyObject *args)
{
    int dtype, m;
    PyObject *xs, *gs, *ds, *out = NULL;
    if (!PyArg_ParseTuple(args, "iiO!O!O!", &dtype, &m, &PyList_Type, &xs, &PyList_Type, &gs,
                          &PyList_Type, &ds))
        return NULL;
    Py_ssize_t steps = PyList_Size(xs);
    held h = {.n_views = 0};
    void *x[MAX_ARRAYS], *g[MAX_ARRAYS], *d[MAX_ARRAYS];
    Py_ssize_t bytes = 0;
    if (steps > MAX_ARRAYS || PyList_Size(gs) != steps || PyList_Size(ds) != steps - 1) {
        PyErr_SetString(PyExc_ValueError, "bad lists");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < steps; k++) {
        Py_ssize_t ignored;
        if (take(PyList_GetItem(xs, k), 0, &h, &x[k], &bytes) < 0 ||
            take(PyList_GetItem(gs, k), 0, &h, &g[k], &ignored) < 0 ||
            (k > 0 && take(PyList_GetItem(ds, k - 1), 1, &h, &d[k], &ignored) < 0))
            goto done;
    }
    void *memory = fastopt_api->lbfgs_new(m, bytes / dtype, dtype);
    if (memory == NULL) goto done;
    out = PyList_New(0);
    for (Py_ssize_t k = 1; out != NULL && k < steps; k++) {
        int stored = -1, rc;
        double sy, yy, gtd;
        rc = fastopt_api->lbfgs_update(memory, x[k], x[k - 1], g[k], g[k - 1], &stored, &sy,
                                       &yy);
        if (rc == 0) rc = fastopt_api->lbfgs_direction(memory, g[k], d[k], &gtd);
        PyObject *row = rc != 0 ? NULL : Py_BuildValue("(iddd)", stored, sy, yy, gtd);
        if (rc != 0) PyErr_Format(PyExc_RuntimeError, "L-BFGS code %d", rc);
        if (row == NULL || PyList_Append(out, row) < 0) Py_CLEAR(out);
        Py_XDECREF(row);
    }
    fastopt_api->lbfgs_free(memory);
done:
    release(&h);
    return out;
}

/* dot(dtype, a, b) through the fixed-order multidot */
static PyObject *dot(PyObject *self, PyObject *args)
{
    int dtype, rc;
    PyObject *ao, *bo;
    held h = {.n_views = 0};
    void *a, *b;
    Py_ssize_t bytes, ignored;
    double out = 0.0;
    if (!PyArg_ParseTuple(args, "iOO", &dtype, &ao, &bo)) return NULL;
    if (take(ao, 0, &h, &a, &bytes) < 0 || take(bo, 0, &h, &b, &ignored) < 0) {
        release(&h);
        return NULL;
    }
    const void *V[1] = {a}, *W[1] = {b};
    rc = fastopt_api->multidot(dtype, bytes / dtype, 1, V, 1, W, &out);
    release(&h);
    if (rc != 0) return PyErr_Format(PyExc_RuntimeError, "multidot code %d", rc);
    return PyFloat_FromDouble(out);
}

/* combine(dtype, a, b, out, ca, cb): out = ca a + cb b, returns out . a */
static PyObject *combine(PyObject *self, PyObject *args)
{
    int dtype, rc;
    double c[2], d = 0.0;
    PyObject *ao, *bo, *oo;
    held h = {.n_views = 0};
    void *a, *b, *out;
    Py_ssize_t bytes, ignored;
    if (!PyArg_ParseTuple(args, "iOOOdd", &dtype, &ao, &bo, &oo, &c[0], &c[1])) return NULL;
    if (take(ao, 0, &h, &a, &bytes) < 0 || take(bo, 0, &h, &b, &ignored) < 0 ||
        take(oo, 1, &h, &out, &ignored) < 0) {
        release(&h);
        return NULL;
    }
    const void *V[2] = {a, b};
    rc = fastopt_api->combine(dtype, bytes / dtype, 2, c, V, out, a, &d);
    release(&h);
    if (rc != 0) return PyErr_Format(PyExc_RuntimeError, "combine code %d", rc);
    return PyFloat_FromDouble(d);
}

/* nadam_mu_product(step, mu_product) with NAdam's defaults */
static PyObject *nadam_mu_product(PyObject *self, PyObject *args)
{
    long long step;
    double mu;
    if (!PyArg_ParseTuple(args, "Ld", &step, &mu)) return NULL;
    fo_nadam_hyper h = fo_nadam_defaults();
    return PyFloat_FromDouble(fastopt_api->nadam_mu_product(&h, step, mu));
}

static PyObject *threads(PyObject *self, PyObject *args)
{
    int n = 0;
    if (!PyArg_ParseTuple(args, "|i", &n)) return NULL;
    if (n > 0 && fastopt_api->set_num_threads(n) != 0)
        return PyErr_Format(PyExc_RuntimeError, "set_num_threads(%d) failed", n);
    return PyLong_FromLong(fastopt_api->get_num_threads());
}

static PyObject *reimport(PyObject *self, PyObject *args)
{
    if (import_fastopt() < 0) return NULL;
    Py_RETURN_NONE;
}

#define ENTRY(name) "" #name, (long)offsetof(fastopt_capi, name)
static PyObject *layout(PyObject *self, PyObject *args)
{
    return Py_BuildValue(
        "{s:l,s:l,s:s,s:l,s:l,s:l,s:l,s:l,s:l,s:l,s:l,s:l,s:l,s:l,s:l,s:l,s:l}",
        "FASTOPT_CAPI_VERSION", (long)FASTOPT_CAPI_VERSION, "sizeof", (long)sizeof(fastopt_capi),
        "installed_fastopt_version", fastopt_api->fastopt_version,
        ENTRY(version), ENTRY(size), ENTRY(fastopt_version), ENTRY(step),
        ENTRY(nadam_mu_product), ENTRY(get_num_threads), ENTRY(set_num_threads),
        ENTRY(multidot), ENTRY(combine), ENTRY(lbfgs_new), ENTRY(lbfgs_free),
        ENTRY(lbfgs_update), ENTRY(lbfgs_direction), ENTRY(noise_sigma));
}

#define OPTION(name) "" #name, (long)offsetof(fastopt_grad_options, name)
static PyObject *options_layout(PyObject *self, PyObject *args)
{
    return Py_BuildValue("{s:l,s:l,s:l,s:l,s:l,s:l,s:l}",
                         "sizeof", (long)sizeof(fastopt_grad_options), OPTION(size),
                         OPTION(grad_scale), OPTION(noise_sigma), OPTION(noise_seed),
                         OPTION(noise_step), OPTION(noise_param));
}

/* noise_sigma(eta, gamma, t) -> the table's sigma_t */
static PyObject *noise_sigma(PyObject *self, PyObject *args)
{
    double eta, gamma;
    unsigned int t;
    if (!PyArg_ParseTuple(args, "ddI", &eta, &gamma, &t)) return NULL;
    return PyFloat_FromDouble(fastopt_api->noise_sigma(eta, gamma, t));
}

static PyMethodDef methods[] = {
    {"adam", adam, METH_VARARGS, NULL},
    {"sgd_nesterov", sgd_nesterov, METH_VARARGS, NULL},
    {"bad_calls", bad_calls, METH_VARARGS, NULL},
    {"lbfgs", lbfgs, METH_VARARGS, NULL},
    {"dot", dot, METH_VARARGS, NULL},
    {"combine", combine, METH_VARARGS, NULL},
    {"nadam_mu_product", nadam_mu_product, METH_VARARGS, NULL},
    {"threads", threads, METH_VARARGS, NULL},
    {"reimport", reimport, METH_NOARGS, NULL},
    {"layout", layout, METH_NOARGS, NULL},
    {"options_layout", options_layout, METH_NOARGS, NULL},
    {"noise_sigma", noise_sigma, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "capsule_caller", NULL, -1, methods};

PyMODINIT_FUNC PyInit_capsule_caller(void)
{
    if (import_fastopt() < 0) return NULL;
    return PyModule_Create(&module);
}
"""

SETUP = setup_py("capsule_caller", "capsule_caller.c", ["-O2", "-ffp-contract=fast"])


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    if sys.maxsize != 2**63 - 1:
        pytest.skip("the pinned layout is the LP64 one")
    module, cleanup = build_extension(tmp_path_factory.mktemp("capsule"), "capsule_caller",
                                      {"capsule_caller.c": CALLER}, SETUP)
    yield module
    cleanup()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_capsule_adam_over_several_arrays_matches_optimizer_step(ext, dtype, threads):
    params, grads = step_inputs(SIZES, STEPS, dtype, 0)
    mine, (m, v) = own_copies(params, 2)
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
    params, grads = step_inputs(SIZES, STEPS, dtype, 1)
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_capsule_combine_matches_the_fused_combination(ext, dtype, threads):
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal(30001).astype(dtype) for _ in range(2))
    mine, ref = np.empty_like(a), np.empty_like(a)
    assert ext.combine(CODE[dtype], a, b, mine, 0.5, -3.0) == _vec.combine([0.5, -3.0], [a, b],
                                                                         ref, a)
    np.testing.assert_array_equal(mine, ref)


def test_capsule_nadam_mu_product_matches_the_functional_step(ext):
    p, mu = np.ones(3), 1.0
    for t in range(1, 4):
        expected = fastopt.functional.nadam_([p], [p.copy()], [np.zeros(3)], [np.zeros(3)],
                                             step=t, mu_product=mu)
        mu = ext.nadam_mu_product(t, mu)
        assert mu == expected


def test_capsule_bad_arguments_return_their_codes_and_write_nothing(ext):
    p, g = np.ones(4), np.ones(4)
    codes = ext.bad_calls(p, g)
    assert codes == [-3, -3, -4, -1, -1, -2, -2, -1, -1, -5, -6, -7, -6, -6, -2]
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
    assert ext.options_layout() == PINNED_OPTIONS == _capi._options_layout()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_capsule_adam_with_gradient_noise_matches_optimizer_step_with_noise(ext, dtype,
                                                                             threads):
    params, grads = step_inputs(SIZES, STEPS, dtype, 5)
    mine, (m, v) = own_copies(params, 2)
    opt = fastopt.Adam(params, lr=1e-2)
    noise = GradientNoise(eta=0.3, gamma=0.55, seed=2**40 + 7)
    for t in range(1, STEPS + 1):
        rows = [(p, g, a, b, None) for p, g, a, b in zip(mine, grads[t - 1], m, v)]
        sigma = ext.noise_sigma(noise.eta, noise.gamma, noise.step)
        assert sigma == noise.sigma() > 0
        assert ext.adam(CODE[dtype], rows, t, 1e-2, 0.5, sigma, noise.seed, noise.step) == 0
        opt.step(grads[t - 1], grad_scale=0.5, noise=noise)
    for i, p in enumerate(params):
        np.testing.assert_array_equal(mine[i], p)
        np.testing.assert_array_equal(m[i], opt.state[i]["exp_avg"])
        np.testing.assert_array_equal(v[i], opt.state[i]["exp_avg_sq"])


def test_capsule_noise_param_is_the_position_of_the_first_array(ext):
    """A call over the second parameter alone, with noise_param = 1, adds the noise that
    the optimizer adds to its parameter 1."""
    params, grads = step_inputs(SIZES[1:3], 1, np.float64, 6)
    mine, (m, v) = own_copies(params, 2)
    noise = GradientNoise(eta=1.0, seed=9)
    rows = [(mine[1], grads[0][1], m[1], v[1], None)]
    assert ext.adam(8, rows, 1, 1e-2, 1.0, noise.sigma(), noise.seed, 0, 1) == 0
    fastopt.Adam(params, lr=1e-2).step(grads[0], noise=noise)
    np.testing.assert_array_equal(mine[1], params[1])


def test_capsule_reads_no_noise_field_beyond_the_callers_options_size(ext):
    """A caller compiled against a header whose options end at grad_scale (size 16) gets no
    noise, whatever lies in the fields after it."""
    params, grads = step_inputs(SIZES[2:3], 1, np.float64, 7)
    mine, (m, v) = own_copies(params, 2)
    rows = [(mine[0], grads[0][0], m[0], v[0], None)]
    assert ext.adam(8, rows, 1, 1e-2, 0.5, 1.0, 3, 0, 0, 16) == 0
    fastopt.Adam(params, lr=1e-2).step(grads[0], grad_scale=0.5)
    np.testing.assert_array_equal(mine[0], params[0])


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


@pytest.mark.parametrize("version, size", [(0, 112), (1, 24)], ids=["version", "size"])
def test_import_fastopt_refuses_an_older_table(ext, monkeypatch, version, size):
    monkeypatch.setitem(sys.modules, "fastopt._capi", _fake_capsule(version, size))
    with pytest.raises(ImportError, match=f"version {version} .table of {size} bytes.*"
                                          f"older than version 1 .112 bytes."):
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
