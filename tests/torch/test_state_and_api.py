"""Checkpoints both ways, schedulers, closures, param groups added later, hooks, zero-copy
steps and torch's state layout."""
import copy
import inspect
import io

import pytest

torch = pytest.importorskip("torch")
import fastopt.torch as ft  # noqa: E402

from models import OPTIONS, data, max_rel, pair, train  # noqa: E402

NAMES = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam", "LBFGS"]
CHECKPOINT_CASES = ["sgd-momentum-dampening-wd", "adagrad-lr_decay-wd-init",
                    "adadelta-wd-maximize", "rmsprop-momentum-centered-wd",
                    "adam-amsgrad-wd-maximize", "adamw", "adamax-wd", "nadam-decoupled-wd"]


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults_are_torchs(name):
    def spec(cls):
        return [(a.name, a.kind, a.default) for a in inspect.signature(cls).parameters.values()]

    assert spec(getattr(ft, name)) == spec(getattr(torch.optim, name))
    assert issubclass(getattr(ft, name), getattr(torch.optim, name))


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
@pytest.mark.parametrize("direction", ["torch-to-fastopt", "fastopt-to-torch"])
def test_checkpoint_moves_between_torch_and_fastopt(case, direction, default_float64):
    cls, kw = OPTIONS[case]
    first, second = (torch.optim, ft) if direction == "torch-to-fastopt" else (ft, torch.optim)
    x, y = data(torch.float64)
    m, _ = pair(torch.float64)
    opt = getattr(first, cls)(m.parameters(), **kw)
    train(m, opt, x, y, 20)
    buf = io.BytesIO()
    torch.save({"model": m.state_dict(), "opt": opt.state_dict()}, buf)
    # the reference: the first optimizer just continues
    ref = train(m, opt, x, y, 50, start=20)
    buf.seek(0)
    ck = torch.load(buf)
    m2, _ = pair(torch.float64, seed=5)
    m2.load_state_dict(ck["model"])
    opt2 = getattr(second, cls)(m2.parameters(), **kw)
    opt2.load_state_dict(ck["opt"])
    got = train(m2, opt2, x, y, 50, start=20)
    assert max_rel(got, ref) < 1e-10
    for p2, p in zip(m2.parameters(), m.parameters()):
        s2, s = opt2.state[p2], opt.state[p]
        assert list(s2) == list(s)
        for k in s:
            assert s2[k].dtype == s[k].dtype and s2[k].shape == s[k].shape, k
            assert torch.allclose(s2[k], s[k], rtol=1e-9, atol=1e-14), k


@pytest.mark.parametrize("name", ["Adam", "NAdam", "Adagrad", "RMSprop"])
def test_state_has_torchs_keys_dtypes_and_scalar_step(name):
    m, m2 = pair(torch.float32)
    x, y = data(torch.float32)
    ours, theirs = getattr(ft, name)(m.parameters()), getattr(torch.optim, name)(m2.parameters())
    train(m, ours, x, y, 3)
    train(m2, theirs, x, y, 3)
    for p, q in zip(m.parameters(), m2.parameters()):
        a, b = ours.state[p], theirs.state[q]
        assert list(a) == list(b)
        for k in a:
            assert (a[k].dtype, a[k].shape, a[k].device) == (b[k].dtype, b[k].shape, b[k].device)
        assert a["step"].dtype == torch.float32 and a["step"].dim() == 0 and a["step"] == 3


SCHEDULERS = {
    "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
    "OneCycleLR": lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.05,
                                                                total_steps=150),
    "CosineAnnealingWarmRestarts":
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=20),
    "ReduceLROnPlateau":
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=2, factor=0.5),
    "SequentialLR": lambda o: torch.optim.lr_scheduler.SequentialLR(
        o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=20),
            torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.98)], milestones=[20]),
}


@pytest.mark.parametrize("sched", list(SCHEDULERS))
@pytest.mark.parametrize("cls", ["SGD", "Adam"])
def test_lr_schedulers_drive_the_step(sched, cls, default_float64):
    kw = dict(lr=0.02, momentum=0.9) if cls == "SGD" else dict(lr=0.02)
    x, y = data(torch.float64)
    curves, lrs = [], []
    for mod in (ft, torch.optim):
        m, _ = pair(torch.float64)
        o = getattr(mod, cls)(m.parameters(), **kw)
        s = SCHEDULERS[sched](o)
        curves.append(train(m, o, x, y, 150, sched=s, plateau=sched == "ReduceLROnPlateau"))
        lrs.append(o.param_groups[0]["lr"])
    assert lrs[0] == lrs[1] and lrs[0] != 0.02
    assert max_rel(curves[0], curves[1]) < 1e-10


def test_param_group_added_mid_training_follows_torch(default_float64):
    x, y = data(torch.float64)
    curves = []
    for mod in (ft, torch.optim):
        m, _ = pair(torch.float64)
        layers = [mod_ for mod_ in m if isinstance(mod_, torch.nn.Linear)]
        o = mod.Adam(layers[0].parameters(), lr=1e-2)
        for layer in layers[1:]:
            for p in layer.parameters():
                p.requires_grad_(False)
        c = train(m, o, x, y, 30)
        for p in layers[1].parameters():
            p.requires_grad_(True)
        o.add_param_group({"params": list(layers[1].parameters()), "lr": 3e-3,
                           "amsgrad": True})
        c += train(m, o, x, y, 60, start=30)
        curves.append(c)
        steps = sorted({int(s["step"]) for s in o.state.values()})
    assert steps == [60, 90]
    assert max_rel(curves[0], curves[1]) < 1e-10


def test_step_returns_the_closure_loss_and_runs_it_with_grad():
    w = torch.nn.Parameter(torch.ones(3))
    opt = ft.SGD([w], lr=0.1)

    def closure():
        assert torch.is_grad_enabled()
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 3.0
    assert torch.equal(w.detach(), torch.full((3,), 0.8))
    assert opt.step() is None


def test_step_is_in_place_and_zero_copy():
    m, _ = pair(torch.float32)
    ptrs = [p.data_ptr() for p in m.parameters()]
    before = [p.detach().clone() for p in m.parameters()]
    opt = ft.AdamW(m.parameters(), lr=0.1)
    x, y = data(torch.float32)
    train(m, opt, x, y, 2)
    assert [p.data_ptr() for p in m.parameters()] == ptrs
    assert all(not torch.equal(p, b) for p, b in zip(m.parameters(), before))
    ptr_state = [opt.state[p]["exp_avg"].data_ptr() for p in m.parameters()]
    train(m, opt, x, y, 1, start=2)
    assert [opt.state[p]["exp_avg"].data_ptr() for p in m.parameters()] == ptr_state


def test_no_pointer_is_cached_between_steps():
    """Swapped parameter storage and replaced state tensors are used at the next step."""
    w = torch.nn.Parameter(torch.zeros(4))
    w2 = torch.nn.Parameter(torch.zeros(4))
    ours, theirs = ft.Adam([w], lr=0.1), torch.optim.Adam([w2], lr=0.1)
    for p, o in ((w, ours), (w2, theirs)):
        p.grad = torch.ones(4)
        o.step()
        p.data = torch.full((4,), 5.0)             # new storage
        o.state[p]["exp_avg"] = torch.full((4,), -1.0)
        p.grad = torch.ones(4)
        o.step()
    assert torch.equal(w.detach(), w2.detach())
    assert torch.equal(ours.state[w]["exp_avg"], theirs.state[w2]["exp_avg"])


def test_step_hooks_of_the_base_class_run():
    w = torch.nn.Parameter(torch.ones(2))
    opt = ft.Adam([w])
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    w.grad = torch.ones(2)
    opt.step()
    assert calls == ["pre", "post"]


def test_global_step_hooks_run_and_a_pre_hook_may_replace_the_arguments():
    from torch.optim.optimizer import (
        register_optimizer_step_post_hook, register_optimizer_step_pre_hook,
    )
    w = torch.nn.Parameter(torch.ones(2))
    opt = ft.SGD([w], lr=0.5)
    calls = []

    def closure():
        calls.append("closure")
        w.grad = torch.ones(2)
        return 3.0
    pre = register_optimizer_step_pre_hook(
        lambda o, a, k: (calls.append("pre"), ((o, closure), {}))[1])
    post = register_optimizer_step_post_hook(lambda o, a, k: calls.append("post"))
    try:
        assert opt.step() == 3.0                   # the hook's closure ran
    finally:
        pre.remove()
        post.remove()
    assert calls == ["pre", "closure", "post"]
    assert torch.equal(w.detach(), torch.full((2,), 0.5))
    opt.step()                                     # the hooks are gone
    assert calls == ["pre", "closure", "post"]


def test_the_step_is_recorded_under_a_profiler_and_skips_the_record_otherwise(monkeypatch):
    w = torch.nn.Parameter(torch.ones(2))
    opt = ft.Adam([w])
    w.grad = torch.ones(2)
    with torch.profiler.profile() as prof:
        opt.step()
    assert "Optimizer.step#Adam.step" in {e.name for e in prof.events()}
    entered = []
    record = torch.autograd.profiler.record_function
    monkeypatch.setattr(torch.autograd.profiler, "record_function",
                        lambda name: entered.append(name) or record(name))
    opt.step()                         # no profiler, no hook: torch's wrapper is skipped
    assert entered == []
    handle = opt.register_step_post_hook(lambda o, a, k: None)
    opt.step()                         # a hook: torch's wrapper runs it
    handle.remove()
    assert entered == ["Optimizer.step#Adam.step"]


def test_zero_grad_and_params_without_grad_are_skipped():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = ft.Adam([a, b], lr=0.1)
    a.grad = torch.ones(2)
    opt.step()
    assert torch.equal(b.detach(), torch.ones(2)) and b not in opt.state
    opt.zero_grad()
    assert a.grad is None


def test_deepcopy_of_the_optimizer_steps_its_own_copy():
    m, _ = pair(torch.float64)
    opt = ft.Adam(m.parameters(), lr=0.1)
    x, y = data(torch.float64)
    train(m, opt, x, y, 2)
    m2 = copy.deepcopy(m)
    opt2 = ft.Adam(m2.parameters(), lr=0.1)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert max_rel(train(m2, opt2, x, y, 5, start=2), train(m, opt, x, y, 5, start=2)) < 1e-12


def test_gradients_zeroed_in_place_follow_torch(default_float64):
    """With ``zero_grad(set_to_none=False)`` the gradient tensors persist between steps
    (and so do fastopt's views of them); the trajectory is still torch's."""
    from models import data, pair
    ours_m, theirs_m = pair(torch.float64)
    x, y = data(torch.float64)
    losses = []
    for m, opt in ((ours_m, ft.Adam(ours_m.parameters(), lr=1e-2)),
                   (theirs_m, torch.optim.Adam(theirs_m.parameters(), lr=1e-2))):
        out = []
        for _ in range(20):
            opt.zero_grad(set_to_none=False)
            loss = torch.nn.functional.mse_loss(m(x), y)
            loss.backward()
            opt.step()
            out.append(loss.item())
        losses.append(out)
    assert losses[0] == pytest.approx(losses[1], rel=1e-12)
