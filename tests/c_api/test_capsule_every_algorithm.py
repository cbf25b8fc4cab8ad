"""Clipping and gradient noise through the C API, for every algorithm: a C extension (no
Cython) that reaches fastopt only through the capsule table runs ``fastopt_api->step`` with
``grad_scale`` = the clip factor of :func:`fastopt.clip.clip_grad_norm` (and, optionally,
the noise fields of the options), bit-identical to ``clip.step_clipped`` on the optimizer
for 1 and 2 threads, both dtypes.  The hyperparameter structs are packed from the
optimizer's param group by the field names of their C headers (torch's names), so the test
also checks that every header names its fields as the Python class does."""
import re
import struct
import sys

import numpy as np
import pytest

import fastopt
from c_api_helpers import build_extension, setup_py
from fastopt import clip
from fastopt._kernels.table import ALGORITHMS as TABLE
from fastopt.noise import GradientNoise

CODE = {np.float32: 4, np.float64: 8}
SIZES = [1, 17, 1003, 20001, 15, 0, 64]   # tails around the SIMD width; > 1 pool chunk
STEPS = 4
MAX_NORM = 5.0                             # the gradients' norms are about 145: clipped

# every algorithm with the options whose terms see the gradient (and every state array)
CASES = {
    "sgd": (fastopt.SGD, dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01,
                              maximize=True), ("momentum_buffer",)),
    "adagrad": (fastopt.Adagrad, dict(lr=0.05, lr_decay=0.01, weight_decay=0.01,
                                      initial_accumulator_value=0.1), ("sum",)),
    "adadelta": (fastopt.Adadelta, dict(lr=0.5, weight_decay=0.01, maximize=True),
                 ("square_avg", "acc_delta")),
    "rmsprop": (fastopt.RMSprop, dict(lr=0.01, weight_decay=0.01, momentum=0.9, centered=True),
                ("square_avg", "momentum_buffer", "grad_avg")),
    "adam": (fastopt.Adam, dict(lr=0.01, weight_decay=0.01, amsgrad=True,
                                decoupled_weight_decay=True),
             ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    "adamax": (fastopt.Adamax, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01),
               ("exp_avg", "exp_inf")),
    "nadam": (fastopt.NAdam, dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True),
              ("exp_avg", "exp_avg_sq")),
}

CALLER = r"""/* Built at test time by tests/c_api/test_capsule_every_algorithm.py. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "fastopt/fastopt_capi.h"

#define MAX_ARRAYS 8

/* step(algo, dtype, hyper, step, mu_product, rows, grad_scale, noise_sigma, noise_seed,
 * noise_step) -> return code; rows: (param, grad, state0, state1, state2), None unused */
static PyObject *step(PyObject *self, PyObject *args)
{
    int algo, dtype, rc;
    long long t;
    double mu_product;
    unsigned long long seed;
    unsigned int noise_step;
    Py_buffer hyper;
    PyObject *rows;
    fastopt_array a[MAX_ARRAYS];
    Py_buffer views[5 * MAX_ARRAYS];
    int n_views = 0;
    fastopt_grad_options options = fastopt_grad_options_default();
    if (!PyArg_ParseTuple(args, "iiy*LdO!ddKI", &algo, &dtype, &hyper, &t, &mu_product,
                          &PyList_Type, &rows, &options.grad_scale, &options.noise_sigma,
                          &seed, &noise_step))
        return NULL;
    options.noise_seed = seed;
    options.noise_step = noise_step;
    Py_ssize_t n = PyList_Size(rows);
    if (n > MAX_ARRAYS) {
        PyBuffer_Release(&hyper);
        PyErr_SetString(PyExc_ValueError, "too many arrays");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = PyList_GetItem(rows, i);
        void *data[5] = {NULL, NULL, NULL, NULL, NULL};
        for (int j = 0; j < 5; j++) {
            PyObject *o = PyTuple_GetItem(row, j);
            if (o == NULL) goto fail;
            if (o == Py_None) continue;
            if (PyObject_GetBuffer(o, &views[n_views], PyBUF_C_CONTIGUOUS |
                                   (j == 1 ? 0 : PyBUF_WRITABLE)) < 0)
                goto fail;
            data[j] = views[n_views].buf;
            if (j == 0) a[i].n = views[n_views].len / dtype;
            n_views++;
        }
        a[i].param = data[0];
        a[i].grad = data[1];
        for (int j = 0; j < 3; j++) a[i].state[j] = data[2 + j];
    }
    Py_BEGIN_ALLOW_THREADS
    rc = fastopt_api->step(algo, dtype, hyper.buf, t, mu_product, &options, a, n);
    Py_END_ALLOW_THREADS
    for (int k = 0; k < n_views; k++) PyBuffer_Release(&views[k]);
    PyBuffer_Release(&hyper);
    return PyLong_FromLong(rc);
fail:
    for (int k = 0; k < n_views; k++) PyBuffer_Release(&views[k]);
    PyBuffer_Release(&hyper);
    return NULL;
}

/* nadam_mu_product(hyper, step, mu_product) -> the product after the step */
static PyObject *nadam_mu_product(PyObject *self, PyObject *args)
{
    Py_buffer hyper;
    long long t;
    double mu;
    if (!PyArg_ParseTuple(args, "y*Ld", &hyper, &t, &mu)) return NULL;
    mu = fastopt_api->nadam_mu_product((const fo_nadam_hyper *)hyper.buf, t, mu);
    PyBuffer_Release(&hyper);
    return PyFloat_FromDouble(mu);
}

static PyMethodDef methods[] = {
    {"step", step, METH_VARARGS, NULL},
    {"nadam_mu_product", nadam_mu_product, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "every_algorithm_caller", NULL, -1,
                                    methods};

PyMODINIT_FUNC PyInit_every_algorithm_caller(void)
{
    if (import_fastopt() < 0) return NULL;
    return PyModule_Create(&module);
}
"""

SETUP = setup_py("every_algorithm_caller", "every_algorithm_caller.c", ["-O2"])


def header_fields(name):
    """The double and int fields of fo_<name>_hyper, in order, from its C header."""
    text = open(f"{fastopt.get_include()}/fastopt/{name}.h").read()
    body = re.search(r"typedef struct \{([^}]*)\} fo_%s_hyper;" % name, text).group(1)
    fields = {}
    for kind, names in re.findall(r"\b(double|int)\s+([^;]+);", body):
        fields.setdefault(kind, []).extend(n.strip() for n in names.split(","))
    return fields["double"], fields.get("int", [])


def pack_hyper(name, group):
    """fo_<name>_hyper's bytes (native layout: the doubles, then the ints, then padding)
    from a param group; betas are beta1, beta2."""
    values = dict(group)
    if "betas" in values:
        values["beta1"], values["beta2"] = values["betas"]
    doubles, ints = header_fields(name)
    packed = struct.pack(f"{len(doubles)}d{len(ints)}i", *[float(values[k]) for k in doubles],
                         *[int(bool(values[k])) for k in ints])
    return packed + b"\0" * (-len(packed) % 8)


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    if sys.maxsize != 2**63 - 1:
        pytest.skip("the hyperparameter structs are packed in the LP64 layout")
    module, cleanup = build_extension(tmp_path_factory.mktemp("every_algorithm"),
                                      "every_algorithm_caller",
                                      {"every_algorithm_caller.c": CALLER}, SETUP)
    yield module
    cleanup()


def algo_id(name):
    return [row["name"] for row in TABLE].index(name)


def test_the_headers_algorithm_ids_are_the_tables_order_and_every_algorithm_is_here():
    text = open(f"{fastopt.get_include()}/fastopt/fastopt_capi.h").read()
    ids = {k.lower(): int(v) for k, v in re.findall(r"FASTOPT_(SGD|ADAGRAD|ADADELTA|RMSPROP|"
                                                    r"ADAM|ADAMAX|NADAM) = (\d+)", text)}
    assert ids == {name: algo_id(name) for name in CASES}
    assert [row["name"] for row in TABLE] == list(CASES)


@pytest.mark.parametrize("with_noise", [False, True], ids=["clip", "clip+noise"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(CASES))
def test_capsule_step_with_the_clip_factor_is_step_clipped_for_every_algorithm(
        ext, name, dtype, with_noise, threads):
    cls, kw, state_names = CASES[name]
    rng = np.random.default_rng(3)
    start = [rng.standard_normal(n).astype(dtype) for n in SIZES]
    params = [p.copy() for p in start]
    opt = cls(params, **kw)
    hyper = pack_hyper(name, opt.param_groups[0])
    mine = [p.copy() for p in start]
    init = kw.get("initial_accumulator_value", 0.0)
    states = [[np.full_like(p, init) for p in start] for _ in state_names]
    noise = GradientNoise(eta=0.3, seed=9) if with_noise else None
    mu = 1.0
    for t in range(1, STEPS + 1):
        grads = [rng.standard_normal(n).astype(dtype) for n in SIZES]
        _, factor = clip.clip_grad_norm(grads, MAX_NORM)
        assert factor < 0.1
        sigma = noise.sigma() if with_noise else 0.0
        noise_step = noise.step if with_noise else 0
        rows = [(p, g, *[s[i] for s in states], *[None] * (3 - len(states)))
                for i, (p, g) in enumerate(zip(mine, grads))]
        assert ext.step(algo_id(name), CODE[dtype], hyper, t, mu, rows, factor, sigma, 9,
                        noise_step) == 0
        if name == "nadam":
            mu = ext.nadam_mu_product(hyper, t, mu)
        clip.step_clipped(opt, grads, max_norm=MAX_NORM, noise=noise)
    for i, p in enumerate(params):
        assert mine[i].tobytes() == p.tobytes(), f"param {i}"
        for s, key in zip(states, state_names):
            assert s[i].tobytes() == np.asarray(opt.state[i][key]).tobytes(), f"{key} {i}"
    if name == "nadam":
        assert mu == float(opt.state[0]["mu_product"])
    assert any(m.tobytes() != s.tobytes() for m, s in zip(mine, start) if m.size)

