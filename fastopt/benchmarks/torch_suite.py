"""The ``torch`` suite of ``python -m fastopt bench``: fastopt.torch against torch.optim.

* one training iteration (forward + backward + step) on the CPU of a small MLP (6
  tensors) and of a small transformer encoder (51 tensors), and the step inside it:
  fastopt.torch.Adam/AdamW against torch.optim.Adam/AdamW with ``foreach=False``
  (torch's CPU default), ``foreach=True``, ``fused=True`` and DeepSpeed's CPUAdam (when
  installed); SGD with momentum against torch's fused SGD;
* the step alone on the GPT-2-small parameter list (:func:`cases.gpt2_small_shapes`;
  ``--quick``: its first 30 tensors), with the STREAM-style bound of the same bytes;
* L-BFGS: the optimizer's own time per iteration (the step's time minus the time spent in
  the closure) at 10^5 and 10^6 parameters, fastopt.torch.LBFGS against torch.optim.LBFGS,
  without and with ``"strong_wolfe"``, beside the time of reading the history twice (the
  least memory traffic of any L-BFGS iteration).

Every figure is the median over interleaved repetitions; the ratio column is the time of
the implementation over fastopt's.  :func:`check` turns the rows into the issue's targets.
"""
import os
import statistics
import time

import numpy as np
import torch

import fastopt.torch as ft
from fastopt.benchmarks._bound import StreamBound
from fastopt.benchmarks.cases import gpt2_small_shapes

FASTOPT = "fastopt.torch"


def _interleaved(runs, reps):
    """Median of what each callable returns (or of its seconds when it returns None), the
    callables run in turn ``reps`` times."""
    times = {name: [] for name in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            t = time.perf_counter()
            out = fn()
            times[name].append(time.perf_counter() - t if out is None else out)
    return {name: _median(v) for name, v in times.items()}


def _median(values):
    if isinstance(values[0], tuple):
        return tuple(statistics.median(v) for v in zip(*values))
    return statistics.median(values)


def _mlp():
    """256-512-512-10 with GELU: 6 tensors, 399,370 parameters; a batch of 128."""
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.GELU(),
                                torch.nn.Linear(512, 512), torch.nn.GELU(),
                                torch.nn.Linear(512, 10))
    x, y = torch.randn(128, 256), torch.randint(0, 10, (128,))
    return model, lambda: torch.nn.functional.cross_entropy(model(x), y)


def _transformer():
    """A 4-layer transformer encoder (d_model 128, 4 heads, feed-forward 512) between an
    embedding and an output layer over 1,000 tokens: 51 tensors, 1,050,088 parameters;
    16 sequences of 32 tokens."""
    layer = torch.nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512,
                                             dropout=0.0, batch_first=True)
    model = torch.nn.Sequential(
        torch.nn.Embedding(1000, 128),
        torch.nn.TransformerEncoder(layer, num_layers=4, enable_nested_tensor=False),
        torch.nn.Linear(128, 1000))
    x, y = torch.randint(0, 1000, (16, 32)), torch.randint(0, 1000, (16, 32))
    return model, lambda: torch.nn.functional.cross_entropy(
        model(x).reshape(-1, 1000), y.reshape(-1))


MODELS = {"MLP": _mlp, "transformer": _transformer}


def _training_iteration(model_name, make_opt):
    """A callable running one training iteration of ``MODELS[model_name]``; returns
    (iteration, step) seconds."""
    torch.manual_seed(0)
    model, loss_of = MODELS[model_name]()
    opt = make_opt(model.parameters())

    def run():
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_of().backward()
        t1 = time.perf_counter()
        opt.step()
        t2 = time.perf_counter()
        return t2 - t0, t2 - t1
    run()
    return run


def _step_only(make_opt, shapes):
    params = [torch.zeros(s, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.full_like(p, 1e-3)
    opt = make_opt(params)
    opt.step()
    return opt.step


def _bound_of(shapes, writes):
    """The STREAM-style bound: ``writes`` arrays written and a gradient read per tensor."""
    written = [[np.zeros(int(np.prod(s)), np.float32) for _ in range(writes)] for s in shapes]
    grads = [np.full(int(np.prod(s)), 1e-3, np.float32) for s in shapes]
    bound = StreamBound(written, grads)

    def run():
        bound()
    return run


def _deepspeed(params, adamw):
    try:
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
        from deepspeed.ops.adam import DeepSpeedCPUAdam
        return DeepSpeedCPUAdam(params, lr=1e-3, adamw_mode=adamw)
    except Exception:          # not installed, or its CPU extension failing to build
        return None


def _deepspeed_available():
    return _deepspeed([torch.zeros(1, requires_grad=True)], False) is not None


TRAINING = {
    "Adam": {FASTOPT: lambda p: ft.Adam(p, lr=1e-3),
             "torch foreach=False": lambda p: torch.optim.Adam(p, lr=1e-3, foreach=False),
             "torch foreach=True": lambda p: torch.optim.Adam(p, lr=1e-3, foreach=True),
             "torch fused": lambda p: torch.optim.Adam(p, lr=1e-3, fused=True),
             "deepspeed": lambda p: _deepspeed(p, adamw=False)},
    "AdamW": {FASTOPT: lambda p: ft.AdamW(p, lr=1e-3),
              "torch foreach=False": lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=False),
              "torch foreach=True": lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=True),
              "torch fused": lambda p: torch.optim.AdamW(p, lr=1e-3, fused=True),
              "deepspeed": lambda p: _deepspeed(p, adamw=True)},
    "SGD momentum": {FASTOPT: lambda p: ft.SGD(p, lr=1e-2, momentum=0.9),
                     "torch fused": lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9,
                                                              fused=True)},
}


def _implementations(case):
    impls = dict(TRAINING[case])
    if "deepspeed" in impls and not _deepspeed_available():
        del impls["deepspeed"]
    return impls


#: the history of the LBFGS cases (``history_size``) and their iterations per call
LBFGS_HISTORY = 10
LBFGS_ITERS = 10
#: the name of the LBFGS cases' memory floor
HISTORY_FLOOR = "history read twice"


def _history_read_twice(n, history=LBFGS_HISTORY, iters=LBFGS_ITERS):
    """A callable returning the seconds per iteration of reading ``2 * 2 * history * n``
    float32 values with torch's threads, ``iters`` times in a row (as the LBFGS cases run
    ``iters`` iterations per call, so the history is as warm in the cache): the least
    memory traffic of one L-BFGS iteration with a full history (every stored s and y read
    once for the inner products with the new gradient and once more to form the
    direction; torch's two loops and fastopt's two passes both do), without the vectors
    of the iteration itself."""
    history_twice = torch.ones(4 * history * n)

    def run():
        t = time.perf_counter()
        for _ in range(iters):
            history_twice.sum()
        return (time.perf_counter() - t) / iters
    return run


def _lbfgs_own_time(cls, n, line_search_fn=None, iters=LBFGS_ITERS):
    """A callable running one ``step`` of ``iters`` iterations on an ill-conditioned
    separable quadratic (curvatures 1e-3 .. 1e3, so the runs never converge) and returning
    the optimizer's own seconds per iteration: the step's time less the closure's, over
    the iterations actually taken.  The optimizer persists between calls (steady state)."""
    g = torch.Generator().manual_seed(0)
    a = 10.0 ** (6 * torch.rand(n, generator=g) - 3)
    x = torch.zeros(n, requires_grad=True)
    opt = cls([x], max_iter=iters, history_size=LBFGS_HISTORY, tolerance_grad=0,
              tolerance_change=0, line_search_fn=line_search_fn)
    inside = [0.0]

    def closure():
        t = time.perf_counter()
        opt.zero_grad()
        loss = (a * (x - 1) ** 2).sum()
        loss.backward()
        inside[0] += time.perf_counter() - t
        return loss

    def run():
        inside[0] = 0.0
        before = opt.state[x].get("n_iter", 0)
        t = time.perf_counter()
        opt.step(closure)
        elapsed = time.perf_counter() - t - inside[0]
        return elapsed / max(opt.state[x]["n_iter"] - before, 1)
    run()
    return run


def collect(quick=False):
    """Rows ``{case, implementation, seconds, ratio}`` of the whole suite (the MLP rows
    also ``step_seconds``, ``step_ratio``: the step inside the iteration)."""
    reps = 5 if quick else 21
    rows = []
    for model in MODELS:
        for case in TRAINING:
            runs = {name: _training_iteration(model, make)
                    for name, make in _implementations(case).items()}
            medians = _interleaved(runs, reps)
            base = medians[FASTOPT]
            rows += [dict(case=f"{model} training iteration, {case}", implementation=name,
                          seconds=it, ratio=it / base[0], step_seconds=st,
                          step_ratio=st / base[1]) for name, (it, st) in medians.items()]
    shapes = gpt2_small_shapes()[:30] if quick else gpt2_small_shapes()
    for case in ("Adam", "AdamW"):
        runs = {name: _step_only(make, shapes) for name, make in _implementations(case).items()}
        runs["bound"] = _bound_of(shapes, writes=3)
        rows += _rows(f"GPT-2-small step, {case} ({len(shapes)} tensors)",
                      _interleaved(runs, 3 if quick else 7))
    for n in (10 ** 5, 10 ** 6):
        for search in (None, "strong_wolfe"):
            runs = {FASTOPT: _lbfgs_own_time(ft.LBFGS, n, search),
                    "torch": _lbfgs_own_time(torch.optim.LBFGS, n, search),
                    HISTORY_FLOOR: _history_read_twice(n)}
            rows += _rows(f"LBFGS own time per iteration, n={n:,}"
                          + (", strong_wolfe" if search else ""),
                          _interleaved(runs, 3 if quick else 7))
    return rows


def check(rows):
    """The targets of issue 9, each with the figure measured in this run."""
    out = []
    by = {(r["case"], r["implementation"]): r for r in rows}
    for model, case in ((m, c) for m in MODELS for c in TRAINING):
        name = f"{model} training iteration, {case}"
        ours = by[(name, FASTOPT)]
        for other in ("torch fused", "deepspeed"):
            if (name, other) in by:
                r = by[(name, other)]
                out.append(dict(target=f"{model} {case}: step in the loop not slower than "
                                       f"{other}",
                                measured=f"{ours['step_seconds'] / r['step_seconds']:.2f}x",
                                met=ours["step_seconds"] <= r["step_seconds"]))
    for r in rows:
        if r["case"].startswith("GPT-2-small") and r["implementation"] == FASTOPT:
            frac = by[(r["case"], "bound")]["seconds"] / r["seconds"]
            out.append(dict(target=f"{r['case']}: >= 95% of the bandwidth bound",
                            measured=f"{frac:.0%}", met=frac >= 0.95))
    for r in rows:
        if r["case"].startswith("LBFGS") and r["implementation"] == "torch":
            ours = by[(r["case"], FASTOPT)]["seconds"]
            measured = f"1/{r['seconds'] / ours:.1f}"
            floor = by.get((r["case"], HISTORY_FLOOR))
            if floor is not None:   # what no L-BFGS iteration can go below
                measured += f" (the {HISTORY_FLOOR}: 1/{r['seconds'] / floor['seconds']:.1f})"
            out.append(dict(target=f"{r['case']}: <= 1/5 of torch.optim.LBFGS's",
                            measured=measured, met=ours <= r["seconds"] / 5))
    return out


def _rows(case, medians):
    base = medians[FASTOPT]
    return [dict(case=case, implementation=name, seconds=s, ratio=s / base)
            for name, s in medians.items()]


def format_table(rows):
    lines = [f"{'case':56s} {'implementation':20s} {'median':>10s} {'x fastopt':>9s} "
             f"{'step':>10s} {'x fastopt':>9s}"]
    for r in rows:
        step = f"{r['step_seconds'] * 1e3:8.3f}ms {r['step_ratio']:9.2f}" \
            if "step_seconds" in r else ""
        lines.append(f"{r['case']:56s} {r['implementation']:20s} "
                     f"{r['seconds'] * 1e3:8.3f}ms {r['ratio']:9.2f} {step}")
    return "\n".join(lines)
