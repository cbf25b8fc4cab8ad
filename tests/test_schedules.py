"""fastopt.schedules: values against hand-computed ones and torch.optim.lr_scheduler,
attachment to optimizers, and resuming from state_dict."""
import math
import pickle

import numpy as np
import pytest

import fastopt
from fastopt import schedules as S

# ----------------------------------------------------------------------------- values


def test_time_based_is_eta0_over_one_plus_decay_n():
    s = S.time_based(0.5, decay=0.1)
    assert [s(n) for n in (0, 1, 10, 30)] == [0.5, 0.5 / 1.1, 0.5 / 2.0, 0.5 / 4.0]


def test_step_decay_drops_by_rate_every_r_steps_counting_from_one_plus_n():
    s = S.step_decay(0.8, rate=0.5, every=3)
    assert [s(n) for n in range(9)] == [0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1]


def test_exponential_is_eta0_exp_minus_decay_n():
    s = S.exponential(2.0, decay=0.3)
    for n in (0, 1, 7, 100):
        assert s(n) == 2.0 * math.exp(-0.3 * n)


def test_constant_linear_polynomial_hand_values():
    assert S.constant(0.3)(12345) == 0.3
    lin = S.linear(0.1, 0.5, steps=4)
    assert [lin(n) for n in range(6)] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.5],
                                                       rel=1e-15)
    poly = S.polynomial(1.0, 0.1, steps=3, power=2.0)
    expect = [0.9 * (1 - n / 3) ** 2 + 0.1 for n in range(4)] + [0.1, 0.1]
    assert [poly(n) for n in range(6)] == expect


def test_cosine_hand_values_and_clamped_after_the_end():
    s = S.cosine(1.0, steps=4, final_value=0.2)
    expect = [0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * n / 4)) for n in range(5)]
    assert [s(n) for n in range(5)] == pytest.approx(expect, rel=1e-15)
    assert s(4) == pytest.approx(0.2, rel=1e-15) and s(100) == s(4)


def test_cosine_restarts_restart_exactly_at_cycle_boundaries_with_T_mult():
    s = S.cosine_restarts(1.0, T_0=3, T_mult=2, final_value=0.0)
    # cycles: [0, 3), [3, 9), [9, 21), [21, 45)
    for start in (0, 3, 9, 21, 45):
        assert s(start) == 1.0
    assert s(3 + 3) == pytest.approx(0.5, rel=1e-15)      # mid-cycle of the 6-step cycle
    assert s(9 + 6) == pytest.approx(0.5, rel=1e-15)      # mid-cycle of the 12-step cycle
    assert s(2) == pytest.approx(0.5 * (1 + math.cos(math.pi * 2 / 3)), rel=1e-15)
    periodic = S.cosine_restarts(1.0, T_0=4)
    assert [periodic(n) for n in range(4)] == [periodic(n + 40) for n in range(4)]


def test_one_cycle_hand_values_linear_two_and_three_phases():
    s = S.one_cycle(1.0, total_steps=10, pct_start=0.5, anneal_strategy="linear",
                    div_factor=10.0, final_div_factor=2.0)
    # up: steps 0..4 from 0.1 to 1.0; down: 4..9 from 1.0 to 0.05
    assert s(0) == pytest.approx(0.1) and s(4) == pytest.approx(1.0)
    assert s(9) == pytest.approx(0.05) and s(50) == s(9)
    assert s(2) == pytest.approx(0.1 + 0.9 * 2 / 4)
    t = S.one_cycle(1.0, total_steps=10, pct_start=0.25, anneal_strategy="linear",
                    div_factor=10.0, final_div_factor=2.0, three_phase=True)
    # up 0..1.5, down 1.5..3 back to 0.1, then to 0.05 at 9
    assert t(3) == pytest.approx(0.1) and t(9) == pytest.approx(0.05)


def test_join_runs_each_schedule_relative_to_its_boundary():
    s = S.join([S.constant(1.0), S.linear(0.0, 1.0, steps=2), S.constant(3.0)], [2, 5])
    assert [s(n) for n in range(7)] == [1.0, 1.0, 0.0, 0.5, 1.0, 3.0, 3.0]
    w = S.warmup_cosine(2.0, warmup_steps=4, decay_steps=10, final_value=0.5)
    assert w(0) == 0.0 and w(2) == 1.0 and w(4) == 2.0 and w(14) == 0.5


def test_per_epoch_holds_the_value_over_an_epoch():
    s = S.per_epoch(S.exponential(1.0, decay=1.0), steps_per_epoch=4)
    assert [s(n) for n in range(9)] == [1.0] * 4 + [math.exp(-1.0)] * 4 + [math.exp(-2.0)]


def test_reduce_on_plateau_waits_patience_then_multiplies_with_cooldown_and_floor():
    s = S.ReduceOnPlateau(1.0, factor=0.5, patience=2, cooldown=1, min_value=0.3)
    values = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 4, 4]:
        s.observe(metric)
        values.append(s(0))
    # best 4 at obs 1; bad at 2, 3, 4 -> reduce at obs 4; cooldown obs 5; bad 6, 7, 8 ->
    # reduce at 8 to max(0.25, 0.3)
    assert values == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3]


def test_reduce_on_plateau_max_mode_and_abs_threshold():
    s = S.ReduceOnPlateau(1.0, mode="max", factor=0.1, patience=0, threshold=0.5,
                          threshold_mode="abs")
    s.observe(1.0)
    s.observe(1.4)       # not > 1.0 + 0.5: bad -> reduced (patience 0)
    assert s(0) == pytest.approx(0.1)
    s.observe(2.0)       # improves
    assert s(0) == pytest.approx(0.1)


def test_schedule_values_are_python_floats_and_bad_step_numbers_raise():
    s = S.cosine(1.0, steps=10)
    assert type(s(np.int64(3))) is float
    with pytest.raises(ValueError):
        s(-1)
    with pytest.raises(TypeError):
        s(1.5)


@pytest.mark.parametrize("make, error", [
    (lambda: S.step_decay(1.0, 0.5, every=0), ValueError),
    (lambda: S.step_decay(1.0, 0.5, every=2.0), TypeError),
    (lambda: S.cosine(1.0, steps=0), ValueError),
    (lambda: S.exponential(float("nan"), 0.1), ValueError),
    (lambda: S.one_cycle(1.0, 100, pct_start=1.0), ValueError),
    (lambda: S.one_cycle(1.0, 100, anneal_strategy="exp"), ValueError),
    (lambda: S.ReduceOnPlateau(1.0, factor=1.0), ValueError),
    (lambda: S.ReduceOnPlateau(1.0, mode="up"), ValueError),
    (lambda: S.join([S.constant(1.0)], [3]), ValueError),
    (lambda: S.join([S.constant(1.0), S.constant(2.0), S.constant(3.0)], [5, 5]), ValueError),
    (lambda: S.join([S.constant(1.0), lambda n: 1.0], [5]), TypeError),
])
def test_bad_schedule_arguments_raise(make, error):
    with pytest.raises(error):
        make()


# ----------------------------------------------------------------------------- vs torch

try:
    import torch
    from torch.optim import lr_scheduler
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def torch_lrs(make_scheduler, n, base_lr=1.0):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_scheduler(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@needs_torch
@pytest.mark.parametrize("name, ours, make", [
    ("ExponentialLR", S.exponential(1.0, decay=-math.log(0.9)),
     lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)),
    ("CosineAnnealingLR", S.cosine(1.0, steps=17, final_value=0.01),
     lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=17, eta_min=0.01)),
    ("CosineAnnealingWarmRestarts", S.cosine_restarts(1.0, T_0=3, T_mult=2, final_value=0.05),
     lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.05)),
    ("CosineAnnealingWarmRestarts1", S.cosine_restarts(1.0, T_0=5),
     lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5)),
    ("OneCycleLR", S.one_cycle(1.0, total_steps=50),
     lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=50, cycle_momentum=False)),
    ("OneCycleLR-linear-3phase",
     S.one_cycle(0.5, total_steps=40, pct_start=0.2, anneal_strategy="linear",
                 div_factor=5.0, final_div_factor=100.0, three_phase=True),
     lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=40, pct_start=0.2,
                                       anneal_strategy="linear", div_factor=5.0,
                                       final_div_factor=100.0, three_phase=True,
                                       cycle_momentum=False)),
    ("PolynomialLR", S.polynomial(1.0, 0.0, steps=12, power=2.0),
     lambda o: lr_scheduler.PolynomialLR(o, total_iters=12, power=2.0)),
    ("LinearLR", S.linear(0.25, 1.0, steps=8),
     lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8)),
])
def test_matches_torch_lr_scheduler(name, ours, make):
    n = {"OneCycleLR": 50, "CosineAnnealingLR": 18}.get(name, 40)   # torch's cosine rises
    expect = torch_lrs(make, n)
    assert [ours(k) for k in range(n)] == pytest.approx(expect, rel=1e-12, abs=1e-15)


@needs_torch
def test_step_decay_is_torch_step_lr_one_step_earlier():
    expect = torch_lrs(lambda o: lr_scheduler.StepLR(o, step_size=4, gamma=0.3), 30)
    s = S.step_decay(1.0, rate=0.3, every=4)
    assert [s(k - 1) for k in range(1, 30)] == pytest.approx(expect[1:], rel=1e-15)


@needs_torch
def test_reduce_on_plateau_matches_torch():
    rng = np.random.default_rng(3)
    metrics = list(np.repeat(rng.random(15), rng.integers(1, 6, size=15)))
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1,
                                           threshold=0.01, min_lr=1e-3)
    ours = S.ReduceOnPlateau(1.0, factor=0.5, patience=2, cooldown=1, threshold=0.01,
                             min_value=1e-3)
    for m in metrics:
        sched.step(m)
        ours.observe(m)
        assert ours(0) == opt.param_groups[0]["lr"]


# ----------------------------------------------------------------------------- attachment

def grads_for(params, t):
    rng = np.random.default_rng(1000 + t)
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


def test_attached_lr_is_the_schedules_value_at_each_steps_own_number():
    w = np.zeros(5)
    sched = S.step_decay(1.0, rate=0.5, every=2)
    opt = S.attach(fastopt.SGD([w], lr=123.0), lr=sched)
    ref = np.zeros(5)
    seen = []
    for t in range(7):
        g = grads_for([w], t)
        opt.step(g)
        seen.append(opt.param_groups[0]["lr"])
        ref -= sched(t) * g[0]
    assert seen == [sched(t) for t in range(7)]
    np.testing.assert_array_equal(w, ref)
    assert opt.count == 7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scheduled_momentum_and_beta1_equal_setting_them_by_hand(dtype):
    def run(by_hand):
        w = np.linspace(-1, 1, 37).astype(dtype)
        v = np.linspace(1, 2, 37).astype(dtype)
        m_s = S.linear(0.5, 0.9, steps=5)
        b_s = S.cosine(0.9, steps=6, final_value=0.5)
        sgd = fastopt.SGD([w], lr=0.1, momentum=0.5)
        adam = fastopt.Adam([v], lr=0.05)
        if not by_hand:
            sgd, adam = S.attach(sgd, momentum=m_s), S.attach(adam, beta1=b_s, lr=m_s)
        for t in range(9):
            if by_hand:
                sgd.param_groups[0]["momentum"] = m_s(t)
                adam.param_groups[0]["betas"] = (b_s(t), 0.999)
                adam.param_groups[0]["lr"] = m_s(t)
            sgd.step(grads_for([w], t))
            adam.step(grads_for([v], t))
        return w, v
    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)


def test_scheduled_momentum_and_weight_decay_take_hand_computed_values_each_step():
    # step_decay(0.8, 0.5, every=2) and linear(0, 0.5, steps=4): values exact in binary
    momenta = [0.8, 0.4, 0.4, 0.2, 0.2, 0.1]
    decays = [0.0, 0.125, 0.25, 0.375, 0.5, 0.5]
    w = np.array([1.0, -2.0])
    opt = S.attach(fastopt.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.7),
                   momentum=S.step_decay(0.8, rate=0.5, every=2),
                   weight_decay=S.linear(0.0, 0.5, steps=4))
    g = np.array([0.5, 0.25])
    p, buf = [1.0, -2.0], [None, None]
    for t in range(6):
        opt.step([g.copy()])
        assert opt.param_groups[0]["momentum"] == momenta[t]
        assert opt.param_groups[0]["weight_decay"] == decays[t]
        for i in range(2):                         # SGD's rule, in Python floats
            d = float(g[i]) + decays[t] * p[i]
            buf[i] = d if t == 0 else momenta[t] * buf[i] + d
            p[i] -= 0.1 * buf[i]
        np.testing.assert_allclose(w, p, rtol=1e-15, atol=0)
        np.testing.assert_allclose(opt.state[0]["momentum_buffer"], buf, rtol=1e-15, atol=0)
    # AdamW on a zero gradient only decays: p = prod(1 - lr * weight_decay_t)
    v = np.ones(3, dtype=np.float32)
    adamw = S.attach(fastopt.AdamW([v], lr=0.1), weight_decay=S.linear(0.0, 0.5, steps=4))
    expected = np.float32(1.0)
    for t in range(6):
        adamw.step([np.zeros(3, dtype=np.float32)])
        assert adamw.param_groups[0]["weight_decay"] == decays[t]
        expected = expected * np.float32(1.0 - 0.1 * decays[t])
        np.testing.assert_allclose(v, expected, rtol=1e-6, atol=0)
    assert v[0] < 0.85


def test_per_group_schedules_and_group_selection():
    a, b = np.zeros(3), np.zeros(3)
    opt = fastopt.SGD([{"params": [a]}, {"params": [b], "lr": 7.0}], lr=1.0)
    sched = S.attach(opt, lr=[S.constant(0.5), None])
    sched.step([np.ones(3), np.ones(3)])
    np.testing.assert_array_equal(a, -0.5)
    np.testing.assert_array_equal(b, -7.0)
    opt2 = fastopt.SGD([{"params": [np.zeros(1)]}, {"params": [np.zeros(1)]}], lr=1.0)
    s2 = S.attach(opt2, groups=[1], lr=S.constant(0.25))
    s2.step([np.ones(1), np.ones(1)])
    assert opt2.param_groups[0]["lr"] == 1.0 and opt2.param_groups[1]["lr"] == 0.25


def test_failed_step_restores_hyperparameters_and_count():
    w = np.zeros(4)
    opt = S.attach(fastopt.SGD([w], lr=0.1), lr=S.linear(1.0, -1.0, steps=2))
    opt.step([np.ones(4)])
    assert opt.count == 1
    with pytest.raises(ValueError):
        opt.step([np.ones(3)])                       # wrong shape: nothing happens
    assert opt.count == 1 and opt.param_groups[0]["lr"] == 1.0
    np.testing.assert_array_equal(w, -1.0)
    opt.step([np.ones(4)])                           # lr(1) = 0.0 is valid
    with pytest.raises(ValueError):
        opt.step([np.ones(4)])                       # lr(2) = -1: the optimizer rejects it
    assert opt.count == 2 and opt.param_groups[0]["lr"] == 0.0
    np.testing.assert_array_equal(w, -1.0)


@pytest.mark.parametrize("kwargs, error", [
    ({"lr": S.constant(0.1), "rho": S.constant(0.9)}, ValueError),      # SGD has no rho
    ({"beta1": S.constant(0.9)}, ValueError),                            # SGD has no betas
    ({"lr": 0.1}, TypeError),
    ({"lr": [S.constant(0.1), S.constant(0.2)]}, ValueError),           # one group only
    ({"lr": lambda n: "fast"}, ValueError),
    ({}, ValueError),
])
def test_attach_rejects_unknown_hyperparameters_and_bad_schedules(kwargs, error):
    with pytest.raises(error):
        S.attach(fastopt.SGD([np.zeros(2)], lr=0.1), **kwargs)


def test_attach_accepts_a_plain_callable():
    w = np.zeros(2)
    opt = S.attach(fastopt.SGD([w], lr=0.1), lr=lambda n: 0.5 ** n)
    for _ in range(3):
        opt.step([np.ones(2)])
    np.testing.assert_array_equal(w, -1.75)


# ----------------------------------------------------------------------------- resuming

def make_run(dtype):
    p = [np.linspace(-1, 1, 19).astype(dtype), np.linspace(0, 2, 6).reshape(2, 3).astype(dtype)]
    lr = S.join([S.linear(0.0, 0.1, steps=3), S.cosine_restarts(0.1, T_0=4, T_mult=2)], [3])
    plateau = S.ReduceOnPlateau(0.01, factor=0.5, patience=1)
    opt = S.attach(fastopt.AdamW(p, lr=0.1), lr=lr, weight_decay=plateau)
    return p, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resume_mid_schedule_gives_the_same_values_and_trajectory(dtype):
    metrics = [3.0, 2.0, 2.5, 2.6, 2.7, 1.0, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0]
    p_full, full = make_run(dtype)
    p_head, head = make_run(dtype)
    for t in range(6):
        for opt, p in ((full, p_full), (head, p_head)):
            opt.step(grads_for(p, t))
            opt.observe(metrics[t])
    saved = pickle.loads(pickle.dumps(head.state_dict()))
    p_tail, tail = make_run(dtype)
    for dst, src in zip(p_tail, p_head):
        dst[...] = src
    tail.load_state_dict(saved)
    assert tail.count == 6 and tail.values() == full.values()
    for t in range(6, 12):
        for opt, p in ((full, p_full), (tail, p_tail)):
            opt.step(grads_for(p, t))
            opt.observe(metrics[t])
        assert tail.values() == full.values()
    for a, b in zip(p_full, p_tail):
        np.testing.assert_array_equal(a, b)


MOMENTUM_RUNS = {
    "SGD": lambda p: S.attach(fastopt.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                              momentum=S.cosine_restarts(0.9, T_0=3, final_value=0.5),
                              weight_decay=S.step_decay(0.1, rate=0.5, every=2)),
    "RMSprop": lambda p: S.attach(fastopt.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
                                  momentum=S.linear(0.5, 0.95, steps=6),
                                  weight_decay=S.exponential(0.05, decay=0.3)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", MOMENTUM_RUNS.values(), ids=MOMENTUM_RUNS.keys())
def test_resume_with_scheduled_momentum_and_weight_decay_continues_bit_for_bit(make, dtype):
    def params():
        return [np.linspace(-1, 1, 19).astype(dtype), np.linspace(0, 2, 7).astype(dtype)]
    p_full, p_head = params(), params()
    full, head = make(p_full), make(p_head)
    for t in range(4):
        full.step(grads_for(p_full, t))
        head.step(grads_for(p_head, t))
    saved = pickle.loads(pickle.dumps(head.state_dict()))
    p_tail = params()
    for dst, src in zip(p_tail, p_head):
        dst[...] = src
    tail = make(p_tail)
    assert tail.values() != full.values()          # a fresh run would start elsewhere
    tail.load_state_dict(saved)
    assert tail.count == 4
    for t in range(4, 10):
        assert tail.values() == full.values()
        full.step(grads_for(p_full, t))
        tail.step(grads_for(p_tail, t))
        for name in ("momentum", "weight_decay"):
            assert tail.param_groups[0][name] == full.param_groups[0][name]
    for a, b in zip(p_full, p_tail):
        assert a.tobytes() == b.tobytes()
    for i in full.state:
        for key, value in full.state[i].items():
            assert np.asarray(value).tobytes() == np.asarray(tail.state[i][key]).tobytes()


def test_load_state_dict_with_wrong_schedule_state_changes_nothing():
    p, opt = make_run(np.float64)
    opt.step(grads_for(p, 0))
    opt.observe(1.0)
    good = opt.state_dict()
    bad = {**good, "schedules": [good["schedules"][0], {"value": 1.0}]}
    with pytest.raises(ValueError):
        opt.load_state_dict(bad)
    assert opt.state_dict()["schedules"] == good["schedules"] and opt.count == 1


# ----------------------------------------------------------------------------- functional

from first_order_cases import (  # noqa: E402
    ALGORITHMS, FunctionalOptimizer, case_id, option_combinations,
)

FUNCTIONAL_CASES = [(name, option_combinations(name)[-1]) for name in ALGORITHMS]
# hyperparameters scheduled beside lr and weight_decay
EXTRA = {"sgd": ("momentum", S.linear(0.5, 0.9, steps=4)),
         "adagrad": ("lr_decay", S.linear(0.01, 0.05, steps=4)),
         "rmsprop": ("momentum", S.linear(0.5, 0.9, steps=4)),
         "adadelta": ("rho", S.linear(0.8, 0.95, steps=4)),
         "adam": ("beta1", S.cosine(0.9, steps=6, final_value=0.8)),
         "adamax": ("beta1", S.cosine(0.8, steps=6, final_value=0.7)),
         "nadam": ("beta1", S.cosine(0.9, steps=6, final_value=0.8))}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", FUNCTIONAL_CASES,
                         ids=[case_id(n, k) for n, k in FUNCTIONAL_CASES])
def test_functional_steps_with_each_steps_schedule_values_follow_the_attached_trajectory(
        name, kw, dtype):
    """The functional layer takes no schedule: the caller passes ``schedule(n)`` at step
    ``n + 1``; that gives the attached optimizer's trajectory bit for bit."""
    extra_name, extra = EXTRA[name]
    schedules = {"lr": S.warmup_cosine(kw["lr"], warmup_steps=2, decay_steps=5,
                                       init_value=kw["lr"] / 10),
                 "weight_decay": S.linear(0.0, 0.05, steps=5), extra_name: extra}

    def params():
        return [np.linspace(-1, 1, n).astype(dtype) for n in (1, 33, 70)]
    p_opt = params()
    opt = S.attach(ALGORITHMS[name][0](p_opt, **kw), **schedules)
    fun = FunctionalOptimizer(name, params(), **kw)
    for n in range(8):
        g = grads_for(p_opt, n)
        opt.step(g)
        values = {k: s(n) for k, s in schedules.items()}
        if extra_name == "beta1":
            values["betas"] = (values.pop("beta1"), opt.param_groups[0]["betas"][1])
        fun.kw = {**fun.kw, **values}
        fun.step(g)
    assert fun.kw["lr"] != kw["lr"]
    for a, b in zip(p_opt, fun.params):
        assert a.tobytes() == b.tobytes()
    for i, st in enumerate(fun.state):
        for key, value in st.items():
            if key in opt.state[i]:
                assert np.asarray(opt.state[i][key]).tobytes() == value.tobytes(), key
