"""``python -m fastopt unittests``: run the optimization unit tests on fastopt's optimizers and
write the table, a JSON file and the colour grid."""
import argparse
import sys

from fastopt.unittests import report
from fastopt.unittests.algorithms import FAMILIES, configs
from fastopt.unittests.protocol import run
from fastopt.unittests.suite import full_suite, quick_suite


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m fastopt unittests",
        description="Unit tests for stochastic optimization (Schaul et al. 2014) on every "
                    "fastopt first-order optimizer, normalised against the best plain-SGD "
                    "learning rate.")
    ap.add_argument("--quick", action="store_true",
                    help="a cross-section of the suite, coarser grids, 5 repetitions (seconds)")
    ap.add_argument("--repetitions", type=int, default=None,
                    help="repetitions per problem (default 10; --quick: 5)")
    ap.add_argument("--steps", type=int, default=100, help="steps per run (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the noise streams")
    ap.add_argument("--families", default=None,
                    help="comma-separated optimizer families (sgd is always included); "
                         "default: all of " + ",".join(FAMILIES))
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    ap.add_argument("--png", default=None,
                    help="write the colour grid to this image file (needs matplotlib)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    reps = args.repetitions if args.repetitions is not None else (5 if args.quick else 10)
    if reps < 1 or args.steps < 1:
        ap.error("--repetitions and --steps must be >= 1")
    cfgs = configs(quick=args.quick)
    if args.families:
        wanted = {f for f in args.families.split(",") if f} | {"sgd"}
        unknown = wanted - set(FAMILIES)
        if unknown:
            ap.error(f"unknown families {sorted(unknown)}; known: {FAMILIES}")
        cfgs = [c for c in cfgs if c.family in wanted]
    if args.png:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            ap.error("--png needs matplotlib: pip install 'fastopt[plot]'")
    problems = quick_suite() if args.quick else full_suite()
    progress, bar = None, None
    if not args.no_progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=args.steps, desc=f"{len(problems)} problems x {len(cfgs)} "
                       f"configs x {reps} reps", unit="step", file=sys.stderr)
            progress = lambda t: bar.update(1)  # noqa: E731
        except ImportError:
            pass
    result = run(problems, cfgs, repetitions=reps, steps=args.steps, seed=args.seed,
                 progress=progress)
    if bar is not None:
        bar.close()
    print(report.table(result))
    if args.json:
        report.to_json(result, args.json)
        print(f"wrote {args.json}")
    if args.png:
        report.save_grid(result, args.png)
        print(f"wrote {args.png}")
    return 0
