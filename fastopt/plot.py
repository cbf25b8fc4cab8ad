r"""Trajectory pictures: the paths of fastopt's optimizers over the contours of 2-D test
functions (``python -m fastopt plot``), as a PNG or an animated GIF.  Needs matplotlib
(``pip install 'fastopt[plot]'``) for the pictures; :func:`trajectories` needs only NumPy.

The functions (:data:`FUNCTIONS`), each with its classic start point:

* ``beale``: ``(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2``, minimum 0 at
  (3, 0.5), from (1, 1.5) (or (3, 4) with ``--start 3,4``);
* ``rosenbrock``: ``(1 - x)^2 + 100 (y - x^2)^2``, minimum 0 at (1, 1), from (-1.2, 1);
* ``himmelblau``: ``(x^2 + y - 11)^2 + (x + y^2 - 7)^2``, four minima 0, from (0, 0);
* ``saddle``: ``x^2 - y^2``, a saddle at the origin, from (1, 0.001), next to the ridge
  y = 0: gradient descent follows the ridge into the saddle, sign-based adaptive methods
  (Adagrad, RMSprop, Adam, ...) grow the tiny y-gradient into full steps and roll off;
* ``monkey``: the monkey saddle ``x^3 - 3 x y^2``, a degenerate saddle at the origin (zero
  gradient *and* curvature), from (1, 0.001): gradient descent crawls into it.

Each optimizer has a default learning rate per function (:data:`DEFAULT_LR`), chosen so that
every method converges where the function has a minimum; momentum methods use momentum 0.9.

Example::

    >>> from fastopt.plot import trajectories
    >>> paths = trajectories("beale", ["adam", "sgd"], steps=2000)
    >>> [tuple(float(v) for v in p[-1].round(2)) for p in paths.values()]
    [(3.0, 0.5), (3.0, 0.5)]
"""
import numpy as np

import fastopt

__all__ = ["FUNCTIONS", "OPTIMIZERS", "DEFAULT_LR", "trajectories", "plot", "main"]


def _beale(x, y):
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y ** 3
    f = a * a + b * b + c * c
    gx = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1)
    gy = 2 * a * x + 4 * b * x * y + 6 * c * x * y * y
    return f, gx, gy


def _rosenbrock(x, y):
    f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    return f, -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def _himmelblau(x, y):
    a, b = x * x + y - 11, x + y * y - 7
    return a * a + b * b, 4 * a * x + 2 * b, 2 * a + 4 * b * y


def _saddle(x, y):
    return x * x - y * y, 2 * x, -2 * y


def _monkey(x, y):
    return x ** 3 - 3 * x * y * y, 3 * x * x - 3 * y * y, -6 * x * y


#: name -> (value-and-gradient function, start, (xmin, xmax, ymin, ymax), minima, steps)
FUNCTIONS = {
    "beale": (_beale, (1.0, 1.5), (-0.5, 4.5, -1.5, 4.5), [(3.0, 0.5)], 2000),
    "rosenbrock": (_rosenbrock, (-1.2, 1.0), (-2.0, 2.0, -1.0, 3.0), [(1.0, 1.0)], 2000),
    "himmelblau": (_himmelblau, (0.0, 0.0), (-5.0, 5.0, -5.0, 5.0),
                   [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                    (3.584428, -1.848126)], 500),
    "saddle": (_saddle, (1.0, 1e-3), (-1.5, 1.5, -1.5, 1.5), [], 150),
    "monkey": (_monkey, (1.0, 1e-3), (-1.5, 1.5, -1.5, 1.5), [], 150),
}

#: name -> (fastopt class, fixed keyword arguments)
OPTIMIZERS = {
    "sgd": (fastopt.SGD, {}),
    "momentum": (fastopt.SGD, {"momentum": 0.9}),
    "nesterov": (fastopt.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (fastopt.Adagrad, {}),
    "adadelta": (fastopt.Adadelta, {}),
    "rmsprop": (fastopt.RMSprop, {}),
    "adam": (fastopt.Adam, {}),
    "amsgrad": (fastopt.AMSGrad, {}),
    "adamax": (fastopt.Adamax, {}),
    "nadam": (fastopt.NAdam, {}),
}

_FAR = 1e6   # a path stops when it gets this far away (the saddles are unbounded below)
_FIRST = {"sgd": 1e-2, "momentum": 1e-3, "nesterov": 1e-3}
_ADAPTIVE = {"adagrad": 0.5, "adadelta": 1.0, "rmsprop": 0.01, "adam": 0.05, "amsgrad": 0.05,
             "adamax": 0.1, "nadam": 0.05}
#: function -> optimizer -> default learning rate
DEFAULT_LR = {
    "beale": {**_FIRST, **_ADAPTIVE, "adadelta": 0.3},
    "rosenbrock": {"sgd": 1e-3, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 0.5,
                   "adadelta": 0.5, "rmsprop": 0.01, "adam": 0.05, "amsgrad": 0.05,
                   "adamax": 0.1, "nadam": 0.05},
    "himmelblau": {"sgd": 0.01, "momentum": 0.002, "nesterov": 0.002, **_ADAPTIVE,
                   "adadelta": 10.0},
    "saddle": {"sgd": 0.02, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1,
               "adadelta": 10.0, "rmsprop": 0.01, "adam": 0.05, "amsgrad": 0.05,
               "adamax": 0.05, "nadam": 0.05},
    "monkey": {"sgd": 0.02, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1,
               "adadelta": 10.0, "rmsprop": 0.01, "adam": 0.05, "amsgrad": 0.05,
               "adamax": 0.05, "nadam": 0.05},
}


def _quiet(fun):
    def wrapped(x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            return fun(x, y)
    return wrapped


def _check(function, optimizers):
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; known: {sorted(FUNCTIONS)}")
    unknown = [o for o in optimizers if o not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"unknown optimizer(s) {unknown}; known: {sorted(OPTIMIZERS)}")
    if not optimizers:
        raise ValueError("no optimizers given")


def trajectories(function, optimizers, steps=None, start=None, lr=None):
    """The path of each optimizer: ``{name: array of shape (steps + 1, 2)}`` (rows are the
    points, the start first; a path stops before a point beyond 1e6 or a non-finite gradient).

    ``function``: a name of :data:`FUNCTIONS`; ``optimizers``: names of :data:`OPTIMIZERS`;
    ``steps`` (default: the function's); ``start``: ``(x, y)`` (default: the function's);
    ``lr``: ``{optimizer: learning rate}`` overriding :data:`DEFAULT_LR`.
    """
    optimizers = list(optimizers)
    _check(function, optimizers)
    fun, default_start, _, _, default_steps = FUNCTIONS[function]
    fun = _quiet(fun)
    steps = default_steps if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    start = np.array(default_start if start is None else start, dtype=np.float64)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be two finite numbers, got {start.tolist()}")
    rates = {**DEFAULT_LR[function], **(lr or {})}
    out = {}
    for name in optimizers:
        cls, kwargs = OPTIMIZERS[name]
        p = start.copy()
        opt = cls([p], lr=rates[name], **kwargs)
        path = [p.copy()]
        g = np.empty(2)
        for _ in range(steps):
            _, g[0], g[1] = fun(p[0], p[1])
            if not np.all(np.isfinite(g)):
                break
            opt.step([g])
            if not np.all(np.abs(p) < _FAR):
                break
            path.append(p.copy())
        out[name] = np.array(path)
    return out


def plot(function, optimizers, out, steps=None, start=None, lr=None, frames=60):
    """Draw the paths over the function's contours into ``out``: ``.png`` (or any other
    still format matplotlib writes) or ``.gif`` (animated, ``frames`` frames).  Returns the
    paths (see :func:`trajectories`)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = trajectories(function, optimizers, steps=steps, start=start, lr=lr)
    fun, _, (x0, x1, y0, y1), minima, _ = FUNCTIONS[function]
    fun = _quiet(fun)
    xs, ys = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    f = fun(xs, ys)[0]
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    if f.min() > 0:
        levels = np.logspace(np.log10(max(f.min(), 1e-3)), np.log10(f.max()), 30)
        ax.contour(xs, ys, f, levels=levels, norm=matplotlib.colors.LogNorm(), cmap="Greys",
                   linewidths=0.6)
    else:
        ax.contour(xs, ys, f, levels=30, cmap="Greys", linewidths=0.6)
    for mx, my in minima:
        ax.plot(mx, my, "*", color="k", ms=12, zorder=5)
    sx, sy = next(iter(paths.values()))[0]
    ax.plot(sx, sy, "o", color="k", ms=5, zorder=5)
    colors = plt.get_cmap("tab10")
    lines = {}
    for i, (name, path) in enumerate(paths.items()):
        lines[name], = ax.plot(path[:, 0], path[:, 1], "-", lw=1.6, color=colors(i), label=name)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"{function}: {max(len(p) for p in paths.values()) - 1} steps")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    if str(out).lower().endswith(".gif"):
        from matplotlib.animation import FuncAnimation, PillowWriter
        n = max(len(p) for p in paths.values())
        ends = np.unique(np.linspace(1, n, frames).astype(int))

        def draw(k):
            for name, path in paths.items():
                lines[name].set_data(path[:k, 0], path[:k, 1])
            return list(lines.values())
        anim = FuncAnimation(fig, draw, frames=ends, blit=True)
        anim.save(out, writer=PillowWriter(fps=15))
    else:
        fig.savefig(out, dpi=120)
    plt.close(fig)
    return paths


def main(argv=None):
    """``python -m fastopt plot``: see ``python -m fastopt plot -h``."""
    import argparse
    ap = argparse.ArgumentParser(
        prog="python -m fastopt plot",
        description="Paths of fastopt's optimizers over the contours of a 2-D function.")
    ap.add_argument("--function", default="beale", choices=sorted(FUNCTIONS))
    ap.add_argument("--optimizers", default="sgd,momentum,nesterov,adagrad,adadelta,rmsprop,adam",
                    help="comma-separated names, from: " + ",".join(OPTIMIZERS))
    ap.add_argument("--out", required=True, help="output file: .png or .gif (animated)")
    ap.add_argument("--steps", type=int, default=None, help="steps (default: per function)")
    ap.add_argument("--start", default=None, help="start point 'x,y' (default: per function)")
    ap.add_argument("--lr", default=None,
                    help="learning rates overriding the defaults, e.g. 'sgd=0.001,adam=0.1'")
    args = ap.parse_args(argv)
    try:
        optimizers = [o for o in args.optimizers.split(",") if o]
        start = None if args.start is None else [float(v) for v in args.start.split(",")]
        lr = {}
        for item in (args.lr or "").split(","):
            if item:
                name, _, value = item.partition("=")
                lr[name] = float(value)
        _check(args.function, optimizers + [n for n in lr if n not in optimizers])
        paths = plot(args.function, optimizers, args.out, steps=args.steps, start=start, lr=lr)
    except ValueError as e:
        ap.error(str(e))
    fun = _quiet(FUNCTIONS[args.function][0])
    for name, path in paths.items():
        x, y = path[-1]
        print(f"{name:10s} end ({x: .4f}, {y: .4f})  f = {fun(x, y)[0]:.4g}  "
              f"after {len(path) - 1} steps")
    print(f"wrote {args.out}")
    return 0
