"""The first-order test matrix: every algorithm, its option combinations, and a driver that
runs the NumPy reference (fastopt.reference) with explicit state, as the oracle."""
import itertools

import numpy as np

import fastopt
from fastopt import functional, reference

# name -> (class, reference function, state arrays in the reference's argument order,
#          options to combine: name -> values)
ALGORITHMS = {
    "sgd": (fastopt.SGD, reference.sgd_, ("momentum_buffer",),
            dict(lr=[0.05], momentum=[0.0, 0.9], dampening=[0.0, 0.2], nesterov=[False, True],
                 weight_decay=[0.0, 0.01], maximize=[False, True])),
    "adagrad": (fastopt.Adagrad, reference.adagrad_, ("sum",),
                dict(lr=[0.05], lr_decay=[0.0, 0.01], weight_decay=[0.0, 0.01],
                     initial_accumulator_value=[0.0, 0.1], maximize=[False, True])),
    "adadelta": (fastopt.Adadelta, reference.adadelta_, ("square_avg", "acc_delta"),
                 dict(lr=[0.5], rho=[0.9], weight_decay=[0.0, 0.01], maximize=[False, True])),
    "rmsprop": (fastopt.RMSprop, reference.rmsprop_, ("square_avg", "momentum_buffer", "grad_avg"),
                dict(lr=[0.01], weight_decay=[0.0, 0.01], momentum=[0.0, 0.9],
                     centered=[False, True], maximize=[False, True])),
    "adam": (fastopt.Adam, reference.adam_, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
             dict(lr=[0.01], betas=[(0.9, 0.999)], weight_decay=[0.0, 0.01],
                  amsgrad=[False, True], decoupled_weight_decay=[False, True],
                  maximize=[False, True])),
    "adamax": (fastopt.Adamax, reference.adamax_, ("exp_avg", "exp_inf"),
               dict(lr=[0.01], betas=[(0.8, 0.99)], weight_decay=[0.0, 0.01],
                    maximize=[False, True])),
    "nadam": (fastopt.NAdam, reference.nadam_, ("exp_avg", "exp_avg_sq"),
              dict(lr=[0.01], weight_decay=[0.0, 0.01], decoupled_weight_decay=[False, True],
                   maximize=[False, True])),
}


def can_change_the_result(kw):
    """False for a valid combination that computes what another one does: SGD's dampening
    without momentum (there is no buffer to damp), decoupled weight decay without weight
    decay."""
    if kw.get("dampening", 0) != 0 and kw["momentum"] == 0:
        return False
    return not (kw.get("decoupled_weight_decay") and kw["weight_decay"] == 0)


def option_combinations(name):
    """Every valid combination of the algorithm's options (kwargs of its class) that can
    change the result."""
    options = ALGORITHMS[name][3]
    out = []
    for values in itertools.product(*options.values()):
        kw = dict(zip(options, values))
        if kw.get("nesterov") and (kw["momentum"] == 0 or kw["dampening"] != 0):
            continue                                   # invalid: the class rejects it
        if can_change_the_result(kw):
            out.append(kw)
    return out


def case_id(name, kw):
    flags = [f"{k}={v}" for k, v in kw.items() if k not in ("lr", "betas", "rho")]
    return f"{name}[{','.join(flags)}]"


ALL_CASES = [(name, kw) for name in ALGORITHMS for kw in option_combinations(name)]


def reference_kwargs(kw):
    """Class kwargs -> reference kwargs (betas become beta1, beta2)."""
    out = {k: v for k, v in kw.items() if k not in ("betas", "initial_accumulator_value")}
    if "betas" in kw:
        out["beta1"], out["beta2"] = kw["betas"]
    return out


class ReferenceOptimizer:
    """Drives fastopt.reference.<name>_ with explicit state, like the fastopt class would."""

    def __init__(self, name, params, **kw):
        self.name, self.params, self.kw = name, params, kw
        self.fn, self.state_names = ALGORITHMS[name][1], ALGORITHMS[name][2]
        init = kw.get("initial_accumulator_value", 0.0)
        self.state = [{s: np.full_like(p, init if s == "sum" else 0.0) for s in self.state_names}
                      for p in params]
        self.t = 0
        self.mu_product = 1.0

    def step(self, grads, **step_kw):
        self.t += 1
        states = [[st[s] for st in self.state] for s in self.state_names]
        kw = reference_kwargs(self.kw)
        if self.name == "nadam":
            self.mu_product = self.fn(self.params, grads, *states, step=self.t,
                                      mu_product=self.mu_product, **kw, **step_kw)
        else:
            assert self.fn(self.params, grads, *states, step=self.t, **kw, **step_kw) is None


class FunctionalOptimizer(ReferenceOptimizer):
    """Drives fastopt.functional.<name>_ the same way (its signature is the reference's);
    ``step`` also takes the functional steps' ``grad_scale=`` and ``noise=``."""

    def __init__(self, name, params, **kw):
        super().__init__(name, params, **kw)
        self.fn = getattr(functional, f"{name}_")


def gradient_pool(rng, shape, dtype, k=4):
    """A few gradients to cycle through (drawing fresh ones each step is slow at 1e5)."""
    return [rng.standard_normal(shape).astype(dtype) for _ in range(k)]


def gradient(pool, t):
    """Gradient of step t: cycles the pool, scaled so the sequence does not repeat."""
    return pool[t % len(pool)] * pool[0].dtype.type(1.0 + 0.05 * (t % 7))


def tolerances(dtype):
    return (1e-12, 1e-12) if dtype == np.float64 else (2e-5, 2e-6)


def assert_close(actual, expected, dtype, what=""):
    rtol, atol = tolerances(dtype)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what)
