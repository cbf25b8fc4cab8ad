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
        h.rmsprop.alpha = _unit(_real(g, "alpha"), "alpha value")
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

    Results are bit-identical for every thread count.
    """
    global _n_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"number of threads must be a positive integer, got {n!r}")
    _n_threads = int(n)


def get_num_threads():
    """The number of threads fastopt's kernels use."""
    return _n_threads


def openmp_enabled():
    """True if fastopt was compiled with OpenMP (else every step runs on one thread)."""
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
    return cnp.PyArray_Check(a) and (cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_FLOAT or
                                     cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_DOUBLE)


def check_param(object a, str what):
    """Raise unless ``a`` is a writeable, C-contiguous float32/float64 ndarray."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{what} must be a numpy.ndarray, got {type(a).__name__}")
    if not _is_float_array(a):
        raise TypeError(f"{what} must have dtype float32 or float64, got {a.dtype}")
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
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(param):
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


cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


cdef struct Span:          # the bytes of one array, for the overlap check
    Py_ssize_t start, end, index


cdef int _by_start(const void* a, const void* b) noexcept nogil:
    cdef Py_ssize_t x = (<const Span*>a).start, y = (<const Span*>b).start
    return (x > y) - (x < y)


def check_disjoint(arrays, str what):
    """Raise ValueError if two of ``arrays`` share memory (they are all written in place).
    Sorted by start address, two arrays overlap only if some neighbours do: O(n log n)."""
    cdef Py_ssize_t n = len(arrays), m = 0, k, i, j
    cdef cnp.ndarray a
    cdef Span* spans = <Span*>PyMem_Malloc(max(n, 1) * sizeof(Span))
    if spans == NULL:
        raise MemoryError()
    try:
        for k in range(n):
            if not cnp.PyArray_Check(arrays[k]):
                raise TypeError(f"{what} {k} is not a numpy.ndarray")
            a = <cnp.ndarray>arrays[k]
            if cnp.PyArray_NBYTES(a) > 0:
                spans[m].start = <Py_ssize_t>cnp.PyArray_DATA(a)
                spans[m].end = spans[m].start + cnp.PyArray_NBYTES(a)
                spans[m].index = k
                m += 1
        qsort(spans, m, sizeof(Span), _by_start)
        for k in range(m - 1):
            if spans[k + 1].start < spans[k].end:
                i, j = spans[k].index, spans[k + 1].index
                raise ValueError(f"{what} {min(i, j)} and {max(i, j)} share memory")
    finally:
        PyMem_Free(spans)


cdef inline bint _same_layout(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Same dtype and shape (the cheap test run on every array of every step)."""
    return (cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b) and
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
    if _overlap(<cnp.ndarray>g, param):
        raise ValueError(f"gradient {k} shares memory with its parameter")
    return <cnp.ndarray>g


# ------------------------------------------------------------------------ optimizer step

cdef struct Slot:          # what a GroupPlan keeps per parameter between steps
    char* s[3]             # its state arrays' data (NULL when not needed)
    long long* step        # its 'step' counter (a 0-d int64 array), NULL before the first step
    double* mu_product     # NAdam's 'mu_product' (a 0-d float64 array)
    int synced             # mask of the state arrays s[] was filled for (-1: resync)
    bint fresh             # SGD: momentum buffer created for this step


cdef class GroupPlan:
    """Runs the steps of one parameter group of a fastopt optimizer.

    Holds preallocated C buffers so that a step allocates nothing; the state arrays live in
    the optimizer's ``state`` dict (keyed by parameter index) and are created on a parameter's
    first step, as in torch.optim.
    """
    cdef int algo
    cdef dict group
    cdef dict state
    cdef Py_ssize_t first_index, n
    cdef Item* items
    cdef Slot* slots
    cdef fo_coef* coefs
    cdef Py_ssize_t n_items, total
    cdef Hyper hyper
    cdef int needed
    cdef list originals        # the parameters when the plan was built
    cdef bint prepared

    def __cinit__(self, int algo, dict group, dict state, Py_ssize_t first_index):
        params = group["params"]
        self.algo = algo
        self.group = group
        self.state = state
        self.first_index = first_index
        self.n = len(params)
        self.originals = list(params)
        self.items = <Item*>PyMem_Malloc(max(self.n, 1) * sizeof(Item))
        self.slots = <Slot*>PyMem_Malloc(max(self.n, 1) * sizeof(Slot))
        self.coefs = <fo_coef*>PyMem_Malloc(max(self.n, 1) * sizeof(fo_coef))
        if self.items == NULL or self.slots == NULL or self.coefs == NULL:
            raise MemoryError()
        self.invalidate()

    def __dealloc__(self):
        PyMem_Free(self.items)
        PyMem_Free(self.slots)
        PyMem_Free(self.coefs)

    def invalidate(self):
        """Re-read the state arrays from the state dict before the next step."""
        cdef Py_ssize_t i
        for i in range(self.n):
            self.slots[i].synced = -1
            self.slots[i].step = NULL
            self.slots[i].mu_product = NULL
            self.slots[i].fresh = False
        self.prepared = False

    cpdef prepare(self, grads):
        """Validate the group's hyperparameters, parameters and gradients; write nothing."""
        cdef list params = self.group["params"]
        cdef Py_ssize_t i, k, n_items = 0, total = 0, size
        cdef cnp.ndarray p, g
        cdef Item* it
        self.prepared = False
        read_hyper(self.algo, self.group, &self.hyper)
        if len(params) != self.n:
            raise ValueError("a param group's 'params' list changed length; "
                             "use add_param_group to add parameters")
        for i in range(self.n):
            p = self._param(params, i)
            k = self.first_index + i
            g = _grad_or_none(grads, k, p)
            if g is None:
                continue
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
        self.n_items = n_items
        self.total = total
        self.needed = needed_state(self.algo, &self.hyper)
        self.prepared = True

    cdef cnp.ndarray _param(self, list params, Py_ssize_t i):
        """Parameter i, checked against the array it was when the plan was built."""
        cdef object a = params[i]
        cdef cnp.ndarray first = <cnp.ndarray>self.originals[i]
        if (a is first or (cnp.PyArray_Check(a) and _same_layout(<cnp.ndarray>a, first))) and \
                cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and \
                cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
            return <cnp.ndarray>a
        what = f"parameter {self.first_index + i}"
        check_param(a, what)
        raise ValueError(f"{what} changed shape or dtype since it was added "
                         f"({(<object>first).shape}, {first.dtype} -> {a.shape}, {a.dtype})")

    cpdef run(self):
        """Run the prepared step: create missing state, advance step counters, update."""
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
                self._sync(i)
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
        """Point slot i at its state arrays, creating the ones this step needs."""
        cdef Slot* s = &self.slots[i]
        cdef Py_ssize_t index = self.first_index + i
        cdef int k
        cdef cnp.ndarray arr
        st = self.state.get(index)
        if st is None:
            st = self.state[index] = {}
        names = STATE_ARRAYS[self.algo]
        for k in range(3):
            s.s[k] = NULL
            if not (self.needed >> k) & 1:
                continue
            arr = st.get(names[k])
            if arr is None:
                arr = np.full_like(self.originals[i], self._initial_value())
                st[names[k]] = arr
                s.fresh = self.algo == SGD
            s.s[k] = <char*>cnp.PyArray_DATA(arr)
        for name in state_scalars(self.algo):
            arr = st.get(name)
            if arr is None:
                arr = (np.zeros((), dtype=np.int64) if name == "step"
                       else np.ones((), dtype=np.float64))
                st[name] = arr
            if name == "step":
                s.step = <long long*>cnp.PyArray_DATA(arr)
            else:
                s.mu_product = <double*>cnp.PyArray_DATA(arr)
        s.synced = self.needed

    cdef double _initial_value(self):
        return self.group["initial_accumulator_value"] if self.algo == ADAGRAD else 0.0

    def step(self, grads):
        """prepare() and run(): one step of this group."""
        self.prepare(grads)
        self.run()

# ---------------------------------------------------------------------- functional step

def functional_step(int algo, dict hyper, long long step, params, grads, states,
                    double mu_product=1.0):
    """One step of ``algo`` on explicit arrays (the engine of ``fastopt.functional``).

    ``params``, ``grads`` and each entry of ``states`` (one per STATE_ARRAYS name, None when
    unused) are equal-length lists.  ``step`` >= 1 is the step number used by the bias
    corrections.  Everything is validated before anything is written.
    """
    cdef Hyper h
    cdef Py_ssize_t n = len(params), i, k, total = 0, n_items = 0
    cdef int needed, j
    cdef fo_coef coef
    cdef cnp.ndarray p
    cdef Item* items
    read_hyper(algo, hyper, &h)
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
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
    written = []
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
        if _overlap(<cnp.ndarray>g, p):
            raise ValueError(f"gradient {i} shares memory with an array it updates")
        written.append(p)
        for k in range(len(names)):
            if (needed >> k) & 1:
                a = states[k][i]
                if not (cnp.PyArray_Check(a) and _same_layout(<cnp.ndarray>a, p) and
                        cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and
                        cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)):
                    _check_like(a, p, f"{names[k]}[{i}]", True)
                if _overlap(<cnp.ndarray>g, <cnp.ndarray>a):
                    raise ValueError(f"gradient {i} shares memory with an array it updates")
                written.append(a)
    check_disjoint(written, "arrays written in place (parameters and state):")
    coef = make_coef(algo, &h, step, step == 1, mu_product)
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
        with nogil:
            run_items(items, n_items, total, algo, _n_threads)
    finally:
        PyMem_Free(items)
    if algo == NADAM:
        return mu_product * nadam_mu(&h.nadam, step)
    return None
