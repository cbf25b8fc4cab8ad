"""The algorithm table and the reading of hyperparameters.

The algorithm table (``fastopt/_kernels/table.py``, one row per first-order algorithm: row
k is id k) gives each algorithm its name, its state arrays (in the order its C kernel takes
them: state0..state2) and its scalar state; the per-algorithm code here (the C kernels
indexed by the same ids, the readers, the dispatch) is generated from it into the included
``algorithms_impl.pxi``.  ``read_hyper`` validates a param group's hyperparameters into the
C struct of the algorithm (nothing else reads them), ``make_coef`` turns them and the step
number into the per-step coefficients of ``_coef.pxd``, and ``run_items`` runs the kernels
over a step's arrays through the parallel driver.
"""
import numpy as np

from fastopt._kernels.table import ALGORITHMS as _TABLE

from libc.math cimport isfinite

from fastopt._kernels._coef cimport (
    coef_scale_gradients, fo_coef, fo_kernel_f32, fo_kernel_f64, nadam_mu,
)
from fastopt._kernels.driver cimport Work, run_work
from fastopt._kernels.noise cimport FO_NOISE_BLOCK, fo_noise_add_f32, fo_noise_add_f64
from libc.stdint cimport uint32_t

assert len(_TABLE) == N_ALGOS
ALGORITHMS = {row["name"]: algo for algo, row in enumerate(_TABLE)}
STATE_ARRAYS = tuple(tuple(s[0] for s in row["state"]) for row in _TABLE)
STATE_SCALARS = tuple(tuple(row["scalars"]) for row in _TABLE)

# ----------------------------------------------------------------------- hyperparameters

cdef double _real_value(object value, str what) except? -1.0:
    if type(value) is float or type(value) is int:  # the common case, read at every step
        return value
    # np.bool_ is a bool too (torch refuses both); str, bytes: no silent float("0.1")
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise TypeError(f"{what} must be a real number, got {value!r}")
    return value  # float(value) via __float__: TypeError for non-numbers


cdef double _real(dict group, str key) except? -1.0:
    return _real_value(group[key], key)


cdef bint _flag(dict group, str key) except -1:
    """A bool option: True/False or NumPy's bools only ("False" and 0 are not flags)."""
    cdef object value = group[key]
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{key} must be a bool, got {value!r}")


cdef double read_nonneg(dict group, str key, str what) except? -1.0:
    cdef double v = _real(group, key)
    if not v >= 0.0:  # also rejects NaN
        raise ValueError(f"Invalid {what}: {group[key]!r} (must be >= 0)")
    return v


cdef double _unit(double v, str what) except? -1.0:
    if not (0.0 <= v < 1.0):
        raise ValueError(f"Invalid {what}: {v!r} (must be in [0, 1))")
    return v


cdef int _betas(dict group, double* beta1, double* beta2) except -1:
    """betas: any sequence of two reals (tuple, list, 1-D array), each in [0, 1)."""
    betas = group["betas"]
    if type(betas) is not tuple:
        if (isinstance(betas, (str, bytes, dict)) or not hasattr(betas, "__len__")
                or (isinstance(betas, np.ndarray) and betas.ndim != 1)):
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        betas = tuple(betas)
    if len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1[0] = _unit(_real_value(betas[0], "betas[0]"), "beta parameter at index 0")
    beta2[0] = _unit(_real_value(betas[1], "betas[1]"), "beta parameter at index 1")
    return 0


cdef double _finite(dict group, str key, str what) except? -1.0:
    cdef double v = _real(group, key)
    if not isfinite(v):
        raise ValueError(f"Invalid {what}: {group[key]!r}")
    return v


cdef double _closed_unit(dict group, str key, str what) except? -1.0:
    cdef double v = _real(group, key)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"Invalid {what}: {group[key]!r} (must be in [0, 1])")
    return v


# Each algorithm's reader _read_X (its fields in the table, read with the checks above),
# read_hyper, needed_state and make_coef, which dispatch on the id; the kernel tables
# KERNELS_F32 / KERNELS_F64 indexed by the id.
include "algorithms_impl.pxi"


def check_hyperparameters(int algo, dict group):
    """Raise ValueError/TypeError if ``group`` holds an invalid hyperparameter for ``algo``."""
    cdef Hyper h
    read_hyper(algo, group, &h)


cdef double read_grad_scale(object value) except? -1.0:
    """``grad_scale`` as a double: a finite real number >= 0."""
    cdef double s
    if type(value) is float:  # the common case, without the type checks below
        s = <double>value
    elif isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"grad_scale must be a real number, got {value!r}")
    else:
        s = value
    if not (isfinite(s) and s >= 0.0):
        raise ValueError(f"grad_scale must be finite and >= 0, got {value!r}")
    return s


cdef void scale_gradients(int algo, fo_coef* c, double grad_scale) noexcept nogil:
    """Make the kernel multiply every gradient by ``grad_scale`` (any algorithm: ``algo``
    is not needed).  The kernels compute ``(T)grad_sign * g`` first, and with grad_sign =
    +-1, ``(T)(grad_sign * s) * g`` is exactly ``grad_sign * ((T)s * g)``: the step on the
    gradient ``g * T(s)``."""
    coef_scale_gradients(c, grad_scale)


cdef double next_mu_product(int algo, const Hyper* h, long long step,
                            double mu_product) noexcept nogil:
    """NAdam's schedule product after step ``step``, given the product before it."""
    return mu_product * nadam_mu(&h.nadam, step)

# --------------------------------------------------------------------------- scalar state

STEP_LIMIT = 1 << 62  # step counters stay far from int64 overflow
cdef long long STEP_MAX = STEP_LIMIT


cdef str step_range_message(str what, object value, long long low):
    return f"{what} must be an integer in [{low}, 2**62), got {value!r}"


def check_step(value, str what, long long low):
    """``value`` as a Python int, or ValueError/TypeError unless it is an integer in
    [low, 2**62) (a bool is not)."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(step_range_message(what, value, low))
    x = value.__index__()
    if not low <= x < STEP_LIMIT:
        raise ValueError(step_range_message(what, value, low))
    return x


def state_scalar(value, str name, str what):
    """A checked copy of scalar state ``name`` as a 0-d array: 'step', an integer in
    [0, 2**62), as int64; 'mu_product', a finite number, as float64."""
    a = np.asarray(value)
    x = a.item() if a.shape == () and a.dtype.kind in "fiu" else None
    if name == "step":
        if x is None or not (0 <= x < STEP_LIMIT) or x != int(x):
            raise ValueError(step_range_message(what, value, 0))
        return np.array(int(x), dtype=np.int64)
    if x is None or not isfinite(x):
        raise ValueError(f"{what} must be a finite real number, got {value!r}")
    return np.array(x, dtype=np.float64)

# ------------------------------------------------------------------------------- kernels

cdef struct _Job:
    const Item* items
    int algo
    const fo_noise_spec* noise  # NULL: no gradient noise


cdef inline char* _offset(char* base, Py_ssize_t nbytes) noexcept nogil:
    return base + nbytes if base != NULL else NULL


cdef void _run_piece(const void* job, Py_ssize_t i, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Elements [a, b) of item i."""
    cdef const Item* it = &(<const _Job*>job).items[i]
    cdef int algo = (<const _Job*>job).algo
    cdef Py_ssize_t o = a * it.itemsize
    if (<const _Job*>job).noise != NULL:
        _run_noisy_piece(<const _Job*>job, it, a, b)
    elif it.itemsize == 4:
        KERNELS_F32[algo](b - a, <float*>(it.p + o), <const float*>(it.g + o),
                          <float*>_offset(it.s[0], o), <float*>_offset(it.s[1], o),
                          <float*>_offset(it.s[2], o), it.coef)
    else:
        KERNELS_F64[algo](b - a, <double*>(it.p + o), <const double*>(it.g + o),
                          <double*>_offset(it.s[0], o), <double*>_offset(it.s[1], o),
                          <double*>_offset(it.s[2], o), it.coef)


cdef void _run_noisy_piece(const _Job* job, const Item* it, Py_ssize_t a,
                           Py_ssize_t b) noexcept nogil:
    """Elements [a, b) of item ``it`` with noise, in blocks of 4 KiB: the noisy gradient of
    a block goes to a stack buffer, which the kernel reads as the gradient (the noise of an
    element depends only on its index, so the blocks' cuts do not matter)."""
    cdef double buf[FO_NOISE_BLOCK]
    cdef Py_ssize_t nb = FO_NOISE_BLOCK * sizeof(double) // it.itemsize, j = a, m, o
    cdef uint32_t param = <uint32_t>it.param
    cdef int algo = job.algo
    while j < b:
        m = min(nb, b - j)
        o = j * it.itemsize
        if it.itemsize == 4:
            fo_noise_add_f32(job.noise, param, j, m, <const float*>(it.g + o), <float*>buf)
            KERNELS_F32[algo](m, <float*>(it.p + o), <const float*>buf,
                              <float*>_offset(it.s[0], o), <float*>_offset(it.s[1], o),
                              <float*>_offset(it.s[2], o), it.coef)
        else:
            fo_noise_add_f64(job.noise, param, j, m, <const double*>(it.g + o), buf)
            KERNELS_F64[algo](m, <double*>(it.p + o), <const double*>buf,
                              <double*>_offset(it.s[0], o), <double*>_offset(it.s[1], o),
                              <double*>_offset(it.s[2], o), it.coef)
        j += m


cdef void run_items(const Item* items, const Py_ssize_t* starts, Py_ssize_t n_items, int algo,
                    int n_threads) noexcept nogil:
    run_items_noise(items, starts, n_items, algo, n_threads, NULL)


cdef void run_items_noise(const Item* items, const Py_ssize_t* starts, Py_ssize_t n_items,
                          int algo, int n_threads, const fo_noise_spec* noise) noexcept nogil:
    cdef _Job job
    cdef Work work
    job.items = items
    job.algo = algo
    job.noise = noise
    work.starts = starts
    work.n_items = n_items
    work.run_piece = _run_piece
    work.job = &job
    run_work(&work, n_threads)
