"""``python -m fastopt bench``: time fastopt against its baselines and print a table.

Usage::

    python -m fastopt bench --quick                 # < 1 minute: a few algorithms, 2 sizes
    python -m fastopt bench                         # the full first-order suite, a few minutes
    python -m fastopt bench --suite all --json results.json --plot profile.png

The first-order suite times every implementation of each case interleaved (see
:mod:`fastopt.benchmarks.cases`) and prints, per case, the median time of one step, the
time relative to fastopt's ``Optimizer.step`` (``x fastopt``: 2.00 means twice as slow),
the effective bandwidth (the algorithm's own bytes over the median time) and the fraction
of the bandwidth bound measured in the same run.  Then the peak extra memory of a step, the
thread scaling at the largest size (full run or ``--threads``), and the speed targets.
Progress goes to stderr, the tables to stdout.  ``--suite second-order`` runs the
second-order suite of :mod:`fastopt.benchmarks.second_order`.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import fastopt
from fastopt.benchmarks import cases as C
from fastopt.benchmarks.memory import case_memory
from fastopt.benchmarks.targets import check

QUICK_ALGORITHMS = ["adam", "adamw", "sgd", "adagrad", "rmsprop", "nadam"]
QUICK_SIZES = ["1000", "1048576"]
FULL_SIZES = ["1000", "65536", "1048576", "33554432", "1000x1000"]
GPT2_ALGORITHMS = ["adam", "adamw"]
FLOAT64_ALGORITHMS, FLOAT64_SIZES = ["adam", "sgd"], ["1000", "1048576"]
SCALING_CASE = ("adam", "33554432", "float32")
SCALING_IMPLEMENTATIONS = ["fastopt", "bound", "torch.fused", "deepspeed"]


def _csv(kind, choices=None):
    def parse(text):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"empty list of {kind}")
        if choices is not None:
            bad = [t for t in items if t not in choices]
            if bad:
                raise argparse.ArgumentTypeError(
                    f"unknown {kind} {', '.join(bad)} (choose from {', '.join(choices)})")
        return items
    return parse


def _threads(text):
    try:
        items = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threads takes integers like 1,2; got {text!r}")
    if not items or min(items) < 1:
        raise argparse.ArgumentTypeError(f"--threads takes positive integers; got {text!r}")
    return items


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m fastopt bench",
        description="Benchmark fastopt's optimizers against the NumPy reference, PyTorch "
                    "(when installed), DeepSpeed's CPU Adam (when installed) and the "
                    "machine's bandwidth bound.")
    p.add_argument("--quick", action="store_true",
                   help="a short run (under a minute): "
                        f"{', '.join(QUICK_ALGORITHMS)} at {' and '.join(QUICK_SIZES)} float32 "
                        "elements")
    p.add_argument("--suite", choices=["first-order", "second-order", "inloop", "torch", "all"],
                   default="first-order",
                   help="which suite to run (default: first-order; inloop: the step inside "
                        "the user's loop, beside NumPy's BLAS, torch and another process; "
                        "torch: fastopt.torch against torch.optim; --quick runs the inloop "
                        "short part too)")
    p.add_argument("--json", metavar="FILE", help="also write every measured row to FILE")
    p.add_argument("--plot", metavar="FILE",
                   help="write the second-order suite's performance profile to FILE "
                        "(needs matplotlib and --suite second-order or all)")
    p.add_argument("--threads", type=_threads, metavar="N[,N...]",
                   help="thread counts of the thread-scaling table (Adam float32, "
                        "33,554,432 elements; default in a full run: 1 and all cores)")
    p.add_argument("--algorithms", type=_csv("algorithm", list(C.ALGORITHMS)),
                   metavar="A[,A...]", help=f"restrict to these ({', '.join(C.ALGORITHMS)})")
    p.add_argument("--sizes", type=_csv("size", list(C.SIZES)), metavar="S[,S...]",
                   help=f"restrict to these ({', '.join(C.SIZES)})")
    p.add_argument("--dtypes", type=_csv("dtype", ["float32", "float64"]), metavar="D[,D...]",
                   help="float32 and/or float64 (default: float32, plus float64 for "
                        f"{' and '.join(FLOAT64_ALGORITHMS)} in a full run)")
    p.add_argument("--implementations", type=_csv("implementation", list(C.IMPLEMENTATIONS)),
                   metavar="I[,I...]", help=f"restrict to these ({', '.join(C.IMPLEMENTATIONS)})"
                                            "; fastopt is always run")
    p.add_argument("--repeat", type=int, metavar="N",
                   help="repetitions per case (default: 15 quick, 21 full; fewer for the "
                        "largest cases)")
    p.add_argument("--format", choices=["text", "markdown"], default="text",
                   help="table format on stdout (default: text)")
    p.add_argument("--cold", action="store_true",
                   help="evict the CPU caches before every timed step (one step per sample), "
                        "so every step reads its arrays from memory, and pays the TLB misses "
                        "of a cold start too (in a VM these can dominate); default: "
                        "back-to-back steps, where arrays that fit in the caches stay there")
    p.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    return p


# --------------------------------------------------------------------------------- plan


def plan_cases(args):
    """The (algorithm, size, dtype) triples to run, in order."""
    if args.quick:
        algos, sizes, dtypes = QUICK_ALGORITHMS, QUICK_SIZES, ["float32"]
    else:
        algos, sizes, dtypes = list(C.ALGORITHMS), FULL_SIZES + ["gpt2-small"], None
    algos = args.algorithms or algos
    sizes = args.sizes or sizes
    out = []
    for dtype in (args.dtypes or ["float32", "float64"]):
        for size in sizes:
            for a in algos:
                if args.dtypes is None and dtype == "float64" and (
                        args.quick or a not in FLOAT64_ALGORITHMS or size not in FLOAT64_SIZES):
                    continue
                if (size == "gpt2-small" and args.algorithms is None and args.sizes is None
                        and a not in GPT2_ALGORITHMS):
                    continue
                out.append((a, size, dtype))
    return out


def _repeat(args, size):
    if args.repeat:
        return args.repeat
    elements = sum(int(np.prod(s)) for s in C.SIZES[size])
    if elements > 50_000_000:
        return 5
    if elements > 10_000_000:
        return 9
    return 15 if args.quick else 21


def _implementations(args):
    impls = args.implementations or list(C.IMPLEMENTATIONS)
    return ["fastopt"] + [i for i in impls if i != "fastopt"]


class Progress:
    """One updating status line on stderr (a plain line per step when not a terminal)."""

    def __init__(self, total, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()

    def __call__(self, *what):
        text = " ".join(str(w) for w in what)
        elapsed = time.perf_counter() - self.start
        count = f"{self.done}/{self.total} " if self.total else ""  # 0: total unknown
        line = f"[{count}{elapsed:5.0f}s] {text}"
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step(self, *what):
        self.done += 1
        self(*what)

    def close(self):
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(f"done in {time.perf_counter() - self.start:.0f}s\n")
        self.stream.flush()


def run_first_order(args, progress=None):
    """Run the first-order suite; returns (timing rows, memory rows, scaling rows)."""
    triples = plan_cases(args)
    impls = _implementations(args)
    scaling = args.threads if args.threads else (
        None if args.quick else sorted({1, os.cpu_count() or 1}))
    memory_cases = [] if args.no_memory else _memory_cases(triples, args.quick)
    total = len(triples) + len(memory_cases) + (len(scaling) if scaling else 0)
    progress = progress or Progress(total)
    progress.total = total
    threads = fastopt.get_num_threads()
    rows, mem_rows, scale_rows = [], [], []
    flush = C.CacheFlusher() if args.cold else None
    for a, size, dtype in triples:
        progress(f"timing {a} {size} {dtype}")
        case = C.build_case(a, size, dtype, impls)
        samples = C.time_interleaved(case.steps, repeat=_repeat(args, size),
                                     min_sample=2e-3 if args.quick else 5e-3,
                                     max_time=10 if args.quick else 40, flush=flush)
        rows += C.summarize(case, samples, threads)
        for r in rows[-len(samples) - len(case.skipped):]:
            r["cache"] = "cold" if args.cold else "warm"
        del case, samples
        progress.step(f"timed {a} {size} {dtype}")
    for a, size, dtype in memory_cases:
        progress(f"memory {a} {size} {dtype}")
        case = C.build_case(a, size, dtype, impls)
        mem_rows += case_memory(case)
        del case
        progress.step(f"memory {a} {size} {dtype}")
    if scaling:
        a, size, dtype = SCALING_CASE
        if args.sizes:
            size = max(args.sizes, key=lambda s: sum(int(np.prod(x)) for x in C.SIZES[s]))
        torch = _torch_module()
        torch_threads = torch.get_num_threads() if torch else None
        try:
            for t in scaling:
                progress(f"threads: {a} {size} {dtype}, {t} thread(s)")
                fastopt.set_num_threads(t)
                if torch:
                    torch.set_num_threads(t)
                case = C.build_case(a, size, dtype,
                                    [i for i in SCALING_IMPLEMENTATIONS if i in impls])
                samples = C.time_interleaved(case.steps, repeat=_repeat(args, size),
                                             min_sample=5e-3, max_time=30)
                for r in C.summarize(case, samples, t):
                    r["thread_scaling"] = True
                    scale_rows.append(r)
                del case, samples
                progress.step(f"threads {t}")
        finally:
            fastopt.set_num_threads(threads)
            if torch:
                torch.set_num_threads(torch_threads)
    progress.close()
    return rows, mem_rows, scale_rows


def _memory_cases(triples, quick):
    """Memory is measured at 1,048,576 float32 elements (else the smallest size run): every
    algorithm in a full run, Adam (or the first algorithm) in a quick one."""
    f32 = [t for t in triples if t[2] == "float32"] or triples
    if not f32:
        return []
    sizes = [t[1] for t in f32]
    size = "1048576" if "1048576" in sizes else min(
        sizes, key=lambda s: sum(int(np.prod(x)) for x in C.SIZES[s]))
    out = [t for t in f32 if t[1] == size]
    if quick:
        out = [t for t in out if t[0] == "adam"] or out[:1]
    return out


def _torch_module():
    try:
        import torch
        return torch
    except ImportError:
        return None


# ------------------------------------------------------------------------------- tables


def fmt_time(seconds):
    """A time with 3 significant digits: '1.93 us', '338 us', '12.3 ms', '1.52 s'."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-6:.3g} us"


def _size_label(row):
    if row["arrays"] == 1:
        return f"{row['elements']:,}"
    return f"{row['size']} ({row['arrays']} arrays, {row['elements']:,})"


def render(header, lines, fmt, align=None):
    """A table as fixed-width text or Markdown; ``align``: 'l'/'r' per column."""
    align = align or ["l"] * len(header)
    if fmt == "markdown":
        out = ["| " + " | ".join(header) + " |",
               "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
        out += ["| " + " | ".join(cells) + " |" for cells in lines if cells]
        return "\n".join(out)
    widths = [max([len(h)] + [len(c[i]) for c in lines if c]) for i, h in enumerate(header)]

    def row(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()
    out = [row(header), row(["-" * w for w in widths])]
    out += [row(c) if c else "" for c in lines]
    return "\n".join(out)


def timing_table(rows, fmt="text"):
    header = ["algorithm", "size", "dtype", "implementation", "median", "x fastopt", "GB/s",
              "of bound"]
    lines, prev = [], None
    for r in rows:
        key = (r["algorithm"], r["size"], r["dtype"], r.get("threads"))
        if prev is not None and key != prev and fmt == "text":
            lines.append(None)
        first = key != prev
        prev = key
        cells = [r["algorithm"] if first else "", _size_label(r) if first else "",
                 r["dtype"] if first else "", r["implementation"]]
        if "skipped" in r:
            continue
        cells += [fmt_time(r["median_s"]),
                  f"{r['vs_fastopt']:.2f}" if r.get("vs_fastopt") else "",
                  f"{r['gb_per_s']:.1f}",
                  f"{r['bound_fraction']:.0%}" if r.get("bound_fraction") else ""]
        lines.append(cells)
    return render(header, lines, fmt, ["l", "l", "l", "l", "r", "r", "r", "r"])


def scaling_table(rows, fmt="text"):
    header = ["threads", "implementation", "median", "GB/s", "of bound", "speed-up"]
    one = {r["implementation"]: r["median_s"] for r in rows
           if r.get("threads") == 1 and "median_s" in r}
    lines = []
    for r in rows:
        if "median_s" not in r:
            continue
        base = one.get(r["implementation"])
        lines.append([str(r["threads"]), r["implementation"], fmt_time(r["median_s"]),
                      f"{r['gb_per_s']:.1f}",
                      f"{r['bound_fraction']:.0%}" if r.get("bound_fraction") else "",
                      f"{base / r['median_s']:.2f}x" if base else ""])
    return render(header, lines, fmt, ["r", "l", "r", "r", "r", "r"])


def memory_table(rows, fmt="text"):
    header = ["algorithm", "size", "implementation", "traced peak", "= arrays", "RSS peak"]
    lines = []
    for r in rows:
        rss = r["rss_bytes"]
        lines.append([r["algorithm"], _size_label(r), r["implementation"],
                      _bytes(r["traced_bytes"]), f"{r['traced_arrays']:.2f}",
                      "n/a" if rss is None else _bytes(rss)])
    return render(header, lines, fmt, ["l", "l", "l", "r", "r", "r"])


def targets_table(results, fmt="text"):
    header = ["target", "measured", "met"]
    lines = [[t["target"], t["measured"],
              {True: "yes", False: "NO", None: "-"}[t["met"]]] for t in results]
    return render(header, lines, fmt, ["l", "l", "l"])


def _bytes(n):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def machine_info():
    """CPU model, cores, threads and versions, for the header and the JSON file."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "fastopt_threads": fastopt.get_num_threads(),
            "openmp": fastopt.openmp_enabled(), "python": platform.python_version(),
            "numpy": np.__version__, "fastopt": fastopt.__version__}
    torch = _torch_module()
    if torch:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    try:
        info["load_average"] = list(os.getloadavg())
    except OSError:
        pass
    return info


# --------------------------------------------------------------------------------- main


def main(argv=None):
    """Entry point of ``python -m fastopt bench``; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.plot and args.suite == "first-order":
        build_parser().error("--plot draws the second-order suite's performance profile; "
                             "use it with --suite second-order or --suite all")
    if args.repeat is not None and args.repeat < 1:
        build_parser().error("--repeat must be >= 1")
    info = machine_info()
    out = {"machine": info, "command": "python -m fastopt bench " + " ".join(
        sys.argv[2:] if argv is None else argv)}
    print(f"fastopt {info['fastopt']} on {info['cpu']} ({info['cores']} cores; fastopt "
          f"{info['fastopt_threads']} threads, OpenMP {'on' if info['openmp'] else 'off'}; "
          f"numpy {info['numpy']}"
          + (f"; torch {info['torch']}, {info['torch_threads']} threads" if "torch" in info
             else "; torch not installed") + ")")
    if args.suite in ("first-order", "all"):
        rows, mem, scale = run_first_order(args)
        print("\nFirst-order optimizers: median time of one step (x fastopt: time relative to "
              "fastopt's Optimizer.step;\nGB/s: the algorithm's own bytes moved per second; "
              "of bound: the STREAM-style bound's time / this time)\n")
        print(timing_table(rows, args.format))
        skipped = sorted({f"{r['implementation']}: {r['skipped']}" for r in rows
                          if "skipped" in r})
        if skipped:
            print("\nnot run: " + "; ".join(skipped))
        if mem:
            print("\nPeak extra memory of a steady-state step (traced: NumPy allocations; "
                  "= arrays: in units of one parameter array; RSS: all allocators)\n")
            print(memory_table(mem, args.format))
        if scale:
            a, size, dtype = SCALING_CASE
            print(f"\nThread scaling: {a} {dtype}, {scale[0]['elements']:,} elements\n")
            print(scaling_table(scale, args.format))
        results = check(rows + mem)
        print("\nTargets (measured in this run)\n")
        print(targets_table(results, args.format))
        out.update(first_order=rows, memory=mem, thread_scaling=scale, targets=results)
    if args.suite in ("second-order", "all"):
        from fastopt.benchmarks import second_order
        progress = Progress(0)
        rows2 = second_order.collect(args.quick, progress=progress)
        progress.close()
        print("\nSecond-order optimizers\n")
        print(second_order.format_table(rows2))
        out["second_order"] = rows2
        if args.plot:
            second_order.plot_profile(rows2, args.plot)
            print(f"\nperformance profile written to {args.plot}")
    if args.suite in ("inloop", "all") or (args.quick and args.suite == "first-order"):
        from fastopt.benchmarks import inloop
        progress = Progress(0)
        rows3 = inloop.collect(args.quick, progress=progress)
        progress.close()
        print("\nInside the user's loop (default thread settings; step inside loop: the loop "
              "iteration minus the gradient alone;\nstep timed in loop: the step right after "
              "the gradient)\n")
        print(inloop.format_table(rows3))
        results3 = inloop.check(rows3)
        print("\nIn-loop targets (measured in this run)\n")
        print(targets_table(results3, args.format))
        out.update(inloop=rows3, inloop_targets=results3)
    if args.suite == "torch":
        from fastopt.benchmarks import torch_suite
        rows4 = torch_suite.collect(args.quick)
        print("\nfastopt.torch against torch.optim (median, interleaved)\n")
        print(torch_suite.format_table(rows4))
        results4 = torch_suite.check(rows4)
        print("\nfastopt.torch targets (measured in this run)\n")
        print(targets_table(results4, args.format))
        out.update(torch=rows4, torch_targets=results4)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=_json_default)
        print(f"\nresults written to {args.json}", file=sys.stderr)
    return 0


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
