"""The step plan fastopt.torch keeps per param group between steps is never stale: whatever
changes between two steps -- the parameters' storage, the gradients, the state, the param
groups, the group values -- the next step is the one torch.optim takes, and the one a
fastopt optimizer without a kept plan takes, bit for bit.

Every scenario runs three times from the same weights: fastopt with its plans (as users run
it), fastopt with its plans dropped before every step (every tensor checked and viewed
anew), and torch.optim.  The first two must agree exactly (losses and parameters); torch
within the float64 tolerance of test_trajectories.py (1e-10 relative on the losses).  Each
scenario first takes a few steps so that the plans are built and reused (a step that
creates state keeps no plan), then changes something.
"""
import copy
import io

import pytest

torch = pytest.importorskip("torch")
import fastopt.torch as ft  # noqa: E402

from models import batches, data, max_rel, mlp  # noqa: E402


def _drop_plans(opt):
    opt.__dict__.pop("_fastopt_plans", None)
    opt.__dict__.pop("_fastopt_options", None)


def _plans(opt):
    return dict(opt.__dict__.get("_fastopt_plans") or {})


class Run:
    """A model, its optimizer and the training loop of one scenario."""

    def __init__(self, kind, cls, kw, dtype=torch.float64, model=None):
        self.kind = kind
        self.model = mlp(dtype) if model is None else model
        self.x, self.y = data(dtype)
        mod = torch.optim if kind == "torch" else ft
        self.opt = getattr(mod, cls)(self.model.parameters(), **kw)
        self.losses, self.t = [], 0

    def params(self):
        return list(self.model.parameters())

    def step(self):
        if self.kind == "uncached":
            _drop_plans(self.opt)
        self.opt.step()

    def fit(self, n, set_to_none=True):
        """``n`` minibatch iterations: gradients by backward, then a step."""
        for _ in range(n):
            xb, yb = batches(self.x, self.y, self.t)
            self.opt.zero_grad(set_to_none=set_to_none)
            loss = torch.nn.functional.mse_loss(self.model(xb), yb)
            loss.backward()
            self.step()
            self.losses.append(loss.item())
            self.t += 1


def _three(scenario, cls="Adam", kw=None, **run_kw):
    """Run ``scenario(run)`` for cached fastopt, uncached fastopt and torch; check they
    agree.  Returns the three runs."""
    kw = dict(lr=1e-2) if kw is None else kw
    runs = [Run(kind, cls, kw, **run_kw) for kind in ("cached", "uncached", "torch")]
    for r in runs:
        scenario(r)
    cached, uncached, theirs = runs
    assert cached.losses == uncached.losses
    for p, q in zip(cached.params(), uncached.params()):
        assert torch.equal(p, q)
    assert max_rel(cached.losses, theirs.losses) < 1e-10
    for p, q in zip(cached.params(), theirs.params()):
        assert torch.allclose(p, q, rtol=1e-9, atol=1e-12)
    return runs


ALGOS = [("Adam", dict(lr=1e-2)), ("SGD", dict(lr=0.05, momentum=0.9)),
         ("NAdam", dict(lr=1e-2)), ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5))]


def test_an_unchanged_step_reuses_its_plan_and_a_change_rebuilds_it(default_float64):
    r = Run("cached", "Adam", dict(lr=1e-2))
    r.fit(3)
    plans = _plans(r.opt)
    assert len(plans) == 1
    r.fit(2)
    assert _plans(r.opt) == plans and all(a is b for a, b in
                                          zip(_plans(r.opt).values(), plans.values()))
    p = r.params()[0]
    p.data = p.data.clone()
    r.fit(1)
    assert next(iter(_plans(r.opt).values())) is not next(iter(plans.values()))


@pytest.mark.parametrize("cls,kw", ALGOS)
@pytest.mark.parametrize("set_to_none", [True, False])
def test_steady_steps_run_on_the_kept_plans_without_preparing_again(cls, kw, set_to_none,
                                                                     monkeypatch):
    """The compiled path (fastopt/torch/_plan.pyx, step_cached) takes every step after the
    first two (the first creates state) while nothing but the gradients changes; a
    replaced state dict sends the next step through the full preparation again."""
    r = Run("cached", cls, kw)
    calls = []
    prepare = type(r.opt)._prepare
    monkeypatch.setattr(type(r.opt), "_prepare",
                        lambda self: calls.append(1) or prepare(self))
    r.fit(2)
    assert len(calls) == 2
    r.fit(5, set_to_none=set_to_none)
    assert len(calls) == 2
    p = r.params()[0]
    r.opt.state[p] = dict(r.opt.state[p])        # equal, but another dict
    r.fit(1, set_to_none=set_to_none)
    assert len(calls) == 3


@pytest.mark.parametrize("cls,kw", ALGOS)
def test_a_parameter_whose_data_is_swapped_is_stepped_in_its_new_storage(cls, kw,
                                                                         default_float64):
    old = []

    def scenario(r):
        r.fit(4)
        p = r.params()[2]
        old.append((p.data, p.data.clone()))
        p.data = p.data.clone() + 0.01            # new storage, new values
        r.fit(4)

    _three(scenario, cls, kw)
    for before, copy_ in old:
        assert torch.equal(before, copy_)          # the old storage was not written


@pytest.mark.parametrize("cls,kw", ALGOS[:2])
def test_the_same_gradient_tensors_and_new_ones_each_step_follow_torch(cls, kw,
                                                                       default_float64):
    def scenario(r):
        r.fit(5, set_to_none=False)                # the same gradient tensors
        r.fit(5, set_to_none=True)                 # new ones every step
        r.fit(5, set_to_none=False)

    _three(scenario, cls, kw)


@pytest.mark.parametrize("cls,kw", ALGOS[:2])
def test_a_gradient_replaced_by_a_view_of_other_storage_is_read(cls, kw, default_float64):
    """Gradients as views of one flat buffer (DDP's gradient_as_bucket_view), the buffer
    replaced mid-training, and a kept gradient tensor whose ``.data`` is swapped."""

    def scenario(r):
        params = r.params()

        def bucket_grads(n):
            for _ in range(n):
                xb, yb = batches(r.x, r.y, r.t)
                loss = torch.nn.functional.mse_loss(r.model(xb), yb)
                grads = torch.autograd.grad(loss, params)
                flat = torch.cat([g.reshape(-1) for g in grads])
                if r.t % 3 == 0:                   # a new bucket: views of new storage
                    offsets = [0]
                    for p in params:
                        offsets.append(offsets[-1] + p.numel())
                    r.bucket = flat.clone()
                    for p, a, b in zip(params, offsets, offsets[1:]):
                        p.grad = r.bucket[a:b].view_as(p)
                else:                               # the same views, new values
                    r.bucket.copy_(flat)
                r.step()
                r.losses.append(loss.item())
                r.t += 1

        r.fit(3)
        bucket_grads(7)
        r.fit(2, set_to_none=False)
        g = params[0].grad
        for _ in range(3):
            xb, yb = batches(r.x, r.y, r.t)
            loss = torch.nn.functional.mse_loss(r.model(xb), yb)
            new = torch.autograd.grad(loss, params)
            for p, gn in zip(params, new):
                if p is params[0]:
                    g.data = gn.clone()            # the same tensor object, new storage
                else:
                    p.grad = gn
            assert params[0].grad is g
            r.step()
            r.losses.append(loss.item())
            r.t += 1

    _three(scenario, cls, kw)


@pytest.mark.parametrize("cls,kw", ALGOS)
def test_a_gradient_that_goes_away_and_comes_back_follows_torch(cls, kw, default_float64):
    """A parameter without a gradient is skipped (and its step count falls behind); when
    its gradient is back it is stepped again, in a call of its own step count."""

    def scenario(r):
        r.fit(3)
        w = r.params()[2]
        for _ in range(4):
            xb, yb = batches(r.x, r.y, r.t)
            r.opt.zero_grad()
            loss = torch.nn.functional.mse_loss(r.model(xb), yb)
            loss.backward()
            if r.t % 2:
                w.grad = None
            r.step()
            r.losses.append(loss.item())
            r.t += 1
        r.fit(4)

    runs = _three(scenario, cls, kw)
    if cls != "SGD":
        counts = sorted({int(s["step"]) for s in runs[0].opt.state.values()})
        assert counts == [9, 11]


@pytest.mark.parametrize("cls,kw", ALGOS)
def test_load_state_dict_replacing_the_state_is_used_at_the_next_step(cls, kw,
                                                                      default_float64):
    def scenario(r):
        r.fit(4)
        buf = io.BytesIO()
        torch.save(r.opt.state_dict(), buf)
        r.fit(3)
        buf.seek(0)
        r.opt.load_state_dict(torch.load(buf))   # new state tensors: back 3 steps
        r.fit(4)

    _three(scenario, cls, kw)


def test_state_dict_round_trip_into_the_same_optimizer_follows_torch(default_float64):
    def scenario(r):
        r.fit(4)
        r.opt.load_state_dict(r.opt.state_dict())
        r.fit(4)

    _three(scenario)


@pytest.mark.parametrize("cls,kw", ALGOS)
def test_a_state_tensor_replaced_or_swapped_is_used(cls, kw, default_float64):
    key = {"Adam": "exp_avg", "SGD": "momentum_buffer", "NAdam": "exp_avg_sq",
           "RMSprop": "grad_avg"}[cls]

    def scenario(r):
        r.fit(4)
        a, b = r.params()[0], r.params()[3]
        r.opt.state[a][key] = r.opt.state[a][key] * 0.5        # a new tensor
        r.fit(2)
        r.opt.state[b][key].data = r.opt.state[b][key] * 2.0   # same object, new storage
        r.fit(2)
        c = r.params()[4]
        r.opt.state[c] = {k: v.clone() * (0.5 if k == key else 1.0)   # a new state dict
                          for k, v in r.opt.state[c].items()}
        r.fit(2)

    _three(scenario, cls, kw)


@pytest.mark.parametrize("cls,kw", [a for a in ALGOS if a[0] != "SGD"])
def test_a_step_count_edited_in_place_is_read(cls, kw, default_float64):
    def scenario(r):
        r.fit(5)
        with torch.no_grad():
            r.opt.state[r.params()[1]]["step"].fill_(2.0)
        r.fit(4)

    _three(scenario, cls, kw)


def test_a_nadam_mu_product_edited_in_place_is_read(default_float64):
    def scenario(r):
        r.fit(5)
        with torch.no_grad():
            r.opt.state[r.params()[4]]["mu_product"].mul_(0.5)
        r.fit(4)

    _three(scenario, "NAdam", dict(lr=1e-2))


def test_a_param_group_added_after_cached_steps_is_stepped(default_float64):
    def scenario(r):
        layers = [m for m in r.model if isinstance(m, torch.nn.Linear)]
        r.opt.param_groups[0]["params"] = list(layers[0].parameters())   # edited group
        for layer in layers[1:]:
            layer.requires_grad_(False)
        r.fit(4)
        layers[1].requires_grad_(True)
        r.opt.add_param_group({"params": list(layers[1].parameters()), "lr": 3e-3})
        r.fit(3)
        layers[2].requires_grad_(True)
        r.opt.param_groups[1]["params"].extend(layers[2].parameters())   # edited in place
        r.fit(3)

    _three(scenario)


def test_group_values_edited_between_steps_are_used(default_float64):
    """lr by a scheduler at every step; other values set by hand; a tensor lr changed in
    place."""

    def scenario(r):
        sched = torch.optim.lr_scheduler.LambdaLR(r.opt, lambda t: 1.0 / (1 + 0.1 * t))
        for _ in range(6):
            r.fit(1)
            sched.step()
        g = r.opt.param_groups[0]
        g["betas"] = (0.8, 0.99)
        g["weight_decay"] = 0.01
        r.fit(3)
        g["lr"] = torch.tensor(5e-3)
        r.fit(2)
        g["lr"].fill_(1e-3)                       # the same tensor, another value
        r.fit(2)

    _three(scenario)


def test_one_cycle_lr_with_cycled_momentum_follows_torch(default_float64):
    def scenario(r):
        sched = torch.optim.lr_scheduler.OneCycleLR(r.opt, max_lr=0.05, total_steps=30)
        for _ in range(25):
            r.fit(1)
            sched.step()

    _three(scenario)


def _snapshot(opt):
    return ([p.detach().clone() for g in opt.param_groups for p in g["params"]],
            {id(p): {k: v.clone() for k, v in s.items()} for p, s in opt.state.items()})


def _assert_unchanged(opt, snap):
    params, state = snap
    for p, q in zip([p for g in opt.param_groups for p in g["params"]], params):
        assert torch.equal(p.detach(), q)
    for p, s in opt.state.items():
        for k, v in s.items():
            assert torch.equal(v, state[id(p)][k]), k


def _swap_data(get, make):
    """Break: set ``get(r).data = make(old data)``, keeping the old data to repair."""
    def brk(r):
        t = get(r)
        r.saved = t.data
        t.data = make(t.data)

    def fix(r):
        get(r).data = r.saved
    return brk, fix


def _replace_state(i, key, make):
    def brk(r):
        s = r.opt.state[r.params()[i]]
        r.saved = s[key]
        s[key] = make(s[key])

    def fix(r):
        r.opt.state[r.params()[i]][key] = r.saved
    return brk, fix


BREAKS = {   # name: ((break, repair), expected error, message)
    "parameter made non-contiguous": (
        _swap_data(lambda r: r.params()[2], lambda d: d.t().contiguous().t()),
        ValueError, r"param_groups\[0\]\['params'\]\[2\] .*not contiguous"),
    "parameter of another dtype": (
        _swap_data(lambda r: r.params()[1], lambda d: d.float()),
        TypeError, r"gradient of param_groups\[0\]\['params'\]\[1\] has dtype"),
    "gradient of another dtype": (
        _swap_data(lambda r: r.params()[3].grad, lambda d: d.float()),
        TypeError, r"gradient of param_groups\[0\]\['params'\]\[3\] has dtype"),
    "gradient of another shape": (
        _swap_data(lambda r: r.params()[0].grad, lambda d: d.reshape(-1)),
        ValueError, r"gradient of param_groups\[0\]\['params'\]\[0\] has shape"),
    "state tensor made non-contiguous": (
        _replace_state(2, "exp_avg_sq", lambda t: t.t().contiguous().t()),
        ValueError, r"state\['exp_avg_sq'\] of param_groups\[0\]\['params'\]\[2\] is not "
                    "contiguous"),
    "state tensor made to require grad": (
        (lambda r: r.opt.state[r.params()[0]]["exp_avg"].requires_grad_(True),
         lambda r: r.opt.state[r.params()[0]]["exp_avg"].requires_grad_(False)),
        ValueError, r"state\['exp_avg'\] of param_groups\[0\]\['params'\]\[0\] requires "
                    "grad"),
    "step count made negative": (
        (lambda r: r.opt.state[r.params()[4]]["step"].fill_(-1.0),
         lambda r: r.opt.state[r.params()[4]]["step"].fill_(4.0)),
        ValueError, r"state\['step'\] of param_groups\[0\]\['params'\]\[4\] is -1.0"),
    "gradient overlapping another group's parameter": (
        _swap_data(lambda r: r.params()[5].grad, lambda d: r_extra[0].data[1:2]),
        ValueError, "shares memory"),
    "parameter overlapping another group's": (
        _swap_data(lambda r: r.params()[5], lambda d: r_extra[0].data[:1]),
        ValueError, "shares memory"),
}
r_extra = []   # the second group's parameter of the run in progress


@pytest.mark.parametrize("name", list(BREAKS))
def test_a_tensor_broken_after_cached_steps_gets_the_clear_error_and_nothing_written(
        name, default_float64):
    """After cached steps, a tensor made unusable is rejected with the error naming it and
    nothing is written (once repaired, every parameter and state tensor holds what it held
    before); training then continues on torch's trajectory."""
    (brk, fix), exc, match = BREAKS[name]

    def scenario(r):
        r.extra = torch.nn.Parameter(torch.zeros(3))        # a second group
        r_extra[:] = [r.extra]
        r.opt.add_param_group({"params": [r.extra]})
        r.extra.grad = torch.zeros(3)             # kept: its group's plan is reused
        r.fit(4, set_to_none=False)
        if r.kind == "torch":                               # torch: skip the failed step
            r.fit(4)
            return
        r.opt.zero_grad()
        xb, yb = batches(r.x, r.y, r.t)
        loss = torch.nn.functional.mse_loss(r.model(xb), yb)
        loss.backward()
        r.extra.grad = torch.zeros(3)
        snap = _snapshot(r.opt)
        with torch.no_grad():
            brk(r)
        with pytest.raises(exc, match=match):
            r.step()
        with torch.no_grad():
            fix(r)
        _assert_unchanged(r.opt, snap)
        r.step()
        r.losses.append(loss.item())
        r.t += 1
        r.fit(3)

    _three(scenario)


def test_a_deep_copy_of_a_cached_optimizer_steps_its_own_copy(default_float64):
    ours = Run("cached", "Adam", dict(lr=1e-2))
    ours.fit(4)
    before = [p.detach().clone() for p in ours.params()]
    model2, opt2 = copy.deepcopy((ours.model, ours.opt))
    assert not opt2.__dict__.get("_fastopt_plans")
    copied = Run("cached", "Adam", dict(lr=1e-2), model=model2)
    copied.opt, copied.t = opt2, ours.t
    copied.fit(4)
    for p, b in zip(ours.params(), before):        # the original was not stepped
        assert torch.equal(p.detach(), b)
    ours.fit(4)
    assert copied.losses == ours.losses[4:]
    for p, q in zip(ours.params(), copied.params()):
        assert torch.equal(p, q)


@pytest.mark.filterwarnings("ignore:grad and param do not obey the gradient layout")
@pytest.mark.parametrize("cls,kw", ALGOS[:2])
def test_a_non_contiguous_gradient_kept_between_steps_is_read_anew(cls, kw,
                                                                   default_float64):
    """A strided gradient is stepped from a contiguous copy; the gradient tensor is kept
    (backward accumulates into it in place), so the copy is made again every step."""

    def scenario(r):
        r.fit(3)
        w = r.params()[2]
        r.opt.zero_grad()
        w.grad = torch.zeros(w.shape[::-1]).t()    # non-contiguous, kept
        r.fit(5, set_to_none=False)
        assert not w.grad.is_contiguous()

    _three(scenario, cls, kw)
