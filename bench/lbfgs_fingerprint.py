"""Fingerprints of fastopt.torch.LBFGS and the L-BFGS kernels: one sha256 line per problem
(final parameters and every step's loss, or the kernel outputs).  Run in two builds and
diff the output to prove bit-identical results:

    PYTHONPATH=/path/to/A python bench/lbfgs_fingerprint.py > a.txt
    PYTHONPATH=/path/to/B python bench/lbfgs_fingerprint.py > b.txt && diff a.txt b.txt
"""
import hashlib

import numpy as np
import torch

import fastopt
import fastopt.torch as ft
from fastopt.second_order import _vec


def h(*arrays):
    m = hashlib.sha256()
    for a in arrays:
        m.update(np.ascontiguousarray(a).tobytes())
    return m.hexdigest()[:16]


def torch_runs():
    for dtype in (torch.float32, torch.float64):
        for ls in (None, "strong_wolfe"):
            for n, shapes in ((100_003, [(100_003,)]), (777, [(10, 7), (707,)]),
                              (50_000, [(50_000,)]), (5, [(5,)])):
                g = torch.Generator().manual_seed(n)
                a = (10.0 ** (4 * torch.rand(n, generator=g) - 2)).to(dtype)
                b = torch.randn(n, generator=g).to(dtype)
                params = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in shapes]
                opt = ft.LBFGS(params, history_size=7, max_iter=15, line_search_fn=ls)

                def closure():
                    opt.zero_grad()
                    x = torch.cat([p.reshape(-1) for p in params])
                    loss = (a * (x - b) ** 2).sum() + 0.1 * (x ** 4).sum()
                    loss.backward()
                    return loss
                losses = [float(opt.step(closure)) for _ in range(4)]
                print("torch", dtype, ls, n, h(np.array(losses),
                                                *[p.detach().numpy() for p in params]))


def kernel_runs():
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        for n in (1, 31, 33, 512, 1000, 4099, 100_000):
            mem = _vec.LBFGSMemory(5, n, dtype)
            x0 = rng.standard_normal(n).astype(dtype)
            g0 = rng.standard_normal(n).astype(dtype)
            d = np.empty(n, dtype)
            out = []
            for it in range(9):
                x1 = (x0 + 0.1 * rng.standard_normal(n)).astype(dtype)
                g1 = (g0 + 0.5 * (x1 - x0) + 0.01 * rng.standard_normal(n)).astype(dtype)
                if it == 4:
                    g1 = g0.copy()          # y = 0: rejected pair
                st, sy, yy = mem.update(x1, x0, g1, g0)
                gtd = mem.direction(g1, d)
                out.append(np.array([st, sy, yy, gtd, mem.gmax, _vec.absmax(d)]))
                out.append(d.copy())
                x0, g0 = x1, g1
            print("kernel", np.dtype(dtype).name, n, h(*out))


if __name__ == "__main__":
    for nt in (1, 2):
        fastopt.set_num_threads(nt)
        torch.set_num_threads(1)
        print("threads", nt)
        kernel_runs()
        torch_runs()
