"""``python -m fastopt <command>``.  Commands: ``bench``, ``unittests``, ``plot``, ``learn``
(see ``python -m fastopt <command> -h``)."""
import sys

USAGE = """usage: python -m fastopt <command> [options]

commands:
  bench    benchmark fastopt against NumPy, PyTorch and the bandwidth bound
           (python -m fastopt bench --quick; python -m fastopt bench -h for its options)
  unittests  the unit tests for stochastic optimization (Schaul et al. 2014) on every
           optimizer (python -m fastopt unittests --quick)
  plot     optimizer paths over a 2-D function's contours, PNG or GIF (needs matplotlib)
           (python -m fastopt plot --function beale --out beale.png)
  learn    a learned LSTM optimizer (Andrychowicz et al. 2016) vs fastopt's, on quadratics
           (python -m fastopt learn compare; python -m fastopt learn train needs torch)
"""


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "bench":
        from fastopt.benchmarks.cli import main as bench
        return bench(rest)
    if command == "unittests":
        from fastopt.unittests.cli import main as unittests
        return unittests(rest)
    if command == "plot":
        from fastopt.plot import main as plot
        return plot(rest)
    if command == "learn":
        from fastopt.learned.cli import main as learn
        return learn(rest)
    sys.stderr.write(USAGE + f"\nerror: unknown command {command!r}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
