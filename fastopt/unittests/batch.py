r"""All problems of a suite as one vectorised function of one array.

:class:`Batch` lays the coordinates of every problem side by side (problem after problem, each
one's dimensions contiguous) and evaluates many independent copies at once: an array ``X`` of
shape ``(configs, repetitions, coordinates)`` holds one point of every problem for every
optimizer configuration and repetition, and :meth:`Batch.gradient` returns the noisy sample
gradient of all of them in one pass of NumPy expressions.  Each optimizer configuration then
updates its slice ``X[c]`` (C-contiguous) with one fused fastopt kernel call per step.

The noise (and every random non-stationarity) of step ``t`` is drawn once per step and shared
by all configurations: every optimizer sees the same stream for the same repetition, as in the
paper's protocol of fixed seeds per repetition.  :meth:`Batch.expected` gives the expected loss
at points (1-D: exactly, from the noise moments integrated numerically; n-D: Monte-Carlo with
a fixed seed).

Example::

    >>> import numpy as np
    >>> from fastopt.unittests.batch import Batch
    >>> from fastopt.unittests.suite import Problem
    >>> b = Batch([Problem(("quad_bowl",), ("noiseless",), ("normal",))], repetitions=2)
    >>> b.reset()
    >>> x = b.start[None].copy()              # shape (1 config, 2 repetitions, 1 coordinate)
    >>> b.gradient(x).tolist()
    [[[-1.0], [-1.0]]]
    >>> expected, diverged = b.expected(x + 0.5)   # the bowl's minimum, 200 - 0.25
    >>> expected.tolist(), diverged.tolist()
    ([[[199.75], [199.75]]], [[[False], [False]]])
"""
import numpy as np

from fastopt.unittests import noise as _noise
from fastopt.unittests.prototypes import N_COEF, SCALES, concatenate

__all__ = ["Batch", "DIVERGED"]

#: a final loss beyond this magnitude (or a non-finite point) counts as diverged
DIVERGED = 1e10

_PERIOD = 10          # steps between changes of the scale / noise / offset non-stationarity
_SWITCH_PERIOD = 20   # steps between the switches of the abrupt-switching problems
_MC_SAMPLES = 128     # Monte-Carlo samples of the n-D expected loss


def _orthogonal(dim, rng):
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


class Batch:
    """The problems of a suite, ``repetitions`` copies each, as one vectorised function.

    Attributes: ``problems``; ``n`` (the number of coordinates); ``block`` (each problem's
    first coordinate); ``start`` (the start point, shape ``(repetitions, n)``).
    """

    def __init__(self, problems, repetitions=10, seed=0, max_chunk=400_000):
        self.problems = list(problems)
        if not self.problems:
            raise ValueError("no problems")
        self.repetitions = int(repetitions)
        self.seed = int(seed)
        self.max_chunk = int(max_chunk)
        dims = np.array([p.dim for p in self.problems])
        self.block = np.concatenate([[0], np.cumsum(dims)[:-1]])
        self.n = int(dims.sum())
        self.problem_of = np.repeat(np.arange(len(self.problems)), dims)
        self.l1 = np.repeat(dims > 1, dims)
        rng = np.random.default_rng([self.seed, 1])

        funcs = []
        for p in self.problems:
            for shape, scale in zip(p.shapes, p.scales):
                funcs.append(concatenate(shape, **SCALES[scale]))
        self.n_segments = max(len(f.starts) for f in funcs)
        self.base_starts, self.base_coefs = self._tables(funcs)

        kinds = [_noise.NOISES[name] for p in self.problems for name in p.noises]
        self.codes = np.array([_noise.KIND_CODES[k] for k, _ in kinds])
        self.base_scale = np.array([s for _, s in kinds], dtype=np.float64)
        mom = [_noise.moments(name) for p in self.problems for name in p.noises]
        self.mean_m = np.array([m for m, _ in mom])
        self.mean_a = np.array([a for _, a in mom])

        ns = np.repeat([p.nonstationary for p in self.problems], dims)
        self.ns_index = {kind: np.flatnonzero(ns == kind)
                         for kind in ("scale", "noise", "offset", "switch", "moving")}
        idx = self.ns_index["switch"]
        if idx.size:
            alt = [concatenate(self._shape_scale(i)[0], **SCALES["steep"]) for i in idx]
            self.switch_tables = self._tables(alt)

        # rotations and curls, grouped by dimension: (problem indices, coordinate indices, M)
        self.rotations, self.curls = [], []
        for flag, out in (("rotate", self.rotations), ("curl", self.curls)):
            for d in sorted(set(dims.tolist()) - {1}):
                which = [i for i, p in enumerate(self.problems) if p.dim == d and getattr(p, flag)]
                if not which:
                    continue
                coords = self.block[which][:, None] + np.arange(d)
                mats = np.stack([_orthogonal(d, rng) for _ in which])
                if flag == "curl":
                    mats = 0.5 * (mats - mats.transpose(0, 2, 1))   # antisymmetric
                out.append((coords, mats))

        # start point: the prototypes start at xs (0); rotated problems at R^T xs
        y0 = np.array([SCALES[s]["xs"] for p in self.problems for s in p.scales])
        self.start = np.broadcast_to(self._rotate_back(y0[None]), (self.repetitions, self.n)).copy()

        noisy = (self.codes != 0) & self.l1
        self.mc_index = np.flatnonzero(noisy)
        mc_rng = np.random.default_rng([self.seed, 2])
        self.mc_m, self.mc_a = _noise.sample(self.codes[self.mc_index],
                                             self.base_scale[self.mc_index], mc_rng,
                                             shape=(_MC_SAMPLES, self.mc_index.size))
        self.reset()

    def _shape_scale(self, coord):
        p = self.problems[self.problem_of[coord]]
        j = coord - self.block[self.problem_of[coord]]
        return p.shapes[j], p.scales[j]

    def _tables(self, funcs):
        padded = [f.padded(self.n_segments) for f in funcs]
        return (np.stack([s for s, _ in padded]), np.stack([c for _, c in padded]))

    # -- the state of the non-stationary problems --------------------------------------------
    def reset(self):
        """Back to step 0: the original functions, no offsets, a fresh noise stream."""
        r, n = self.repetitions, self.n
        self.rng = np.random.default_rng([self.seed, 3])
        self.starts = np.broadcast_to(self.base_starts, (r, n, self.n_segments)).copy()
        coefs = np.broadcast_to(self.base_coefs, (r, n, self.n_segments, N_COEF))
        self.coefs = np.ascontiguousarray(np.moveaxis(coefs, -1, 0))   # (8, r, n, S)
        self.offset = np.zeros((r, n))
        self.scale = np.broadcast_to(self.base_scale, (r, n)).copy()
        self.m = np.ones((r, n))
        self.a = np.zeros((r, n))
        self.t = 0

    def advance(self, t):
        """Enter step ``t`` (0-based): apply the non-stationarities due at ``t`` and draw the
        noise of this step."""
        self.t = t
        r = self.repetitions
        ix = self.ns_index
        if t > 0 and t % _PERIOD == 0:
            if ix["scale"].size:
                self._rescale(ix["scale"])
            if ix["noise"].size:
                k = ix["noise"]
                self.scale[:, k] = self.base_scale[k] * np.exp(
                    0.5 * self.rng.standard_normal((r, k.size)))
            if ix["offset"].size:
                k = ix["offset"]
                self.offset[:, k] += 0.1 * self.rng.standard_normal((r, k.size))
        if t > 0 and t % _SWITCH_PERIOD == 0 and ix["switch"].size:
            k = ix["switch"]
            starts, coefs = (self.switch_tables if (t // _SWITCH_PERIOD) % 2
                             else (self.base_starts[k], self.base_coefs[k]))
            self.starts[:, k] = starts
            self.coefs[:, :, k] = np.moveaxis(coefs, -1, 0)[:, None]
        if ix["moving"].size:
            k = ix["moving"]
            self.offset[:, k] += 0.005 * (1 + self.rng.standard_normal((r, k.size)))
        self.m, self.a = _noise.sample(self.codes, self.scale, self.rng,
                                       shape=(r, self.n))

    def _rescale(self, k):
        r = self.repetitions
        factors = np.exp(0.1 * self.rng.standard_normal((r, k.size)))
        for i, coord in enumerate(k):
            shape, scale = self._shape_scale(coord)
            spec = dict(SCALES[scale])
            for rep in range(r):
                f = concatenate(shape, **{**spec, "fprime": spec["fprime"] * factors[rep, i]})
                s, c = f.padded(self.n_segments)
                self.starts[rep, coord] = s
                self.coefs[:, rep, coord] = c.T

    # -- evaluation ---------------------------------------------------------------------------
    def _rotate(self, x):
        y = x.copy() if self.rotations else x
        for coords, mats in self.rotations:
            y[..., coords] = np.einsum("...pj,pij->...pi", x[..., coords], mats)
        return y

    def _rotate_back(self, gy):
        gx = gy.copy() if self.rotations else gy
        for coords, mats in self.rotations:
            gx[..., coords] = np.einsum("...pi,pij->...pj", gy[..., coords], mats)
        return gx

    def _prototypes(self, z):
        """f, f' of every coordinate's 1-D function at z, shape (c, r, n)."""
        r, n, s = self.starts.shape
        k = np.zeros(z.shape, dtype=np.intp)
        for j in range(1, s):
            k += z >= self.starts[:, :, j]
        flat = k + (np.arange(r * n).reshape(r, n) * s)
        x0, c0, c1, c2, c3, k1, k2, k3 = (np.take(self.coefs[j].reshape(-1), flat)
                                         for j in range(N_COEF))
        d = z - x0
        e = c3 * np.exp(-(k1 * d * d + k2 * np.abs(d) + k3 * d))
        f = c0 + d * (c1 + c2 * d) + e
        g = c1 + 2 * c2 * d - e * (2 * k1 * d + k2 * np.sign(d) + k3)
        return f, g

    def _chunks(self, count):
        size = max(1, self.max_chunk // (self.repetitions * self.n))
        return [slice(i, min(i + size, count)) for i in range(0, count, size)]

    def gradient(self, x, out=None):
        """The sample gradient at ``x`` (shape ``(c, repetitions, n)``) for the current step's
        noise and state; returns an array of ``x``'s shape (or fills ``out``)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.empty_like(x) if out is None else out
        with np.errstate(all="ignore"):
            for sl in self._chunks(x.shape[0]):
                xs = x[sl]
                z = self._rotate(xs) - self.offset
                f, g = self._prototypes(z)
                g = self.m * g + self.a
                if self.l1.any():
                    sign = np.sign(self.m * f + self.a * z)
                    g = np.where(self.l1, sign * g, g)
                g = self._rotate_back(g)
                for coords, mats in self.curls:
                    g[..., coords] += np.einsum("...pj,pij->...pi", xs[..., coords], mats)
                out[sl] = g
        return out

    def expected(self, x):
        """``(expected, diverged)``: the expected loss of every problem at ``x`` (shape
        ``(c, repetitions, n)``) under the current state with the problems' base noise, and
        whether the point diverged (non-finite, or a noise-free loss beyond
        :data:`DIVERGED`); both of shape ``(c, repetitions, problems)``."""
        x = np.asarray(x, dtype=np.float64)
        c = x.shape[0]
        p = len(self.problems)
        expected = np.empty((c, self.repetitions, p))
        diverged = np.empty((c, self.repetitions, p), dtype=bool)
        mc = self.mc_index
        with np.errstate(all="ignore"):
            for sl in self._chunks(c):
                z = self._rotate(x[sl]) - self.offset
                f, _ = self._prototypes(z)
                e = np.where(self.l1, np.abs(f), self.mean_m * f + self.mean_a * z)
                if mc.size:
                    fm, zm = f[..., mc], z[..., mc]
                    e[..., mc] = np.mean(np.abs(self.mc_m * fm[..., None, :]
                                                + self.mc_a * zm[..., None, :]), axis=-2)
                det = np.where(self.l1, np.abs(f), f)
                expected[sl] = np.add.reduceat(e, self.block, axis=-1)
                bad = ~np.isfinite(x[sl]) | ~np.isfinite(det)
                diverged[sl] = (np.add.reduceat(bad, self.block, axis=-1) > 0) | (
                    np.abs(np.add.reduceat(det, self.block, axis=-1)) > DIVERGED)
        return expected, diverged
