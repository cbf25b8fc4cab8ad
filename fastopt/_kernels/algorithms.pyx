"""The algorithm table and the reading of hyperparameters.

One table (``_TABLE``) gives each first-order algorithm its name, its state arrays (in the
order its C kernel takes them: state0..state2) and its scalar state; the C kernels are
indexed by the same ids.  ``read_hyper`` validates a param group's hyperparameters into the
C struct of the algorithm (nothing else reads them), ``make_coef`` turns them and the step
number into the per-step coefficients of ``_coef.pxd``, and ``run_items`` runs the kernels
over a step's arrays through the parallel driver.
"""
import numpy as np

from libc.math cimport isfinite

from fastopt._kernels._coef cimport (
    adadelta_coef, adagrad_coef, adam_coef, adamax_coef, fo_adadelta_f32, fo_adadelta_f64,
    fo_adagrad_f32, fo_adagrad_f64, fo_adam_f32, fo_adam_f64, fo_adamax_f32, fo_adamax_f64,
    fo_kernel_f32, fo_kernel_f64, fo_nadam_f32, fo_nadam_f64, fo_rmsprop_f32, fo_rmsprop_f64,
    fo_sgd_f32, fo_sgd_f64, nadam_coef, nadam_mu, rmsprop_coef, sgd_coef,
)
from fastopt._kernels.driver cimport Work, run_work
from fastopt._kernels.noise cimport FO_NOISE_BLOCK, fo_noise_add_f32, fo_noise_add_f64
from libc.stdint cimport uint32_t

_TABLE = (  # name, state arrays (kernel order), scalar state; row k is algorithm id k
    ("sgd", ("momentum_buffer",), ()),
    ("adagrad", ("sum",), ("step",)),
    ("adadelta", ("square_avg", "acc_delta"), ("step",)),
    ("rmsprop", ("square_avg", "momentum_buffer", "grad_avg"), ("step",)),
    ("adam", ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), ("step",)),
    ("adamax", ("exp_avg", "exp_inf"), ("step",)),
    ("nadam", ("exp_avg", "exp_avg_sq"), ("step", "mu_product")),
)
assert len(_TABLE) == N_ALGOS

ALGORITHMS = {name: algo for algo, (name, _, _) in enumerate(_TABLE)}
STATE_ARRAYS = tuple(arrays for _, arrays, _ in _TABLE)
STATE_SCALARS = tuple(scalars for _, _, scalars in _TABLE)

cdef fo_kernel_f32 KERNELS_F32[N_ALGOS]
cdef fo_kernel_f64 KERNELS_F64[N_ALGOS]
KERNELS_F32[:] = [fo_sgd_f32, fo_adagrad_f32, fo_adadelta_f32, fo_rmsprop_f32, fo_adam_f32,
                  fo_adamax_f32, fo_nadam_f32]
KERNELS_F64[:] = [fo_sgd_f64, fo_adagrad_f64, fo_adadelta_f64, fo_rmsprop_f64, fo_adam_f64,
                  fo_adamax_f64, fo_nadam_f64]

# ----------------------------------------------------------------------- hyperparameters

cdef double _real_value(object value, str what) except? -1.0:
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


cdef int read_hyper(int algo, dict g, Hyper* h) except -1:
    """Fill ``h`` from a param group, raising ValueError/TypeError on any invalid value."""
    cdef double lr = read_nonneg(g, "lr", "learning rate")
    cdef double wd = read_nonneg(g, "weight_decay", "weight_decay value")
    cdef bint maximize = _flag(g, "maximize")
    if algo == SGD:
        h.sgd.lr, h.sgd.weight_decay, h.sgd.maximize = lr, wd, maximize
        h.sgd.momentum = read_nonneg(g, "momentum", "momentum value")
        h.sgd.dampening = _real(g, "dampening")
        if not isfinite(h.sgd.dampening):
            raise ValueError(f"Invalid dampening value: {g['dampening']!r}")
        h.sgd.nesterov = _flag(g, "nesterov")
        if h.sgd.nesterov and (h.sgd.momentum <= 0 or h.sgd.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    elif algo == ADAGRAD:
        h.adagrad.lr, h.adagrad.weight_decay, h.adagrad.maximize = lr, wd, maximize
        h.adagrad.lr_decay = read_nonneg(g, "lr_decay", "lr_decay value")
        h.adagrad.eps = read_nonneg(g, "eps", "epsilon value")
        read_nonneg(g, "initial_accumulator_value", "initial_accumulator_value")
    elif algo == ADADELTA:
        h.adadelta.lr, h.adadelta.weight_decay, h.adadelta.maximize = lr, wd, maximize
        h.adadelta.rho = _real(g, "rho")
        if not (0.0 <= h.adadelta.rho <= 1.0):        # torch: rho = 1 is allowed
            raise ValueError(f"Invalid rho value: {g['rho']!r} (must be in [0, 1])")
        h.adadelta.eps = read_nonneg(g, "eps", "epsilon value")
    elif algo == RMSPROP:
        h.rmsprop.lr, h.rmsprop.weight_decay, h.rmsprop.maximize = lr, wd, maximize
        h.rmsprop.alpha = read_nonneg(g, "alpha", "alpha value")  # torch: any alpha >= 0
        h.rmsprop.eps = read_nonneg(g, "eps", "epsilon value")
        h.rmsprop.momentum = read_nonneg(g, "momentum", "momentum value")
        h.rmsprop.centered = _flag(g, "centered")
    elif algo == ADAM:
        h.adam.lr, h.adam.weight_decay, h.adam.maximize = lr, wd, maximize
        _betas(g, &h.adam.beta1, &h.adam.beta2)
        h.adam.eps = read_nonneg(g, "eps", "epsilon value")
        h.adam.amsgrad = _flag(g, "amsgrad")
        h.adam.decoupled_weight_decay = _flag(g, "decoupled_weight_decay")
    elif algo == ADAMAX:
        h.adamax.lr, h.adamax.weight_decay, h.adamax.maximize = lr, wd, maximize
        _betas(g, &h.adamax.beta1, &h.adamax.beta2)
        h.adamax.eps = read_nonneg(g, "eps", "epsilon value")
    elif algo == NADAM:
        h.nadam.lr, h.nadam.weight_decay, h.nadam.maximize = lr, wd, maximize
        _betas(g, &h.nadam.beta1, &h.nadam.beta2)
        h.nadam.eps = read_nonneg(g, "eps", "epsilon value")
        h.nadam.momentum_decay = read_nonneg(g, "momentum_decay", "momentum_decay value")
        h.nadam.decoupled_weight_decay = _flag(g, "decoupled_weight_decay")
    else:
        raise ValueError(f"unknown algorithm id {algo}")
    return 0


def check_hyperparameters(int algo, dict group):
    """Raise ValueError/TypeError if ``group`` holds an invalid hyperparameter for ``algo``."""
    cdef Hyper h
    read_hyper(algo, group, &h)


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
    """The coefficients of step number ``step`` (``first``: SGD's momentum buffer starts
    from the gradient; ``mu_product``: NAdam's schedule product before this step)."""
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
    """Make the kernel multiply every gradient by ``grad_scale``: the kernels compute
    ``(T)grad_sign * g`` first, and with grad_sign = +-1, ``(T)(grad_sign * s) * g`` is
    exactly ``grad_sign * ((T)s * g)``: the step on the gradient ``g * T(s)``."""
    if algo == SGD:
        c.sgd.grad_sign *= grad_scale
    elif algo == ADAGRAD:
        c.adagrad.grad_sign *= grad_scale
    elif algo == ADADELTA:
        c.adadelta.grad_sign *= grad_scale
    elif algo == RMSPROP:
        c.rmsprop.grad_sign *= grad_scale
    elif algo == ADAM:
        c.adam.grad_sign *= grad_scale
    elif algo == ADAMAX:
        c.adamax.grad_sign *= grad_scale
    else:
        c.nadam.grad_sign *= grad_scale


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
