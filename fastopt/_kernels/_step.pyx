"""Multi-array steps behind the Python API.

A step of one parameter group is prepared with the GIL held (hyperparameters read and
validated, every array checked: nothing is written until everything passed), then run in
one GIL-released call: the group's arrays are laid end to end as one index space, each
thread takes one contiguous share of it (a multiple of 16 elements), and walks the arrays its
share overlaps, calling the C loop of ``src/fastopt/first_order.h`` on each piece.  The
arithmetic is element-wise, so the result is bit-identical whatever the thread count.
"""
import numpy as np

cimport numpy as cnp
from cpython.dict cimport PyDict_SetItem
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cython.parallel cimport parallel
from libc.math cimport isfinite
from libc.stddef cimport ptrdiff_t
from libc.stdlib cimport qsort
from libc.string cimport memcmp

from fastopt._kernels._coef cimport (
    FO_HAVE_OPENMP, adadelta_coef, adagrad_coef, adam_coef, adamax_coef, fo_adadelta_f32,
    fo_adadelta_f64, fo_adagrad_f32, fo_adagrad_f64, fo_adam_f32, fo_adam_f64, fo_adamax_f32,
    fo_adamax_f64, fo_coef, fo_kernel_f32, fo_kernel_f64, fo_nadam_f32, fo_nadam_f64,
    fo_rmsprop_f32, fo_rmsprop_f64, fo_sgd_f32, fo_sgd_f64, nadam_coef, nadam_mu,
    omp_get_max_threads, omp_get_num_threads, omp_get_thread_num, rmsprop_coef, sgd_coef,
)
from fastopt._kernels.first_order cimport (
    AdadeltaHyper, AdagradHyper, AdamaxHyper, AdamHyper, NAdamHyper, RMSpropHyper, SGDHyper,
)

cnp.import_array()

# ----------------------------------------------------------------------------- algorithms

cdef enum:
    SGD, ADAGRAD, ADADELTA, RMSPROP, ADAM, ADAMAX, NADAM, N_ALGOS

ALGORITHMS = {"sgd": SGD, "adagrad": ADAGRAD, "adadelta": ADADELTA, "rmsprop": RMSPROP,
              "adam": ADAM, "adamax": ADAMAX, "nadam": NADAM}

# State arrays of each algorithm, in the order the C kernels take them (state0..state2).
STATE_ARRAYS = (
    ("momentum_buffer",),
    ("sum",),
    ("square_avg", "acc_delta"),
    ("square_avg", "momentum_buffer", "grad_avg"),
    ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    ("exp_avg", "exp_inf"),
    ("exp_avg", "exp_avg_sq"),
)


def state_scalars(int algo):
    """Names of the per-parameter scalar state of ``algo`` (0-d arrays)."""
    if algo == SGD:
        return ()
    if algo == NADAM:
        return ("step", "mu_product")
    return ("step",)


ctypedef union Hyper:
    SGDHyper sgd
    AdagradHyper adagrad
    AdadeltaHyper adadelta
    RMSpropHyper rmsprop
    AdamHyper adam
    AdamaxHyper adamax
    NAdamHyper nadam

cdef fo_kernel_f32 KERNELS_F32[N_ALGOS]
cdef fo_kernel_f64 KERNELS_F64[N_ALGOS]
KERNELS_F32[SGD] = fo_sgd_f32
KERNELS_F32[ADAGRAD] = fo_adagrad_f32
KERNELS_F32[ADADELTA] = fo_adadelta_f32
KERNELS_F32[RMSPROP] = fo_rmsprop_f32
KERNELS_F32[ADAM] = fo_adam_f32
KERNELS_F32[ADAMAX] = fo_adamax_f32
KERNELS_F32[NADAM] = fo_nadam_f32
KERNELS_F64[SGD] = fo_sgd_f64
KERNELS_F64[ADAGRAD] = fo_adagrad_f64
KERNELS_F64[ADADELTA] = fo_adadelta_f64
KERNELS_F64[RMSPROP] = fo_rmsprop_f64
KERNELS_F64[ADAM] = fo_adam_f64
KERNELS_F64[ADAMAX] = fo_adamax_f64
KERNELS_F64[NADAM] = fo_nadam_f64

# ----------------------------------------------------------------------- hyperparameters

cdef double _real(dict group, str key) except? -1.0:
    cdef object value = group[key]
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"{key} must be a real number, got {value!r}")
    return value  # float(value) via __float__: TypeError for non-numbers


cdef double _nonneg(dict group, str key, str what) except? -1.0:
    cdef double v = _real(group, key)
    if not v >= 0.0:  # also rejects NaN
        raise ValueError(f"Invalid {what}: {group[key]!r} (must be >= 0)")
    return v


cdef double _unit(double v, str what) except? -1.0:
    if not (0.0 <= v < 1.0):
        raise ValueError(f"Invalid {what}: {v!r} (must be in [0, 1))")
    return v


cdef int _betas(dict group, double* beta1, double* beta2) except -1:
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i in range(2):
        if isinstance(betas[i], (bool, str, bytes)) or betas[i] is None:
            raise TypeError(f"betas[{i}] must be a real number, got {betas[i]!r}")
    beta1[0] = _unit(betas[0], "beta parameter at index 0")
    beta2[0] = _unit(betas[1], "beta parameter at index 1")
    return 0


cdef int read_hyper(int algo, dict g, Hyper* h) except -1:
    """Fill ``h`` from a param group, raising ValueError/TypeError on any invalid value."""
    cdef double lr = _nonneg(g, "lr", "learning rate")
    cdef double wd = _nonneg(g, "weight_decay", "weight_decay value")
    cdef bint maximize = g["maximize"]
    if algo == SGD:
        h.sgd.lr, h.sgd.weight_decay, h.sgd.maximize = lr, wd, maximize
        h.sgd.momentum = _nonneg(g, "momentum", "momentum value")
        h.sgd.dampening = _real(g, "dampening")
        if not isfinite(h.sgd.dampening):
            raise ValueError(f"Invalid dampening value: {g['dampening']!r}")
        h.sgd.nesterov = g["nesterov"]
        if h.sgd.nesterov and (h.sgd.momentum <= 0 or h.sgd.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    elif algo == ADAGRAD:
        h.adagrad.lr, h.adagrad.weight_decay, h.adagrad.maximize = lr, wd, maximize
        h.adagrad.lr_decay = _nonneg(g, "lr_decay", "lr_decay value")
        h.adagrad.eps = _nonneg(g, "eps", "epsilon value")
        _nonneg(g, "initial_accumulator_value", "initial_accumulator_value")
    elif algo == ADADELTA:
        h.adadelta.lr, h.adadelta.weight_decay, h.adadelta.maximize = lr, wd, maximize
        h.adadelta.rho = _unit(_real(g, "rho"), "rho value")
        h.adadelta.eps = _nonneg(g, "eps", "epsilon value")
    elif algo == RMSPROP:
        h.rmsprop.lr, h.rmsprop.weight_decay, h.rmsprop.maximize = lr, wd, maximize
        h.rmsprop.alpha = _nonneg(g, "alpha", "alpha value")  # torch: any alpha >= 0
        h.rmsprop.eps = _nonneg(g, "eps", "epsilon value")
        h.rmsprop.momentum = _nonneg(g, "momentum", "momentum value")
        h.rmsprop.centered = g["centered"]
    elif algo == ADAM:
        h.adam.lr, h.adam.weight_decay, h.adam.maximize = lr, wd, maximize
        _betas(g, &h.adam.beta1, &h.adam.beta2)
        h.adam.eps = _nonneg(g, "eps", "epsilon value")
        h.adam.amsgrad = g["amsgrad"]
        h.adam.decoupled_weight_decay = g["decoupled_weight_decay"]
    elif algo == ADAMAX:
        h.adamax.lr, h.adamax.weight_decay, h.adamax.maximize = lr, wd, maximize
        _betas(g, &h.adamax.beta1, &h.adamax.beta2)
        h.adamax.eps = _nonneg(g, "eps", "epsilon value")
    elif algo == NADAM:
        h.nadam.lr, h.nadam.weight_decay, h.nadam.maximize = lr, wd, maximize
        _betas(g, &h.nadam.beta1, &h.nadam.beta2)
        h.nadam.eps = _nonneg(g, "eps", "epsilon value")
        h.nadam.momentum_decay = _nonneg(g, "momentum_decay", "momentum_decay value")
        h.nadam.decoupled_weight_decay = g["decoupled_weight_decay"]
    else:
        raise ValueError(f"unknown algorithm id {algo}")
    return 0


cdef int needed_state(int algo, const Hyper* h) noexcept nogil:
    """Bit k set: the kernel reads and writes STATE_ARRAYS[algo][k] under these options."""
    if algo == SGD:
        return 1 if h.sgd.momentum != 0 else 0
    if algo == ADAGRAD:
        return 1
    if algo == RMSPROP:
        return 1 | (2 if h.rmsprop.momentum > 0 else 0) | (4 if h.rmsprop.centered else 0)
    if algo == ADAM:
        return 3 | (4 if h.adam.amsgrad else 0)
    return 3


cdef fo_coef make_coef(int algo, const Hyper* h, long long step, bint first,
                       double mu_product) noexcept nogil:
    if algo == SGD:
        return sgd_coef(&h.sgd, first)
    if algo == ADAGRAD:
        return adagrad_coef(&h.adagrad, step)
    if algo == ADADELTA:
        return adadelta_coef(&h.adadelta)
    if algo == RMSPROP:
        return rmsprop_coef(&h.rmsprop)
    if algo == ADAM:
        return adam_coef(&h.adam, step)
    if algo == ADAMAX:
        return adamax_coef(&h.adamax, step)
    return nadam_coef(&h.nadam, step, mu_product)


def check_hyperparameters(int algo, dict group):
    """Raise ValueError/TypeError if ``group`` holds an invalid hyperparameter for ``algo``."""
    cdef Hyper h
    read_hyper(algo, group, &h)

# ---------------------------------------------------------------------------- threading

cdef int _n_threads = max(1, omp_get_max_threads())
# Below this many elements per thread a step stays on one thread: starting a parallel region
# costs a few microseconds, about what a thread needs for this many Adam elements.
cdef Py_ssize_t PARALLEL_MIN = 1 << 15


def _set_parallel_min(Py_ssize_t n):
    """Testing hook: the per-thread element minimum below which a step stays serial.
    Returns the previous value."""
    global PARALLEL_MIN
    old, PARALLEL_MIN = PARALLEL_MIN, max(n, 1)
    return old


def set_num_threads(n):
    """Set the number of threads fastopt's kernels use (default: ``OMP_NUM_THREADS`` or all cores).

    Results are bit-identical for every thread count.  Steps of fewer than 32,768 elements
    per thread run on fewer threads (starting a parallel region costs more than they do).

    Example::

        >>> import fastopt
        >>> old = fastopt.get_num_threads()
        >>> fastopt.set_num_threads(1)
        >>> fastopt.get_num_threads()
        1
        >>> fastopt.set_num_threads(old)
    """
    global _n_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    _n_threads = int(n)


def get_num_threads():
    """The number of threads fastopt's kernels use (see :func:`set_num_threads`).

    Example::

        >>> import fastopt
        >>> fastopt.get_num_threads() >= 1
        True
    """
    return _n_threads


def openmp_enabled():
    """True if fastopt was compiled with OpenMP (else every step runs on one thread).

    Example::

        >>> import fastopt
        >>> fastopt.openmp_enabled() in (True, False)
        True
    """
    return bool(FO_HAVE_OPENMP)

# ------------------------------------------------------------------------------- driver

cdef struct Item:          # one array's part of a step
    char* p                # parameter data
    char* g                # gradient data
    char* s[3]             # state arrays (NULL when not used)
    Py_ssize_t n           # number of elements
    Py_ssize_t start       # index of its first element in the step's joint index space
    Py_ssize_t param       # position of the parameter in its group
    int itemsize           # 4: float32, 8: float64
    const fo_coef* coef


cdef inline char* _offset(char* base, Py_ssize_t nbytes) noexcept nogil:
    return base + nbytes if base != NULL else NULL


cdef void run_piece(const Item* it, int algo, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Elements [a, b) of one array."""
    cdef Py_ssize_t o = a * it.itemsize
    if it.itemsize == 4:
        KERNELS_F32[algo](b - a, <float*>(it.p + o), <const float*>(it.g + o),
                          <float*>_offset(it.s[0], o), <float*>_offset(it.s[1], o),
                          <float*>_offset(it.s[2], o), it.coef)
    else:
        KERNELS_F64[algo](b - a, <double*>(it.p + o), <const double*>(it.g + o),
                          <double*>_offset(it.s[0], o), <double*>_offset(it.s[1], o),
                          <double*>_offset(it.s[2], o), it.coef)


cdef void run_range(const Item* items, Py_ssize_t n_items, int algo,
                    Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Joint elements [lo, hi): every array piece that falls in it."""
    cdef Py_ssize_t left = 0, right = n_items - 1, mid, i, a, b
    if lo >= hi:
        return
    while left < right:  # first item that ends after lo
        mid = (left + right) // 2
        if items[mid].start + items[mid].n <= lo:
            left = mid + 1
        else:
            right = mid
    i = left
    while i < n_items and items[i].start < hi:
        a = max(lo, items[i].start) - items[i].start
        b = min(hi, items[i].start + items[i].n) - items[i].start
        run_piece(&items[i], algo, a, b)
        i += 1


cdef inline Py_ssize_t _share_start(Py_ssize_t total, int k, int nt) noexcept nogil:
    """First joint index of thread k's share: an even split rounded down to 16 elements."""
    if k >= nt:
        return total
    return (total // nt * k + (total % nt) * k // nt) & ~(<Py_ssize_t>15)


cdef void run_items(const Item* items, Py_ssize_t n_items, Py_ssize_t total, int algo,
                    int n_threads) noexcept nogil:
    cdef int tid, nt, t = n_threads
    if t > total // PARALLEL_MIN:
        t = <int>(total // PARALLEL_MIN)
    if t <= 1:
        run_range(items, n_items, algo, 0, total)
        return
    with parallel(num_threads=t):
        tid = omp_get_thread_num()
        nt = omp_get_num_threads()
        run_range(items, n_items, algo, _share_start(total, tid, nt),
                  _share_start(total, tid + 1, nt))

# --------------------------------------------------------------------------- validation

cdef inline bint _is_float_array(object a) noexcept:
    """float32/float64 in the machine's byte order (a '>f8' array has NPY_DOUBLE's type
    number too, but the kernels would read its bytes as garbage)."""
    return cnp.PyArray_Check(a) and (cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_FLOAT or
                                     cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_DOUBLE) and \
        cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)


def check_param(object a, str what):
    """Raise unless ``a`` is a writeable, C-contiguous float32/float64 ndarray."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{what} must be a numpy.ndarray, got {type(a).__name__}")
    if not _is_float_array(a):
        raise TypeError(f"{what} must have dtype float32 or float64 (native byte order), "
                        f"got {a.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        raise ValueError(f"{what} is not C-contiguous; fastopt updates arrays in place and "
                         f"will not update a copy (pass np.ascontiguousarray(...) and keep it)")
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        raise ValueError(f"{what} is read-only")


cdef int _check_like(object a, cnp.ndarray param, str what, bint writeable) except -1:
    """``a`` must be an ndarray of the same dtype and shape as ``param``, C-contiguous."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{what} must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(param) or not cnp.PyArray_ISNOTSWAPPED(arr):
        raise TypeError(f"{what} has dtype {arr.dtype} but its parameter has dtype {param.dtype}")
    if (cnp.PyArray_NDIM(arr) != cnp.PyArray_NDIM(param) or
            memcmp(cnp.PyArray_DIMS(arr), cnp.PyArray_DIMS(param),
                   cnp.PyArray_NDIM(arr) * sizeof(cnp.npy_intp)) != 0):
        raise ValueError(f"{what} has shape {(<object>arr).shape} but its parameter has shape "
                         f"{(<object>param).shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{what} is not C-contiguous")
    if writeable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{what} is read-only")
    return 0


cdef struct Span:          # the bytes of one array written in place, for the overlap checks
    Py_ssize_t start, end, index


cdef int _by_start(const void* a, const void* b) noexcept nogil:
    cdef Py_ssize_t x = (<const Span*>a).start, y = (<const Span*>b).start
    return (x > y) - (x < y)


cdef class Written:
    """The arrays a step writes in place, sorted by address.

    ``build`` checks that no two of them share memory: sorted by start address, two arrays
    overlap only if some neighbours do, O(n log n).  ``hit`` then finds in O(log n) whether
    another array (a gradient) overlaps any of them: since the spans are disjoint and
    sorted, only the last one starting before the array ends can.
    """
    cdef Span* spans
    cdef Py_ssize_t m

    def __dealloc__(self):
        PyMem_Free(self.spans)

    cdef int build(self, list arrays, object label) except -1:
        """Raise ValueError naming ``label(i)`` and ``label(j)`` if arrays i and j overlap."""
        cdef Py_ssize_t n = len(arrays), k, i, j
        cdef cnp.ndarray a
        PyMem_Free(self.spans)
        self.m = 0
        self.spans = <Span*>PyMem_Malloc(max(n, 1) * sizeof(Span))
        if self.spans == NULL:
            raise MemoryError()
        for k in range(n):
            if not cnp.PyArray_Check(arrays[k]):
                raise TypeError(f"{label(k)} is not a numpy.ndarray")
            a = <cnp.ndarray>arrays[k]
            if cnp.PyArray_NBYTES(a) > 0:
                self.spans[self.m].start = <Py_ssize_t>cnp.PyArray_DATA(a)
                self.spans[self.m].end = self.spans[self.m].start + cnp.PyArray_NBYTES(a)
                self.spans[self.m].index = k
                self.m += 1
        qsort(self.spans, self.m, sizeof(Span), _by_start)
        for k in range(self.m - 1):
            if self.spans[k + 1].start < self.spans[k].end:
                i, j = self.spans[k].index, self.spans[k + 1].index
                self.m = 0
                raise ValueError(f"{label(min(i, j))} and {label(max(i, j))} share memory")
        return 0

    cdef Py_ssize_t hit(self, const char* data, Py_ssize_t nbytes) noexcept:
        """Index of an array that overlaps [data, data + nbytes), or -1."""
        cdef Py_ssize_t lo = <Py_ssize_t>data, hi = lo + nbytes, left = 0, right = self.m, mid
        if nbytes <= 0 or self.m == 0 or hi <= self.spans[0].start or \
                lo >= self.spans[self.m - 1].end:
            return -1
        while left < right:  # first span that starts at or after hi
            mid = (left + right) // 2
            if self.spans[mid].start < hi:
                left = mid + 1
            else:
                right = mid
        if left > 0 and self.spans[left - 1].end > lo:
            return self.spans[left - 1].index
        return -1


def check_disjoint(arrays, str what):
    """Raise ValueError if two of ``arrays`` share memory (they are all written in place)."""
    Written().build(list(arrays), lambda k: f"{what} {k}")


cdef inline bint _same_layout(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Same dtype (native byte order) and shape, ``b`` being a checked parameter: the cheap
    test run on every array of every step."""
    return (cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b) and cnp.PyArray_ISNOTSWAPPED(a) and
            cnp.PyArray_NDIM(a) == cnp.PyArray_NDIM(b) and
            memcmp(cnp.PyArray_DIMS(a), cnp.PyArray_DIMS(b),
                   cnp.PyArray_NDIM(a) * sizeof(cnp.npy_intp)) == 0)


cdef inline cnp.ndarray _grad_or_none(object grads, Py_ssize_t k, cnp.ndarray param):
    """Gradient k, validated against its parameter; None means: skip this parameter.
    The error message is only built on the failure path (this runs per array per step)."""
    cdef object g = grads[k]
    if g is None:
        return None
    if not (cnp.PyArray_Check(g) and _same_layout(<cnp.ndarray>g, param) and
            cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g)):
        _check_like(g, param, f"gradient {k}", False)
    return <cnp.ndarray>g


cdef Py_ssize_t _first_hit(const Item* items, Py_ssize_t n_items, Written written,
                           Py_ssize_t* k) noexcept:
    """The first item whose gradient shares memory with an array the step writes (that
    array's index in ``k``), or -1.  Such a step's result would depend on the order of the
    writes, so on the thread count."""
    cdef Py_ssize_t j
    for j in range(n_items):
        k[0] = written.hit(items[j].g, items[j].n * items[j].itemsize)
        if k[0] >= 0:
            return j
    return -1

# ------------------------------------------------------------------------------- state

class _Counted(dict):
    """A dict that counts the changes made through its methods (``_bump``).  Reads are plain
    dict reads; fastopt's own writes go through PyDict_SetItem and are not counted."""
    __slots__ = ()

    def _store(self, key, value):
        dict.__setitem__(self, key, value)

    def __setitem__(self, key, value):
        self._store(key, value)
        self._bump()

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._bump()

    def clear(self):
        dict.clear(self)
        self._bump()

    def pop(self, key, *default):
        self._bump()
        return dict.pop(self, key, *default)

    def popitem(self):
        self._bump()
        return dict.popitem(self)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self


class StateDict(_Counted):
    """``Optimizer.state``: parameter index -> that parameter's :class:`ParamState`.

    A step keeps pointers to the state arrays between steps (re-reading a dict per array per
    step would cost more than a small step).  Every change made through this mapping or a
    ParamState's methods is counted in ``_version``; the next step sees the new count and
    re-reads and re-checks all state before it writes anything.  In-place writes into the
    arrays (``state[0]["exp_avg"][:] = 0``) need nothing of the kind.
    """
    __slots__ = ("_version",)

    def __init__(self, *args, **kwargs):
        dict.__init__(self)
        self._version = 0
        self.update(*args, **kwargs)

    def _bump(self):
        self._version += 1

    def __reduce__(self):  # copies and pickles hold plain dicts, rebuilt on load
        return StateDict, ({k: dict(v) for k, v in self.items()},)

    def _store(self, key, value):
        if not isinstance(value, dict):
            raise TypeError(f"the state of parameter {key!r} must be a dict, "
                            f"got {type(value).__name__}")
        if not (type(value) is ParamState and value._owner is self):
            value = ParamState(self, value)
        dict.__setitem__(self, key, value)


class ParamState(_Counted):
    """One parameter's state, name -> array (``exp_avg``, ``step``, ...); its changes are
    counted by the :class:`StateDict` that holds it."""
    __slots__ = ("_owner",)

    def __init__(self, owner, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self._owner = owner

    def _bump(self):
        self._owner._version += 1

    def __reduce__(self):  # a copy or pickle of one parameter's state is a plain dict
        return dict, (dict(self),)


STEP_LIMIT = 1 << 62  # step counters stay far from int64 overflow


def state_scalar(value, str name, str what):
    """A checked copy of scalar state ``name`` as a 0-d array: 'step', an integer in
    [0, 2**62), as int64; 'mu_product', a finite number, as float64."""
    a = np.asarray(value)
    x = a.item() if a.shape == () and a.dtype.kind in "fiu" else None
    if name == "step":
        if x is None or not (0 <= x < STEP_LIMIT) or x != int(x):
            raise ValueError(f"{what} must be an integer in [0, 2**62), got {value!r}")
        return np.array(int(x), dtype=np.int64)
    if x is None or not isfinite(x):
        raise ValueError(f"{what} must be a finite real number, got {value!r}")
    return np.array(x, dtype=np.float64)

# ------------------------------------------------------------------------ optimizer step

cdef long long STEP_MAX = STEP_LIMIT


cdef struct Slot:          # what a GroupPlan keeps per parameter between steps
    char* s[3]             # its state arrays' data (NULL when not needed)
    long long* step        # its 'step' counter (a 0-d int64 array), NULL before the first step
    double* mu_product     # NAdam's 'mu_product' (a 0-d float64 array)
    int synced             # mask of the state arrays s[] was filled for (-1: re-read state)
    bint fresh             # SGD: momentum buffer created for this step
    int typenum            # the parameter's dtype and size when it was added
    Py_ssize_t size


cdef class GroupPlan


cdef class Registry:
    """What the param groups of one optimizer share: the table of every array their steps
    write (all parameters and the state arrays their options need), sorted for the overlap
    checks.  Rebuilt before a step whenever something it holds may have changed."""
    cdef list plans
    cdef Written written
    cdef list labels           # labels[k]: (parameter index, state name or None)
    cdef bint stale
    cdef bint busy             # a step, load_state_dict or add_param_group is running

    def __cinit__(self):
        self.plans = []
        self.written = Written()
        self.labels = []
        self.stale = True

    cpdef enter(self):
        """Mark the optimizer busy, or raise if it already is: its steps, which run Python
        code and release the GIL, share the plans' buffers.  (A C-level test and set:
        no other thread runs in between.)"""
        if self.busy:
            raise RuntimeError("this optimizer is already in a step (or load_state_dict, "
                               "add_param_group) in another thread; it is not thread-safe")
        self.busy = True

    cpdef leave(self):
        self.busy = False

    cdef str label(self, Py_ssize_t k):
        index, name = self.labels[k]
        return f"parameter {index}" if name is None else f"state[{index}][{name!r}]"

    cdef rebuild(self):
        """Check every slot that will be re-read, then all written arrays for overlaps."""
        cdef GroupPlan plan
        cdef Py_ssize_t i
        cdef int k, mask
        arrays, labels = [], []
        for plan in self.plans:
            names = STATE_ARRAYS[plan.algo]
            mask = max(plan.needed, 0)  # a group never prepared yet writes no state
            for i in range(plan.n):
                index = plan.first_index + i
                arrays.append(plan.current[i])
                labels.append((index, None))
                if plan.slots[i].synced != plan.needed and plan.needed >= 0:
                    plan._check_state(i, <cnp.ndarray>plan.current[i])
                st = plan.state.get(index)
                if st is None:
                    continue
                for k in range(3):
                    if (mask >> k) & 1 and st.get(names[k]) is not None:
                        arrays.append(st[names[k]])
                        labels.append((index, names[k]))
        self.labels = labels
        self.written.build(arrays, lambda k: self.label(k))
        self.stale = False


cdef class GroupPlan:
    """Runs the steps of one parameter group of a fastopt optimizer.

    Holds preallocated C buffers so that a step allocates nothing; the state arrays live in
    the optimizer's ``state`` (a :class:`StateDict`, keyed by parameter index) and are
    created on a parameter's first step, as in torch.optim.  The plan points into them and
    holds references to what it points into (``held``), so no change to ``state`` can free
    memory a step writes; a counted change makes the next step re-read and re-check it.

    A step is ``prepare`` (check everything, write nothing), ``check_unchanged`` (no user
    code run during the checks changed ``state``), ``sync`` (create missing state: only
    MemoryError can stop it) and ``run`` (advance the counters, run the kernels).  An
    optimizer with several groups runs each phase for all groups before the next.
    """
    cdef int algo
    cdef dict group
    cdef object state
    cdef Registry reg
    cdef Py_ssize_t first_index, n
    cdef Item* items
    cdef Slot* slots
    cdef fo_coef* coefs
    cdef Py_ssize_t n_items, total
    cdef Hyper hyper
    cdef int needed
    cdef double initial_value  # Adagrad's initial_accumulator_value, read by prepare
    cdef list current          # the parameters as last checked
    cdef list held             # per parameter: the arrays its slot points into
    cdef object seen_version   # state._version when the slots were last invalidated
    cdef object checked_version
    cdef bint prepared

    def __cinit__(self, int algo, dict group, object state, Py_ssize_t first_index,
                  Registry registry):
        cdef Py_ssize_t i
        params = group["params"]
        self.algo = algo
        self.group = group
        self.state = state
        self.reg = registry
        self.first_index = first_index
        self.n = len(params)
        self.needed = -1
        self.current = list(params)
        self.held = [()] * self.n
        self.seen_version = state._version
        self.items = <Item*>PyMem_Malloc(max(self.n, 1) * sizeof(Item))
        self.slots = <Slot*>PyMem_Malloc(max(self.n, 1) * sizeof(Slot))
        self.coefs = <fo_coef*>PyMem_Malloc(max(self.n, 1) * sizeof(fo_coef))
        if self.items == NULL or self.slots == NULL or self.coefs == NULL:
            raise MemoryError()
        for i in range(self.n):  # (checked by the optimizer: C-contiguous float arrays)
            self.slots[i].typenum = cnp.PyArray_TYPE(<cnp.ndarray>params[i])
            self.slots[i].size = cnp.PyArray_SIZE(<cnp.ndarray>params[i])
        self.invalidate()
        registry.plans.append(self)

    def __dealloc__(self):
        PyMem_Free(self.items)
        PyMem_Free(self.slots)
        PyMem_Free(self.coefs)

    def invalidate(self):
        """Re-read and re-check the state before the next step."""
        cdef Py_ssize_t i
        for i in range(self.n):
            self.slots[i].synced = -1
            self.slots[i].step = NULL
            self.slots[i].mu_product = NULL
            self.slots[i].fresh = False
        self.prepared = False
        self.reg.stale = True

    cpdef prepare(self, grads):
        """Validate the group's hyperparameters, parameters, gradients and state; write
        nothing."""
        cdef list params = self.group["params"]
        cdef Py_ssize_t i, k, n_items = 0, total = 0, size
        cdef int needed
        cdef cnp.ndarray p, g
        cdef Item* it
        cdef Slot* s
        self.prepared = False
        read_hyper(self.algo, self.group, &self.hyper)
        if self.algo == ADAGRAD:
            self.initial_value = _nonneg(self.group, "initial_accumulator_value",
                                         "initial_accumulator_value")
        if len(params) != self.n:
            raise ValueError("a param group's 'params' list changed length; "
                             "use add_param_group to add parameters")
        needed = needed_state(self.algo, &self.hyper)
        if needed != self.needed:  # other state arrays join (or leave) the overlap table
            self.needed = needed
            self.reg.stale = True
        version = self.state._version
        if version != self.seen_version:  # someone changed the state: re-read it all
            self.invalidate()
            self.seen_version = version
        for i in range(self.n):
            p = self._param(params, i)
            k = self.first_index + i
            g = _grad_or_none(grads, k, p)
            if g is None:
                continue
            s = &self.slots[i]
            if s.synced != self.needed:
                if not self.reg.stale:
                    self._check_state(i, p)
            elif s.step != NULL and not (0 <= s.step[0] < STEP_MAX):  # edited in place
                raise ValueError(f"state[{k}]['step'] must be an integer in [0, 2**62), "
                                 f"got {s.step[0]}")
            size = cnp.PyArray_SIZE(p)
            it = &self.items[n_items]
            it.p = <char*>cnp.PyArray_DATA(p)
            it.g = <char*>cnp.PyArray_DATA(g)
            it.n = size
            it.start = total
            it.param = i
            it.itemsize = <int>cnp.PyArray_ITEMSIZE(p)
            n_items += 1
            total += size
        if self.reg.stale:
            self.reg.rebuild()
        i = _first_hit(self.items, n_items, self.reg.written, &k)
        if i >= 0:
            raise ValueError(f"gradient {self.first_index + self.items[i].param} shares memory "
                             f"with {self.reg.label(k)}, which the step writes")
        self.n_items = n_items
        self.total = total
        self.checked_version = self.state._version
        if self.checked_version != version:
            self._changed()
        self.prepared = True

    cdef _changed(self):
        self.prepared = False
        raise RuntimeError("opt.state was changed while the step was being checked; "
                           "nothing was written")

    cdef cnp.ndarray _param(self, list params, Py_ssize_t i):
        """Parameter i, checked against the array it was when last checked (dtype and size
        against those it was added with: both can be changed in place)."""
        cdef object a = params[i]
        cdef cnp.ndarray last = <cnp.ndarray>self.current[i]
        cdef Slot* s = &self.slots[i]
        if cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == s.typenum and \
                cnp.PyArray_SIZE(<cnp.ndarray>a) == s.size and \
                cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a) and \
                cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and \
                cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a) and \
                (a is last or _same_layout(<cnp.ndarray>a, last)):  # (flags can change)
            if a is not last:  # replaced by an array of the same layout
                self.current[i] = a
                self.reg.stale = True
            return <cnp.ndarray>a
        what = f"parameter {self.first_index + i}"
        check_param(a, what)
        raise ValueError(f"{what} changed shape or dtype since it was added "
                         f"({(<object>last).shape} -> {a.shape}, {a.dtype})")

    cdef _check_state(self, Py_ssize_t i, cnp.ndarray p):
        """Raise unless the state of parameter i (what exists of it) fits the kernel.  The
        scalars first: reading them may run user code (``__array__``)."""
        cdef Py_ssize_t index = self.first_index + i
        cdef int k
        st = self.state.get(index)
        if st is None:
            return
        if not isinstance(st, dict):
            raise TypeError(f"state[{index}] must be a dict, got {type(st).__name__}")
        for name in state_scalars(self.algo):
            if st.get(name) is not None:
                state_scalar(st[name], name, f"state[{index}][{name!r}]")
        names = STATE_ARRAYS[self.algo]
        for k in range(3):
            if (self.needed >> k) & 1:
                arr = st.get(names[k])
                if arr is not None:
                    _check_like(arr, p, f"state[{index}][{names[k]!r}]", True)

    cpdef check_unchanged(self):
        """Raise if ``state`` changed since ``prepare`` checked it (user code that ran during
        the checks: a hyperparameter's ``__float__``, a state entry's ``__array__``)."""
        if self.state._version != self.checked_version:
            self._changed()

    cpdef sync(self):
        """Create the state this step needs and point the slots at it."""
        cdef Py_ssize_t j, i
        if not self.prepared:
            raise RuntimeError("GroupPlan.sync() needs a successful prepare() first")
        for j in range(self.n_items):
            i = self.items[j].param
            if self.slots[i].synced != self.needed:
                self._sync(i)

    cpdef run(self):
        """Run the prepared, synced step: advance step counters, update."""
        cdef Py_ssize_t j, i, n_coefs = 0
        cdef Slot* s
        cdef long long step, prev_step = -1
        cdef double mu = 1.0, prev_mu = -1.0
        cdef bint prev_fresh = False
        if not self.prepared:
            raise RuntimeError("GroupPlan.run() needs a successful prepare() first")
        self.prepared = False
        for j in range(self.n_items):
            i = self.items[j].param
            s = &self.slots[i]
            if s.synced != self.needed:
                raise RuntimeError("GroupPlan.run() needs sync() first")
            self.items[j].s[0] = s.s[0]
            self.items[j].s[1] = s.s[1]
            self.items[j].s[2] = s.s[2]
            step = 0
            if s.step != NULL:
                s.step[0] += 1
                step = s.step[0]
            if s.mu_product != NULL:
                mu = s.mu_product[0]
            # arrays at the same step share one coefficient struct
            if n_coefs == 0 or step != prev_step or s.fresh != prev_fresh or mu != prev_mu:
                self.coefs[n_coefs] = make_coef(self.algo, &self.hyper, step, s.fresh, mu)
                n_coefs += 1
                prev_step, prev_fresh, prev_mu = step, s.fresh, mu
            self.items[j].coef = &self.coefs[n_coefs - 1]
            s.fresh = False
            if s.mu_product != NULL:
                s.mu_product[0] = mu * nadam_mu(&self.hyper.nadam, step)
        with nogil:
            run_items(self.items, self.n_items, self.total, self.algo, _n_threads)

    cdef _sync(self, Py_ssize_t i):
        """Point slot i at its state arrays (checked by prepare, and checked again here:
        a change behind the mapping's back must not make a step write out of bounds),
        creating the ones this step needs; scalar state becomes a 0-d array the slot owns."""
        cdef Slot* s = &self.slots[i]
        cdef Py_ssize_t index = self.first_index + i
        cdef int k
        st = self.state.get(index)
        if type(st) is not ParamState:
            st = ParamState(self.state, st or {})
            PyDict_SetItem(self.state, index, st)
        held = []
        names = STATE_ARRAYS[self.algo]
        s.fresh = False
        for k in range(3):
            s.s[k] = NULL
            if not (self.needed >> k) & 1:
                continue
            arr = st.get(names[k])
            if arr is None:
                arr = np.full_like(self.current[i], self.initial_value if self.algo == ADAGRAD
                                   else 0.0)
                PyDict_SetItem(st, names[k], arr)
                s.fresh = self.algo == SGD
            else:
                _check_like(arr, <cnp.ndarray>self.current[i],
                            f"state[{index}][{names[k]!r}]", True)
            s.s[k] = <char*>cnp.PyArray_DATA(<cnp.ndarray>arr)
            held.append(arr)
        for name in state_scalars(self.algo):
            value = st.get(name)
            if value is None:
                arr = np.array(0 if name == "step" else 1.0,
                               dtype=np.int64 if name == "step" else np.float64)
            else:
                arr = state_scalar(value, name, name)
            PyDict_SetItem(st, name, arr)
            if name == "step":
                s.step = <long long*>cnp.PyArray_DATA(<cnp.ndarray>arr)
            else:
                s.mu_product = <double*>cnp.PyArray_DATA(<cnp.ndarray>arr)
            held.append(arr)
        self.held[i] = tuple(held)
        s.synced = self.needed
        self.reg.stale = True  # new state arrays join the overlap check

    def step(self, grads):
        """One step of this group alone: prepare (which ends with check_unchanged's test),
        sync, run."""
        self.reg.enter()
        try:
            self.prepare(grads)
            self.sync()
            self.run()
        finally:
            self.reg.leave()

# ---------------------------------------------------------------------- functional step

def functional_step(int algo, dict hyper, object step, params, grads, states,
                    double mu_product=1.0):
    """One step of ``algo`` on explicit arrays (the engine of ``fastopt.functional``).

    ``params``, ``grads`` and each entry of ``states`` (one per STATE_ARRAYS name, None when
    unused) are equal-length lists.  ``step`` >= 1 is the step number used by the bias
    corrections.  Everything is validated before anything is written.
    """
    cdef Hyper h
    cdef Py_ssize_t n = len(params), i, k, total = 0, n_items = 0
    cdef int needed, j
    cdef long long t
    cdef fo_coef coef
    cdef cnp.ndarray p
    cdef Item* items
    cdef Written apart = Written()
    grads = tuple(grads)  # held for the GIL-free kernel: the caller's list may change
    read_hyper(algo, hyper, &h)
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"step must be an integer, got {step!r}")
    if not 1 <= step < STEP_LIMIT:
        raise ValueError(f"step must be in [1, 2**62), got {step}")
    t = step
    needed = needed_state(algo, &h)
    names = STATE_ARRAYS[algo]
    if len(grads) != n:
        raise ValueError(f"got {n} parameters but {len(grads)} gradients")
    for k in range(len(names)):
        if (needed >> k) & 1:
            if states[k] is None:
                raise ValueError(f"{names[k]} is required with these options")
            if len(states[k]) != n:
                raise ValueError(f"got {n} parameters but {len(states[k])} {names[k]} arrays")
    written, labels = [], []
    for i in range(n):  # the cheap C checks first; messages are built only on failure
        a = params[i]
        if not (_is_float_array(a) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and
                cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)):
            check_param(a, f"parameter {i}")
        p = <cnp.ndarray>a
        g = grads[i]
        if not (cnp.PyArray_Check(g) and _same_layout(<cnp.ndarray>g, p) and
                cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g)):
            _check_like(g, p, f"gradient {i}", False)
        written.append(p)
        labels.append(("parameter", i))
        for k in range(len(names)):
            if (needed >> k) & 1:
                a = states[k][i]
                if not (cnp.PyArray_Check(a) and _same_layout(<cnp.ndarray>a, p) and
                        cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and
                        cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)):
                    _check_like(a, p, f"{names[k]}[{i}]", True)
                written.append(a)
                labels.append((names[k], i))
    label = lambda k: f"{labels[k][0]} {labels[k][1]}"
    apart.build(written, label)
    coef = make_coef(algo, &h, t, t == 1, mu_product)
    items = <Item*>PyMem_Malloc(max(n, 1) * sizeof(Item))
    if items == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            p = <cnp.ndarray>params[i]
            if cnp.PyArray_SIZE(p) == 0:
                continue
            items[n_items].p = <char*>cnp.PyArray_DATA(p)
            items[n_items].g = <char*>cnp.PyArray_DATA(<cnp.ndarray>grads[i])
            for j in range(3):
                items[n_items].s[j] = (<char*>cnp.PyArray_DATA(<cnp.ndarray>states[j][i])
                                       if (needed >> j) & 1 else NULL)
            items[n_items].n = cnp.PyArray_SIZE(p)
            items[n_items].start = total
            items[n_items].param = i
            items[n_items].itemsize = <int>cnp.PyArray_ITEMSIZE(p)
            items[n_items].coef = &coef
            total += items[n_items].n
            n_items += 1
        i = _first_hit(items, n_items, apart, &k)
        if i >= 0:
            raise ValueError(f"gradient {items[i].param} shares memory with {label(k)}, "
                             f"an array the step writes")
        with nogil:
            run_items(items, n_items, total, algo, _n_threads)
    finally:
        PyMem_Free(items)
    if algo == NADAM:
        return mu_product * nadam_mu(&h.nadam, t)
    return None
