"""Tune the spin window of fastopt's thread pool: how long an idle worker spins before it
sleeps (``fastopt._pool._set_spin_us``; the compiled-in default is 50 us).

A longer spin wakes the workers faster for the next step; a shorter one leaves the cores
to the BLAS call that follows the step sooner.  For each window in ``--spins`` (default
0, 20, 50, 100, 200, 500 us) this prints the median of

* ``isolated step``: a 1,048,576-element float32 Adam step on 2 threads, back to back;
* ``step after matmul``: the same step right after a 256 x 256 float32 NumPy matmul;
* ``matmul after step``: the matmul right after that step (what the spin costs the BLAS);
* ``MLP iteration``: a whole NumPy MLP iteration (512-2048-10, batch 64; forward and
  backward by NumPy matrix products) with fastopt's Adam (default thread count).

The windows are interleaved: every round runs each window once, in a rotated order, until
``--seconds`` (default 120) are spent, so load from the rest of the machine hits them
alike.  Timings mean something only on an otherwise idle machine; the load average is
printed with them.

Run from the repository root (``-m`` imports the checkout's fastopt, where ``python
bench/tune_pool.py`` would import whichever fastopt is installed)::

    python -m bench.tune_pool                # about 2 minutes
    python -m bench.tune_pool --quick        # a few seconds: checks that it runs
    python -m bench.tune_pool --spins 0,50,200 --seconds 60
"""
import argparse
import os
import sys
import time

import numpy as np

import fastopt
from fastopt import _pool
from fastopt.benchmarks import inloop

SPINS = (0, 20, 50, 100, 200, 500)
FIGURES = ("isolated step", "step after matmul", "matmul after step", "MLP iteration")


class Bench:
    """The arrays, optimizers and blocks of one tuning run."""

    def __init__(self, block):
        rng = np.random.default_rng(0)
        self.p = rng.standard_normal(1 << 20, dtype=np.float32)
        self.g = 1e-2 * rng.standard_normal(1 << 20, dtype=np.float32)
        self.opt = fastopt.Adam([self.p], **inloop.ADAM)
        a = rng.standard_normal((inloop.MATMUL_N, inloop.MATMUL_N), dtype=np.float32)
        out = np.empty_like(a)
        self.matmul = lambda: np.matmul(a, a, out=out)
        self.mlp = inloop.NumpyMLP()
        self.mlp_opt = fastopt.Adam(self.mlp.params, **inloop.ADAM)
        self.block = block
        self.step([self.g])
        self.mlp_opt.step(self.mlp.gradient())

    def step(self, grads):
        self.opt.step(grads)

    def settle(self):
        """A few untimed steps and matmuls: the workers run with the new window."""
        for _ in range(3):
            self.step([self.g])
            self.matmul()

    def one_round(self):
        """The four figures' samples at the spin window now set."""
        steps, mlp = self.block
        before = fastopt.get_num_threads()
        fastopt.set_num_threads(2)
        try:
            isolated = inloop._times(lambda: self.step([self.g]), steps)
        finally:
            fastopt.set_num_threads(before)
        # gradient (the matmul) then step: the matmul follows the previous iteration's step
        matmul, step = inloop._timed_loop(lambda: (self.matmul(), [self.g])[1], self.step,
                                          steps + 1)
        it = inloop._times(lambda: self.mlp_opt.step(self.mlp.gradient()), mlp)
        return {"isolated step": isolated, "step after matmul": step,
                "matmul after step": matmul[1:], "MLP iteration": it}


def run(spins, seconds, block, min_rounds, say=lambda text: print(text, file=sys.stderr)):
    """``{spin: {figure: median seconds}}`` and the number of rounds run."""
    bench = Bench(block)
    samples = {s: {f: [] for f in FIGURES} for s in spins}
    old = _pool._set_spin_us(spins[0])
    start, rounds = time.perf_counter(), 0
    try:
        while rounds < min_rounds or time.perf_counter() - start < seconds:
            order = spins[rounds % len(spins):] + spins[:rounds % len(spins)]
            for s in order:
                _pool._set_spin_us(s)
                bench.settle()
                for f, xs in bench.one_round().items():
                    samples[s][f] += xs
            rounds += 1
            say(f"round {rounds}: {time.perf_counter() - start:.0f} s")
    finally:
        _pool._set_spin_us(old)
    return {s: {f: float(np.median(xs)) for f, xs in fs.items()} for s, fs in samples.items()}, \
        rounds, old


def format_table(medians, default):
    """Markdown: one row per spin window; each figure's median, and in brackets its ratio to
    the default window's."""
    ref = medians.get(default)
    out = ["| spin (us) | " + " | ".join(FIGURES) + " |", "|---:|" + "---:|" * len(FIGURES)]
    for s, m in medians.items():
        cells = []
        for f in FIGURES:
            text = inloop._us(m[f])
            if ref and s != default:
                text += f" ({m[f] / ref[f]:.2f})"
            cells.append(text)
        out.append(f"| {s}{' (default)' if s == default else ''} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spins", default=",".join(map(str, SPINS)),
                    help="spin windows in microseconds (default: 0,20,50,100,200,500)")
    ap.add_argument("--seconds", type=float, default=120.0,
                    help="run rounds until this many seconds are spent (default 120)")
    ap.add_argument("--quick", action="store_true",
                    help="one short round per window: checks that the script runs")
    args = ap.parse_args(argv)
    try:
        spins = [int(t) for t in args.spins.split(",")]
    except ValueError:
        spins = []
    if not spins or min(spins) < 0:
        ap.error(f"--spins takes integers >= 0 like 0,50; got {args.spins!r}")
    if args.quick:
        medians, rounds, default = run(spins, 0.0, (5, 2), 1)
    else:
        medians, rounds, default = run(spins, args.seconds, (100, 20), 3)
    sys.stderr.flush()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"fastopt {fastopt.__version__}, {os.cpu_count()} cores, fastopt "
          f"{fastopt.get_num_threads()} threads; {rounds} rounds, medians; load average "
          f"{load}\n")
    print(format_table(medians, default))
    return 0


if __name__ == "__main__":
    sys.exit(main())
