"""Second-order suite: fastopt's L-BFGS, Newton, Hessian-free and nonlinear CG against
SciPy (L-BFGS-B, BFGS, CG, Newton-CG, trust-krylov) on the problem bank.

``collect(quick)`` runs every (problem, method, implementation) once and returns one row
each: ``problem, n, method, implementation ('fastopt' | 'scipy'), success (as reported),
solved (reached a known minimum, :meth:`fastopt.problems.Problem.solved`), fun, nit, nfev,
njev, nhev, grad_norm (max |g_i| at the end), wall_s, overhead_s`` -- the wall time minus
the time spent inside the problem's own function, gradient, Hessian and Hessian-vector
calls, timed by the same wrapper for both implementations.  ``quick`` keeps to the MGH set
and n = 1000 (seconds); the full run adds BFGS and trust-krylov at n = 1000, n = 10^4 and
10^5 (every solver stopped after ``LARGE_MAXITER`` iterations there), and the per-iteration
overhead of L-BFGS at n = 10^5, m = 10 on the chained Rosenbrock function (rows with
``method="lbfgs-overhead"``; ``wall_s``/``overhead_s`` are then per iteration, medians of
interleaved repeats).

``format_table(rows)`` renders them, ``plot_profile(rows, path)`` writes the Dolan–Moré
performance profile (fraction of problems solved within a factor tau of the best
evaluation count) as a PNG.  SciPy and matplotlib are imported only when used; without
SciPy only fastopt rows are produced.
"""
import math
import statistics
import time
import warnings

import numpy as np

__all__ = ["collect", "format_table", "plot_profile", "lbfgs_overhead", "hf_vs_newton_cg",
           "format_hf_vs_newton_cg"]

FASTOPT_METHODS = ("lbfgs", "newton", "hessian-free", "cg")
SCIPY_METHODS = ("L-BFGS-B", "BFGS", "CG", "Newton-CG", "trust-krylov")
NEWTON_MAX_N = 1000          # dense Hessians only up to here
# From n = 10^4 on every solver, fastopt's and SciPy's, stops after this many iterations
# (their defaults, 200 n or more, let Hessian-free crawl along the chained Rosenbrock
# valley at n = 10^5: 3000 iterations take 21 s there, 2 * 10^7 would take days); such
# rows are unsolved, on both sides alike.
LARGE_N, LARGE_MAXITER = 10_000, 3000


class _Timed:
    """The problem's callables, with the time spent in them added up."""

    def __init__(self, p):
        self.p, self.user = p, 0.0

    def _wrap(self, f):
        def g(*a):
            t = time.perf_counter()
            try:
                return f(*a)
            finally:
                self.user += time.perf_counter() - t
        return g

    def callables(self):
        p = self.p
        return (self._wrap(p.fun_grad), self._wrap(p.hess), self._wrap(p.hessp))


def _run_one(p, impl, method, dtype=np.float64):
    import fastopt
    t = _Timed(p)
    fg, hess, hessp = t.callables()
    x0 = p.x0.astype(dtype)
    options = {"maxiter": LARGE_MAXITER} if p.n >= LARGE_N else None
    use_hess = method in ("newton",)
    use_hessp = method in ("hessian-free", "Newton-CG", "trust-krylov")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        if impl == "fastopt":
            r = fastopt.minimize(fg, x0, jac=True, method=method,
                                 hess=hess if use_hess else None,
                                 hessp=hessp if use_hessp else None, options=options)
        else:
            from scipy.optimize import minimize
            r = minimize(fg, x0, jac=True, method=method, hessp=hessp if use_hessp else None,
                         options=options)
        wall = time.perf_counter() - t0
    g = p.grad(np.asarray(r.x, dtype=np.float64))
    return dict(problem=p.name, n=p.n, method=method, implementation=impl,
                success=bool(r.success), solved=bool(p.solved(float(r.fun))),
                fun=float(r.fun), nit=int(getattr(r, "nit", 0) or 0), nfev=int(r.nfev),
                njev=int(getattr(r, "njev", 0) or 0), nhev=int(getattr(r, "nhev", 0) or 0),
                grad_norm=float(np.max(np.abs(g))), wall_s=wall, overhead_s=wall - t.user,
                message=str(r.message)[:80])


def _have_scipy():
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        return False
    return True


def _cases(quick):
    from fastopt import problems
    cases = [(p, FASTOPT_METHODS, SCIPY_METHODS) for p in problems.mgh_problems()]
    sizes = (1000,) if quick else (1000, 10_000, 100_000)
    for n in sizes:
        for p in problems.scalable_problems(n):
            fm = tuple(m for m in FASTOPT_METHODS if m != "newton" or n <= NEWTON_MAX_N)
            sm = ("L-BFGS-B", "CG", "Newton-CG") + (("BFGS", "trust-krylov") if n <= 1000 else ())
            if quick:
                fm = tuple(m for m in fm if m != "newton")
                sm = tuple(m for m in sm if m not in ("BFGS", "trust-krylov"))
            cases.append((p, fm, sm))
    return cases


def collect(quick=False, progress=None):
    """Run the suite; one dict per (problem, method, implementation) (see module doc)."""
    rows = []
    scipy_ok = _have_scipy()
    for p, fm, sm in _cases(quick):
        runs = [("fastopt", m) for m in fm] + ([("scipy", m) for m in sm] if scipy_ok else [])
        for impl, m in runs:
            if progress is not None:
                progress(f"{p.name} n={p.n} {impl} {m}")
            try:
                rows.append(_run_one(p, impl, m))
            except Exception as e:               # a solver crashing is a result too
                rows.append(dict(problem=p.name, n=p.n, method=m, implementation=impl,
                                 success=False, solved=False, fun=math.nan, nit=0, nfev=0,
                                 njev=0, nhev=0, grad_norm=math.nan, wall_s=math.nan,
                                 overhead_s=math.nan, message=f"error: {e}"[:80]))
    if not quick:
        if progress is not None:
            progress("L-BFGS per-iteration overhead at n = 100000, m = 10")
        rows.extend(lbfgs_overhead(100_000, 10, scipy_ok=scipy_ok))
    return rows


def lbfgs_overhead(n=100_000, m=10, iters=60, repeats=5, scipy_ok=True):
    """Per-iteration optimizer overhead (wall minus user time, divided by iterations) of
    fastopt L-BFGS and SciPy L-BFGS-B on the chained Rosenbrock function, ``maxiter=iters``,
    ``repeats`` interleaved runs each; medians.  Rows with ``method="lbfgs-overhead"``."""
    from fastopt import problems
    import fastopt
    p = problems.ChainedRosenbrock(n)
    per = {"fastopt": [], "scipy": []}
    last = {}
    for _ in range(repeats):
        for impl in ("fastopt", "scipy") if scipy_ok else ("fastopt",):
            t = _Timed(p)
            fg = t.callables()[0]
            t0 = time.perf_counter()
            if impl == "fastopt":
                r = fastopt.minimize(fg, p.x0, jac=True, method="lbfgs",
                                     options=dict(maxcor=m, maxiter=iters, gtol=0, ftol=0))
            else:
                from scipy.optimize import minimize
                r = minimize(fg, p.x0, jac=True, method="L-BFGS-B",
                             options=dict(maxcor=m, maxiter=iters, gtol=0, ftol=0))
            wall = time.perf_counter() - t0
            per[impl].append(((wall - t.user) / max(r.nit, 1), wall / max(r.nit, 1)))
            last[impl] = r
    rows = []
    for impl, vals in per.items():
        if not vals:
            continue
        r = last[impl]
        rows.append(dict(problem=p.name, n=n, method="lbfgs-overhead", implementation=impl,
                         success=True, solved=False, fun=float(r.fun), nit=int(r.nit),
                         nfev=int(r.nfev), njev=int(r.njev), nhev=0,
                         grad_norm=float(np.max(np.abs(p.grad(r.x)))),
                         wall_s=statistics.median(v[1] for v in vals),
                         overhead_s=statistics.median(v[0] for v in vals),
                         message=f"per iteration, median of {repeats}, m={m}"))
    return rows


def hf_vs_newton_cg(sizes=(1000, 10_000), problems_=None):
    """Hessian-free against SciPy's Newton-CG at a matched final gradient norm: SciPy's
    Newton-CG runs with its defaults; fastopt's Hessian-free then runs with ``gtol`` set to
    the max |g_i| Newton-CG ended with.  One dict per problem: ``problem, n, gtol,
    hf_evals, ncg_evals`` (gradients + Hessian-vector products, ``njev + nhev``),
    ``hf_nit, ncg_nit, hf_fun, ncg_fun, hf_ok, ncg_ok`` (reported success)."""
    from scipy.optimize import minimize
    from fastopt import problems
    import fastopt
    rows = []
    for n in sizes:
        for p in (problems_ or problems.scalable_problems)(n):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = minimize(p.fun_grad, p.x0, jac=True, method="Newton-CG", hessp=p.hessp)
                gtol = float(np.max(np.abs(p.grad(r.x))))
                h = fastopt.minimize(p.fun_grad, p.x0, jac=True, method="hessian-free",
                                     hessp=p.hessp, options={"gtol": gtol})
            rows.append(dict(problem=p.name, n=p.n, gtol=gtol, hf_evals=h.njev + h.nhev,
                             ncg_evals=int(r.njev + r.nhev), hf_nit=h.nit, ncg_nit=int(r.nit),
                             hf_fun=float(h.fun), ncg_fun=float(r.fun), hf_ok=bool(h.success),
                             ncg_ok=bool(r.success)))
    return rows


def format_hf_vs_newton_cg(rows):
    """The rows of :func:`hf_vs_newton_cg` as a text table."""
    lines = [f"{'problem':24s} {'n':>6s} {'gtol':>8s} {'HF':>7s} {'Newton-CG':>9s} "
             f"{'HF nit':>6s} {'NCG nit':>7s} {'HF f':>10s} {'NCG f':>10s}"]
    for r in rows:
        lines.append(f"{r['problem'][:24]:24s} {r['n']:6d} {r['gtol']:8.1e} {r['hf_evals']:7d} "
                     f"{r['ncg_evals']:9d} {r['hf_nit']:6d} {r['ncg_nit']:7d} "
                     f"{r['hf_fun']:10.3e} {r['ncg_fun']:10.3e}")
    return "\n".join(lines)


def _evals(row):
    """Total evaluations of a row: function + gradient + Hessian(-vector) calls, counting a
    combined (f, g) call once."""
    return max(row["nfev"], row["njev"]) + row["nhev"]


def format_table(rows):
    """A plain-text table of the rows, grouped by problem, then summaries: problems
    solved per method, and L-BFGS vs L-BFGS-B evaluations on the problems both solve."""
    head = (f"{'problem':28s} {'n':>7s} {'impl':7s} {'method':13s} {'ok':>3s} {'nit':>6s} "
            f"{'nfev':>6s} {'njev':>6s} {'nhev':>6s} {'|g|inf':>9s} {'f':>11s} "
            f"{'wall ms':>9s} {'ovh ms':>9s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        ok = "yes" if r.get("solved") else ("s" if r["success"] else "no")
        lines.append(
            f"{r['problem'][:28]:28s} {r['n']:7d} {r['implementation']:7s} "
            f"{r['method'][:13]:13s} {ok:>3s} {r['nit']:6d} {r['nfev']:6d} {r['njev']:6d} "
            f"{r['nhev']:6d} {r['grad_norm']:9.2e} {r['fun']:11.4e} "
            f"{1e3 * r['wall_s']:9.2f} {1e3 * r['overhead_s']:9.3f}")
    lines.append("")
    lines.append("ok: yes = reached a known minimum, s = reported success elsewhere, no = failed")
    probs = [r for r in rows if r["method"] != "lbfgs-overhead"]
    meths = sorted({(r["implementation"], r["method"]) for r in probs})
    for impl, m in meths:
        sel = [r for r in probs if r["implementation"] == impl and r["method"] == m]
        lines.append(f"{impl:7s} {m:13s} solved {sum(r['solved'] for r in sel):3d} / {len(sel)}")
    s = lbfgs_summary(rows)
    if s:
        lines.append(
            f"L-BFGS vs L-BFGS-B on the {s['both']} problems both solve: evaluations "
            f"{s['fastopt_evals']} vs {s['scipy_evals']} (ratio {s['ratio']:.3f}); "
            f"solved only by fastopt: {', '.join(s['only_fastopt']) or '-'}; "
            f"only by L-BFGS-B or BFGS: {', '.join(s['only_scipy']) or '-'}")
    h = hf_summary(rows)
    if h:
        for k, a, b in h["per_problem"]:
            lines.append(f"Hessian-free vs Newton-CG, {k[0]} n={k[1]}: gradients + Hessian-vector "
                         f"products {a} vs {b}")
        lines.append(f"Hessian-free vs Newton-CG on the scalable problems: gradients + products "
                     f"{h['fastopt']} vs {h['scipy']}; Newton-CG converged and Hessian-free did "
                     f"not: {', '.join(h['missed']) or '-'}")
    ov = {r["implementation"]: r for r in rows if r["method"] == "lbfgs-overhead"}
    if len(ov) == 2:
        a, b = ov["fastopt"]["overhead_s"], ov["scipy"]["overhead_s"]
        lines.append(f"L-BFGS overhead per iteration, n={ov['fastopt']['n']}, m=10: fastopt "
                     f"{1e3 * a:.3f} ms, SciPy L-BFGS-B {1e3 * b:.3f} ms (1/{b / a:.1f})")
    return "\n".join(lines)


def lbfgs_summary(rows):
    """L-BFGS against L-BFGS-B/BFGS: problems solved by each and total evaluations
    (``max(nfev, njev)``) on the problems fastopt L-BFGS and L-BFGS-B both solve."""
    key = lambda r: (r["problem"], r["n"])
    fo = {key(r): r for r in rows if r["implementation"] == "fastopt" and r["method"] == "lbfgs"}
    lb = {key(r): r for r in rows if r["implementation"] == "scipy" and r["method"] == "L-BFGS-B"}
    bf = {key(r): r for r in rows if r["implementation"] == "scipy" and r["method"] == "BFGS"}
    if not fo or not lb:
        return None
    both = [k for k in fo if k in lb and fo[k]["solved"] and lb[k]["solved"]]
    only_scipy = [f"{k[0]}({k[1]})" for k in fo if not fo[k]["solved"] and (
        (k in lb and lb[k]["solved"]) or (k in bf and bf[k]["solved"]))]
    only_fo = [f"{k[0]}({k[1]})" for k in fo if fo[k]["solved"] and k in lb and not
               lb[k]["solved"]]
    a = sum(_evals(fo[k]) for k in both)
    b = sum(_evals(lb[k]) for k in both)
    return dict(both=len(both), fastopt_evals=a, scipy_evals=b, ratio=a / b if b else math.nan,
                only_fastopt=only_fo, only_scipy=only_scipy)


def hf_summary(rows):
    """Hessian-free against SciPy's Newton-CG on the scalable problems (n >= 1000):
    gradient + Hessian-vector evaluations (``njev + nhev``) per problem and in total."""
    key = lambda r: (r["problem"], r["n"])
    hf = {key(r): r for r in rows if r["implementation"] == "fastopt"
          and r["method"] == "hessian-free" and r["n"] >= 1000}
    ncg = {key(r): r for r in rows if r["implementation"] == "scipy"
           and r["method"] == "Newton-CG" and r["n"] >= 1000}
    ks = [k for k in hf if k in ncg]
    if not ks:
        return None
    per = [(k, hf[k]["njev"] + hf[k]["nhev"], ncg[k]["njev"] + ncg[k]["nhev"]) for k in ks]
    missed = [f"{k[0]}({k[1]})" for k in ks if ncg[k]["solved"] and not hf[k]["solved"]]
    return dict(per_problem=per, fastopt=sum(a for _, a, _ in per),
                scipy=sum(b for _, _, b in per), missed=missed)


def plot_profile(rows, path):
    """Dolan–Moré performance profile of total evaluations: for each solver (implementation
    + method), the fraction of problems it solves within a factor tau of the fewest
    evaluations any solver needed on that problem.  Writes a PNG to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    probs = [r for r in rows if r["method"] != "lbfgs-overhead"]
    solvers = sorted({(r["implementation"], r["method"]) for r in probs})
    keys = sorted({(r["problem"], r["n"]) for r in probs})
    cost = {}
    for r in probs:
        cost[(r["implementation"], r["method"], r["problem"], r["n"])] = (
            _evals(r) if r["solved"] else math.inf)
    ratios = {s: [] for s in solvers}
    for k in keys:
        ran = [s for s in solvers if (s[0], s[1]) + k in cost]
        best = min(cost[s + k] for s in ran)
        for s in ran:
            c = cost[s + k]
            ratios[s].append(c / best if math.isfinite(best) and best > 0 else math.inf)
    fig, ax = plt.subplots(figsize=(8, 5))
    taus = np.logspace(0, 2, 200)
    for s in solvers:
        rs = np.array(ratios[s])
        if rs.size == 0:
            continue
        frac = [(rs <= t).mean() for t in taus]
        ax.step(taus, frac, where="post", label=f"{s[0]} {s[1]}",
                linestyle="-" if s[0] == "fastopt" else "--")
    ax.set_xscale("log")
    ax.set_xlabel("tau (evaluations / fewest evaluations on the problem)")
    ax.set_ylabel("fraction of problems solved")
    ax.set_title("Performance profile (Dolan & Moré), problem bank")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
