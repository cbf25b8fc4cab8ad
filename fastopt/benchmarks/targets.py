"""The speed targets of the first-order kernels, checked against the rows of one run.

Each target compares figures measured side by side in the same run (never absolute times
from elsewhere).  :func:`check` returns one dict per target: its text, the measured figure,
and ``met`` (True / False, or None when the run did not include the cases it needs, e.g. a
``--quick`` run or one without torch).

Example::

    >>> from fastopt.benchmarks.targets import check
    >>> [t["met"] for t in check([])][:2]
    [None, None]
"""


def _find(rows, algorithm, size, implementation, dtype="float32"):
    for r in rows:
        if (r.get("algorithm") == algorithm and r.get("size") == size
                and r.get("implementation") == implementation and r.get("dtype") == dtype
                and "median_s" in r and not r.get("thread_scaling")):
            return r
    return None


def _us(seconds):
    return f"{seconds * 1e6:,.0f} us" if seconds >= 1e-4 else f"{seconds * 1e6:.2f} us"


def _of_bound(rows, size, label, fraction):
    """fastopt's Adam step: at least ``fraction`` of the bandwidth bound's speed."""
    f, b = _find(rows, "adam", size, "fastopt"), _find(rows, "adam", size, "bound")
    text = f"Adam float32 {label}: >= {fraction:.0%} of the bound"
    if not (f and b):
        return {"target": text, "measured": "not measured", "met": None}
    frac = f.get("bound_fraction") or b["median_s"] / f["median_s"]
    return {"target": text, "measured": f"{frac:.0%} ({_us(f['median_s'])} vs bound "
            f"{_us(b['median_s'])})", "met": frac >= fraction}


def _vs_competitors(rows, size, label):
    """fastopt: >= 95% of the bound, and not slower than torch fused / DeepSpeed."""
    out = [_of_bound(rows, size, label, 0.95)]
    f = _find(rows, "adam", size, "fastopt")
    for other, name in (("torch.fused", "torch fused"), ("deepspeed", "DeepSpeed")):
        o = _find(rows, "adam", size, other)
        text = f"Adam float32 {label}: not slower than {name}"
        if f and o:
            ratio = o.get("vs_fastopt") or o["median_s"] / f["median_s"]
            out.append({"target": text, "measured": f"fastopt {ratio:.2f}x as fast "
                        f"({_us(f['median_s'])} vs {_us(o['median_s'])})",
                        "met": ratio >= 1.0})
        else:
            out.append({"target": text, "measured": "not measured", "met": None})
    return out


def check(rows):
    """Evaluate every target of the benchmark issue on the rows of one run."""
    out = []
    out += _vs_competitors(rows, "33554432", "33,554,432 elements")
    out += _vs_competitors(rows, "gpt2-small", "GPT-2 small (148 arrays)")

    out.append(_of_bound(rows, "1048576", "1,048,576 elements", 0.90))

    f = _find(rows, "adam", "1000", "fastopt")
    for other, name, factor in (("torch.fused", "torch fused", 20), ("numpy", "NumPy", 5)):
        o = _find(rows, "adam", "1000", other)
        text = f"Adam float32 1,000 elements, Optimizer.step: <= 1/{factor} of {name}"
        if f and o:
            ratio = o.get("vs_fastopt") or o["median_s"] / f["median_s"]
            out.append({"target": text, "measured": f"1/{ratio:.1f} "
                        f"({_us(f['median_s'])} vs {_us(o['median_s'])})",
                        "met": ratio >= factor})
        else:
            out.append({"target": text, "measured": "not measured", "met": None})

    many, one = _find(rows, "adam", "1000x1000", "fastopt"), _find(rows, "adam", "1048576",
                                                                   "fastopt")
    text = "Adam float32 1,000 x 1,000 elements: <= 1.5x one 1,048,576-element array"
    if many and one:
        ratio = many["median_s"] / one["median_s"]
        out.append({"target": text, "measured": f"{ratio:.2f}x ({_us(many['median_s'])} vs "
                    f"{_us(one['median_s'])})", "met": ratio <= 1.5})
    else:
        out.append({"target": text, "measured": "not measured", "met": None})

    bound = _find(rows, "adam", "1048576", "bound")
    algos = sorted({r["algorithm"] for r in rows if r.get("size") == "1048576"
                    and r.get("implementation") == "fastopt" and "median_s" in r
                    and r.get("dtype") == "float32"})
    text = ("Every algorithm, float32 1,048,576 elements: effective GB/s >= 85% of the Adam "
            "bound's")
    if bound and algos:
        worst, worst_frac, met = None, None, True
        for a in algos:
            frac = _find(rows, a, "1048576", "fastopt")["gb_per_s"] / bound["gb_per_s"]
            if worst_frac is None or frac < worst_frac:
                worst, worst_frac = a, frac
            met = met and frac >= 0.85
        out.append({"target": text, "measured": f"lowest: {worst} {worst_frac:.0%} of "
                    f"{bound['gb_per_s']:.1f} GB/s ({len(algos)} algorithms)", "met": met})
    else:
        out.append({"target": text, "measured": "not measured", "met": None})

    mem = [r for r in rows if r.get("implementation") == "fastopt" and "traced_bytes" in r]
    text = "No array allocation per step (fastopt Optimizer.step)"
    if mem:
        worst = max(mem, key=lambda r: r["traced_arrays"])
        out.append({"target": text, "measured": f"max {worst['traced_bytes']} B traced "
                    f"({worst['traced_arrays']:.2f} arrays) over {len(mem)} cases",
                    "met": all(r["traced_bytes"] < min(4096, r["largest_array_bytes"])
                               for r in mem)})
    else:
        out.append({"target": text, "measured": "not measured", "met": None})
    return out
