"""The step shared by fastopt.torch's first-order optimizers.

Each class subclasses its ``torch.optim`` counterpart (signature, defaults, constructor checks,
``__setstate__``, ``state_dict``/``load_state_dict``, hooks and ``zero_grad`` are torch's) and
replaces ``step``: every param group becomes one call of the matching
:mod:`fastopt.functional` function -- one fused, GIL-released, multithreaded pass over all
the group's tensors -- on zero-copy ``tensor.numpy()`` views of the parameters, gradients and
state.  Group values, the tensors and the state are read anew at every step, so schedulers,
``load_state_dict`` and swapped tensors just work; only each tensor's NumPy view and the
result of its checks are kept between steps, keyed by the tensor object and its address,
shape, strides and dtype (:class:`_Views`), so an unchanged tensor costs a few attribute
reads instead of its checks and a new view.

A step is checked in full before anything is written: the group values (with torch's
messages), every parameter, gradient and state tensor, and -- when a step takes more than one
kernel call -- that no written tensor shares memory with another or with a gradient.  Only
then is missing state created (with torch's keys, dtypes and initial values) and the kernels
run.  Parameters of one group whose ``step`` counts differ (a parameter added later, a
checkpoint) take one call per distinct count.
"""
import math

import torch

from fastopt import functional as F
from fastopt.torch._checks import (
    check_disjoint, check_grad, check_param, check_state_tensor, group_nonneg, group_real,
    tensor_name,
)


def _scalar_dtype():
    """The dtype torch keeps ``step`` and ``mu_product`` in (torch.optim's rule)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _flag(group, key):
    v = group[key]
    if not isinstance(v, bool):
        raise TypeError(f"{key} must be a bool, got {v!r}")
    return v


def _betas(group):
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    out = []
    for i in range(2):
        b = group_real({"beta": betas[i]}, "beta")
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        out.append(b)
    return out


def _hyper(group, spec):
    """The functional's keyword arguments read from ``group``, with torch's messages:
    ``lr``, ``weight_decay``, ``maximize``, then ``spec``'s ``(key, what)`` -- ``what`` the
    name in ``Invalid {what}`` for a value that must be >= 0, None for a bool flag;
    ``betas`` gives ``beta1, beta2``."""
    h = dict(lr=group_nonneg(group, "lr", "learning rate"),
             weight_decay=group_nonneg(group, "weight_decay", "weight_decay value"),
             maximize=_flag(group, "maximize"))
    for key, what in spec:
        if key == "betas":
            h["beta1"], h["beta2"] = _betas(group)
        elif what is None:
            h[key] = _flag(group, key)
        else:
            h[key] = group_nonneg(group, key, what)
    return h


def sgd_hyper(group):
    h = _hyper(group, (("momentum", "momentum value"), ("nesterov", None)))
    h["dampening"] = group_real(group, "dampening")
    if not math.isfinite(h["dampening"]):
        raise ValueError(f"Invalid dampening value: {group['dampening']}")
    if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    return h


def adagrad_hyper(group):
    group_nonneg(group, "initial_accumulator_value", "initial_accumulator_value value")
    return _hyper(group, (("lr_decay", "lr_decay value"), ("eps", "epsilon value")))


def adadelta_hyper(group):
    h = _hyper(group, (("eps", "epsilon value"),))
    h["rho"] = group_real(group, "rho")
    if not 0.0 <= h["rho"] < 1.0:          # fastopt's kernel needs rho < 1 (torch: <= 1)
        raise ValueError(f"Invalid rho value: {group['rho']} (fastopt.torch.Adadelta needs "
                         "0 <= rho < 1)")
    return h


def _spec_hyper(spec):
    return lambda group: _hyper(group, spec)


_EPS = ("eps", "epsilon value")
rmsprop_hyper = _spec_hyper((("alpha", "alpha value"), _EPS, ("momentum", "momentum value"),
                             ("centered", None)))
adam_hyper = _spec_hyper((("betas", None), _EPS, ("amsgrad", None),
                          ("decoupled_weight_decay", None)))
adamax_hyper = _spec_hyper((("betas", None), _EPS))
nadam_hyper = _spec_hyper((("betas", None), _EPS, ("momentum_decay", "momentum_decay value"),
                           ("decoupled_weight_decay", None)))


def _zeros(p, group):
    return torch.zeros_like(p, memory_format=torch.contiguous_format)


def _accumulator(p, group):
    return torch.full_like(p, group["initial_accumulator_value"],
                           memory_format=torch.contiguous_format)


def _step0(p, group):
    return torch.tensor(0.0, dtype=_scalar_dtype())


def _mu0(p, group):
    return torch.tensor(1.0, dtype=_scalar_dtype())


class Algorithm:
    """How one torch.optim algorithm maps onto its fastopt.functional function.

    ``arrays(h)``: the functional's state arguments in order, each the state key (None for an
    argument these options leave unused); ``scalars``: the 0-d state kept per parameter
    (torch's ``step``, NAdam's ``mu_product``) with its initial value; ``init``: how torch
    initializes each state array."""

    def __init__(self, name, function, hyper, arrays, scalars, init=None):
        self.name, self.function, self.hyper = name, function, hyper
        self.arrays, self.scalars = arrays, scalars
        self.init = init or {}

    def initial(self, key, p, group):
        return self.init.get(key, _zeros)(p, group)


ALGORITHMS = {
    "sgd": Algorithm("sgd", F.sgd_, sgd_hyper,
                     lambda h: ("momentum_buffer" if h["momentum"] != 0 else None,), ()),
    "adagrad": Algorithm("adagrad", F.adagrad_, adagrad_hyper, lambda h: ("sum",),
                         (("step", _step0),), {"sum": _accumulator}),
    "adadelta": Algorithm("adadelta", F.adadelta_, adadelta_hyper,
                          lambda h: ("square_avg", "acc_delta"), (("step", _step0),)),
    "rmsprop": Algorithm("rmsprop", F.rmsprop_, rmsprop_hyper,
                         lambda h: ("square_avg",
                                    "momentum_buffer" if h["momentum"] > 0 else None,
                                    "grad_avg" if h["centered"] else None),
                         (("step", _step0),)),
    "adam": Algorithm("adam", F.adam_, adam_hyper,
                      lambda h: ("exp_avg", "exp_avg_sq",
                                 "max_exp_avg_sq" if h["amsgrad"] else None),
                      (("step", _step0),)),
    "adamax": Algorithm("adamax", F.adamax_, adamax_hyper, lambda h: ("exp_avg", "exp_inf"),
                        (("step", _step0),)),
    "nadam": Algorithm("nadam", F.nadam_, nadam_hyper, lambda h: ("exp_avg", "exp_avg_sq"),
                       (("step", _step0), ("mu_product", _mu0))),
}


def _step_count(value, what):
    """The number of steps taken so far, from the value of torch's ``step`` state."""
    if not (value >= 0 and value.is_integer()):
        raise ValueError(f"state['step'] of {what} is {value!r}, not a count of steps")
    return int(value)


def _check_scalar(t, key, what):
    if not (isinstance(t, torch.Tensor) and t.numel() == 1 and t.is_floating_point()
            and t.device.type == "cpu" and t.layout == torch.strided):
        raise TypeError(f"state[{key!r}] of {what} is {t!r}; expected a one-element CPU "
                        "float tensor")


def nadam_mu(beta1, momentum_decay, step):
    """NAdam's momentum schedule mu_t, in the arithmetic of torch.optim.NAdam."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


class _Call:
    """One kernel call: the parameters of a group that share a step count, as NumPy views
    (and the 0-d ``step`` views and NAdam ``mu_product`` tensors to advance after it)."""

    __slots__ = ("step", "params", "grads", "states", "steps", "mus")

    def __init__(self, step, n_states):
        self.step = step
        self.params, self.grads = [], []
        self.states = [[] for _ in range(n_states)]
        self.steps, self.mus = [], []


def _key(t):
    """What a NumPy view of ``t`` and its checks depend on: the address (the cached view
    keeps the memory it points to alive, so an unchanged data_ptr is the same memory),
    shape, strides, dtype (complex ones are rejected, so no conjugate bit) and the negative
    bit, which a view at the same address can carry."""
    return t.data_ptr(), t.shape, t.stride(), t.dtype, t.is_neg()


class _Views:
    """Zero-copy NumPy views of the tensors a step touches, each checked once per version
    of the tensor: an entry is reused while the tensor object, its :func:`_key` and the
    key of the parameter it belongs to are unchanged.  So swapped ``.data``, replaced
    state tensors and ``load_state_dict`` are seen at the next step; entries a step does not
    touch are dropped."""

    def __init__(self):
        self.old, self.new = {}, {}

    def begin(self):
        self.new = {}

    def end(self):
        self.old, self.new = self.new, {}

    def get(self, t, context, check):
        """The view of ``t``; ``check()`` (raising for a bad tensor) runs when the entry is
        new or stale.  ``context``: the owning parameter's key (None for a parameter)."""
        try:
            key = _key(t)
        except Exception:      # no storage (sparse, ...): check() names the problem
            check()
            raise
        e = self.old.get(id(t))
        if e is None or e[0] is not t or e[1] != key or e[2] != context:
            check()
            e = (t, key, context, t.detach().numpy())
        self.new[id(t)] = e
        return e[3], key


class FastoptStep:
    """Mixin put before a torch.optim class: fastopt's ``step`` and stricter group checks.

    ``_algorithm`` names the entry of :data:`ALGORITHMS`.
    """

    _algorithm = None

    # torch.optim sets this for fused=True, and torch.amp.GradScaler then hands the step
    # its scale instead of unscaling the gradients; fastopt's kernels take no scale.
    _step_supports_amp_scaling = property(lambda self: False, lambda self, value: None)

    def add_param_group(self, param_group):
        """torch.optim's ``add_param_group``, then the new group's options and parameters are
        checked; a group fastopt cannot step is removed again and the error raised."""
        super().add_param_group(param_group)
        gi = len(self.param_groups) - 1
        try:
            group = self.param_groups[gi]
            self._check_options(group)
            for i, p in enumerate(group["params"]):
                check_param(p, tensor_name(gi, i))
        except Exception:
            self.param_groups.pop()
            raise

    def _check_options(self, group):
        """The group's values as the functional's keyword arguments; ValueError/TypeError
        for a value torch would reject or a flag fastopt does not implement."""
        cls = type(self).__name__
        if group.get("differentiable", False):
            raise ValueError(f"fastopt.torch.{cls} does not support differentiable=True "
                             f"(autograd through the step); use torch.optim.{cls}")
        if group.get("capturable", False):
            raise ValueError(f"fastopt.torch.{cls} does not support capturable=True (CUDA "
                             f"graph capture); use torch.optim.{cls}")
        for key in ("foreach", "fused"):
            v = group.get(key)
            if v is not None and not isinstance(v, bool):
                raise TypeError(f"{key} must be None or a bool, got {v!r}")
        if group.get("foreach") and group.get("fused"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        return ALGORITHMS[self._algorithm].hyper(group)

    def _prepare(self):
        """Check everything a step touches and list its kernel calls; writes nothing.

        Returns ``(calls, created)``: per group ``(hyper, [_Call])``, and the state entries
        to create ``(state dict or None, param, key, tensor)`` once all checks passed."""
        algo = ALGORITHMS[self._algorithm]
        if getattr(self, "grad_scale", None) is not None or \
                getattr(self, "found_inf", None) is not None:
            raise RuntimeError("fastopt.torch optimizers take no grad_scale/found_inf; let "
                               "torch.amp.GradScaler unscale the gradients")
        views = self.__dict__.get("_fastopt_views")
        if views is None:
            views = self.__dict__["_fastopt_views"] = _Views()
        views.begin()
        plan, created, written, read = [], [], [], []
        for gi, group in enumerate(self.param_groups):
            hyper = self._check_options(group)
            keys = algo.arrays(hyper)
            calls = {}
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                what = tensor_name(gi, i)
                p_np, pkey = views.get(p, None, lambda: check_param(p, what))
                grad = p.grad
                if grad.layout != torch.strided or not grad.is_contiguous() or \
                        grad.is_neg() or grad.is_conj():
                    grad = check_grad(grad, p, what)       # raises, or a contiguous copy
                g_np, _ = views.get(grad, pkey, lambda: check_grad(grad, p, what))
                state = self.state.get(p)
                fresh = not state
                if fresh:
                    state = None
                scalars = []
                for key, init in algo.scalars:      # torch's key order: these first
                    t = None if fresh else state.get(key)
                    if t is None:
                        t = init(p, group)
                        created.append((state, p, key, t))
                    scalars.append(views.get(t, pkey, lambda: _check_scalar(t, key, what))[0])
                arrays, new_buffer = [], False
                for key in keys:
                    if key is None:
                        arrays.append(None)
                        continue
                    t = None if fresh else state.get(key)
                    if t is None:
                        t = algo.initial(key, p, group)
                        created.append((state, p, key, t))
                        new_buffer = True
                    arrays.append(views.get(t, pkey,
                                            lambda: check_state_tensor(t, p, key, what))[0])
                    written.append((t, f"state[{key!r}] of {what}"))
                if algo.name == "sgd":      # torch: a new buffer starts as the gradient
                    count = 0 if new_buffer else 1
                    ckey = (count + 1,)
                else:
                    count = _step_count(float(scalars[0]), what)
                    if count + 1 >= 2 ** 62:
                        raise ValueError(f"state['step'] of {what} is too large")
                    ckey = (count + 1,) + tuple(float(s) for s in scalars[1:])
                call = calls.get(ckey)
                if call is None:
                    call = calls[ckey] = _Call(count + 1, len(keys))
                call.params.append(p_np)
                call.grads.append(g_np)
                for k, a in enumerate(arrays):
                    call.states[k].append(a)
                if scalars:
                    call.steps.append(scalars[0])
                    call.mus.extend(scalars[1:])
                written.append((p, what))
                read.append((grad, f"the gradient of {what}"))
            plan.append((hyper, list(calls.values())))
        if sum(len(c) for _, c in plan) > 1:   # a single call is checked by the kernel
            check_disjoint(written, read)
        views.end()
        return plan, created

    def _run(self, hyper, call):
        algo = ALGORITHMS[self._algorithm]
        states = [None if not s or s[0] is None else s for s in call.states]
        extra = {}
        if algo.name == "nadam":
            # torch multiplies mu_product in its own (scalar) dtype and uses that rounded
            # product; the kernel forms mu_product * mu itself, so it gets product / mu.
            mu = nadam_mu(hyper["beta1"], hyper["momentum_decay"], call.step)
            products = [a * a.dtype.type(mu) for a in call.mus]
            extra["mu_product"] = float(products[0]) / mu if mu != 0 else 0.0
        algo.function(call.params, call.grads, *states, step=call.step, **hyper, **extra)
        for a, product in zip(call.mus, products if call.mus else ()):
            a[...] = product
        for a in call.steps:            # torch's step += 1, exact for a count
            a[...] = call.step

    def step(self, closure=None):
        """One step of every param group; returns the closure's loss (None without one).

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradients enabled before the update."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        plan, created = self._prepare()
        for state, p, key, t in created:
            (self.state[p] if state is None else state)[key] = t
        for hyper, calls in plan:
            for call in calls:
                self._run(hyper, call)
        return loss
