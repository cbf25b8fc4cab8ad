"""fastopt's C API: the capsule ``_C_API`` that ``import_fastopt()`` of
``fastopt/fastopt_capi.h`` (src/fastopt) fetches, and the multi-array step behind it.

``_step`` (the table's ``step``) is ``Optimizer.step`` without Python: the hyperparameter
struct and step number of one algorithm become its coefficients (``make_coef``,
``scale_gradients``), the options' noise fields a ``fo_noise_spec``, and the arrays run as
``Item``s through the same parallel driver (``run_items_noise``), so the results are
bit-identical to the Python API for every thread count.  It checks what raw pointers allow
(NULL, sizes, ids, dtype, step, options) and returns a FASTOPT_* code, writing nothing on
error.  The table is filled once at import; its layout is pinned by
tests/c_api/test_capsule.py (``_layout()`` reports the offsets fastopt was compiled with).

>>> from fastopt import _capi
>>> _capi.version() >= 1
True
"""
from cpython.pycapsule cimport PyCapsule_New
from libc.math cimport isfinite
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport PTRDIFF_MAX
from libc.stdint cimport UINT32_MAX, uint32_t
from libc.stdlib cimport free, malloc

from fastopt._kernels._coef cimport fo_coef
from fastopt._kernels.algorithms cimport (
    ADADELTA, ADAGRAD, ADAM, ADAMAX, N_ALGOS, NADAM, RMSPROP, SGD, STEP_MAX, Hyper, Item,
    copy_hyper, make_coef, needed_state, run_items_noise, scale_gradients,
)
from fastopt._kernels.noise cimport fo_noise_sigma, fo_noise_spec
from fastopt._kernels.threads cimport num_threads
from fastopt.kernels cimport (
    CAPI, FASTOPT_ADADELTA, FASTOPT_ADAGRAD, FASTOPT_ADAM, FASTOPT_ADAMAX, FASTOPT_CAPI_VERSION,
    FASTOPT_ERR_ALGO, FASTOPT_ERR_DTYPE, FASTOPT_ERR_MEMORY, FASTOPT_ERR_NULL,
    FASTOPT_ERR_OPTIONS, FASTOPT_ERR_SIZE, FASTOPT_ERR_STEP, FASTOPT_ERR_VALUE, FASTOPT_FLOAT32,
    FASTOPT_FLOAT64, FASTOPT_NADAM, FASTOPT_OK, FASTOPT_RMSPROP, FASTOPT_SGD, GradOptions,
    NAdamHyper, StepArray, grad_options_default,
)
from fastopt.second_order._vec cimport (
    combine_raw, lbfgs_direction, lbfgs_free, lbfgs_new, lbfgs_update, multidot_raw,
)

import fastopt
from fastopt import _pool

cdef extern from "fastopt/fastopt_capi.h" nogil:
    double fo_nadam_mu_product(const NAdamHyper*, long long, double)

_ENTRIES = ("version", "size", "fastopt_version", "step", "nadam_mu_product",
            "get_num_threads", "set_num_threads", "multidot", "combine", "lbfgs_new",
            "lbfgs_free", "lbfgs_update", "lbfgs_direction", "noise_sigma")
_OPTIONS = ("size", "grad_scale", "noise_sigma", "noise_seed", "noise_step", "noise_param")

cdef extern from *:
    """
    #define FASTOPT_OPTIONS_V1 (offsetof(fastopt_grad_options, grad_scale) + sizeof(double))
    #define FASTOPT_OFF(field) ((Py_ssize_t)offsetof(fastopt_capi, field))
    static const Py_ssize_t fastopt_capi_offsets[14] = {
        FASTOPT_OFF(version), FASTOPT_OFF(size), FASTOPT_OFF(fastopt_version),
        FASTOPT_OFF(step), FASTOPT_OFF(nadam_mu_product), FASTOPT_OFF(get_num_threads),
        FASTOPT_OFF(set_num_threads), FASTOPT_OFF(multidot), FASTOPT_OFF(combine),
        FASTOPT_OFF(lbfgs_new), FASTOPT_OFF(lbfgs_free), FASTOPT_OFF(lbfgs_update),
        FASTOPT_OFF(lbfgs_direction), FASTOPT_OFF(noise_sigma)};
    #define FASTOPT_OPT(field) ((Py_ssize_t)offsetof(fastopt_grad_options, field))
    static const Py_ssize_t fastopt_options_offsets[6] = {
        FASTOPT_OPT(size), FASTOPT_OPT(grad_scale), FASTOPT_OPT(noise_sigma),
        FASTOPT_OPT(noise_seed), FASTOPT_OPT(noise_step), FASTOPT_OPT(noise_param)};

    /* The options as fastopt reads them: the fields the caller's size covers, the defaults
     * after them (a caller compiled against an older header knows fewer fields). */
    static fastopt_grad_options fastopt_read_options(const fastopt_grad_options *o)
    {
        fastopt_grad_options r = fastopt_grad_options_default();
    #define FASTOPT_TAKE(f) \
        if (o->size >= offsetof(fastopt_grad_options, f) + sizeof o->f) r.f = o->f
        FASTOPT_TAKE(grad_scale);
        FASTOPT_TAKE(noise_sigma);
        FASTOPT_TAKE(noise_seed);
        FASTOPT_TAKE(noise_step);
        FASTOPT_TAKE(noise_param);
    #undef FASTOPT_TAKE
        return r;
    }
    """
    size_t FASTOPT_OPTIONS_V1
    const Py_ssize_t fastopt_capi_offsets[14]
    const Py_ssize_t fastopt_options_offsets[6]
    GradOptions fastopt_read_options(const GradOptions* options) noexcept nogil

# the header's ids are the algorithm table's
assert (FASTOPT_SGD, FASTOPT_ADAGRAD, FASTOPT_ADADELTA, FASTOPT_RMSPROP, FASTOPT_ADAM,
        FASTOPT_ADAMAX, FASTOPT_NADAM) == (SGD, ADAGRAD, ADADELTA, RMSPROP, ADAM, ADAMAX, NADAM)


cdef int _step(int algo, int dtype, const void* hyper, long long step, double mu_product,
               const GradOptions* options, const StepArray* arrays,
               ptrdiff_t n_arrays) noexcept nogil:
    cdef Hyper h
    cdef fo_coef coef
    cdef GradOptions o = grad_options_default()
    cdef fo_noise_spec noise
    cdef bint noisy
    cdef ptrdiff_t i, k = 0, total = 0
    cdef int needed, j
    cdef Item* items
    cdef Py_ssize_t* starts
    if algo < 0 or algo >= N_ALGOS:
        return FASTOPT_ERR_ALGO
    if dtype != FASTOPT_FLOAT32 and dtype != FASTOPT_FLOAT64:
        return FASTOPT_ERR_DTYPE
    if n_arrays < 0:
        return FASTOPT_ERR_SIZE
    if hyper == NULL or (arrays == NULL and n_arrays > 0):
        return FASTOPT_ERR_NULL
    if not 1 <= step < STEP_MAX:
        return FASTOPT_ERR_STEP
    if options != NULL:
        if options.size < FASTOPT_OPTIONS_V1:
            return FASTOPT_ERR_OPTIONS
        o = fastopt_read_options(options)
    if not (isfinite(o.grad_scale) and o.grad_scale >= 0.0 and
            isfinite(o.noise_sigma) and o.noise_sigma >= 0.0):
        return FASTOPT_ERR_VALUE
    noisy = o.noise_sigma > 0.0
    if noisy and n_arrays > 0 and <size_t>(n_arrays - 1) > UINT32_MAX - o.noise_param:
        return FASTOPT_ERR_SIZE  # a position beyond 32 bits
    if algo == NADAM and not isfinite(mu_product):
        return FASTOPT_ERR_VALUE
    copy_hyper(algo, hyper, &h)
    needed = needed_state(algo, &h)
    for i in range(n_arrays):  # every check before anything is written
        if arrays[i].n < 0 or arrays[i].n > PTRDIFF_MAX - total:
            return FASTOPT_ERR_SIZE
        if arrays[i].n == 0:
            continue
        if arrays[i].param == NULL or arrays[i].grad == NULL:
            return FASTOPT_ERR_NULL
        for j in range(3):
            if (needed >> j) & 1 and arrays[i].state[j] == NULL:
                return FASTOPT_ERR_NULL
        total += arrays[i].n
        k += 1
    coef = make_coef(algo, &h, step, step == 1, mu_product)
    if o.grad_scale != 1.0 and not noisy:  # (with noise, the noise block scales)
        scale_gradients(algo, &coef, o.grad_scale)
    noise.seed = o.noise_seed
    noise.step = o.noise_step
    noise.sigma = o.noise_sigma
    noise.scale = o.grad_scale
    items = <Item*>malloc(max(k, 1) * sizeof(Item))
    starts = <Py_ssize_t*>malloc((k + 1) * sizeof(Py_ssize_t))
    if items == NULL or starts == NULL:
        free(items)
        free(starts)
        return FASTOPT_ERR_MEMORY
    k = 0
    total = 0
    for i in range(n_arrays):
        if arrays[i].n == 0:
            continue
        items[k].p = <char*>arrays[i].param
        items[k].g = <char*>arrays[i].grad
        for j in range(3):
            items[k].s[j] = <char*>arrays[i].state[j] if (needed >> j) & 1 else NULL
        items[k].n = arrays[i].n
        items[k].param = <uint32_t>(o.noise_param + i)  # the noise's position
        items[k].itemsize = dtype
        items[k].coef = &coef
        starts[k] = total
        total += arrays[i].n
        k += 1
    starts[k] = total
    run_items_noise(items, starts, k, algo, num_threads(), &noise if noisy else NULL)
    free(items)
    free(starts)
    return FASTOPT_OK


cdef int _get_num_threads() noexcept nogil:
    return num_threads()


cdef int _set_num_threads(int n) noexcept with gil:
    if n < 1:
        return FASTOPT_ERR_SIZE
    _pool.set_num_threads(n)
    return FASTOPT_OK


cdef double _nadam_mu_product(const NAdamHyper* h, long long step,
                              double mu_product) noexcept nogil:
    return fo_nadam_mu_product(h, step, mu_product)


cdef double _noise_sigma(double eta, double gamma, uint32_t t) noexcept nogil:
    return fo_noise_sigma(eta, gamma, t)


cdef bytes _VERSION = fastopt.__version__.encode()
cdef CAPI _TABLE
_TABLE.version = FASTOPT_CAPI_VERSION
_TABLE.size = sizeof(CAPI)
_TABLE.fastopt_version = _VERSION
_TABLE.step = _step
_TABLE.nadam_mu_product = _nadam_mu_product
_TABLE.get_num_threads = _get_num_threads
_TABLE.set_num_threads = _set_num_threads
_TABLE.multidot = multidot_raw
_TABLE.combine = combine_raw
# NULL with the exception set: the C convention the table documents
_TABLE.lbfgs_new = <void* (*)(int, ptrdiff_t, int) noexcept>lbfgs_new
_TABLE.lbfgs_free = lbfgs_free
_TABLE.lbfgs_update = lbfgs_update
_TABLE.lbfgs_direction = lbfgs_direction
_TABLE.noise_sigma = _noise_sigma

_C_API = PyCapsule_New(&_TABLE, b"fastopt._capi._C_API", NULL)


def version():
    """The table's version, ``FASTOPT_CAPI_VERSION`` of this build."""
    return _TABLE.version


def _layout():
    """``{"sizeof": sizeof(fastopt_capi), entry: offset, ...}`` as fastopt was compiled:
    what tests/c_api/test_capsule.py pins."""
    layout = {"sizeof": <Py_ssize_t>sizeof(CAPI)}
    for k, name in enumerate(_ENTRIES):
        layout[name] = fastopt_capi_offsets[k]
    return layout


def _options_layout():
    """``{"sizeof": sizeof(fastopt_grad_options), field: offset, ...}`` as fastopt was
    compiled."""
    layout = {"sizeof": <Py_ssize_t>sizeof(GradOptions)}
    for k, name in enumerate(_OPTIONS):
        layout[name] = fastopt_options_offsets[k]
    return layout
