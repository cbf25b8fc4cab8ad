"""Before/after of LBFGS's own time per iteration (the torch suite's case:
fastopt.benchmarks.torch_suite._lbfgs_own_time, history_size=10, float32), in two built
trees, each round one process per tree (order alternating), fastopt.torch and torch
interleaved inside each process; medians over rounds of each process's median.

    python bench/lbfgs_ab.py /path/to/before /path/to/after --rounds 3 --reps 5 [--threads 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = r"""
import json, sys, torch, fastopt
import fastopt.torch as ft
if int(sys.argv[2]):
    torch.set_num_threads(int(sys.argv[2])); fastopt.set_num_threads(int(sys.argv[2]))
from fastopt.benchmarks.torch_suite import _lbfgs_own_time, _interleaved
reps = int(sys.argv[1]); out = {}
for n in (10 ** 5, 10 ** 6):
    for ls in (None, "strong_wolfe"):
        runs = {"fastopt": _lbfgs_own_time(ft.LBFGS, n, ls),
                "torch": _lbfgs_own_time(torch.optim.LBFGS, n, ls)}
        for k, v in _interleaved(runs, reps).items():
            out[f"{n} {ls} {k}"] = v
print(json.dumps(out))
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch's and fastopt's (0: as is)")
    a = p.parse_args()
    trees = [os.path.abspath(a.before), os.path.abspath(a.after)]
    samples = [{}, {}]
    for r in range(a.rounds):
        for i in ((0, 1) if r % 2 == 0 else (1, 0)):
            env = {**os.environ, "PYTHONPATH": trees[i]}
            res = subprocess.run([sys.executable, "-c", WORKER, str(a.reps), str(a.threads)], env=env,
                                 check=True, capture_output=True, text=True, cwd=trees[i])
            for k, v in json.loads(res.stdout.strip().splitlines()[-1]).items():
                samples[i].setdefault(k, []).append(v)
        print(f"round {r + 1}/{a.rounds}", file=sys.stderr)
    print(f"{'case':34s} {'before ms':>10s} {'after ms':>10s} {'after/before':>12s}")
    for k in samples[0]:
        b, f = (statistics.median(s[k]) for s in samples)
        print(f"{k:34s} {b * 1e3:10.3f} {f * 1e3:10.3f} {f / b:12.3f}")
    for k in samples[0]:
        if k.endswith(" fastopt"):
            t = k[:-len("fastopt")] + "torch"
            for i, name in enumerate(("before", "after")):
                ratios = [x / y for x, y in zip(samples[i][k], samples[i][t])]
                print(f"{k[:-8]:24s} {name}: fastopt/torch per round "
                      f"{', '.join(f'{x:.2f}' for x in ratios)}")


if __name__ == "__main__":
    main()
