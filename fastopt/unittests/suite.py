r"""The suite of the optimization unit tests: which functions, noises, scales, combinations
and non-stationarities are tested (after the paper's ``function_definitions``).

A :class:`Problem` is one test function: per dimension a concatenation of prototypes, a noise
and a scale; for two or more dimensions the per-dimension functions combine by their L1 norm
``F(x) = sum_i |F_i(x_i)|``, optionally behind a random rotation ``F(R x)`` (non-separable) and
with a curl added to the gradient field (``g + A x`` with ``A`` antisymmetric: the field is no
longer the gradient of any function); and a non-stationarity:

* ``scale``: every 10 steps the start slope of every dimension is redrawn as
  ``fprime * exp(0.1 n)`` and the function rebuilt;
* ``noise``: every 10 steps the noise scale is redrawn as ``s * exp(0.5 n)``;
* ``offset``: every 10 steps the function moves by ``0.1 n`` (a random walk);
* ``switch``: every 20 steps the function switches between its normal and its steep scale;
* ``moving``: every step the function moves by ``0.005 (1 + n)`` (a drifting target).

:func:`full_suite` lists all problems (about 2,100); :func:`quick_suite` a few dozen of them.
:data:`GROUPS` are the paper's rows of the result grid; :func:`groups_of` says which groups a
problem belongs to.

Example::

    >>> from fastopt.unittests.suite import full_suite, groups_of
    >>> problems = full_suite()
    >>> p = problems[0]
    >>> p.name, p.dim, groups_of(p)
    ('line_noiseless_normal', 1, ['1D noiseless', '1D differentiable'])
"""
import dataclasses
import itertools

from fastopt.unittests.noise import NOISES
from fastopt.unittests.prototypes import KINKED, SCALES

__all__ = ["Problem", "GROUPS", "full_suite", "quick_suite", "groups_of"]

ALL_NOISES = list(NOISES)
GAUSS_ADD = ["gauss_add_low", "gauss_add_normal", "gauss_add_high"]
GAUSS = GAUSS_ADD + ["gauss_mul_low", "gauss_mul_normal", "gauss_mul_high"]
ALL_SCALES = list(SCALES)

GROUPS = ["1D noiseless", "1D differentiable", "1D non-differentiable", "1D heavy noise",
          "1D scale non-stationary", "1D noise non-stationary", "1D offset non-stationary",
          "1D abrupt switching", "1D moving target",
          "2D separable", "2D non-separable", "2D curled",
          "10D separable", "10D non-separable", "10D curled"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One test function.  ``shapes``, ``noises`` and ``scales`` have one entry per
    dimension (``shapes[i]`` is a ``-``-joined prototype concatenation)."""
    shapes: tuple
    noises: tuple
    scales: tuple
    rotate: bool = False
    curl: bool = False
    nonstationary: str = "none"

    @property
    def dim(self):
        return len(self.shapes)

    @property
    def name(self):
        def runs(items):
            out = []
            for item, grp in itertools.groupby(items):
                n = len(list(grp))
                out.append(item if n == 1 and len(items) == 1 else f"{item}x{n}")
            return "+".join(out)
        parts = [runs(self.shapes), runs(self.noises), runs(self.scales)]
        parts += [flag for flag, on in (("rotated", self.rotate), ("curled", self.curl)) if on]
        if self.nonstationary != "none":
            parts.append(self.nonstationary)
        return "_".join(parts)


_SIMPLE_1D = ["line", "quad_bowl", "abs", "bend", "relu", "gauss_bowl", "cliff", "ridge"]
_CONCAT_1D = [
    "quad_convex-line", "gauss_nonconvex-line", "gauss_convex-line", "laplace_nonconvex-line",
    "laplace_convex-line", "exponential", "quad_convex-exponential",
    "gauss_nonconvex-exponential", "gauss_convex-exponential", "laplace_nonconvex-exponential",
    "laplace_convex-exponential", "line-exponential", "quad_convex-relu", "gauss_nonconvex-relu",
    "gauss_convex-relu", "laplace_convex-relu",
    "gauss_nonconvex-gauss_convex-gauss_bowl-gauss_convex-gauss_nonconvex",
    "laplace_nonconvex-laplace_convex-laplace_bowl-laplace_convex-laplace_nonconvex",
    "line-quad_bowl-line", "quad_convex-abs-quad_convex", "quad_convex-cliff-quad_convex",
    "quad_convex-cliff-gauss_nonconvex", "quad_convex-quad_bowl-gauss_nonconvex",
    "quad_convex-abs-gauss_nonconvex", "cliff-exponential", "cliff-quad_bowl",
    "quad_convex-cliff-quad_bowl", "quad_bowl-cliff-exponential", "relu-bend-line",
    "quad_convex-relu-bend-line", "gauss_nonconvex-relu-line", "relu-bend-quad_bowl",
    "quad_convex-relu-bend-quad_bowl", "gauss_nonconvex-relu-bend-quad_bowl",
    "relu-bend-exponential", "quad_convex-relu-bend-exponential",
    "gauss_nonconvex-relu-bend-exponential",
]
_NONSTATIONARY_1D = ["quad_bowl", "abs", "gauss_bowl", "laplace_bowl", "quad_convex-line"]


def _one_d():
    out = []
    for shapes, noises in ([(s, ALL_NOISES) for s in _SIMPLE_1D]
                           + [(s, ["noiseless"] + GAUSS_ADD) for s in _CONCAT_1D]):
        for noise, scale in itertools.product(noises, ALL_SCALES):
            p = dict(shapes=(shapes,), noises=(noise,), scales=(scale,))
            out.append(Problem(**p))
            if noise == "noiseless":
                out += [Problem(**p, nonstationary="scale"),
                        Problem(**p, nonstationary="offset")]
            elif "high" not in noise and "maskout" not in noise:
                out.append(Problem(**p, nonstationary="noise"))
    for shape, noise in itertools.product(_NONSTATIONARY_1D, ["noiseless", "gauss_add_normal"]):
        for kind in ("switch", "moving"):
            out.append(Problem((shape,), (noise,), ("normal",), nonstationary=kind))
    return out


def _expand(dims, shapes, noise_variants, scale_variants, rotations=(False,), curls=(False,)):
    """Problems of ``dims`` dimensions: ``shapes``, each noise and scale variant a list of
    (name, how many dimensions) runs."""
    def per_dim(runs):
        out = tuple(name for name, n in runs for _ in range(n))
        assert len(out) == dims, (runs, dims)
        return out
    return [Problem(per_dim(shapes), per_dim(noise), per_dim(scale), rot, curl)
            for noise, scale, rot, curl in itertools.product(
                noise_variants, scale_variants, rotations, curls)]


def _n_d():
    both = (False, True)
    n2 = [[("noiseless", 2)], [("gauss_add_normal", 2)],
          [("gauss_add_low", 1), ("gauss_add_high", 1)],
          [("gauss_add_high", 1), ("gauss_add_low", 1)]]
    s2 = [[("normal", 2)]]
    steep2 = s2 + [[("steep", 1), ("normal", 1)]]
    out = []
    out += _expand(2, [("quad_bowl", 2)], n2, [[(s, 2)] for s in ALL_SCALES], both)
    out += _expand(2, [("abs", 1), ("quad_bowl", 1)], n2,
                   steep2 + [[("normal", 1), ("steep", 1)]], both, both)
    for shapes, scales in ((("quad_bowl", "line"), steep2), (("line", "line"), s2),
                           (("relu", "line"), s2), (("exponential", "line"), steep2),
                           (("abs", "line"), steep2), (("cliff", "abs"), steep2),
                           (("exponential", "quad_bowl"), s2)):
        out += _expand(2, [(shapes[0], 1), (shapes[1], 1)], n2, scales)
    for shapes in (("abs", "abs"), ("cliff", "line"), ("cliff", "quad_bowl")):
        out += _expand(2, [(shapes[0], 1), (shapes[1], 1)], n2, s2, both, both)
    saddle2 = [[("saddle", 1), ("normal", 1)]]
    for second in ("abs", "quad_bowl"):
        out += _expand(2, [("gauss_nonconvex", 1), (second, 1)], n2, saddle2)
    lap = "laplace_convex-laplace_nonconvex-quad_convex"
    out += _expand(2, [(lap, 2)], n2, s2 + saddle2)

    n10 = [[("noiseless", 10)]] + [[(n, 10)] for n in GAUSS_ADD]
    s10 = [[("normal", 10)]]
    steep10 = s10 + [[("steep", 1), ("normal", 9)]]
    saddle10 = [[("saddle", 1), ("normal", 9)]]
    out += _expand(10, [("quad_bowl", 10)], [[("noiseless", 10)]] + [[(n, 10)] for n in GAUSS],
                   [[(s, 10)] for s in ALL_SCALES])
    out += _expand(10, [(lap, 10)], n10, s10 + saddle10)
    out += _expand(10, [("abs", 1), ("quad_bowl", 9)], n10,
                   s10 + [[("normal", 1), ("saddle", 9)], [("normal", 1), ("steep", 9)]])
    for shapes, scales in ((("quad_bowl", "line"), steep10), (("line", "line"), s10),
                           (("relu", "line"), s10), (("exponential", "line"), steep10),
                           (("abs", "line"), steep10), (("cliff", "abs"), steep10),
                           (("exponential", "quad_bowl"), s10),
                           (("gauss_nonconvex", "abs"), saddle10),
                           (("gauss_nonconvex", "quad_bowl"), saddle10)):
        out += _expand(10, [(shapes[0], 1), (shapes[1], 9)], n10, scales)
    for shapes in (("abs", "abs"), ("cliff", "line")):
        out += _expand(10, [(shapes[0], 1), (shapes[1], 9)], n10, s10, both, both)
    out += _expand(10, [("cliff", 1), ("quad_bowl", 9)], n10, s10, both)
    return out


def full_suite():
    """All problems: 1-D, 2-D and 10-D."""
    return _one_d() + _n_d()


def quick_suite():
    """A small cross-section of :func:`full_suite` (every group represented), for a run of
    seconds."""
    keep = []
    seen = {}
    for p in full_suite():
        for g in groups_of(p):
            if seen.get(g, 0) < 6 and p not in keep:
                seen[g] = seen.get(g, 0) + 1
                keep.append(p)
    return keep


def groups_of(problem):
    """The rows of the result grid (:data:`GROUPS`) a problem belongs to."""
    p = problem
    if p.dim > 1:
        d = f"{p.dim}D"
        return [f"{d} non-separable" if p.rotate else f"{d} separable"] + (
            [f"{d} curled"] if p.curl else [])
    noise, ns = p.noises[0], p.nonstationary
    if ns != "none":
        return {"scale": ["1D scale non-stationary"], "offset": ["1D offset non-stationary"],
                "noise": ["1D noise non-stationary"], "switch": ["1D abrupt switching"],
                "moving": ["1D moving target"]}[ns]
    out = ["1D noiseless"] if noise == "noiseless" else []
    kinked = any(piece in KINKED for piece in p.shapes[0].split("-"))
    out.append("1D non-differentiable" if kinked else "1D differentiable")
    if "high" in noise:
        out.append("1D heavy noise")
    return out
