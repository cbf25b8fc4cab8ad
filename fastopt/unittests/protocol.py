r"""The protocol of the optimization unit tests: run, measure, normalise, categorise.

Every configuration runs ``repetitions`` times for ``steps`` steps on every problem, from the
problem's start point, with a fixed noise stream per repetition (the same for every
configuration).  The score of a run is the *expected* loss at its final point (the noise
integrated out); the score of a configuration on a problem is the median over repetitions.
It is normalised against the best plain-SGD learning rate of the grid::

    normalised = (f_alg - f_init) / (f_SGDbest - f_init)

so 1 is "as good as the best tuned SGD", 0 "no progress", above 1 "better than SGD".  Problems
where no SGD rate improved on the start are left out (there is no reference).  The paper's
categories (colours of the grid), checked in this order:

=================  ======  ===========================================================
category           colour  when
=================  ======  ===========================================================
``diverged``       red     half or more of the repetitions diverged, or the median did
``poor``           orange  normalised <= 0.1
``partly diverged`` violet  some (fewer than half) repetitions diverged
``unstable``       yellow  more than 25% of the repetitions are poor (normalised < 0.1)
``excellent``      blue    normalised > 2
``good``           green   otherwise: within a factor 2 of tuned SGD, or better
=================  ======  ===========================================================

Example::

    >>> import numpy as np
    >>> from fastopt.unittests.protocol import categorise
    >>> f_init, f_best = 10.0, 0.0
    >>> finals = np.array([[1.0, 1.0, 1.0], [9.5, 9.5, 9.0]])     # 2 configs x 3 repetitions
    >>> categorise(finals, np.zeros_like(finals, bool), f_init, f_best)
    (array([0.9 , 0.05]), ['good', 'poor'])
"""
import time
import warnings

import numpy as np

from fastopt.unittests.batch import DIVERGED, Batch

__all__ = ["CATEGORIES", "RunResult", "run", "categorise", "normalise"]

#: category -> RGB colour of the grid
CATEGORIES = {"excellent": (0.0, 0.2, 1.0), "good": (0.0, 0.75, 0.0),
              "unstable": (1.0, 0.9, 0.0), "partly diverged": (0.6, 0.0, 0.8),
              "poor": (1.0, 0.5, 0.0), "diverged": (0.85, 0.0, 0.0)}


def normalise(f_alg, f_init, f_best):
    """``(f_alg - f_init) / (f_best - f_init)``, with values below -1e10 clipped there."""
    f_alg = np.maximum(np.asarray(f_alg, dtype=np.float64), -DIVERGED)
    f_best = np.maximum(np.asarray(f_best, dtype=np.float64), -DIVERGED)
    return (f_alg - f_init) / (f_best - f_init)


def categorise(finals, diverged, f_init, f_best):
    """Normalised medians and categories of configurations on one problem.

    ``finals``, ``diverged``: shape ``(configs, repetitions)``: the expected loss at each
    run's final point and whether the run diverged.  Returns ``(normalised, categories)``
    (one entry per configuration; ``normalised`` is inf for a diverged configuration)."""
    finals = np.asarray(finals, dtype=np.float64)[:, :, None]
    diverged = np.asarray(diverged, dtype=bool)[:, :, None]
    med = _medians(finals, diverged)
    norm, cats = _categorise(finals, diverged, med, np.array([f_init]), np.array([f_best]))
    return norm[:, 0], [c[0] for c in cats]


def _medians(finals, diverged):
    """Median over the repetitions (axis 1) of the runs that did not diverge; inf where
    half or more diverged."""
    ok = ~diverged & np.isfinite(finals)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.where(ok, finals, np.nan), axis=1)
    return np.where(ok.sum(axis=1) >= finals.shape[1] / 2, med, np.inf)


def _categorise(finals, diverged, med, f_init, f_best):
    """Vectorised categories: finals/diverged (configs, reps, problems), med (configs,
    problems), f_init/f_best (problems,)."""
    reps = finals.shape[1]
    ok = ~diverged & np.isfinite(finals)
    with np.errstate(all="ignore"):
        norm = normalise(med, f_init, f_best)
        per_rep = normalise(np.where(ok, finals, np.nan), f_init[None], f_best[None])
    poor_reps = np.sum(per_rep < 0.1, axis=1)
    n_ok = ok.sum(axis=1)
    conditions = [~np.isfinite(norm), norm <= 0.1, n_ok < reps, poor_reps > 0.25 * reps,
                  norm > 2]
    names = np.array(["diverged", "poor", "partly diverged", "unstable", "excellent", "good"])
    cats = names[np.select(conditions, range(5), 5)]
    norm = np.where(np.isfinite(norm), norm, np.inf)
    return norm, cats.tolist()


class RunResult:
    """The outcome of :func:`run`: ``problems``, ``configs``, ``f_init`` (per problem),
    ``finals`` and ``diverged`` (shape ``(configs, repetitions, problems)``), and, per problem
    with a reference, ``f_best``, the best SGD configuration, the ``normalised`` medians and
    the ``categories`` (shape ``(configs, problems)``; problems without a reference:
    ``None``)."""

    def __init__(self, problems, configs, f_init, finals, diverged, seconds, steps):
        self.problems, self.configs = problems, configs
        self.f_init, self.finals, self.diverged = f_init, finals, diverged
        self.seconds, self.steps = seconds, steps
        sgd = [i for i, c in enumerate(configs) if c.family == "sgd"]
        if not sgd:
            raise ValueError("the configurations must include plain SGD (the reference)")
        med = _medians(finals, diverged)
        k = np.argmin(med[sgd], axis=0)
        f_best = med[sgd][k, np.arange(len(problems))]
        scored = np.isfinite(f_best) & (f_best < f_init)
        self.f_best = np.where(scored, f_best, np.nan)
        self.best_sgd = [int(sgd[kk]) if s else None for kk, s in zip(k, scored)]
        norm, cats = _categorise(finals, diverged, med, f_init, np.where(scored, f_best, 0.0))
        self.normalised = np.where(scored, norm, np.nan)
        self.categories = [[c if s else None for c, s in zip(row, scored)] for row in cats]

    @property
    def scored(self):
        """Indices of the problems with a reference."""
        return [j for j, b in enumerate(self.best_sgd) if b is not None]


def run(problems, configs, repetitions=10, steps=100, seed=0, progress=None):
    """Run every configuration on every problem (see the module docstring); returns a
    :class:`RunResult`.  ``progress``: an optional callable ``progress(steps_done)``."""
    t0 = time.perf_counter()
    batch = Batch(problems, repetitions=repetitions, seed=seed)
    f_init = batch.expected(batch.start[None])[0][0, 0]
    x = np.broadcast_to(batch.start, (len(configs),) + batch.start.shape).copy()
    optimizers = [cfg.make(x[i]) for i, cfg in enumerate(configs)]
    g = np.empty_like(x)
    with np.errstate(all="ignore"):
        for t in range(steps):
            batch.advance(t)
            batch.gradient(x, out=g)
            for i, opt in enumerate(optimizers):
                opt.step([g[i]])
            if progress is not None:
                progress(t + 1)
    finals, diverged = batch.expected(x)
    return RunResult(list(problems), list(configs), f_init, finals, diverged,
                     time.perf_counter() - t0, steps)
