"""Before/after: ``python -m fastopt bench --quick`` in two built source trees, interleaved.

Runs the quick first-order benchmark alternately in tree A and tree B (each in its own
process, ``PYTHONPATH`` set to the tree), ``--rounds`` times, and prints for every case both
trees measured the median over rounds of each round's median step time, and B / A.  The
rounds alternate so that a change in the machine's load hits both trees alike; the spread
column (the largest over the smallest round median of B) says how much that load moved.

    python bench/compare_trees.py /path/to/before /path/to/after --rounds 5

Each tree must be built in place (``python setup.py build_ext --inplace``).  Only the
first-order rows are compared (an older tree's ``--quick`` may not have the in-loop part).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def run_quick(tree, implementations):
    """One ``bench --quick`` in ``tree``: {(algorithm, size, dtype, implementation): s}."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rows.json")
        env = {**os.environ, "PYTHONPATH": tree}
        subprocess.run([sys.executable, "-m", "fastopt", "bench", "--quick", "--implementations",
                        implementations, "--json", out], cwd=tree, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            rows = json.load(f)["first_order"]
    return {(r["algorithm"], r["size"], r["dtype"], r["implementation"]): r["median_s"]
            for r in rows}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("before", help="tree A (built in place)")
    p.add_argument("after", help="tree B (built in place)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--implementations", default="fastopt,fastopt.functional")
    args = p.parse_args(argv)
    trees = [os.path.abspath(args.before), os.path.abspath(args.after)]
    samples = [{}, {}]
    for k in range(args.rounds):
        for i in (0, 1) if k % 2 == 0 else (1, 0):
            for case, t in run_quick(trees[i], args.implementations).items():
                samples[i].setdefault(case, []).append(t)
        print(f"round {k + 1}/{args.rounds} done", file=sys.stderr)
    cases = sorted(set(samples[0]) & set(samples[1]), key=lambda c: (c[0], int(c[1]), c[2:]))
    print(f"{'algorithm':<9} {'size':>8} {'dtype':<8} {'implementation':<19} "
          f"{'A µs':>9} {'B µs':>9} {'B/A':>6} {'B spread':>8}")
    ratios = []
    for case in cases:
        a, b = (statistics.median(s[case]) for s in samples)
        ratios.append(b / a)
        spread = max(samples[1][case]) / min(samples[1][case])
        print(f"{case[0]:<9} {case[1]:>8} {case[2]:<8} {case[3]:<19} {a * 1e6:>9.2f} "
              f"{b * 1e6:>9.2f} {b / a:>6.3f} {spread:>8.2f}")
    print(f"geometric mean of B/A over {len(ratios)} cases: "
          f"{statistics.geometric_mean(ratios):.3f}")


if __name__ == "__main__":
    main()
