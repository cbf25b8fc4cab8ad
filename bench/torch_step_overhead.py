"""The per-step time of fastopt.torch on small models, where Python overhead dominates:
``opt.step()`` alone (no forward or backward), in microseconds, medians over interleaved
rounds (fastopt.benchmarks.cases.time_interleaved), for

  fastopt       fastopt.torch.Adam(lr=1e-3) / fastopt.torch.SGD(lr=1e-2, momentum=0.9)
  torch         torch.optim's default: on CPU tensors the single-tensor for-loop
                (torch only defaults to foreach for CUDA-like devices)
  foreach       torch.optim with foreach=True
  fused         torch.optim with fused=True

on two models, float32:

  tiny   Linear(32, 64), Linear(64, 32), Linear(32, 1): 6 tensors, 4,225 elements
  mlp    Linear(128, 256), Linear(256, 256), Linear(256, 10): 6 tensors, 101,386 elements

and two ways of handing over gradients:

  same   the same gradient tensors every step (``zero_grad(set_to_none=False)``, or
         gradients accumulated in place)
  new    new gradient tensors every step (``zero_grad()`` then ``backward()``, torch's
         default): each step first assigns ``p.grad`` from a rotating pool of 4 gradient
         sets made beforehand, so no step sees the previous step's gradient objects; the
         assignment (a few hundred ns per tensor) is timed with every implementation.

Every implementation steps its own copy of the model with the same gradients.  Timings
mean little on a loaded machine; the load average and thread counts are printed.

Run from the repository root (it puts the checkout first on sys.path)::

    python bench/torch_step_overhead.py            # about a minute
    python bench/torch_step_overhead.py --quick    # a few seconds: checks that it runs
"""
import argparse
import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fastopt  # noqa: E402
import fastopt.torch as ft  # noqa: E402
from fastopt.benchmarks.cases import time_interleaved  # noqa: E402

MODELS = {
    "tiny": (32, 64, 32, 1),
    "mlp": (128, 256, 256, 10),
}
OPTIMIZERS = {   # name -> (fastopt.torch class, torch.optim class, kwargs)
    "Adam": (ft.Adam, torch.optim.Adam, dict(lr=1e-3)),
    "SGD momentum": (ft.SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9)),
}
IMPLEMENTATIONS = ("fastopt", "torch", "foreach", "fused")
POOL = 4


def model(widths):
    torch.manual_seed(0)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def make_opt(impl, spec, params):
    ours, theirs, kw = spec
    if impl == "fastopt":
        return ours(params, **kw)
    flags = {"torch": {}, "foreach": dict(foreach=True), "fused": dict(fused=True)}[impl]
    return theirs(params, **kw, **flags)


def stepper(impl, spec, base, grads_mode):
    """A callable doing one step of ``impl`` on its own copy of ``base``."""
    m = copy.deepcopy(base)
    params = list(m.parameters())
    gen = torch.Generator().manual_seed(1)
    pool = [[1e-3 * torch.randn(p.shape, generator=gen) for p in params]
            for _ in range(POOL)]
    opt = make_opt(impl, spec, params)
    for p, g in zip(params, pool[0]):
        p.grad = g
    if grads_mode == "same":
        step = opt.step
    else:
        turn = [0]

        def step():
            turn[0] = k = (turn[0] + 1) % POOL
            for p, g in zip(params, pool[k]):
                p.grad = g
            opt.step()
    for _ in range(3):     # state created, caches warm
        step()
    return step


def case(spec, widths, grads_mode, repeat, min_sample):
    base = model(widths)
    steps = {impl: stepper(impl, spec, base, grads_mode) for impl in IMPLEMENTATIONS}
    times = time_interleaved(steps, repeat=repeat, min_sample=min_sample)
    return {k: 1e6 * float(np.median(v)) for k, v in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few rounds: checks that it runs")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch and fastopt threads (default 1: these models are small)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    fastopt.set_num_threads(args.threads)
    repeat, min_sample = (5, 2e-3) if args.quick else (41, 2e-2)
    print(f"torch {torch.__version__}, threads torch {torch.get_num_threads()} fastopt "
          f"{fastopt.get_num_threads()}, load {os.getloadavg()[0]:.1f}, "
          f"{repeat} interleaved rounds")
    print(f"{'optimizer':<13} {'model':<5} {'tensors':>7} {'elements':>9} {'grads':<5} "
          + " ".join(f"{i:>8}" for i in IMPLEMENTATIONS) + "   (us per step, medians)")
    for name, spec in OPTIMIZERS.items():
        for mname, widths in MODELS.items():
            n_tensors = 2 * (len(widths) - 1)
            n = sum(p.numel() for p in model(widths).parameters())
            for grads_mode in ("same", "new"):
                t = case(spec, widths, grads_mode, repeat, min_sample)
                print(f"{name:<13} {mname:<5} {n_tensors:>7} {n:>9,} {grads_mode:<5} "
                      + " ".join(f"{t[i]:>8.1f}" for i in IMPLEMENTATIONS))
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
