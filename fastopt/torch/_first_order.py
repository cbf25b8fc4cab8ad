"""The step shared by fastopt.torch's first-order optimizers.

Each class subclasses its ``torch.optim`` counterpart (signature, defaults, constructor checks,
``__setstate__``, ``state_dict``/``load_state_dict``, hooks and ``zero_grad`` are torch's) and
replaces ``step``: every param group becomes one call of fastopt's kernel of the same
algorithm -- one fused, GIL-released, multithreaded pass over all the group's tensors, in
place on their memory.  Group values (``lr``, ``betas``, ...) are read and checked at every
step, so schedulers work.  What a step is built from -- the tensors, the result of their
checks, grouped into kernel calls -- is kept per param group between steps
(:class:`fastopt.torch._plan.Plan`) and reused while a cheap key of every tensor (its
identity and address; a parameter's shape and strides) and of the group (the group dict,
its ``params`` list, ``opt.state``) is unchanged; anything else (swapped ``.data``,
replaced state, ``load_state_dict``, ``add_param_group``, a gradient that appears or goes
away) rebuilds it with all checks.  The gradients, new tensors at every step after
``zero_grad()`` and ``backward()``, are checked one by one at every step without a
rebuild.

A step is checked in full before anything is written: the group values (with torch's
messages), every parameter, gradient and state tensor, that no written tensor shares memory
with another or with a gradient.  Only then is missing state created (with torch's keys,
dtypes and initial values) and the kernels run, on torch's own OpenMP threads
(:mod:`fastopt.torch._threads`).  Parameters of one group whose ``step`` counts differ (a
parameter added later, a checkpoint) take one call per distinct count.
"""
import functools
import math

import torch
from torch.optim import optimizer as torch_optimizer

from fastopt._kernels.algorithms import ALGORITHMS as ALGORITHM_IDS
from fastopt.torch._checks import (
    check_grad, check_param, check_state_tensor, group_nonneg, group_real, tensor_name,
)
from fastopt.torch._plan import (
    Call, Options, Plan, Slot, Spans, run_step, seen_items, state_key, step_cached,
)
from fastopt.torch._threads import torch_team


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
    """The kernel's hyperparameters read from ``group``, with torch's messages, as a dict
    of plain numbers under the param-group keys the kernels read (fastopt.optim's, which
    are torch's): ``lr``, ``weight_decay``, ``maximize``, then ``spec``'s ``(key, what)``
    -- ``what`` the name in ``Invalid {what}`` for a value that must be >= 0, None for a
    bool flag; ``betas`` a pair of floats."""
    h = dict(lr=group_nonneg(group, "lr", "learning rate"),
             weight_decay=group_nonneg(group, "weight_decay", "weight_decay value"),
             maximize=_flag(group, "maximize"))
    for key, what in spec:
        if key == "betas":
            h["betas"] = tuple(_betas(group))
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
    return _hyper(group, (("lr_decay", "lr_decay value"), ("eps", "epsilon value"),
                          ("initial_accumulator_value", "initial_accumulator_value value")))


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


def nadam_mu(beta1, momentum_decay, step):
    """NAdam's momentum schedule mu_t, in the arithmetic of torch.optim.NAdam."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


def _nadam_mu(hyper, call):
    """NAdam's ``(mu, mu_product for the kernel)`` for the call's step: torch multiplies
    mu_product in its own (scalar) dtype and uses that rounded product; the kernel forms
    mu_product * mu itself, so it gets product / mu."""
    mu = nadam_mu(hyper["betas"][0], hyper["momentum_decay"], call.step)
    return mu, (call.mu_times(mu) / mu if mu != 0 else 0.0)


class Algorithm:
    """How one torch.optim algorithm maps onto fastopt's kernel of the same name.

    ``hyper(group)``: the kernel's hyperparameters, checked with torch's messages;
    ``mu_of``: NAdam's schedule for :func:`~fastopt.torch._plan.run_step`;
    ``arrays(h)``: the kernel's state arguments in order, each the state key (None for an
    argument these options leave unused); ``scalars``: the 0-d state kept per parameter
    (torch's ``step``, NAdam's ``mu_product``) with its initial value; ``init``: how torch
    initializes each state array."""

    def __init__(self, name, hyper, arrays, scalars, init=None):
        self.name, self.id, self.hyper = name, ALGORITHM_IDS[name], hyper
        self.arrays, self.scalars = arrays, scalars
        self.mu_of = _nadam_mu if name == "nadam" else None
        self.init = init or {}

    def initial(self, key, p, group):
        return self.init.get(key, _zeros)(p, group)


ALGORITHMS = {
    "sgd": Algorithm("sgd", sgd_hyper,
                     lambda h: ("momentum_buffer" if h["momentum"] != 0 else None,), ()),
    "adagrad": Algorithm("adagrad", adagrad_hyper, lambda h: ("sum",),
                         (("step", _step0),), {"sum": _accumulator}),
    "adadelta": Algorithm("adadelta", adadelta_hyper,
                          lambda h: ("square_avg", "acc_delta"), (("step", _step0),)),
    "rmsprop": Algorithm("rmsprop", rmsprop_hyper,
                         lambda h: ("square_avg",
                                    "momentum_buffer" if h["momentum"] > 0 else None,
                                    "grad_avg" if h["centered"] else None),
                         (("step", _step0),)),
    "adam": Algorithm("adam", adam_hyper,
                      lambda h: ("exp_avg", "exp_avg_sq",
                                 "max_exp_avg_sq" if h["amsgrad"] else None),
                      (("step", _step0),)),
    "adamax": Algorithm("adamax", adamax_hyper, lambda h: ("exp_avg", "exp_inf"),
                        (("step", _step0),)),
    "nadam": Algorithm("nadam", nadam_hyper, lambda h: ("exp_avg", "exp_avg_sq"),
                       (("step", _step0), ("mu_product", _mu0))),
}


def _step_count(value, what):
    """The number of steps taken so far, from the value of torch's ``step`` state."""
    if not (value >= 0 and value.is_integer()):
        raise ValueError(f"state['step'] of {what} is {value!r}, not a count of steps")
    return int(value)


def _check_scalar(t, key, what):
    if not (isinstance(t, torch.Tensor) and t.numel() == 1 and
            t.dtype in (torch.float32, torch.float64) and t.device.type == "cpu" and
            t.layout == torch.strided and not t.is_neg()):
        raise TypeError(f"state[{key!r}] of {what} is {t!r}; expected a one-element CPU "
                        "float32 or float64 tensor (torch keeps it in one of these)")


_IMMUTABLE = (float, int, bool, str, type(None))


def _frozen(v):
    """Whether ``v`` cannot change in place (so the same object is the same value)."""
    return type(v) in _IMMUTABLE or (type(v) is tuple and
                                     all(type(x) in _IMMUTABLE for x in v))


def _options(group, hyper, keys):
    """The :class:`~fastopt.torch._plan.Options` of a group whose values were just checked."""
    items = tuple((k, v) for k, v in group.items() if k not in ("params", "lr"))
    return Options(group, hyper, keys, items, all(_frozen(v) for _, v in items))


def _lr(group):
    return group_nonneg(group, "lr", "learning rate")


def _with_step_hooks(step):
    """``step`` as torch.optim runs every optimizer's ``step``: its step pre/post hooks
    (the optimizer's and the global ones) and, under a profiler, a record named
    ``Optimizer.step#<class>.step`` -- through torch's own wrapper
    (``Optimizer.profile_hook_step``) whenever a hook is registered or a profiler runs,
    and straight otherwise.  torch's wrapper enters its profiler record even with no
    profiler running, and after a backward that costs about as much as a small model's
    whole step.  The result is marked ``hooked``, so torch does not wrap it again.  A
    torch without the hook registries this relies on gets torch's wrapper always."""
    traced = torch.optim.Optimizer.profile_hook_step(step)
    pre = getattr(torch_optimizer, "_global_optimizer_pre_hooks", None)
    post = getattr(torch_optimizer, "_global_optimizer_post_hooks", None)
    profiling = getattr(torch.autograd, "_profiler_enabled", None)
    if pre is None or post is None or profiling is None:
        traced.hooked = True
        return traced

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if pre or post or self._optimizer_step_pre_hooks or \
                self._optimizer_step_post_hooks or profiling():
            return traced(self, *args, **kwargs)
        out = step(self, *args, **kwargs)
        self._optimizer_step_code()
        return out
    wrapper.hooked = True
    return wrapper


class FastoptStep:
    """Mixin put before a torch.optim class: fastopt's ``step`` and stricter group checks.

    ``_algorithm`` names the entry of :data:`ALGORITHMS`.  The optimizer keeps one
    :class:`~fastopt.torch._plan.Plan` per param group in ``__dict__['_fastopt_plans']``
    (not part of torch's ``__getstate__``, so copies, pickles and ``state_dict`` never
    carry it).
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
        """The group's values as the kernel's hyperparameters; ValueError/TypeError
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
        """The group's :class:`~fastopt.torch._plan.Plan`, every tensor checked; the state
        to create is appended to ``created`` as ``(state dict or None, param, key,
        tensor)``."""
        plan = Plan(gi, group, keys, self.state)
        calls = {}
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                plan.slots.append(None)
                continue
            what = tensor_name(gi, i)
            check_param(p, what)
            grad = check_grad(p.grad, p, what)
            state = self.state.get(p)
            sd = state
            fresh = not state
            if fresh:
                state = None
            scalars, tensors = [], []
            for skey, init in algo.scalars:     # torch's key order: these first
                t = None if fresh else state.get(skey)
                if t is None:
                    t = init(p, group)
                    created.append((state, p, skey, t))
                _check_scalar(t, skey, what)
                scalars.append(t)
                tensors.append((skey, t, state_key(t)))
            arrays, new_buffer = [], False
            for skey in keys:
                if skey is None:
                    arrays.append(None)
                    continue
                t = None if fresh else state.get(skey)
                if t is None:
                    t = algo.initial(skey, p, group)
                    created.append((state, p, skey, t))
                    new_buffer = True
                check_state_tensor(t, p, skey, what)
                arrays.append(t)
                tensors.append((skey, t, state_key(t)))
                plan.written.append((t, f"state[{skey!r}] of {what}"))
            if algo.name == "sgd":      # torch: a new buffer starts as the gradient
                count = 0 if new_buffer else 1
                ckey = (count + 1,)
            else:
                count = _step_count(scalars[0].item(), what)
                if count + 1 >= 2 ** 62:
                    raise ValueError(f"state['step'] of {what} is too large")
                ckey = (count + 1,) + tuple(float(s) for s in scalars[1:])
            call = calls.get(ckey)
            if call is None:
                call = calls[ckey] = Call(count + 1, len(algo.scalars) > 0,
                                          len(algo.scalars) > 1)
                if len(ckey) > 1:
                    call.mu = ckey[1]
            plan.slots.append(Slot(p, sd, tuple(tensors), call,
                                   call.add(p, grad, arrays, what, *scalars), what))
            plan.written.append((p, what))
        plan.calls = list(calls.values())
        return plan

    def _prepare(self):
        """Check everything a step touches and list its kernel calls; writes nothing.

        Returns ``(plans, created)``: per group ``(hyper, Plan)``, and the state entries
        to create ``(state dict or None, param, key, tensor)`` once all checks passed.
        Each group's cached plan is reused where :meth:`Plan.reuse` allows, else rebuilt;
        the plans kept for the next step are those whose step creates no state (state
        created now changes the state dicts the plan was built from).  The overlap check
        of the written tensors runs whenever a plan was rebuilt, that of the gradients
        at every step."""
        algo = ALGORITHMS[self._algorithm]
        if self.__dict__.get("grad_scale") is not None or \
                self.__dict__.get("found_inf") is not None:     # set by torch.amp.GradScaler
            raise RuntimeError("fastopt.torch optimizers take no grad_scale/found_inf; let "
                               "torch.amp.GradScaler unscale the gradients")
        cache = self.__dict__.get("_fastopt_plans") or {}
        spans = self.__dict__.get("_fastopt_spans")
        self.__dict__["_fastopt_plans"] = {}      # until this step is checked in full
        options = self.__dict__.get("_fastopt_options") or {}
        out, kept, kept_options, created = [], {}, {}, []
        rebuilt = False
        for gi, group in enumerate(self.param_groups):
            o = options.get(id(group))
            hyper = None if o is None else o.current(group, _lr)
            if hyper is None:
                hyper = self._check_options(group)
                o = _options(group, hyper, algo.arrays(hyper))
            if o.cacheable:
                kept_options[id(group)] = o
            keys = o.keys
            plan = cache.get(id(group))
            reused = None if plan is None else plan.reuse(gi, group, keys, self.state)
            if reused is not None:
                kept[id(group)] = plan
            else:
                n_created = len(created)
                plan = self._build(algo, gi, group, keys, created)
                rebuilt = True
                if len(created) == n_created:
                    kept[id(group)] = plan
            out.append((hyper, plan))
        plans = tuple(plan for _, plan in out)
        if rebuilt or spans is None or len(spans[0]) != len(plans) or \
                any(a is not b for a, b in zip(spans[0], plans)):
            spans = (plans, Spans([w for plan in plans for w in plan.written]))
        spans[1].check_grads([call for plan in plans for call in plan.calls])
        self.__dict__["_fastopt_plans"] = kept
        self.__dict__["_fastopt_options"] = kept_options
        self.__dict__["_fastopt_spans"] = spans
        self.__dict__["_fastopt_state_seen"] = seen_items(self.state)
        return out, created

    @_with_step_hooks
    def step(self, closure=None):
        """One step of every param group; returns the closure's loss (None without one).

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradients enabled before the update.  The step runs on the plans kept from the
        last step where they can be reused (:func:`~fastopt.torch._plan.step_cached`),
        else it is prepared in full."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        algo = ALGORITHMS[self._algorithm]
        team = torch_team()
        if step_cached(self, algo.id, algo.mu_of, _lr, team):
            return loss
        plans, created = self._prepare()
        for state, p, key, t in created:
            (self.state[p] if state is None else state)[key] = t
        run_step(self.__dict__, plans, algo.id, algo.mu_of, team)
        return loss
