"""The optimizer configurations the unit tests run: every fastopt first-order optimizer over a
small grid of its hyperparameters (as the paper did), and the log-spaced grid of plain-SGD
learning rates that serves as the reference.

A :class:`Config` makes its optimizer for one parameter array (``Config.make(x)``), so that a
single fused fastopt step updates all repetitions of all problems at once.

Example::

    >>> from fastopt.unittests.algorithms import configs
    >>> cfgs = configs()
    >>> sorted({c.family for c in cfgs})[:3], cfgs[0].label
    (['adadelta', 'adagrad', 'adam'], 'sgd lr=1e-06')
"""
import dataclasses

import numpy as np

import fastopt

__all__ = ["Config", "FAMILIES", "configs", "sgd_grid"]

#: the families, in the order of the result grid
FAMILIES = ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam",
            "amsgrad", "adamax", "nadam"]

_CLASSES = {"sgd": fastopt.SGD, "momentum": fastopt.SGD, "nesterov": fastopt.SGD,
            "adagrad": fastopt.Adagrad, "adadelta": fastopt.Adadelta,
            "rmsprop": fastopt.RMSprop, "adam": fastopt.Adam, "amsgrad": fastopt.AMSGrad,
            "adamax": fastopt.Adamax, "nadam": fastopt.NAdam}


@dataclasses.dataclass(frozen=True)
class Config:
    """One optimizer with fixed hyperparameters: ``family`` (a name of :data:`FAMILIES`)
    and ``hyper`` (keyword arguments of its fastopt class, as a tuple of pairs)."""
    family: str
    hyper: tuple

    @property
    def label(self):
        return self.family + " " + " ".join(f"{k}={_fmt(v)}" for k, v in self.hyper
                                            if k != "nesterov")

    def make(self, x):
        """The fastopt optimizer over the parameter array ``x``."""
        return _CLASSES[self.family]([x], **dict(self.hyper))

    def as_dict(self):
        return {"family": self.family, "label": self.label,
                "hyper": {k: v for k, v in self.hyper}}


def _fmt(v):
    if isinstance(v, tuple):
        return "(" + ",".join(_fmt(u) for u in v) + ")"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def sgd_grid(n=27, lo=-6.0, hi=0.5):
    """The reference: ``n`` plain-SGD learning rates log-spaced from ``10**lo`` to
    ``10**hi``."""
    return [float(f"{v:.3g}") for v in np.logspace(lo, hi, n)]


def configs(quick=False):
    """All configurations: the plain-SGD grid first, then every other family's grid
    (``quick``: coarser grids)."""
    lrs = [1e-3, 1e-2, 1e-1, 1.0] if quick else [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    moms = [0.9] if quick else [0.5, 0.9, 0.99]
    out = [Config("sgd", (("lr", lr),)) for lr in sgd_grid(*((14, -6.0, 0.5) if quick else ()))]
    for fam, nest in (("momentum", False), ("nesterov", True)):
        out += [Config(fam, (("lr", lr), ("momentum", m), ("nesterov", nest)))
                for lr in lrs for m in moms]
    out += [Config("adagrad", (("lr", lr),)) for lr in lrs + [10.0]]
    out += [Config("adadelta", (("lr", 1.0), ("rho", rho), ("eps", eps)))
            for rho in ([0.9] if quick else [0.9, 0.99, 0.999])
            for eps in ([1e-6] if quick else [1e-6, 1e-3])]
    out += [Config("rmsprop", (("lr", lr), ("alpha", al)))
            for lr in lrs for al in ([0.99] if quick else [0.9, 0.99])]
    out += [Config("adam", (("lr", lr), ("betas", b)))
            for lr in lrs for b in ([(0.9, 0.999)] if quick else [(0.9, 0.999), (0.0, 0.999)])]
    out += [Config(fam, (("lr", lr),)) for fam in ("amsgrad", "adamax", "nadam") for lr in lrs]
    return out
