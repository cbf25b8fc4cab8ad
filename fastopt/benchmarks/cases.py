"""Benchmark cases: algorithm x problem size x dtype x implementation, and how they are timed.

A *case* is one algorithm (with fixed, typical hyperparameters) on one list of array shapes in
one dtype.  :func:`build_case` creates the parameters and gradients once and then each
*implementation* of the same step on them:

========================  =================================================================
``fastopt``               ``fastopt.<Class>(params).step(grads)`` (the reference for ratios)
``fastopt.functional``    ``fastopt.functional.<algo>_`` on explicit state arrays
``bound``                 :class:`~fastopt.benchmarks._bound.StreamBound`: the same bytes
                          moved by a STREAM-style loop, the bandwidth bound of the step
``numpy``                 ``fastopt.reference.<algo>_``, the plain NumPy implementation
``torch``                 ``torch.optim.<Class>(..., foreach=False)`` (when torch is installed)
``torch.foreach``         ``torch.optim.<Class>(..., foreach=True)``
``torch.fused``           ``torch.optim.<Class>(..., fused=True)`` (Adam, AdamW, SGD, Adagrad)
``deepspeed``             ``deepspeed.ops.adam.DeepSpeedCPUAdam`` (Adam/AdamW, when installed)
========================  =================================================================

All implementations of a case share the parameter and gradient memory (torch tensors are
``torch.from_numpy`` views) and, after their first step, the optimizer state arrays of the
``fastopt`` optimizer: every implementation then reads and writes exactly the same memory
(same addresses, same alignment), and a 124M-parameter case needs one copy of the model, not
eight.  The updates all stay finite and close to each other, so sharing changes no timing.

Each implementation's traffic is counted as its algorithm's *own* bytes: a step that writes
``w`` arrays (parameter and state) reads ``w + 1`` (plus the gradient), so it moves
``(2 w + 1) * itemsize`` bytes per element (Adam float32: 28).  Effective bandwidth is those
bytes over the median time; fraction of the bound is the bound's time over the
implementation's time, and ``vs_fastopt`` the implementation's time over fastopt's, each the
median of the ratios within a repetition (robust to load that comes and goes).

:func:`time_interleaved` times the implementations of a case round-robin: each repetition
runs every implementation once (``number`` calls, so that one sample lasts at least
``min_sample`` seconds), starting with a different implementation each time, so that a burst
of load from the rest of the machine hits all of them alike.  Medians are reported.

Example::

    >>> from fastopt.benchmarks.cases import build_case, time_interleaved
    >>> case = build_case("adam", "1000", "float32", implementations=["fastopt", "numpy"])
    >>> times = time_interleaved(case.steps, repeat=5, min_sample=1e-3)
    >>> sorted(times)
    ['fastopt', 'numpy']
"""
import gc
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

import fastopt
from fastopt import functional, reference
from fastopt.benchmarks._bound import StreamBound

# --------------------------------------------------------------------------- algorithms


@dataclass(frozen=True)
class Algorithm:
    """One benchmarked algorithm with fixed hyperparameters.

    ``kwargs`` go to both the fastopt and the torch.optim class of name ``cls``;
    ``functional_kwargs`` to ``fastopt.functional.<name of functional>`` and the NumPy
    reference; ``state`` names the state arrays those take, in order (they are also the
    keys of ``fastopt``'s and torch's per-parameter state).
    """

    name: str
    cls: str
    kwargs: dict
    functional: str
    functional_kwargs: dict
    state: tuple
    torch_fused: bool = False
    deepspeed_adamw: object = None  # None: no DeepSpeed version; else its adamw_mode

    @property
    def writes(self):
        """Arrays written per parameter: the parameter and its state."""
        return 1 + len(self.state)

    def bytes_per_element(self, itemsize):
        """Bytes a step moves per parameter element: ``writes`` written, ``writes + 1`` read."""
        return (2 * self.writes + 1) * itemsize


_ADAM = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
_ADAM_F = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)

ALGORITHMS = {
    a.name: a
    for a in [
        Algorithm("adam", "Adam", dict(_ADAM), "adam_", dict(_ADAM_F),
                  ("exp_avg", "exp_avg_sq"), torch_fused=True, deepspeed_adamw=False),
        Algorithm("adamw", "AdamW", dict(_ADAM, weight_decay=1e-2), "adam_",
                  dict(_ADAM_F, weight_decay=1e-2, decoupled_weight_decay=True),
                  ("exp_avg", "exp_avg_sq"), torch_fused=True, deepspeed_adamw=True),
        Algorithm("amsgrad", "Adam", dict(_ADAM, amsgrad=True), "adam_",
                  dict(_ADAM_F, amsgrad=True), ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
                  torch_fused=True),
        Algorithm("sgd", "SGD", dict(lr=1e-2, momentum=0.9), "sgd_",
                  dict(lr=1e-2, momentum=0.9), ("momentum_buffer",), torch_fused=True),
        Algorithm("adagrad", "Adagrad", dict(lr=1e-2), "adagrad_", dict(lr=1e-2), ("sum",),
                  torch_fused=True),
        Algorithm("rmsprop", "RMSprop", dict(lr=1e-2), "rmsprop_", dict(lr=1e-2),
                  ("square_avg",)),
        Algorithm("adadelta", "Adadelta", dict(lr=1.0), "adadelta_", dict(lr=1.0),
                  ("square_avg", "acc_delta")),
        Algorithm("adamax", "Adamax", dict(lr=2e-3), "adamax_", dict(lr=2e-3),
                  ("exp_avg", "exp_inf")),
        Algorithm("nadam", "NAdam", dict(lr=2e-3), "nadam_", dict(lr=2e-3),
                  ("exp_avg", "exp_avg_sq")),
    ]
}

# -------------------------------------------------------------------------------- sizes


def gpt2_small_shapes():
    """The 148 parameter shapes of GPT-2 small (124,439,808 parameters), in model order:
    token and position embeddings, 12 transformer blocks, the final layer norm."""
    d, ff, vocab, ctx = 768, 3072, 50257, 1024
    block = [(d,), (d,), (d, 3 * d), (3 * d,), (d, d), (d,),      # ln_1, attn.c_attn, c_proj
             (d,), (d,), (d, ff), (ff,), (ff, d), (d,)]            # ln_2, mlp.c_fc, c_proj
    return [(vocab, d), (ctx, d)] + block * 12 + [(d,), (d,)]


SIZES = {
    "1000": [(1000,)],
    "65536": [(65536,)],
    "1048576": [(1048576,)],
    "33554432": [(33554432,)],
    "gpt2-small": gpt2_small_shapes(),
    "1000x1000": [(1000,)] * 1000,
}

IMPLEMENTATIONS = ("fastopt", "fastopt.functional", "bound", "numpy", "torch", "torch.foreach",
                   "torch.fused", "deepspeed")


class Unsupported(Exception):
    """This implementation cannot run this case (not installed, or not supported)."""


# ------------------------------------------------------------------------------- a case


@dataclass
class Case:
    """One algorithm on one list of shapes in one dtype, with its implementations set up.

    ``steps`` maps implementation name -> a callable doing one step (each has already run
    once, so state exists and the timings are of steady-state steps); ``skipped`` maps
    implementation name -> the reason it is not there.  ``optimizer`` is the fastopt
    optimizer and ``state`` its state arrays (one list per name of ``algorithm.state``),
    which every implementation shares.
    """

    algorithm: Algorithm
    size: str
    dtype: np.dtype
    params: list
    grads: list
    steps: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    optimizer: object = None
    state: list = None

    @property
    def elements(self):
        return sum(p.size for p in self.params)

    @property
    def bytes_per_step(self):
        return self.algorithm.bytes_per_element(self.dtype.itemsize) * self.elements

    def label(self):
        return f"{self.algorithm.name} {self.size} {self.dtype.name}"


def _arrays(shapes, dtype, rng):
    params = [(0.1 * rng.standard_normal(s, dtype=np.float32)).astype(dtype, copy=False)
              for s in shapes]
    grads = [(1e-2 * rng.standard_normal(s, dtype=np.float32)).astype(dtype, copy=False)
             for s in shapes]
    return params, grads


def build_case(algorithm, size, dtype="float32", implementations=IMPLEMENTATIONS, seed=0):
    """Create the arrays of a case and set up (and run once) each implementation asked for.

    ``algorithm``: a key of :data:`ALGORITHMS`; ``size``: a key of :data:`SIZES`;
    ``implementations``: names from :data:`IMPLEMENTATIONS` (``fastopt`` is always built:
    the others share its state arrays).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; known: {sorted(ALGORITHMS)}")
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; known: {list(SIZES)}")
    unknown = set(implementations) - set(IMPLEMENTATIONS)
    if unknown:
        raise ValueError(f"unknown implementation(s) {sorted(unknown)}; known: {IMPLEMENTATIONS}")
    dtype = np.dtype(dtype)
    algo = ALGORITHMS[algorithm]
    params, grads = _arrays(SIZES[size], dtype, np.random.default_rng(seed))
    case = Case(algo, size, dtype, params, grads)

    opt = getattr(fastopt, algo.cls)(params, **algo.kwargs)
    glist = list(grads)
    opt.step(glist)
    state = [[opt.state[i][name] for i in range(len(params))] for name in algo.state]
    case.steps["fastopt"] = lambda: opt.step(glist)
    case.optimizer, case.state = opt, state

    builders = {
        "fastopt.functional": _functional, "bound": _bound, "numpy": _numpy,
        "torch": lambda c, s: _torch(c, s, "foreach"),
        "torch.foreach": lambda c, s: _torch(c, s, "foreach", True),
        "torch.fused": lambda c, s: _torch(c, s, "fused"),
        "deepspeed": _deepspeed,
    }
    for name in IMPLEMENTATIONS:
        if name == "fastopt" or name not in implementations:
            continue
        try:
            step = builders[name](case, state)
            step()
            case.steps[name] = step
        except Unsupported as e:
            case.skipped[name] = str(e)
    if "fastopt" not in implementations:
        del case.steps["fastopt"]
    return case


def _functional(case, state):
    algo, fn = case.algorithm, getattr(functional, case.algorithm.functional)
    return _stateless(fn, case, state, algo.functional_kwargs)


def _numpy(case, state):
    algo, fn = case.algorithm, getattr(reference, case.algorithm.functional)
    return _stateless(fn, case, state, algo.functional_kwargs)


def _stateless(fn, case, state, kwargs):
    """A step of a functional-style function on the shared state, counting steps from 2
    (the fastopt optimizer already took step 1); NAdam's mu_product is carried along."""
    params, grads, counter = case.params, case.grads, [1]
    if case.algorithm.name == "nadam":
        mu = [1.0]

        def step():
            counter[0] += 1
            mu[0] = fn(params, grads, *state, step=counter[0], mu_product=mu[0], **kwargs)
    else:
        def step():
            counter[0] += 1
            fn(params, grads, *state, step=counter[0], **kwargs)
    return step


def _bound(case, state):
    bound = StreamBound([[p] + [s[i] for s in state] for i, p in enumerate(case.params)],
                        case.grads)
    return bound  # a = 1, b = 0: moves the bytes, leaves the arrays unchanged


def _torch_tensors(case):
    """torch views of the shared parameters, with the shared gradients as ``.grad``."""
    try:
        import torch
    except ImportError:
        raise Unsupported("torch is not installed") from None
    if not hasattr(case, "_torch_params"):
        params = [torch.from_numpy(p) for p in case.params]
        for t, g in zip(params, case.grads):
            t.grad = torch.from_numpy(g)
        case._torch_params = params
    return case._torch_params


def _share_state(opt_state, tensors, state, names):
    """Point a torch-style optimizer's state tensors at fastopt's state arrays."""
    import torch
    for i, t in enumerate(tensors):
        st = opt_state[t]
        for k, name in enumerate(names):
            if name in st and tuple(st[name].shape) == state[k][i].shape:
                st[name] = torch.from_numpy(state[k][i])


def _torch(case, state, flag, value=None):
    params = _torch_tensors(case)
    import torch
    algo = case.algorithm
    if flag == "fused" and not algo.torch_fused:
        raise Unsupported(f"torch.optim.{algo.cls} has no fused CPU implementation")
    kwargs = dict(algo.kwargs)
    kwargs[flag] = True if flag == "fused" else bool(value)
    try:
        opt = getattr(torch.optim, algo.cls)(params, **kwargs)
        opt.step()
    except (RuntimeError, TypeError, ValueError) as e:
        raise Unsupported(f"torch.optim.{algo.cls}({flag}=True): {e}") from None
    _share_state(opt.state, params, state, algo.state)
    return opt.step


def _deepspeed(case, state):
    algo = case.algorithm
    if algo.deepspeed_adamw is None:
        raise Unsupported("DeepSpeedCPUAdam implements Adam and AdamW only")
    if case.dtype != np.float32:
        raise Unsupported("DeepSpeedCPUAdam is benchmarked in float32 only")
    try:
        os.environ.setdefault("DS_ACCELERATOR", "cpu")  # no accelerator probe and its warning
        from deepspeed.ops.adam import DeepSpeedCPUAdam
    except Exception as e:  # ImportError, or its CPU extension failing to build
        raise Unsupported(f"deepspeed is not available ({type(e).__name__})") from None
    params = _torch_tensors(case)
    kw = algo.kwargs
    try:
        opt = DeepSpeedCPUAdam(params, lr=kw["lr"], betas=kw["betas"], eps=kw["eps"],
                               weight_decay=kw.get("weight_decay", 0.0),
                               adamw_mode=algo.deepspeed_adamw)
        opt.step()
    except Exception as e:
        raise Unsupported(f"DeepSpeedCPUAdam failed: {type(e).__name__}: {e}") from None
    _share_state(opt.state, params, state, algo.state)
    return opt.step


# ------------------------------------------------------------------------------- timing


def _calibrate(step, min_sample):
    """Calls per sample so that one sample lasts at least ``min_sample`` seconds."""
    t0 = time.perf_counter()
    step()
    dt = time.perf_counter() - t0
    if dt >= min_sample:
        return 1
    number = max(1, math.ceil(min_sample / max(dt, 1e-7)))
    t0 = time.perf_counter()
    for _ in range(number):
        step()
    dt = (time.perf_counter() - t0) / number
    return max(1, math.ceil(min_sample / max(dt, 1e-9)))


def cache_bytes():
    """Bytes of the CPU caches a flush must evict: last-level plus all L2 (Linux sysfs;
    64 MiB where it cannot be read)."""
    import glob
    import os
    total = 0
    for idx in glob.glob("/sys/devices/system/cpu/cpu*/cache/index[23]"):
        try:
            with open(os.path.join(idx, "size")) as f:
                text = f.read().strip()
            with open(os.path.join(idx, "shared_cpu_list")) as f:
                shared = f.read().strip()
            cpu = int(idx.split("/cpu/cpu")[1].split("/")[0])
        except (OSError, ValueError):
            continue
        first = int(shared.replace("-", ",").split(",")[0]) if shared else cpu
        if first != cpu:  # count a shared cache once, at its first CPU
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        total += int(text.rstrip("KMG")) * scale
    return total or (64 << 20)


class CacheFlusher:
    """``flush()`` reads a buffer twice the size of the caches, evicting the arrays of the
    previous step: the next step then reads them from memory (a *cold* step).  It reads
    rather than writes, so the evicted lines it leaves are clean and the step does not pay
    for writing the flush buffer back to memory."""

    def __init__(self, nbytes=None):
        self.buffer = np.ones((2 * (nbytes or cache_bytes())) // 8, dtype=np.float64)

    def __call__(self):
        return float(self.buffer.sum())


def time_interleaved(steps, repeat=15, min_sample=2e-3, max_time=None, flush=None):
    """Time each callable of ``steps`` (name -> callable), interleaved round-robin.

    Returns name -> list of per-call times in seconds (one per repetition).  Repetition r
    runs the implementations in order starting at index r (mod their number).  ``max_time``
    (seconds) stops after the repetition that exceeds it, with at least 3 repetitions.
    ``flush``: a callable run (untimed) before every sample, e.g. :class:`CacheFlusher`;
    then every sample is one call (``min_sample`` is ignored).
    """
    names = list(steps)
    if flush is None:
        number = {n: _calibrate(steps[n], min_sample) for n in names}
    else:
        number = dict.fromkeys(names, 1)
    samples = {n: [] for n in names}
    enabled = gc.isenabled()
    gc.disable()
    start = time.perf_counter()
    try:
        for r in range(repeat):
            for k in range(len(names)):
                n = names[(r + k) % len(names)]
                f, m = steps[n], number[n]
                if flush is not None:
                    flush()
                t0 = time.perf_counter()
                for _ in range(m):
                    f()
                samples[n].append((time.perf_counter() - t0) / m)
            if max_time is not None and r >= 2 and time.perf_counter() - start > max_time:
                break
    finally:
        if enabled:
            gc.enable()
    return samples


def _paired_ratio(num, den):
    """Median over repetitions of num[r] / den[r]: both were timed in the same repetition,
    so a burst of load from elsewhere that slows one repetition cancels out of its ratio."""
    if not num or not den:
        return None
    return float(np.median(np.asarray(num) / np.asarray(den)))


def summarize(case, samples, threads):
    """Rows (dicts) for a timed case: median times; ratios against fastopt and fractions of
    the bound as medians of per-repetition ratios (see :func:`_paired_ratio`); GB/s."""
    med = {n: float(np.median(s)) for n, s in samples.items()}
    nbytes = case.bytes_per_step
    rows = []
    for n, s in samples.items():
        t = med[n]
        rows.append({
            "algorithm": case.algorithm.name,
            "size": case.size,
            "arrays": len(case.params),
            "elements": case.elements,
            "dtype": case.dtype.name,
            "implementation": n,
            "threads": threads,
            "median_s": t,
            "min_s": float(np.min(s)),
            "q1_s": float(np.percentile(s, 25)),
            "q3_s": float(np.percentile(s, 75)),
            "repeat": len(s),
            "samples_s": [float(x) for x in s],
            "bytes": nbytes,
            "gb_per_s": nbytes / t / 1e9,
            "vs_fastopt": _paired_ratio(s, samples.get("fastopt")),
            "bound_fraction": _paired_ratio(samples.get("bound"), s),
        })
    for n, why in case.skipped.items():
        rows.append({"algorithm": case.algorithm.name, "size": case.size,
                     "arrays": len(case.params), "elements": case.elements,
                     "dtype": case.dtype.name, "implementation": n, "threads": threads,
                     "skipped": why})
    return rows
