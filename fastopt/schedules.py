r"""Hyperparameter schedules: plain callables of the step number, and their attachment to an
optimizer.

A schedule maps the step count ``n`` (0 for the first update, as in optax) to a value,
computed in double precision once per step, never per element::

    >>> from fastopt import schedules
    >>> s = schedules.step_decay(0.1, rate=0.5, every=10)
    >>> s(0), s(8), s(9)
    (0.1, 0.1, 0.05)

:func:`attach` wraps any fastopt optimizer so that each ``step`` first sets the chosen
hyperparameters of its param groups (``lr``, ``momentum``, ``weight_decay``, ...; ``beta1``
and ``beta2`` address the two entries of ``betas``) to the schedules' values for its own step
number.  Its ``state_dict()`` holds the optimizer's state, the step count and the state of
every schedule that has one (:class:`ReduceOnPlateau`), which is all that resuming needs.

The schedules (``n`` the step count, ``eta0`` the initial value):

=========================  =====================================================================
:func:`constant`           ``eta0``
:func:`time_based`         ``eta0 / (1 + d n)``
:func:`step_decay`         ``eta0 d^floor((1 + n) / r)``
:func:`exponential`        ``eta0 exp(-d n)``
:func:`linear`             from ``init_value`` to ``end_value`` in ``steps`` steps (warm-up)
:func:`polynomial`         ``(init - end) (1 - n / steps)^power + end``
:func:`cosine`             half a cosine from ``init_value`` to ``final_value`` in ``steps``
:func:`cosine_restarts`    SGDR: cosine cycles of ``T_0``, ``T_0 T_mult``, ... steps
:func:`one_cycle`          warm-up to ``max_value`` then annealing (Smith & Topin)
:class:`ReduceOnPlateau`   divides by ``1/factor`` when a metric stops improving
:func:`join`               one schedule after another at given boundaries (warm-up + cosine)
:func:`per_epoch`          a schedule of the epoch number, held for each step of the epoch
=========================  =====================================================================

References: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts"
(2017); Smith & Topin, "Super-Convergence" (2018); Darken, Chang & Moody, "Learning rate
schedules for faster stochastic gradient search" (1992).  Names and edge behaviour follow
``torch.optim.lr_scheduler`` and optax where they have the same schedule; see
``docs/training.md``.
"""
import math
import numbers

__all__ = ["Schedule", "constant", "time_based", "step_decay", "exponential", "linear",
           "polynomial", "cosine", "cosine_restarts", "one_cycle", "ReduceOnPlateau", "join",
           "per_epoch", "warmup_cosine", "attach", "Scheduled"]


def _real(value, name, *, positive=False, nonnegative=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _count(value, name, *, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _step_number(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"a schedule takes an integer step number, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"the step number must be >= 0, got {n}")
    return int(n)


class Schedule:
    """A schedule: ``schedule(n)`` is its value (a Python float) at step count ``n >= 0``.

    Subclasses implement ``_value(n)``.  Schedules with state (:class:`ReduceOnPlateau`, and
    :func:`join` of one) also have ``observe(metric)``; ``state_dict()`` /
    ``load_state_dict()`` carry that state (an empty dict for the stateless ones).
    """

    def __init__(self, name, value, params):
        self._name = name
        self._value = value
        self._params = params

    def __call__(self, n):
        return float(self._value(_step_number(n)))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{self._name}({args})"

    @property
    def stateful(self):
        """True if the values depend on more than the step number (a metric)."""
        return False

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        if state not in ({}, None):
            raise ValueError(f"{self!r} has no state to load, got {state!r}")


def constant(value):
    """The same value at every step.

    >>> constant(0.01)(1000)
    0.01
    """
    value = _real(value, "value")
    return Schedule("constant", lambda n: value, {"value": value})


def time_based(init_value, decay):
    r"""Time-based decay ``eta0 / (1 + decay * n)``.

    >>> time_based(1.0, decay=0.5)(2)
    0.5
    """
    init_value = _real(init_value, "init_value")
    decay = _real(decay, "decay", nonnegative=True)
    return Schedule("time_based", lambda n: init_value / (1.0 + decay * n),
                    {"init_value": init_value, "decay": decay})


def step_decay(init_value, rate, every):
    r"""Step decay ``eta0 * rate^floor((1 + n) / every)``: multiplied by ``rate`` every
    ``every`` steps.  With this formula (the literature's) the first drop is at
    ``n = every - 1``, one step before ``torch.optim.lr_scheduler.StepLR(step_size=every,
    gamma=rate)``, whose value at epoch ``e`` is ``step_decay(...)(e - 1)``.

    >>> s = step_decay(1.0, rate=0.5, every=2)
    >>> [s(n) for n in range(5)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """
    init_value = _real(init_value, "init_value")
    rate = _real(rate, "rate", nonnegative=True)
    every = _count(every, "every")
    return Schedule("step_decay", lambda n: init_value * rate ** ((1 + n) // every),
                    {"init_value": init_value, "rate": rate, "every": every})


def exponential(init_value, decay):
    r"""Exponential decay ``eta0 * exp(-decay * n)``; torch's ``ExponentialLR(gamma)`` is
    ``decay = -log(gamma)``.

    >>> round(exponential(1.0, decay=math.log(2))(3), 12)
    0.125
    """
    init_value = _real(init_value, "init_value")
    decay = _real(decay, "decay", nonnegative=True)
    return Schedule("exponential", lambda n: init_value * math.exp(-decay * n),
                    {"init_value": init_value, "decay": decay})


def linear(init_value, end_value, steps):
    r"""Linear from ``init_value`` at ``n = 0`` to ``end_value`` at ``n = steps``, then
    constant: the usual warm-up (optax's ``linear_schedule``; torch's ``LinearLR`` with
    ``start_factor = init/base`` and ``end_factor = end/base``).

    >>> s = linear(0.0, 1.0, steps=4)
    >>> [s(n) for n in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    init_value = _real(init_value, "init_value")
    end_value = _real(end_value, "end_value")
    steps = _count(steps, "steps")

    def value(n):
        if n >= steps:
            return end_value
        return init_value + (end_value - init_value) * (n / steps)
    return Schedule("linear", value,
                    {"init_value": init_value, "end_value": end_value, "steps": steps})


def polynomial(init_value, end_value, steps, power=1.0):
    r"""Polynomial decay ``(init - end) * (1 - n / steps)^power + end`` for ``n <= steps``,
    then ``end_value`` (optax's ``polynomial_schedule``; torch's ``PolynomialLR`` is
    ``end_value = 0``).

    >>> s = polynomial(1.0, 0.0, steps=4, power=2)
    >>> [s(n) for n in range(6)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    init_value = _real(init_value, "init_value")
    end_value = _real(end_value, "end_value")
    steps = _count(steps, "steps")
    power = _real(power, "power", positive=True)

    def value(n):
        if n >= steps:
            return end_value
        return (init_value - end_value) * (1.0 - n / steps) ** power + end_value
    return Schedule("polynomial", value, {"init_value": init_value, "end_value": end_value,
                                          "steps": steps, "power": power})


def _half_cosine(start, end, fraction):
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * fraction))


def cosine(init_value, steps, final_value=0.0):
    r"""Cosine annealing ``final + (init - final) * (1 + cos(pi * n / steps)) / 2`` for
    ``n <= steps``, then ``final_value``.  Equals ``torch.optim.lr_scheduler.
    CosineAnnealingLR(T_max=steps, eta_min=final_value)`` for ``n <= steps`` (torch's
    rises again after ``T_max``; this one stays at the end, as optax's).

    >>> s = cosine(1.0, steps=2)
    >>> [round(s(n), 12) for n in range(4)]
    [1.0, 0.5, 0.0, 0.0]
    """
    init_value = _real(init_value, "init_value")
    final_value = _real(final_value, "final_value")
    steps = _count(steps, "steps")

    def value(n):
        return _half_cosine(init_value, final_value, min(n, steps) / steps)
    return Schedule("cosine", value,
                    {"init_value": init_value, "steps": steps, "final_value": final_value})


def cosine_restarts(init_value, T_0, T_mult=1, final_value=0.0):
    r"""Cosine annealing with warm restarts (SGDR): the ``i``-th cycle lasts
    ``T_0 * T_mult^i`` steps and anneals from ``init_value`` towards ``final_value``, then the
    value jumps back to ``init_value``.  Same as ``torch.optim.lr_scheduler.
    CosineAnnealingWarmRestarts(T_0, T_mult, eta_min=final_value)``; the cycle is found with
    integer arithmetic, so restarts fall exactly on their steps.

    >>> s = cosine_restarts(1.0, T_0=2, T_mult=2)
    >>> [round(s(n), 12) for n in range(7)]
    [1.0, 0.5, 1.0, 0.853553390593, 0.5, 0.146446609407, 1.0]
    """
    init_value = _real(init_value, "init_value")
    final_value = _real(final_value, "final_value")
    T_0 = _count(T_0, "T_0")
    T_mult = _count(T_mult, "T_mult")

    def value(n):
        length = T_0
        if T_mult == 1:
            n %= T_0
        else:
            while n >= length:
                n -= length
                length *= T_mult
        return _half_cosine(init_value, final_value, n / length)
    return Schedule("cosine_restarts", value, {"init_value": init_value, "T_0": T_0,
                                               "T_mult": T_mult, "final_value": final_value})


def one_cycle(max_value, total_steps, *, pct_start=0.3, anneal_strategy="cos",
              div_factor=25.0, final_div_factor=1e4, three_phase=False):
    r"""The one-cycle policy, as ``torch.optim.lr_scheduler.OneCycleLR`` (same arguments and
    defaults): from ``max_value / div_factor`` up to ``max_value`` over the first
    ``pct_start`` of ``total_steps``, then down to ``max_value / div_factor /
    final_div_factor`` at step ``total_steps - 1`` (``three_phase``: back to the initial value
    first, then down to the minimum).  ``anneal_strategy`` is ``"cos"`` or ``"linear"``.
    Steps past ``total_steps - 1`` keep the final value (torch raises there).

    For the momentum cycle torch pairs with it, attach a second one-cycle to ``momentum`` or
    ``beta1`` (e.g. ``one_cycle(0.95, N, div_factor=0.95 / 0.85, final_div_factor=1)`` goes
    0.85 -> 0.95 -> 0.85 the other way round: see docs/training.md).

    >>> s = one_cycle(1.0, total_steps=11, pct_start=0.5, anneal_strategy="linear",
    ...               div_factor=10, final_div_factor=1)
    >>> [round(s(n), 12) for n in (0, 2, 4, 7, 10)]
    [0.1, 0.5, 0.9, 0.590909090909, 0.1]
    """
    max_value = _real(max_value, "max_value")
    total_steps = _count(total_steps, "total_steps", minimum=2)
    pct_start = _real(pct_start, "pct_start")
    if not 0.0 < pct_start < 1.0:
        raise ValueError(f"pct_start must be in (0, 1), got {pct_start}")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
    div_factor = _real(div_factor, "div_factor", positive=True)
    final_div_factor = _real(final_div_factor, "final_div_factor", positive=True)
    initial = max_value / div_factor
    minimum = initial / final_div_factor
    up_end = float(pct_start * total_steps) - 1.0
    last = float(total_steps - 1)
    if three_phase:
        phases = [(up_end, initial, max_value),
                  (float(2 * pct_start * total_steps) - 2.0, max_value, initial),
                  (last, initial, minimum)]
    else:
        phases = [(up_end, initial, max_value), (last, max_value, minimum)]
    if anneal_strategy == "cos":
        def anneal(start, end, fraction):
            return _half_cosine(start, end, fraction)
    else:
        def anneal(start, end, fraction):
            return (end - start) * fraction + start

    def value(n):
        n = min(n, total_steps - 1)
        begin = 0.0
        for i, (end_step, start, stop) in enumerate(phases):
            if n <= end_step or i == len(phases) - 1:
                span = end_step - begin
                return anneal(start, stop, (n - begin) / span if span > 0 else 1.0)
            begin = end_step
        raise AssertionError("unreachable")
    return Schedule("one_cycle", value, {
        "max_value": max_value, "total_steps": total_steps, "pct_start": pct_start,
        "anneal_strategy": anneal_strategy, "div_factor": div_factor,
        "final_div_factor": final_div_factor, "three_phase": bool(three_phase)})


class ReduceOnPlateau(Schedule):
    r"""Reduce the value when a metric has stopped improving, as
    ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (same arguments and defaults).

    ``observe(metric)`` (once per epoch, usually with the validation loss) counts the
    observations that did not improve on the best one: in ``mode="min"`` an improvement is
    ``metric < best * (1 - threshold)`` (``threshold_mode="rel"``) or ``metric < best -
    threshold`` (``"abs"``); ``"max"`` mirrors it.  After more than ``patience`` such
    observations the value is multiplied by ``factor`` (not below ``min_value``; a change
    smaller than ``eps`` is skipped) and ``cooldown`` observations are ignored.  The value
    does not depend on the step number; ``state_dict()`` has everything that resuming needs.

    >>> s = ReduceOnPlateau(1.0, factor=0.5, patience=1)
    >>> for loss in (3.0, 2.0, 2.0, 2.0, 2.0, 2.0):   # 2 bad ones after the best: halved
    ...     s.observe(loss)
    >>> s(0)
    0.25
    """

    def __init__(self, init_value, *, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_value=0.0, eps=1e-8):
        init_value = _real(init_value, "init_value")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        factor = _real(factor, "factor")
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"factor must be in [0, 1), got {factor}")
        params = {"init_value": init_value, "mode": mode, "factor": factor,
                  "patience": _count(patience, "patience", minimum=0),
                  "threshold": _real(threshold, "threshold", nonnegative=True),
                  "threshold_mode": threshold_mode,
                  "cooldown": _count(cooldown, "cooldown", minimum=0),
                  "min_value": _real(min_value, "min_value", nonnegative=True),
                  "eps": _real(eps, "eps", nonnegative=True)}
        super().__init__("ReduceOnPlateau", lambda n: self._current, params)
        self.__dict__.update({k: v for k, v in params.items() if k != "init_value"})
        self._current = init_value
        self._best = math.inf if mode == "min" else -math.inf
        self._num_bad = 0
        self._cooldown_left = 0

    @property
    def stateful(self):
        return True

    def _improves(self, metric):
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return metric < (self._best * (1.0 - self.threshold) if rel
                             else self._best - self.threshold)
        return metric > (self._best * (1.0 + self.threshold) if rel
                         else self._best + self.threshold)

    def observe(self, metric):
        """Record one value of the monitored metric (e.g. the validation loss)."""
        metric = float(metric)
        if self._improves(metric):
            self._best = metric
            self._num_bad = 0
        else:
            self._num_bad += 1
        if self._cooldown_left > 0:
            self._cooldown_left -= 1
            self._num_bad = 0
        if self._num_bad > self.patience:
            new = max(self._current * self.factor, self.min_value)
            if self._current - new > self.eps:
                self._current = new
            self._cooldown_left = self.cooldown
            self._num_bad = 0

    def state_dict(self):
        return {"value": self._current, "best": self._best, "num_bad": self._num_bad,
                "cooldown_left": self._cooldown_left}

    def load_state_dict(self, state):
        if not isinstance(state, dict) or set(state) != {"value", "best", "num_bad",
                                                         "cooldown_left"}:
            raise ValueError("a ReduceOnPlateau state must be a dict with keys 'value', "
                             f"'best', 'num_bad', 'cooldown_left', got {state!r}")
        value = _real(state["value"], "state['value']")
        best = float(state["best"])
        num_bad = _count(state["num_bad"], "state['num_bad']", minimum=0)
        cooldown = _count(state["cooldown_left"], "state['cooldown_left']", minimum=0)
        self._current, self._best, self._num_bad, self._cooldown_left = (
            value, best, num_bad, cooldown)


class _Joined(Schedule):
    def __init__(self, parts, boundaries):
        self._parts = parts
        self._boundaries = boundaries

        def value(n):
            start = 0
            for part, boundary in zip(parts, boundaries + [None]):
                if boundary is None or n < boundary:
                    return part(n - start)
                start = boundary
        super().__init__("join", value, {"schedules": parts, "boundaries": boundaries})

    @property
    def stateful(self):
        return any(p.stateful for p in self._parts)

    def observe(self, metric):
        """Forward the metric to the stateful parts (:class:`ReduceOnPlateau`)."""
        for part in self._parts:
            if part.stateful:
                part.observe(metric)

    def state_dict(self):
        return {"parts": [p.state_dict() for p in self._parts]}

    def load_state_dict(self, state):
        if (not isinstance(state, dict) or set(state) != {"parts"}
                or len(state["parts"]) != len(self._parts)):
            raise ValueError(f"a join of {len(self._parts)} schedules needs "
                             f"{{'parts': [{len(self._parts)} states]}}, got {state!r}")
        saved = [p.state_dict() for p in self._parts]
        try:
            for part, s in zip(self._parts, state["parts"]):
                part.load_state_dict(s)
        except (TypeError, ValueError):
            for part, s in zip(self._parts, saved):
                part.load_state_dict(s)
            raise


def join(schedules, boundaries):
    r"""One schedule after another: ``schedules[i]`` runs from ``boundaries[i-1]`` (0 for the
    first) and sees the step count relative to its start, as optax's ``join_schedules``.

    >>> warm_then_cos = join([linear(0.0, 1.0, steps=2), cosine(1.0, steps=2)], [2])
    >>> [round(warm_then_cos(n), 12) for n in range(5)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    schedules = list(schedules)
    boundaries = [_count(b, "a boundary") for b in boundaries]
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(f"join needs one boundary fewer than schedules, got "
                         f"{len(schedules)} schedules and {len(boundaries)} boundaries")
    if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:])):
        raise ValueError(f"boundaries must increase, got {boundaries}")
    for s in schedules:
        if not isinstance(s, Schedule):
            raise TypeError(f"join takes fastopt schedules, got {type(s).__name__}")
    return _Joined(schedules, boundaries)


def warmup_cosine(peak_value, warmup_steps, decay_steps, init_value=0.0, final_value=0.0):
    r"""Linear warm-up from ``init_value`` to ``peak_value`` in ``warmup_steps``, then cosine
    annealing to ``final_value`` over the next ``decay_steps``: ``join([linear(...),
    cosine(...)], [warmup_steps])``.

    >>> s = warmup_cosine(1.0, warmup_steps=2, decay_steps=2)
    >>> [round(s(n), 12) for n in range(5)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return join([linear(init_value, peak_value, warmup_steps),
                 cosine(peak_value, decay_steps, final_value)], [warmup_steps])


class _PerEpoch(Schedule):
    def __init__(self, schedule, steps_per_epoch):
        self._inner = schedule
        super().__init__("per_epoch", lambda n: schedule(n // steps_per_epoch),
                         {"schedule": schedule, "steps_per_epoch": steps_per_epoch})

    @property
    def stateful(self):
        return self._inner.stateful

    def observe(self, metric):
        self._inner.observe(metric)

    def state_dict(self):
        return self._inner.state_dict()

    def load_state_dict(self, state):
        self._inner.load_state_dict(state)


def per_epoch(schedule, steps_per_epoch):
    r"""``schedule`` of the epoch number ``n // steps_per_epoch``: each step of an epoch uses
    the epoch's value (torch's schedulers stepped once per epoch).

    >>> s = per_epoch(step_decay(1.0, rate=0.5, every=1), steps_per_epoch=3)
    >>> [s(n) for n in range(5)]
    [0.5, 0.5, 0.5, 0.25, 0.25]
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"per_epoch takes a fastopt schedule, got {type(schedule).__name__}")
    return _PerEpoch(schedule, _count(steps_per_epoch, "steps_per_epoch"))


# ----------------------------------------------------------------------------- attachment

_BETAS = {"beta1": 0, "beta2": 1}


class Scheduled:
    """An optimizer whose hyperparameters follow schedules: made by :func:`attach`.

    ``step(grads, **kwargs)`` sets every scheduled hyperparameter of its groups to its
    schedule's value at ``self.count`` (the number of steps taken), calls
    ``optimizer.step(grads, **kwargs)`` and increments the count.  If the optimizer's step
    raises (a bad gradient, or a schedule value the optimizer rejects), the hyperparameters
    and the count are restored.  ``observe(metric)`` forwards a metric to the schedules that
    use one (:class:`ReduceOnPlateau`).  Other attributes (``param_groups``, ``state``, ...)
    are the optimizer's.
    """

    def __init__(self, optimizer, assignments):
        self.optimizer = optimizer
        self._assignments = assignments     # [(group index, name, schedule)]
        self.count = 0

    def __getattr__(self, name):
        return getattr(self.__dict__["optimizer"], name)

    def __repr__(self):
        lines = [f"Scheduled({type(self.optimizer).__name__}, count={self.count})"]
        lines += [f"    group {g} {name}: {s!r}" for g, name, s in self._assignments]
        return "\n".join(lines)

    @property
    def schedules(self):
        """The distinct schedules attached, in order of first use."""
        seen = []
        for _, _, s in self._assignments:
            if not any(s is t for t in seen):
                seen.append(s)
        return seen

    def values(self, n=None):
        """``{(group, name): value}`` at step count ``n`` (default: the next step's)."""
        n = self.count if n is None else n
        cache = {}
        out = {}
        for g, name, s in self._assignments:
            key = id(s)
            if key not in cache:
                cache[key] = s(n)
            out[(g, name)] = cache[key]
        return out

    def _set(self, values):
        groups = self.optimizer.param_groups
        for (g, name), value in values.items():
            group = groups[g]
            if name in _BETAS:
                betas = list(group["betas"])
                betas[_BETAS[name]] = value
                group["betas"] = tuple(betas)
            else:
                group[name] = value

    def _get(self):
        groups = self.optimizer.param_groups
        return {(g, name): (groups[g]["betas"][_BETAS[name]] if name in _BETAS
                            else groups[g][name])
                for g, name, _ in self._assignments}

    def step(self, grads, **kwargs):
        """Set the scheduled hyperparameters for this step, then ``optimizer.step``."""
        before = self._get()
        self._set(self.values())
        try:
            self.optimizer.step(grads, **kwargs)
        except BaseException:
            self._set(before)
            raise
        self.count += 1

    def observe(self, metric):
        """Give a metric (e.g. the validation loss) to the schedules driven by one."""
        for s in self.schedules:
            if s.stateful:
                s.observe(metric)

    def state_dict(self):
        """The optimizer's ``state_dict()``, the step count and the schedules' states."""
        return {"optimizer": self.optimizer.state_dict(), "count": self.count,
                "schedules": [s.state_dict() for s in self.schedules]}

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict` (the same schedules attached to the same groups)."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"optimizer", "count",
                                                                   "schedules"}:
            raise ValueError("a Scheduled state_dict has keys 'optimizer', 'count', "
                             "'schedules'")
        count = _count(state_dict["count"], "state_dict['count']", minimum=0)
        schedules = self.schedules
        if len(state_dict["schedules"]) != len(schedules):
            raise ValueError(f"state_dict has {len(state_dict['schedules'])} schedule states, "
                             f"{len(schedules)} schedules are attached")
        saved = [s.state_dict() for s in schedules]
        try:
            for s, state in zip(schedules, state_dict["schedules"]):
                s.load_state_dict(state)
            self.optimizer.load_state_dict(state_dict["optimizer"])
        except BaseException:
            for s, state in zip(schedules, saved):
                s.load_state_dict(state)
            raise
        self.count = count


def attach(optimizer, groups=None, **schedules):
    r"""Make ``optimizer`` take its hyperparameters from schedules, one value per step.

    ``schedules``: hyperparameter name -> a :class:`Schedule` (or any callable of the step
    count returning a float): ``lr``, ``momentum``, ``weight_decay``, ... (the names of the
    optimizer's param groups), and ``beta1`` / ``beta2`` for the entries of ``betas``.  A
    schedule may also be a list with one schedule (or None: not scheduled) per param group.
    ``groups``: the indices of the groups to schedule (default: all).  Schedules give
    absolute values; groups that need different values need their own schedules.

    Example::

        >>> import numpy as np, fastopt
        >>> from fastopt import schedules
        >>> w = np.zeros(2)
        >>> opt = schedules.attach(fastopt.SGD([w], lr=1.0),
        ...                        lr=schedules.step_decay(1.0, rate=0.5, every=1))
        >>> for _ in range(3):
        ...     opt.step([np.ones(2)])
        >>> w, opt.count                     # steps of 0.5, 0.25 and 0.125
        (array([-0.875, -0.875]), 3)
    """
    if isinstance(optimizer, Scheduled):
        raise TypeError("optimizer already has schedules attached; attach them all at once")
    if not hasattr(optimizer, "param_groups") or not hasattr(optimizer, "step"):
        raise TypeError(f"attach needs a fastopt optimizer, got {type(optimizer).__name__}")
    if not schedules:
        raise ValueError("attach needs at least one hyperparameter schedule, e.g. lr=...")
    n_groups = len(optimizer.param_groups)
    if groups is None:
        groups = range(n_groups)
    groups = [_count(g, "a group index", minimum=0) for g in groups]
    if any(g >= n_groups for g in groups):
        raise ValueError(f"group indices must be < {n_groups}, got {groups}")
    assignments = []
    for name, spec in schedules.items():
        per_group = list(spec) if isinstance(spec, (list, tuple)) else [spec] * n_groups
        if len(per_group) != n_groups:
            raise ValueError(f"{name}: {len(per_group)} schedules for {n_groups} param groups")
        for g in groups:
            schedule = per_group[g]
            if schedule is None:
                continue
            if not isinstance(schedule, Schedule):
                if not callable(schedule):
                    raise TypeError(f"{name}: a schedule must be callable, "
                                    f"got {type(schedule).__name__}")
                schedule = Schedule(getattr(schedule, "__name__", "callable"), schedule, {})
            group = optimizer.param_groups[g]
            if name in _BETAS:
                if "betas" not in group:
                    raise ValueError(f"{type(optimizer).__name__} has no betas to schedule "
                                     f"{name}")
            elif name == "params" or name not in group:
                raise ValueError(f"{type(optimizer).__name__} has no hyperparameter {name!r}; "
                                 f"it has {sorted(k for k in group if k != 'params')}")
            assignments.append((g, name, schedule))
    scheduled = Scheduled(optimizer, assignments)
    for (g, name), value in scheduled.values(0).items():
        if not isinstance(value, float) or not math.isfinite(value):
            raise ValueError(f"{name}: the schedule's value at step 0 must be a finite float, "
                             f"got {value!r}")
    return scheduled
