"""Where fastopt.torch.LBFGS's own time per iteration goes (the benchmark's quadratic,
history_size=10): every kernel call and parameter copy wrapped in a timer, medians of
per-step totals divided by iterations.  Also the machine's copy/read bandwidth.

    PYTHONPATH=. python bench/lbfgs_profile.py [n ...]
"""
import collections
import statistics
import sys
import time

import numpy as np
import torch

import fastopt.torch as ft
import fastopt.torch.lbfgs as L
from fastopt.benchmarks.torch_suite import _lbfgs_own_time

acc = collections.defaultdict(float)


def timed(name, fn):
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            acc[name] += time.perf_counter() - t
    return w


class Proxy:
    def __init__(self, obj, prefix):
        self._obj, self._prefix = obj, prefix

    def __getattr__(self, name):
        v = getattr(self._obj, name)
        return timed(self._prefix + name, v) if callable(v) else v


L._vec = Proxy(L._vec, "_vec.")
for meth in ("read", "write", "gradient"):
    setattr(L._Parameters, meth, timed("io." + meth, getattr(L._Parameters, meth)))
_orig_flat_init = L._Flat.__init__


def flat_init(self, *a):
    _orig_flat_init(self, *a)
    self.memory = Proxy(self.memory, "memory.")


L._Flat.__init__ = flat_init
L.wolfe_search = timed("wolfe_search(total, incl. closures)", L.wolfe_search)


def bandwidth():
    n = 32 * 2**20          # 128 MiB float32
    a, b = np.ones(n, np.float32), np.empty(n, np.float32)
    cp, rd = [], []
    for _ in range(7):
        t = time.perf_counter(); np.copyto(b, a); cp.append(time.perf_counter() - t)
        t = time.perf_counter(); a.sum(); rd.append(time.perf_counter() - t)
    t_a, td = torch.from_numpy(a), []
    for _ in range(7):
        t = time.perf_counter(); t_a.sum(); td.append(time.perf_counter() - t)
    cb = 2 * a.nbytes / statistics.median(cp)
    rb = a.nbytes / statistics.median(rd)
    tb = a.nbytes / statistics.median(td)
    print(f"numpy copy (read+write counted) {cb / 1e9:.1f} GB/s, numpy sum read {rb / 1e9:.1f} "
          f"GB/s, torch sum read on {torch.get_num_threads()} threads {tb / 1e9:.1f} GB/s")


def main():
    torch.set_num_threads(2)
    bandwidth()
    for n in [int(float(a)) for a in sys.argv[1:]] or [10 ** 5, 10 ** 6]:
        for ls in (None, "strong_wolfe"):
            run = _lbfgs_own_time(ft.LBFGS, n, ls)
            per = collections.defaultdict(list)
            own = []
            for _ in range(9):
                acc.clear()
                own.append(run())
                for k, v in acc.items():
                    per[k].append(v / 10)
            print(f"n={n:,} {ls}: own {statistics.median(own) * 1e3:.3f} ms/iter")
            for k in sorted(per, key=lambda k: -statistics.median(per[k])):
                print(f"   {k:40s} {statistics.median(per[k]) * 1e3:8.3f} ms/iter")


if __name__ == "__main__":
    main()
