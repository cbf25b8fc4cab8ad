"""The two passes of the L-BFGS memory alone (fastopt.second_order._vec.LBFGSMemory, a full
history), in the optimizer's order (the update pass, then the direction pass): their
medians and the bytes they move per second, beside torch's (or NumPy's) plain read of as
many bytes as the history holds.

    PYTHONPATH=. python bench/lbfgs_passes.py [n [dtype [threads [m]]]]

defaults: n = 10^6, float32, fastopt's default threads, m = 10.
"""
import statistics
import sys
import time

import numpy as np

import fastopt
from fastopt.second_order import _vec


def _seconds(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    args = sys.argv[1:]
    n = int(float(args[0])) if args else 10 ** 6
    dtype = np.dtype(args[1] if len(args) > 1 else "float32")
    if len(args) > 2:
        fastopt.set_num_threads(int(args[2]))
    m = int(args[3]) if len(args) > 3 else 10
    rng = np.random.default_rng(0)
    mem = _vec.LBFGSMemory(m, n, dtype)
    x0, g0 = np.zeros(n, dtype), rng.standard_normal(n).astype(dtype)
    for _ in range(m + 2):          # a full ring
        x1 = (x0 + 0.01 * rng.standard_normal(n)).astype(dtype)
        g1 = (g0 + 2 * (x1 - x0)).astype(dtype)
        mem.update(x1, x0, g1, g0)
        x0, g0 = x1, g1
    d = np.empty(n, dtype)
    history = 2 * m * n * dtype.itemsize
    try:
        import torch
        buf = torch.ones(history // 4)
        reader = f"torch sum on {torch.get_num_threads()} threads"
    except ImportError:
        buf = np.ones(history // 4, np.float32)
        reader = "numpy sum"
    # in the optimizer's order: the update pass, then the direction pass.  The reads come
    # after them, not in between: torch's threads spin for a while after each of its
    # operations and would hold the cores fastopt's pool then runs on.
    reps = max(7, int(3e7 / (n * m)))
    times = {"update": [], "direction": [], "read": []}
    for _ in range(reps):
        times["update"].append(_seconds(lambda: mem.update(x1, x0, g1, g0)))
        times["direction"].append(_seconds(lambda: mem.direction(g1, d)))
    times["read"] = [_seconds(buf.sum) for _ in range(reps)]
    update, direction, read = (statistics.median(times[k]) for k in times)
    # the update pass also reads x1, x0, g1, g0 and writes the pair; the direction pass
    # reads g and writes d
    moved_update = history + 6 * n * dtype.itemsize
    moved_direction = history + 2 * n * dtype.itemsize
    print(f"n={n:,} {dtype} m={m} fastopt threads={fastopt.get_num_threads()}: "
          f"update {update * 1e3:.3f} ms ({moved_update / update / 1e9:.1f} GB/s), "
          f"direction {direction * 1e3:.3f} ms ({moved_direction / direction / 1e9:.1f} GB/s), "
          f"{reader} of the history {read * 1e3:.3f} ms ({history / read / 1e9:.1f} GB/s)")


if __name__ == "__main__":
    main()
