"""The ``torch`` suite of ``python -m fastopt bench``: fastopt.torch against torch.optim.

* one training iteration (forward + backward + step) of a small MLP on the CPU:
  fastopt.torch.Adam/AdamW against torch.optim.Adam/AdamW with ``foreach=False`` (torch's
  CPU default), ``foreach=True`` and ``fused=True``; SGD with momentum against torch's fused
  SGD;
* the step alone on the GPT-2-small parameter list (:func:`cases.gpt2_small_shapes`;
  ``--quick``: its first 30 tensors);
* L-BFGS: the optimizer's own time per iteration (the step's time minus the time spent in
  the closure) at 10^5 and 10^6 parameters, fastopt.torch.LBFGS against torch.optim.LBFGS.

Every figure is the median over interleaved repetitions; the ratio column is the time of
the implementation over fastopt's.
"""
import statistics
import time

import torch

import fastopt.torch as ft
from fastopt.benchmarks.cases import gpt2_small_shapes


def _interleaved(runs, reps):
    """Median seconds of each callable, the callables timed in turn ``reps`` times."""
    times = {name: [] for name in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in times.items()}


def _mlp_iteration(make_opt):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.GELU(),
                                torch.nn.Linear(512, 512), torch.nn.GELU(),
                                torch.nn.Linear(512, 10))
    opt = make_opt(model.parameters())
    x, y = torch.randn(128, 256), torch.randint(0, 10, (128,))

    def run():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    run()
    return run


def _step_only(make_opt, shapes):
    params = [torch.zeros(s, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.full_like(p, 1e-3)
    opt = make_opt(params)
    opt.step()
    return opt.step


TRAINING = {
    "Adam": {"fastopt.torch": lambda p: ft.Adam(p, lr=1e-3),
             "torch foreach=False": lambda p: torch.optim.Adam(p, lr=1e-3, foreach=False),
             "torch foreach=True": lambda p: torch.optim.Adam(p, lr=1e-3, foreach=True),
             "torch fused": lambda p: torch.optim.Adam(p, lr=1e-3, fused=True)},
    "AdamW": {"fastopt.torch": lambda p: ft.AdamW(p, lr=1e-3),
              "torch foreach=False": lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=False),
              "torch foreach=True": lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=True),
              "torch fused": lambda p: torch.optim.AdamW(p, lr=1e-3, fused=True)},
    "SGD momentum": {"fastopt.torch": lambda p: ft.SGD(p, lr=1e-2, momentum=0.9),
                     "torch fused": lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9,
                                                              fused=True)},
}


def _lbfgs_own_time(cls, n, line_search_fn=None, iters=10):
    """A callable running one ``step`` of ``iters`` iterations on an ill-conditioned
    separable quadratic (curvatures 1e-3 .. 1e3, so the runs never converge) and returning
    the optimizer's own seconds per iteration: the step's time less the closure's, over
    the iterations actually taken.  The optimizer persists between calls (steady state)."""
    g = torch.Generator().manual_seed(0)
    a = 10.0 ** (6 * torch.rand(n, generator=g) - 3)
    x = torch.zeros(n, requires_grad=True)
    opt = cls([x], max_iter=iters, history_size=10, tolerance_grad=0, tolerance_change=0,
              line_search_fn=line_search_fn)
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
    """Rows ``{case, implementation, seconds, ratio}`` of the whole suite."""
    reps = 5 if quick else 21
    rows = []
    for case, impls in TRAINING.items():
        runs = {name: _mlp_iteration(make) for name, make in impls.items()}
        rows += _rows(f"MLP training iteration, {case}", _interleaved(runs, reps))
    shapes = gpt2_small_shapes()[:30] if quick else gpt2_small_shapes()
    for case in ("Adam", "AdamW"):
        runs = {name: _step_only(make, shapes) for name, make in TRAINING[case].items()}
        rows += _rows(f"GPT-2-small step, {case} ({len(shapes)} tensors)",
                      _interleaved(runs, 3 if quick else 7))
    for n in (10 ** 5, 10 ** 6):
        for search in (None, "strong_wolfe"):
            runs = {"fastopt.torch": _lbfgs_own_time(ft.LBFGS, n, search),
                    "torch": _lbfgs_own_time(torch.optim.LBFGS, n, search)}
            times = {name: [] for name in runs}
            for _ in range(3 if quick else 7):
                for name, fn in runs.items():
                    times[name].append(fn())
            rows += _rows(f"LBFGS own time per iteration, n={n:,}"
                          + (", strong_wolfe" if search else ""),
                          {k: statistics.median(v) for k, v in times.items()})
    return rows


def _rows(case, medians):
    base = medians["fastopt.torch"]
    return [dict(case=case, implementation=name, seconds=s, ratio=s / base)
            for name, s in medians.items()]


def format_table(rows):
    lines = [f"{'case':52s} {'implementation':22s} {'median':>10s} {'x fastopt':>9s}"]
    for r in rows:
        lines.append(f"{r['case']:52s} {r['implementation']:22s} "
                     f"{r['seconds'] * 1e3:8.3f}ms {r['ratio']:9.2f}")
    return "\n".join(lines)
