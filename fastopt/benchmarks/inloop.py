"""Fast inside the user's own loop: the step between the user's gradient computations.

``python -m fastopt bench --suite inloop`` times, with DEFAULT thread settings (nothing
set by the benchmark), what a training or solver loop sees when NumPy's BLAS, torch or
another process shares the cores with fastopt (issue 13's cases):

1. ``matmul``: a NumPy BLAS product (256 x 256, float32; the user's gradient) and then one
   Adam step: fastopt (also ``fastopt.1thread``: the loop on one fastopt thread), the NumPy
   reference (``fastopt.reference.adam_``), a hand-written in-place NumPy Adam, torch's
   fused Adam and DeepSpeed's CPU Adam when installed; at 1,048,576 and 33,554,432
   elements and the GPT-2-small parameter list.  Also ``mlp``: a whole NumPy MLP training
   iteration (512-2048-10, batch 64, 1,071,114 parameters; forward and backward by NumPy
   matrix products) with fastopt, fastopt on 1 thread, the reference and in-place NumPy.
2. ``torch-mlp``: a torch MLP (512-2048-10, batch 64) forward and backward, then the step:
   fastopt on the tensors' memory against torch's fused Adam.
3. ``lbfgs``: L-BFGS at n = 100,000 on a NumPy objective that uses BLAS (chained
   Rosenbrock with dot products; ``+lsq`` adds a dense 200 x 100,000 least-squares term)
   against SciPy's L-BFGS-B, in subprocesses with default BLAS threads and with
   ``OPENBLAS_NUM_THREADS=1``: the solver's own time per iteration (total time minus the
   time in the objective, over the iterations).
4. ``two-procs``: two processes stepping Adam (1,048,576 float32) at the same time, as two
   data-parallel ranks would, against one process alone on 1 and on 2 threads.

In cases 1 and 2 every iteration is timed in two parts, the gradient and the step right
after it.  The columns: "loop", the median iteration; "gradient alone", the median of
gradients computed back to back (the same model's, in a block right before each block of
loop iterations); **"step inside loop" = loop - gradient alone**, what the
step adds to the user's loop, including what it costs the next gradient (the BLAS
threads it may have displaced); "step timed in loop", the median of the step part alone;
"step alone", back-to-back steps; "alone, 1 thread" and "alone, 2 threads", fastopt's
back-to-back step with ``fastopt.set_num_threads(1)`` and ``(2)``.  Each fastopt row ends
with the target ratio, step inside loop over the isolated 1-thread step (issue 13: at most
:data:`VS_ONE_THREAD`), met or not; :func:`check` lists every target with its figure.
Implementations run round-robin, a block of iterations each, so load from the rest of the
machine hits them alike.

``--quick`` runs every case, short (:func:`collect`).

Example (a tiny run of case 1)::

    >>> from fastopt.benchmarks import inloop
    >>> rows = inloop.matmul_case("1048576", ["fastopt", "numpy"], rounds=1, block=2)
    >>> sorted(r["implementation"] for r in rows)
    ['fastopt', 'numpy']
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

import fastopt
from fastopt import reference
from fastopt.benchmarks import cases as C

ADAM = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
MATMUL_N = 256
MLP = (512, 2048, 10)
BATCH = 64
INLOOP_IMPLEMENTATIONS = ("fastopt", "fastopt.1thread", "numpy", "numpy.inplace",
                          "torch.fused", "deepspeed")
#: implementations that are fastopt with a fixed fastopt thread count in the loop
THREADS = {"fastopt.1thread": 1}
#: issue 13: fastopt's step inside the loop at most this many times its isolated 1-thread step
VS_ONE_THREAD = 1.2

# ----------------------------------------------------------------------------- steps


class InplaceNumpyAdam:
    """Adam written as a NumPy user would, in place (no temporaries beyond one buffer)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, betas[0], betas[1], eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        c1 = 1 - self.b1 ** self.t
        c2 = 1 - self.b2 ** self.t
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - self.b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= np.sqrt(c2)
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= self.lr / c1
            p -= tmp


def adam_steppers(params, names):
    """name -> step(grads) for each Adam implementation that can run here; and the
    reasons for the others."""
    steps, skipped = {}, {}
    for name in names:
        if name in ("fastopt", "fastopt.1thread"):
            opt = fastopt.Adam(params, **ADAM)
            steps[name] = opt.step
        elif name == "numpy":
            state = {"m": [np.zeros_like(p) for p in params],
                     "v": [np.zeros_like(p) for p in params], "t": 0}

            def step(grads, state=state):
                state["t"] += 1
                reference.adam_(params, grads, state["m"], state["v"], step=state["t"],
                                lr=ADAM["lr"], beta1=ADAM["betas"][0],
                                beta2=ADAM["betas"][1], eps=ADAM["eps"])
            steps[name] = step
        elif name == "numpy.inplace":
            steps[name] = InplaceNumpyAdam(params, **ADAM).step
        elif name in ("torch.fused", "deepspeed"):
            try:
                steps[name] = _torch_adam(params, fused=name == "torch.fused")
            except C.Unsupported as e:
                skipped[name] = str(e)
        else:
            raise ValueError(f"unknown implementation {name!r}")
    return steps, skipped


def _torch_adam(params, fused):
    try:
        import torch
    except ImportError:
        raise C.Unsupported("torch is not installed") from None
    tensors = [torch.from_numpy(p) for p in params]
    for t in tensors:
        t.grad = torch.zeros_like(t)
    if fused:
        opt = torch.optim.Adam(tensors, fused=True, **ADAM)
    else:
        try:
            os.environ.setdefault("DS_ACCELERATOR", "cpu")
            from deepspeed.ops.adam import DeepSpeedCPUAdam
        except Exception as e:
            raise C.Unsupported(f"deepspeed is not available ({type(e).__name__})") from None
        opt = DeepSpeedCPUAdam(tensors, adamw_mode=False, **ADAM)

    def step(grads):
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g)
        opt.step()
    return step


# --------------------------------------------------------------------------- timing


def _times(fn, block):
    """``block`` calls of ``fn()``; the time of each."""
    out = []
    clock = time.perf_counter
    for _ in range(block):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def _timed_loop(gradient, step, block):
    """``block`` iterations of gradient-then-step; the times of each part."""
    tg, ts = [], []
    clock = time.perf_counter
    for _ in range(block):
        t0 = clock()
        grads = gradient()
        t1 = clock()
        step(grads)
        t2 = clock()
        tg.append(t1 - t0)
        ts.append(t2 - t1)
    return tg, ts


class _Threads:
    """``with _Threads(n):`` runs the block with ``fastopt.set_num_threads(n)`` (None: as
    set), and restores the count after it."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.before = fastopt.get_num_threads()
        if self.n is not None:
            fastopt.set_num_threads(self.n)

    def __exit__(self, *exc):
        fastopt.set_num_threads(self.before)


def _interleave(names, gradient_of, steps, grads_of, rounds, block):
    """Round-robin over the implementations, ``block`` iterations each per round; per
    implementation the lists of times: its gradient alone, the two parts of each loop
    iteration, and the step alone (back to back).  fastopt's step alone is also timed on 1 and on 2 threads; an
    implementation in :data:`THREADS` runs its loop on that many fastopt threads."""
    res = {n: {"grad": [], "step": [], "loop": [], "grad_alone": [], "alone": [],
               "alone_1t": [], "alone_2t": []} for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            step, grads = steps[n], grads_of[n]
            with _Threads(THREADS.get(n)):
                # the gradient alone right before the loop block: the same model, and the
                # same moment's load on the machine
                res[n]["grad_alone"] += _times(gradient_of[n], block)
                tg, ts = _timed_loop(gradient_of[n], step, block)
                res[n]["grad"] += tg
                res[n]["step"] += ts
                res[n]["loop"] += [a + b for a, b in zip(tg, ts)]
                if n in THREADS:             # its step alone is fastopt's on 1 thread
                    continue
                res[n]["alone"] += _times(lambda: step(grads), block)
            if n == "fastopt":
                for key, t in (("alone_1t", 1), ("alone_2t", 2)):
                    with _Threads(t):
                        res[n][key] += _times(lambda: step(grads), block)
    return res


def _median(xs):
    return float(np.median(xs)) if xs else None


def _rows(case, size, elements, res):
    """One row per implementation; ``step_inside_loop_s`` is the loop iteration minus the
    gradient alone (what the step adds to the user's loop, including what it costs the
    next gradient)."""
    rows = []
    for n, t in res.items():
        row = {"case": case, "size": size, "elements": elements, "implementation": n,
               "loop_s": _median(t["loop"]), "gradient_alone_s": _median(t["grad_alone"]),
               "step_in_loop_s": _median(t["step"]),
               "gradient_in_loop_s": _median(t["grad"])}
        row["step_inside_loop_s"] = row["loop_s"] - row["gradient_alone_s"]
        for key, name in (("alone", "step_alone_s"), ("alone_1t", "step_alone_1_thread_s"),
                          ("alone_2t", "step_alone_2_threads_s")):
            if t.get(key):
                row[name] = _median(t[key])
        rows.append(row)
    _ratios(rows)
    return rows


def _ratios(rows):
    """Each fastopt row gets the target ratio: its step inside the loop over fastopt's
    isolated 1-thread step, met when <= :data:`VS_ONE_THREAD`."""
    one = next((r.get("step_alone_1_thread_s") for r in rows
                if r["implementation"] == "fastopt"), None)
    for r in rows:
        if one and r["implementation"].startswith("fastopt") and "step_inside_loop_s" in r:
            r["vs_1_thread"] = r["step_inside_loop_s"] / one
            r["met"] = r["vs_1_thread"] <= VS_ONE_THREAD


def _skipped(case, size, skipped):
    return [{"case": case, "size": size, "implementation": n, "skipped": why}
            for n, why in skipped.items()]


# ---------------------------------------------------------------------------- cases


def matmul_case(size, implementations=INLOOP_IMPLEMENTATIONS, rounds=7, block=20):
    """Case 1: a 256 x 256 float32 NumPy matmul (the gradient), then one Adam step."""
    params, grads = C._arrays(C.SIZES[size], np.float32, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    a = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    out = np.empty_like(a)

    def gradient():
        np.matmul(a, a, out=out)
        return grads

    steps, skipped = adam_steppers(params, implementations)
    names = [n for n in implementations if n in steps]
    for n in names:
        steps[n](grads)  # state exists
    big = sum(p.size for p in params) > 10_000_000
    res = _interleave(names, dict.fromkeys(names, gradient), steps, dict.fromkeys(names, grads),
                      rounds, max(2, block // 4) if big else block)
    return (_rows("matmul", size, sum(p.size for p in params), res)
            + _skipped("matmul", size, skipped))


class NumpyMLP:
    """A 512-2048-10 ReLU MLP with a softmax cross-entropy loss, forward and backward in
    NumPy float32 (matrix products on NumPy's BLAS)."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        d0, d1, d2 = MLP
        self.params = [
            (rng.standard_normal((d0, d1), dtype=np.float32) / np.sqrt(d0)).astype(np.float32),
            np.zeros(d1, np.float32),
            (rng.standard_normal((d1, d2), dtype=np.float32) / np.sqrt(d1)).astype(np.float32),
            np.zeros(d2, np.float32)]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.x = rng.standard_normal((BATCH, d0), dtype=np.float32)
        self.y = rng.integers(0, d2, BATCH)

    def gradient(self):
        W1, b1, W2, b2 = self.params
        gW1, gb1, gW2, gb2 = self.grads
        h = self.x @ W1
        h += b1
        np.maximum(h, 0, out=h)
        z = h @ W2
        z += b2
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        z[np.arange(BATCH), self.y] -= 1
        z /= BATCH
        np.matmul(h.T, z, out=gW2)
        np.sum(z, axis=0, out=gb2)
        dh = z @ W2.T
        dh *= h > 0
        np.matmul(self.x.T, dh, out=gW1)
        np.sum(dh, axis=0, out=gb1)
        return self.grads


MLP_IMPLEMENTATIONS = ("fastopt", "fastopt.1thread", "numpy", "numpy.inplace")


def mlp_case(implementations=MLP_IMPLEMENTATIONS, rounds=7, block=20):
    """Case 1b: a whole NumPy MLP training iteration (forward, backward, Adam step), one
    model per implementation."""
    models, steps, skipped = {}, {}, {}
    for n in implementations:
        model = NumpyMLP()
        s, sk = adam_steppers(model.params, [n])
        if n in s:
            models[n], steps[n] = model, s[n]
            s[n](model.gradient())
        skipped.update(sk)
    names = list(steps)
    res = _interleave(names, {n: m.gradient for n, m in models.items()}, steps,
                      {n: m.grads for n, m in models.items()}, rounds, block)
    return (_rows("mlp", "512-2048-10", sum(p.size for p in models[names[0]].params), res)
            + _skipped("mlp", "512-2048-10", skipped))


def torch_mlp_case(rounds=7, block=20):
    """Case 2: a torch MLP's forward and backward, then the step (fastopt on the tensors'
    memory, or torch's fused Adam)."""
    try:
        import torch
    except ImportError:
        return _skipped("torch-mlp", "512-2048-10", {"all": "torch is not installed"})
    torch.manual_seed(0)
    d0, d1, d2 = MLP
    x = torch.randn(BATCH, d0)
    y = torch.randint(0, d2, (BATCH,))
    gradients, steps = {}, {}
    for n in ("fastopt", "torch.fused"):
        model = torch.nn.Sequential(torch.nn.Linear(d0, d1), torch.nn.ReLU(),
                                    torch.nn.Linear(d1, d2))
        tensors = list(model.parameters())
        if n == "fastopt":
            arrays = [t.detach().numpy() for t in tensors]
            opt = fastopt.Adam(arrays, **ADAM)

            def step(_, tensors=tensors, opt=opt):
                opt.step([t.grad.numpy() for t in tensors])
        else:
            topt = torch.optim.Adam(tensors, fused=True, **ADAM)

            def step(_, topt=topt):
                topt.step()

        def gradient(model=model):
            model.zero_grad(set_to_none=False)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            return None

        gradient()
        step(None)
        gradients[n], steps[n] = gradient, step
    names = list(steps)
    res = _interleave(names, gradients, steps, dict.fromkeys(names), rounds, block)
    return _rows("torch-mlp", "512-2048-10", sum(t.numel() for t in tensors), res)


# --------------------------------------------------------------------- case 3: L-BFGS

LBFGS_N = 100_000
LSQ_ROWS = 200


def _lbfgs_worker(spec):
    """In a subprocess: run one solver on the objective; print a JSON row."""
    method, objective, iters = spec["method"], spec["objective"], spec["iters"]
    n = LBFGS_N
    rng = np.random.default_rng(0)
    A = b = None
    if objective == "rosenbrock+lsq":
        A = rng.standard_normal((LSQ_ROWS, n)) / np.sqrt(n)
        b = rng.standard_normal(LSQ_ROWS)
    in_f = [0.0, 0]

    def fg(x):
        t0 = time.perf_counter()
        u, w = x[:-1], x[1:]
        d = w - u * u
        e = 1.0 - u
        f = 100.0 * (d @ d) + e @ e
        g = np.zeros_like(x)
        g[:-1] = -400.0 * u * d - 2.0 * e
        g[1:] += 200.0 * d
        if A is not None:
            r = A @ x - b
            f += 0.5 * (r @ r)
            g += A.T @ r
        in_f[0] += time.perf_counter() - t0
        in_f[1] += 1
        return f, g

    x0 = np.full(n, -1.2)
    x0[1::2] = 1.0
    t0 = time.perf_counter()
    if method == "fastopt":
        r = fastopt.minimize(fg, x0, jac=True, method="lbfgs",
                             options={"maxiter": iters, "gtol": 0.0})
        nit = r.nit
    else:
        from scipy.optimize import minimize
        r = minimize(fg, x0, jac=True, method="L-BFGS-B",
                     options={"maxiter": iters, "gtol": 0.0, "ftol": 0.0})
        nit = r.nit
    total = time.perf_counter() - t0
    print(json.dumps({"total_s": total, "objective_s": in_f[0], "evaluations": in_f[1],
                      "iterations": int(nit), "f": float(r.fun)}))


LBFGS_OBJECTIVES = ("rosenbrock", "rosenbrock+lsq")


def lbfgs_case(iters=60, repeats=3, objectives=LBFGS_OBJECTIVES):
    """Case 3: solver time per iteration, default BLAS threads and OPENBLAS_NUM_THREADS=1."""
    rows, methods = [], ["fastopt"]
    try:
        import scipy  # noqa: F401
        methods.append("scipy")
    except ImportError:
        rows.append({"case": "lbfgs", "size": "all", "implementation": "scipy L-BFGS-B",
                     "skipped": "scipy is not installed"})
    for objective in objectives:
        for blas in ("default", "1"):
            for method in methods:
                per_iter, last = [], None
                for _ in range(repeats):
                    last = _subprocess_row({"method": method, "objective": objective,
                                            "iters": iters}, blas)
                    per_iter.append((last["total_s"] - last["objective_s"]) /
                                    max(last["iterations"], 1))
                rows.append({"case": "lbfgs", "size": objective, "elements": LBFGS_N,
                             "implementation": "fastopt L-BFGS" if method == "fastopt"
                             else "scipy L-BFGS-B", "blas_threads": blas,
                             "own_per_iteration_s": float(np.median(per_iter)),
                             "iterations": last["iterations"],
                             "objective_per_eval_s":
                                 last["objective_s"] / max(last["evaluations"], 1)})
    _lbfgs_ratios(rows)
    return rows


#: issue 13's L-BFGS targets: default BLAS threads at most this many times the solver's own
#: time with OPENBLAS_NUM_THREADS=1, and at most this fraction of L-BFGS-B's (one BLAS thread)
LBFGS_VS_ONE_BLAS_THREAD, LBFGS_VS_SCIPY = 1.5, 0.25


def _lbfgs_ratios(rows):
    """The fastopt rows' target ratios: "vs 1 BLAS thread" (the default-threads row) and
    "vs L-BFGS-B" (SciPy with one BLAS thread), each with met."""
    own = {(r["size"], r["implementation"], r["blas_threads"]): r["own_per_iteration_s"]
           for r in rows if "own_per_iteration_s" in r}
    for r in rows:
        if r.get("implementation") != "fastopt L-BFGS":
            continue
        one = own.get((r["size"], "fastopt L-BFGS", "1"))
        sp = own.get((r["size"], "scipy L-BFGS-B", "1"))
        if r["blas_threads"] == "default" and one:
            r["vs_1_blas_thread"] = r["own_per_iteration_s"] / one
            r["met_1_blas_thread"] = r["vs_1_blas_thread"] <= LBFGS_VS_ONE_BLAS_THREAD
        if sp:
            r["vs_scipy"] = r["own_per_iteration_s"] / sp
            r["met_scipy"] = r["vs_scipy"] <= LBFGS_VS_SCIPY


def _subprocess_row(spec, blas):
    env = dict(os.environ)
    if blas != "default":
        for k in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = blas
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(fastopt.__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    code = ("import json, sys; from fastopt.benchmarks import inloop; "
            f"inloop.{'_lbfgs_worker' if 'method' in spec else '_rank_worker'}"
            f"(json.loads({json.dumps(json.dumps(spec))}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ case 4: two ranks


def _rank_worker(spec):
    """In a subprocess: Adam steps on 1,048,576 float32 for ``seconds`` after ``start``
    (a wall-clock time, so two processes overlap); prints the median step."""
    if spec.get("threads"):
        fastopt.set_num_threads(spec["threads"])
    rng = np.random.default_rng(0)
    p = rng.standard_normal(1 << 20, dtype=np.float32)
    g = 1e-2 * rng.standard_normal(1 << 20, dtype=np.float32)
    opt = fastopt.Adam([p], **ADAM)
    opt.step([g])
    while time.time() < spec["start"]:
        time.sleep(0.001)
    times = []
    end = time.time() + spec["seconds"]
    while time.time() < end:
        t0 = time.perf_counter()
        opt.step([g])
        times.append(time.perf_counter() - t0)
    print(json.dumps({"median_s": float(np.median(times)), "steps": len(times)}))


def two_processes_case(seconds=3.0):
    """Case 4: two processes stepping at once (default threads) vs one alone on 1 and on 2
    threads."""
    from concurrent.futures import ThreadPoolExecutor
    alone = {t: _subprocess_row({"start": time.time() + 0.5, "seconds": seconds, "threads": t},
                                "default")["median_s"] for t in (1, 2)}
    start = time.time() + 3.0  # both interpreters are up by then
    with ThreadPoolExecutor(2) as ex:
        pair = list(ex.map(lambda _: _subprocess_row({"start": start, "seconds": seconds},
                                                     "default"), range(2)))
    rows = [{"case": "two-procs", "size": "1048576", "elements": 1 << 20,
             "implementation": f"fastopt rank {i}", "step_inside_loop_s": r["median_s"],
             "step_alone_1_thread_s": alone[1], "step_alone_2_threads_s": alone[2]}
            for i, r in enumerate(pair)]
    for r in rows:
        r["vs_1_thread"] = r["step_inside_loop_s"] / alone[1]
        r["met"] = r["vs_1_thread"] <= VS_ONE_THREAD
    return rows


# ----------------------------------------------------------------------- the suite

#: the sizes of case 1 (C.SIZES keys): issue 13's list
MATMUL_SIZES = ("1048576", "33554432", "gpt2-small")


def collect(quick=False, progress=None, sizes=None, implementations=None):
    """Run the suite; rows.  ``quick`` (under a minute on an idle 2-core machine): every
    case, short -- case 1 at 1,048,576 elements only, the NumPy MLP, the torch MLP, L-BFGS on
    the chained Rosenbrock (10 iterations, one run per setting) and the two processes for
    half a second each.  ``sizes``: the case 1 sizes (default: all of :data:`MATMUL_SIZES`,
    or 1,048,576 with ``quick``)."""
    say = progress or (lambda *a: None)
    impls = implementations or list(INLOOP_IMPLEMENTATIONS)
    sizes = sizes or (["1048576"] if quick else list(MATMUL_SIZES))
    rounds, block = (3, 10) if quick else (7, 20)
    rows = []
    for size in sizes:
        say(f"inloop: matmul then step, {size}")
        rows += matmul_case(size, impls, rounds=rounds if size == "1048576" else 3,
                            block=block)
    say("inloop: NumPy MLP iteration")
    rows += mlp_case([n for n in impls if n in MLP_IMPLEMENTATIONS] or MLP_IMPLEMENTATIONS,
                     rounds=rounds, block=block)
    say("inloop: torch MLP backward then step")
    rows += torch_mlp_case(rounds=2 if quick else rounds, block=5 if quick else block)
    say("inloop: L-BFGS on a NumPy objective (subprocesses)")
    rows += (lbfgs_case(iters=10, repeats=1, objectives=LBFGS_OBJECTIVES[:1]) if quick
             else lbfgs_case())
    say("inloop: two processes stepping at once")
    rows += two_processes_case(seconds=0.5 if quick else 3.0)
    return rows


def _us(s):
    return "" if s is None else (f"{s * 1e6:.0f} us" if abs(s) < 1e-2 else f"{s * 1e3:.1f} ms")


def _met(ratio, met, unit):
    return "" if ratio is None else f"{ratio:.2f}{unit} {'met' if met else 'NOT met'}"


def format_table(rows):
    """The suite's tables as Markdown: cases 1, 2 and 4, then case 3 (L-BFGS)."""
    out = [f"| case | size | implementation | loop | gradient alone | step inside loop | "
           f"step timed in loop | step alone | alone, 1 thread | alone, 2 threads | "
           f"vs 1 thread (target <= {VS_ONE_THREAD}x) |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if "skipped" in r or r["case"] == "lbfgs":
            continue
        ratio = _met(r.get("vs_1_thread"), r.get("met"), "x")
        out.append(f"| {r['case']} | {r['size']} | {r['implementation']} | "
                   f"{_us(r.get('loop_s'))} | {_us(r.get('gradient_alone_s'))} | "
                   f"{_us(r.get('step_inside_loop_s'))} | {_us(r.get('step_in_loop_s'))} | "
                   f"{_us(r.get('step_alone_s'))} | {_us(r.get('step_alone_1_thread_s'))} | "
                   f"{_us(r.get('step_alone_2_threads_s'))} | {ratio} |")
    lb = [r for r in rows if r["case"] == "lbfgs" and "skipped" not in r]
    if lb:
        out += ["", "| L-BFGS, n = 100,000 | solver | BLAS threads | own time per iteration "
                "| iterations | objective per evaluation | "
                f"vs 1 BLAS thread (target <= {LBFGS_VS_ONE_BLAS_THREAD}x) | "
                f"vs L-BFGS-B, 1 BLAS thread (target <= {LBFGS_VS_SCIPY}) |",
                "|---|---|---|---:|---:|---:|---|---|"]
        for r in lb:
            out.append(f"| {r['size']} | {r['implementation']} | {r['blas_threads']} | "
                       f"{_us(r['own_per_iteration_s'])} | {r['iterations']} | "
                       f"{_us(r['objective_per_eval_s'])} | "
                       f"{_met(r.get('vs_1_blas_thread'), r.get('met_1_blas_thread'), 'x')} | "
                       f"{_met(r.get('vs_scipy'), r.get('met_scipy'), '')} |")
    skipped = sorted({f"{r['implementation']}: {r['skipped']}" for r in rows if "skipped" in r})
    if skipped:
        out += ["", "not run: " + "; ".join(skipped)]
    return "\n".join(out)


def check(rows):
    """The in-loop targets of issue 13, each with the figure measured in this run."""
    def get(case, impl, key, size=None):
        for r in rows:
            if r["case"] == case and r["implementation"] == impl and key in r and \
                    (size is None or r["size"] == size):
                return r[key]
        return None

    out = []

    def target(text, measured, ok):
        out.append({"target": text, "measured": measured, "met": ok})

    for size in MATMUL_SIZES:
        s = get("matmul", "fastopt", "step_inside_loop_s", size)
        one = get("matmul", "fastopt", "step_alone_1_thread_s", size)
        npy = get("matmul", "numpy.inplace", "step_inside_loop_s", size) or \
            get("matmul", "numpy", "step_inside_loop_s", size)
        if s is not None and one:
            target(f"matmul {size}: step inside the loop <= {VS_ONE_THREAD}x the isolated "
                   f"1-thread step", f"{s / one:.2f}x", s <= VS_ONE_THREAD * one)
        if s is not None and npy:
            target(f"matmul {size}: step inside the loop <= 1/5 of NumPy Adam's",
                   f"{s / npy:.2f}", s <= npy / 5)
        g = get("matmul", "fastopt", "gradient_in_loop_s", size)
        gref = get("matmul", "numpy", "gradient_in_loop_s", size)
        if g and gref:
            target(f"matmul {size}: gradient in fastopt's loop <= 1.1x in the reference's",
                   f"{g / gref:.2f}x", g <= 1.1 * gref)
    loop = get("mlp", "fastopt", "loop_s")
    others = [get("mlp", n, "loop_s") for n in ("numpy", "numpy.inplace")]
    others = [o for o in others if o]
    if loop and others:
        target("NumPy MLP iteration faster with fastopt than with either NumPy Adam",
               f"{_us(loop)} vs {', '.join(_us(o) for o in others)}", loop < min(others))
    s = get("torch-mlp", "fastopt", "step_inside_loop_s")
    t = get("torch-mlp", "torch.fused", "step_inside_loop_s")
    if s is not None and t:
        target("torch MLP: step inside the loop not slower than torch fused",
               f"{s / t:.2f}x", s <= t)
    for r in rows:
        if r["case"] == "lbfgs" and r.get("blas_threads") == "default" and \
                r.get("implementation") == "fastopt L-BFGS":
            if "vs_1_blas_thread" in r:
                target(f"L-BFGS {r['size']}: default threads <= {LBFGS_VS_ONE_BLAS_THREAD}x "
                       "OPENBLAS_NUM_THREADS=1", f"{r['vs_1_blas_thread']:.2f}x",
                       r["met_1_blas_thread"])
            if "vs_scipy" in r:
                target(f"L-BFGS {r['size']}: <= {LBFGS_VS_SCIPY} of L-BFGS-B with one BLAS "
                       "thread", f"{r['vs_scipy']:.2f}", r["met_scipy"])
    for r in rows:
        if r["case"] == "two-procs":
            target(f"two processes: {r['implementation']} step <= {VS_ONE_THREAD}x the "
                   f"isolated 1-thread step", f"{r['vs_1_thread']:.2f}x", r["met"])
    return out
