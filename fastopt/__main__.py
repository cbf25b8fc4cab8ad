"""``python -m fastopt <command>``.  Commands: ``bench`` (see ``python -m fastopt bench -h``)."""
import sys

USAGE = """usage: python -m fastopt <command> [options]

commands:
  bench    benchmark fastopt against NumPy, PyTorch and the bandwidth bound
           (python -m fastopt bench --quick; python -m fastopt bench -h for its options)
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
    sys.stderr.write(USAGE + f"\nerror: unknown command {command!r}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
