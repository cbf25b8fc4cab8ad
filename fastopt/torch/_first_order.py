"""The step shared by fastopt.torch's first-order optimizers.

Each class subclasses its ``torch.optim`` counterpart (signature, defaults, constructor checks,
``__setstate__``, ``state_dict``/``load_state_dict``, hooks and ``zero_grad`` are torch's) and
replaces ``step``: every param group becomes one call of the matching
:mod:`fastopt.functional` function -- one fused, GIL-released, multithreaded pass over all
the group's tensors -- on zero-copy ``tensor.numpy()`` views of the parameters, gradients and
state.  Group values (``lr``, ``betas``, ...) are read and checked at every step, so
schedulers work.  What a step is built from -- the tensors, their views and the result of
their checks, grouped into kernel calls -- is kept per param group between steps
(:class:`_Plan`) and reused while a cheap key of every tensor (identity, address, shape,
strides, dtype) and of the group (the group dict, its ``params`` list, ``opt.state``) is
unchanged; anything else (swapped ``.data``, replaced state, ``load_state_dict``,
``add_param_group``, a gradient that appears or goes away) rebuilds it with all checks.
New gradient tensors, as ``zero_grad()`` and ``backward()`` make every step, are checked
and viewed one by one without a rebuild.

A step is checked in full before anything is written: the group values (with torch's
messages), every parameter, gradient and state tensor, and -- when a step takes more than one
kernel call -- that no written tensor shares memory with another or with a gradient.  Only
then is missing state created (with torch's keys, dtypes and initial values) and the kernels
run, on torch's own OpenMP threads (:mod:`fastopt.torch._threads`).  Parameters of one group whose ``step`` counts differ (a parameter added later, a
checkpoint) take one call per distinct count.
"""
import math

import torch

from fastopt import functional as F
from fastopt.torch._checks import (
    check_disjoint, check_grad, check_param, check_state_tensor, group_nonneg, group_real,
    tensor_name,
)
from fastopt.torch._threads import ON_TORCH_THREADS


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
    (and the 0-d ``step`` views and NAdam ``mu_product`` views to advance after it).

    ``step`` is the step number the call runs; after a run it is advanced (for the
    algorithms that count steps) and ``mu`` is set to the ``mu_product`` written, so that a
    cached :class:`_Plan` knows what the scalar state must read at the next step."""

    __slots__ = ("step", "params", "grads", "states", "steps", "mus", "mu")

    def __init__(self, step, n_states):
        self.step = step
        self.params, self.grads = [], []
        self.states = [[] for _ in range(n_states)]
        self.steps, self.mus = [], []
        self.mu = None


def _key(t):
    """What a NumPy view of ``t`` and its checks depend on, besides the tensor object: the
    address, shape, strides, dtype (complex ones are rejected, so no conjugate bit) and the
    negative bit, which a view at the same address can carry.

    A view is only reused for the same tensor object with the same key.  The tensor
    owns the memory at its current address, and a view with the same address, shape,
    strides and dtype describes exactly that memory, so the view is not stale even when
    ``.data`` was swapped for storage that happens to sit at the old address."""
    return t.data_ptr(), t.shape, t.stride(), t.dtype, t.is_neg()


def _state_key(t):
    """:func:`_key` of a state tensor, and ``requires_grad``, which its check rejects."""
    return t.data_ptr(), t.shape, t.stride(), t.dtype, t.is_neg(), t.requires_grad


def _view(t):
    """A zero-copy NumPy view of ``t`` (``detach()`` only where it is needed: it costs
    more than the view)."""
    return t.detach().numpy() if t.requires_grad else t.numpy()


class _Slot:
    """One parameter with a gradient in a cached :class:`_Plan`: the tensors its part of the
    step was built from, with their keys, and where its gradient's view sits.

    ``tensors``: ``(state key, tensor, _state_key)`` of its scalar and array state;
    ``grad``/``gkey``: the gradient tensor whose view is in ``call.grads[index]`` and its
    key, or ``grad`` None when that view is of a contiguous copy (made again every step,
    since the gradient's values change); ``read``: its index in the plan's ``read``."""

    __slots__ = ("p", "pkey", "sd", "tensors", "grad", "gkey", "call", "index", "what",
                 "read")

    def __init__(self, p, pkey, sd, tensors, call, index, what, read):
        self.p, self.pkey, self.sd, self.tensors = p, pkey, sd, tensors
        self.call, self.index, self.what, self.read = call, index, what, read
        self.grad = self.gkey = None


def _checked_grad(grad, p, what):
    """``(tensor, view, reusable)`` for the gradient of ``p``: the gradient itself, checked,
    or (for a strided, non-contiguous one) a contiguous copy; ``reusable`` is False for a
    copy.  Raises the error naming the tensor."""
    if grad.layout != torch.strided or not grad.is_contiguous() or \
            grad.is_neg() or grad.is_conj():
        grad = check_grad(grad, p, what)       # raises, or a contiguous copy
        reusable = False
    else:
        check_grad(grad, p, what)
        reusable = True
    return grad, _view(grad), reusable


class _Plan:
    """One param group's step, kept between steps while nothing it was built from changed.

    Built by :meth:`FastoptStep._build` with every check, it holds the group's kernel calls
    (:class:`_Call`: NumPy views of parameters, gradients and state), and for each
    parameter what they were built from (:class:`_Slot`).  The next step reuses it when
    :meth:`reuse` finds, cheaply (a few attribute reads per tensor):

    * the same group dict at the same index of ``param_groups``, the same ``params`` list
      object of the same length, the same ``opt.state`` object, and the same state keys
      for the group's current options (``amsgrad``, ``momentum``, ``centered`` choose them);
    * for every parameter: the same tensor, with a gradient exactly where it had one; the
      same :func:`_key` (address, shape, strides, dtype); the same state dict, holding the
      same tensors under the same keys, each with the same :func:`_state_key`;
    * every ``step`` (and NAdam ``mu_product``) holding the value the last step wrote.

    Anything else -- a swapped ``.data``, a state tensor replaced or reshaped,
    ``load_state_dict`` (new groups and state), ``add_param_group``, a gradient that
    appears or goes away, an edited step count -- rebuilds the group's plan with all
    checks.  Gradients may change without a rebuild (``zero_grad()`` and ``backward()``
    make new ones every step): each new or changed gradient is checked, and its view
    replaced, by :meth:`_refresh_grad`.  Group values (``lr``, ``betas``, ...) are not part
    of the plan; they are read and checked at every step.

    No address is kept outside a NumPy view, and a view is used only while the tensor
    object it was made from still has the key it had then."""

    __slots__ = ("gi", "group", "params", "n", "keys", "state", "slots", "calls",
                 "written", "read")

    def __init__(self, gi, group, keys, state):
        self.gi, self.group, self.keys, self.state = gi, group, keys, state
        self.params = group["params"]
        self.n = len(self.params)
        self.slots, self.calls, self.written, self.read = [], [], [], []

    def reuse(self, gi, group, keys, state):
        """None when the plan is no longer what a full build would give (gradients
        aside); else the plan is brought up to date with the current gradients
        (:meth:`_refresh_grad`) and the result is whether any gradient changed.  Raises
        for a bad new gradient the error a full build would raise first: with everything
        else unchanged (and checked when the plan was built), that is the first bad
        gradient in the group's order."""
        params = group["params"]
        if gi != self.gi or group is not self.group or params is not self.params or \
                len(params) != self.n or keys != self.keys or state is not self.state:
            return None
        stale = []                    # (slot, gradient) of the gradients to check anew
        try:
            for p, s in zip(params, self.slots):
                g = p.grad
                if s is None:
                    if g is not None:
                        return None
                    continue
                # the keys inline (_key, _state_key): this loop is the cached step's cost
                if g is None or p is not s.p or \
                        (p.data_ptr(), p.shape, p.stride(), p.dtype, p.is_neg()) != s.pkey:
                    return None
                sd = state.get(p)
                if sd is not s.sd:
                    return None
                for k, t, tkey in s.tensors:
                    if sd.get(k) is not t or (t.data_ptr(), t.shape, t.stride(), t.dtype,
                                              t.is_neg(), t.requires_grad) != tkey:
                        return None
                c = s.call
                if c.steps and (float(c.steps[s.index]) != c.step - 1 or c.step >= 2 ** 62):
                    return None       # (a step count too large: the build raises)
                if c.mus and float(c.mus[s.index]) != c.mu:
                    return None
                if g is not s.grad:
                    stale.append((s, g))
                elif (g.data_ptr(), g.shape, g.stride(), g.dtype, g.is_neg()) != s.gkey:
                    stale.append((s, g))
        except Exception:     # something no longer a tensor or a dict: the build names it
            return None
        for s, g in stale:
            self._refresh_grad(s, g)
        return bool(stale)

    def _refresh_grad(self, s, g):
        """Check the gradient ``g`` of slot ``s`` and put its view in the call.

        The common case -- a dense, contiguous CPU tensor of the parameter's dtype and
        shape (taken from the parameter's key, checked this step) -- passes every check
        of :func:`~fastopt.torch._checks.check_grad` (a real dtype has no conjugate bit)
        with a few attribute reads; anything else goes through :func:`_checked_grad`."""
        _, shape, _, dtype, _ = s.pkey
        if g.layout is torch.strided and g.dtype is dtype and g.is_cpu and \
                g.shape == shape and g.is_contiguous() and not g.is_neg():
            grad, g_np = g, _view(g)
            s.grad, s.gkey = g, (g.data_ptr(), shape, g.stride(), dtype, False)
        else:
            grad, g_np, reusable = _checked_grad(g, s.p, s.what)
            s.grad, s.gkey = (grad, _key(grad)) if reusable else (None, None)
        s.call.grads[s.index] = g_np
        self.read[s.read] = (grad, self.read[s.read][1])


_IMMUTABLE = (float, int, bool, str, type(None))
_MISSING = object()


def _frozen(v):
    """Whether ``v`` cannot change in place (so the same object is the same value)."""
    return type(v) in _IMMUTABLE or (type(v) is tuple and
                                     all(type(x) in _IMMUTABLE for x in v))


class _Options:
    """A group's checked values, reused while every value but ``lr`` is the same object
    as when they were checked, and all of them are immutable (plain numbers, bools,
    strings, None, tuples of these: a tensor or a list value is checked every step).
    ``lr`` is read and checked at every step (schedulers set it); so is everything else
    whenever any value was set anew, as ``OneCycleLR`` does with ``betas``."""

    __slots__ = ("group", "items", "n", "hyper", "cacheable")

    def __init__(self, group, hyper):
        self.group, self.hyper, self.n = group, hyper, len(group)
        self.items = tuple((k, v) for k, v in group.items() if k not in ("params", "lr"))
        self.cacheable = all(_frozen(v) for _, v in self.items)

    def current(self, group):
        """The functional's keyword arguments, or None when anything but ``lr`` changed."""
        if group is not self.group or len(group) != self.n:
            return None
        for k, v in self.items:
            if group.get(k, _MISSING) is not v:
                return None
        hyper = dict(self.hyper)
        hyper["lr"] = group_nonneg(group, "lr", "learning rate")
        return hyper


class FastoptStep:
    """Mixin put before a torch.optim class: fastopt's ``step`` and stricter group checks.

    ``_algorithm`` names the entry of :data:`ALGORITHMS`.  The optimizer keeps one
    :class:`_Plan` per param group in ``__dict__['_fastopt_plans']`` (not part of
    torch's ``__getstate__``, so copies, pickles and ``state_dict`` never carry it).
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

    def _build(self, algo, gi, group, keys, created):
        """The group's :class:`_Plan`, every tensor checked; the state to create is appended
        to ``created`` as ``(state dict or None, param, key, tensor)``."""
        plan = _Plan(gi, group, keys, self.state)
        calls = {}
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                plan.slots.append(None)
                continue
            what = tensor_name(gi, i)
            check_param(p, what)
            pkey, p_np = _key(p), _view(p)
            grad, g_np, reusable = _checked_grad(p.grad, p, what)
            state = self.state.get(p)
            sd = state
            fresh = not state
            if fresh:
                state = None
            scalars, tensors = [], []
            for key, init in algo.scalars:      # torch's key order: these first
                t = None if fresh else state.get(key)
                if t is None:
                    t = init(p, group)
                    created.append((state, p, key, t))
                _check_scalar(t, key, what)
                scalars.append(_view(t))
                tensors.append((key, t, _state_key(t)))
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
                check_state_tensor(t, p, key, what)
                arrays.append(_view(t))
                tensors.append((key, t, _state_key(t)))
                plan.written.append((t, f"state[{key!r}] of {what}"))
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
                if len(ckey) > 1:
                    call.mu = ckey[1]
            slot = _Slot(p, pkey, sd, tensors, call, len(call.params), what, len(plan.read))
            if reusable:
                slot.grad, slot.gkey = grad, _key(grad)
            plan.slots.append(slot)
            call.params.append(p_np)
            call.grads.append(g_np)
            for k, a in enumerate(arrays):
                call.states[k].append(a)
            if scalars:
                call.steps.append(scalars[0])
                call.mus.extend(scalars[1:])
            plan.written.append((p, what))
            plan.read.append((grad, f"the gradient of {what}"))
        plan.calls = list(calls.values())
        return plan

    def _prepare(self):
        """Check everything a step touches and list its kernel calls; writes nothing.

        Returns ``(plans, created)``: per group ``(hyper, _Plan)``, and the state entries
        to create ``(state dict or None, param, key, tensor)`` once all checks passed.
        Each group's cached plan is reused where :meth:`_Plan.reuse` allows, else rebuilt;
        the plans kept for the next step are those whose step creates no state (state
        created now changes the state dicts the plan was built from)."""
        algo = ALGORITHMS[self._algorithm]
        if getattr(self, "grad_scale", None) is not None or \
                getattr(self, "found_inf", None) is not None:
            raise RuntimeError("fastopt.torch optimizers take no grad_scale/found_inf; let "
                               "torch.amp.GradScaler unscale the gradients")
        cache = self.__dict__.get("_fastopt_plans") or {}
        self.__dict__["_fastopt_plans"] = {}      # until this step is checked in full
        options = self.__dict__.get("_fastopt_options") or {}
        out, kept, kept_options, created, changed = [], {}, {}, [], False
        for gi, group in enumerate(self.param_groups):
            o = options.get(id(group))
            hyper = None if o is None else o.current(group)
            if hyper is None:
                hyper = self._check_options(group)
                o = _Options(group, hyper)
            if o.cacheable:
                kept_options[id(group)] = o
            keys = algo.arrays(hyper)
            plan = cache.get(id(group))
            reused = None if plan is None else plan.reuse(gi, group, keys, self.state)
            if reused is not None:
                changed |= reused
                kept[id(group)] = plan
            else:
                n_created = len(created)
                plan = self._build(algo, gi, group, keys, created)
                changed = True
                if len(created) == n_created:
                    kept[id(group)] = plan
            out.append((hyper, plan))
        # a single call is checked by the kernel; several are checked here, again whenever
        # a tensor changed (else the written tensors' keys and the gradients did not)
        if changed and sum(len(plan.calls) for _, plan in out) > 1:
            check_disjoint([w for _, plan in out for w in plan.written],
                           [r for _, plan in out for r in plan.read])
        self.__dict__["_fastopt_plans"] = kept
        self.__dict__["_fastopt_options"] = kept_options
        return out, created

    def _run(self, hyper, call):
        """One kernel call, then its scalar state advanced (and ``call`` with it)."""
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
        if algo.scalars:                # what the scalars hold now, for _Plan.reuse
            call.step += 1
            if call.mus:
                call.mu = float(products[0])

    def step(self, closure=None):
        """One step of every param group; returns the closure's loss (None without one).

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradients enabled before the update."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        plans, created = self._prepare()
        for state, p, key, t in created:
            (self.state[p] if state is None else state)[key] = t
        try:
            with ON_TORCH_THREADS:
                for hyper, plan in plans:
                    for call in plan.calls:
                        self._run(hyper, call)
        except BaseException:
            self.__dict__["_fastopt_plans"] = {}    # a call not run: its plan is stale
            raise
        for hyper, plan in plans:     # calls that now coincide: a build would merge them
            if len(plan.calls) > 1 and \
                    len({(c.step, c.mu) for c in plan.calls}) < len(plan.calls):
                self.__dict__["_fastopt_plans"].pop(id(plan.group), None)
        return loss

