"""The cost of gradient noise in the step: Adam on N elements, timed interleaved
(fastopt.benchmarks.cases.time_interleaved, medians), as

  plain        opt.step(grads)
  in-pass      opt.step(grads, noise=GradientNoise(0.01))   (noise drawn inside the pass)
  extra pass   opt.step([g + noise.sample(...)])             (noise drawn, then a step)
  draw only    noise.sample(...)                              (the generator alone)

Run (not part of the test suite; figures mean nothing on a loaded machine)::

    python bench/gradient_noise.py            # 2**20 and 2**24 elements, float32 and float64
    python bench/gradient_noise.py --quick    # one small case, to check that it runs

(run from a checkout, it times the checkout's fastopt).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import fastopt  # noqa: E402
from fastopt.benchmarks.cases import time_interleaved  # noqa: E402


def case(n, dtype, repeat, min_sample):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(n).astype(dtype) for _ in range(3)]
    grads = [(1e-2 * rng.standard_normal(n)).astype(dtype) for _ in range(2)]
    noise = fastopt.GradientNoise(0.01, seed=1)
    opts = [fastopt.Adam([p], lr=1e-4) for p in params]
    steps = {
        "plain": lambda: opts[0].step(grads[:1]),
        "in-pass": lambda: opts[1].step(grads[:1], noise=noise),
        "extra pass": lambda: opts[2].step([grads[1] + noise.sample(n, dtype=dtype)]),
        "draw only": lambda: noise.sample(n, dtype=dtype),
    }
    for step in steps.values():
        step()
    times = time_interleaved(steps, repeat=repeat, min_sample=min_sample)
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    sizes = [1 << 12] if args.quick else [1 << 20, 1 << 24]
    dtypes = ["float32"] if args.quick else ["float32", "float64"]
    repeat, min_sample = (3, 1e-3) if args.quick else (15, 2e-2)
    print(f"threads {fastopt.get_num_threads()}, load {os.getloadavg()[0]:.1f}")
    print(f"{'n':>9} {'dtype':>8} {'plain':>10} {'in-pass':>10} {'extra pass':>11} "
          f"{'draw only':>10}   (ms, medians)")
    for n in sizes:
        for dtype in dtypes:
            t = case(n, np.dtype(dtype), repeat, min_sample)
            print(f"{n:>9} {dtype:>8} " + " ".join(
                f"{1e3 * t[k]:>{w}.3f}" for k, w in (("plain", 10), ("in-pass", 10),
                                                      ("extra pass", 11), ("draw only", 10))))


if __name__ == "__main__":
    main()
