"""Unit tests for stochastic optimization (Schaul, Antonoglou & Silver, ICLR 2014), run on
fastopt's own optimizers: ``python -m fastopt unittests``.

Small 1-D prototype functions (lines, kinks, cliffs, bowls, exponential, Gaussian and Laplace
shapes, and their concatenations) at four scales, with nine kinds of gradient noise, combined
into 2-D and 10-D problems (separable, rotated, curled) and made non-stationary; every fastopt
first-order optimizer runs on all of them over a small hyperparameter grid, and its expected
final loss is compared with that of the best plain-SGD learning rate.  Modules:

* :mod:`~fastopt.unittests.prototypes`: the 1-D prototypes and their concatenation;
* :mod:`~fastopt.unittests.noise`: the noise prototypes and their moments;
* :mod:`~fastopt.unittests.suite`: the problems and the groups of the result grid;
* :mod:`~fastopt.unittests.batch`: all problems as one vectorised function;
* :mod:`~fastopt.unittests.algorithms`: the optimizer configurations;
* :mod:`~fastopt.unittests.protocol`: the runs, normalisation and categories;
* :mod:`~fastopt.unittests.report`: the table, JSON and colour grid;
* :mod:`~fastopt.unittests.cli`: the command line.

Example (a handful of problems, two optimizers, a fraction of a second)::

    >>> from fastopt.unittests import Config, Problem, run
    >>> problems = [Problem(("quad_bowl",), ("gauss_add_normal",), (scale,))
    ...             for scale in ("normal", "steep")]
    >>> configs = [Config("sgd", (("lr", lr),)) for lr in (0.01, 0.1, 1.0)]
    >>> configs.append(Config("adam", (("lr", 0.1),)))
    >>> result = run(problems, configs, repetitions=4, steps=50)
    >>> [result.categories[i][0] for i in range(4)]     # on the normal-scale bowl: lr=1 bounces across it
    ['good', 'good', 'poor', 'good']
"""
from fastopt.unittests.algorithms import Config, configs
from fastopt.unittests.protocol import CATEGORIES, RunResult, categorise, run
from fastopt.unittests.suite import GROUPS, Problem, full_suite, quick_suite

__all__ = ["Config", "configs", "CATEGORIES", "RunResult", "categorise", "run", "GROUPS",
           "Problem", "full_suite", "quick_suite"]
