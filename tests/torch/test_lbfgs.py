"""fastopt.torch.LBFGS against torch.optim.LBFGS: final loss and closure evaluations on a
least-squares fit, a logistic regression and a small MLP; its interface and errors."""
import pytest

torch = pytest.importorskip("torch")
import fastopt.torch as ft  # noqa: E402


def problem(kind, dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    if kind == "least-squares":
        A = torch.randn(200, 50, generator=g, dtype=dtype)
        b = torch.randn(200, generator=g, dtype=dtype)
        params = [torch.zeros(50, dtype=dtype, requires_grad=True)]
        return params, lambda: ((A @ params[0] - b) ** 2).mean()
    if kind == "logistic":
        X = torch.randn(500, 20, generator=g, dtype=dtype)
        y = (X @ torch.randn(20, generator=g, dtype=dtype) > 0).to(dtype)
        params = [torch.zeros(20, dtype=dtype, requires_grad=True),
                  torch.zeros(1, dtype=dtype, requires_grad=True)]
        return params, lambda: (torch.nn.functional.binary_cross_entropy_with_logits(
            X @ params[0] + params[1], y) + 1e-3 * params[0].pow(2).sum())
    X = torch.randn(256, 8, generator=g, dtype=dtype)
    y = torch.sin(X.sum(1, keepdim=True))
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(),
                              torch.nn.Linear(32, 1)).to(dtype)
    return list(net.parameters()), lambda: ((net(X) - y) ** 2).mean()


def run(cls, kind, steps=10, seed=1, **kw):
    params, f = problem(kind, seed=seed)
    opt = cls(params, **kw)
    evals = [0]

    def closure():
        evals[0] += 1
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return f().item(), evals[0], opt


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("kind", ["least-squares", "logistic"])
def test_convex_problems_reach_torchs_loss_with_no_more_evaluations(kind, line_search_fn):
    ours, our_evals, opt = run(ft.LBFGS, kind, line_search_fn=line_search_fn)
    theirs, their_evals, topt = run(torch.optim.LBFGS, kind, line_search_fn=line_search_fn)
    assert ours <= theirs * (1 + 1e-10)
    assert our_evals <= their_evals
    assert opt.state[opt._params[0]]["func_evals"] == our_evals


def test_mlp_reaches_torchs_loss_with_no_more_evaluations_over_seeds():
    """On a nonconvex fit the two line searches (Moré-Thuente here, torch's own cubic
    bracketing there) take different paths and end in different places, so the final
    losses differ seed by seed either way (over 100 seeds: lower on 44, geometric mean of
    the ratio 0.987 with a standard error of 0.033; docs/torch.md).  Over these six seeds
    the evaluations total no more than torch's (1,280 against 1,281) and the geometric
    mean of the ratio is 1.02, pinned here at <= 1.1."""
    ratio, ours_n, theirs_n = 1.0, 0, 0
    seeds = range(6)
    for seed in seeds:
        ours, a, _ = run(ft.LBFGS, "mlp", seed=seed, line_search_fn="strong_wolfe")
        theirs, b, _ = run(torch.optim.LBFGS, "mlp", seed=seed, line_search_fn="strong_wolfe")
        ratio *= ours / theirs
        ours_n, theirs_n = ours_n + a, theirs_n + b
    assert ratio ** (1 / len(seeds)) <= 1.1
    assert ours_n <= theirs_n


def test_mlp_without_line_search_follows_torchs_iteration():
    ours, a, _ = run(ft.LBFGS, "mlp", history_size=100)
    theirs, b, _ = run(torch.optim.LBFGS, "mlp", history_size=100)
    assert a == b
    assert ours == pytest.approx(theirs, rel=1e-2)


def test_step_returns_the_first_loss_and_leaves_the_params_at_the_iterate():
    params, f = problem("least-squares")
    opt = ft.LBFGS(params, max_iter=5, line_search_fn="strong_wolfe")
    first = f().item()

    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    assert opt.step(closure).item() == first
    assert f().item() < first
    assert opt.state[params[0]]["n_iter"] == 5


def test_signature_checks_and_rejections():
    w = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        ft.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="parameter groups"):
        ft.LBFGS([{"params": [w]}, {"params": [torch.zeros(2, requires_grad=True)]}])
    with pytest.raises(TypeError, match="one dtype"):
        ft.LBFGS([w, torch.zeros(2, dtype=torch.float64, requires_grad=True)])
    with pytest.raises(TypeError, match="float16"):
        ft.LBFGS([torch.zeros(2, dtype=torch.float16, requires_grad=True)])
    with pytest.raises(ValueError, match="not contiguous"):
        ft.LBFGS([torch.zeros(3, 4).t().requires_grad_()])


def _closure(opt, f):
    def closure():
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss
    return closure


def _resume(first, second, kind, dtype, steps=(4, 4), load=None, **kw):
    """Run ``first`` for ``steps[0]`` steps, save its state_dict (through torch.save), load
    it into a new ``second`` on a copy of the parameters (``load``: a function applied to
    the loaded dict first) and run ``steps[1]`` more steps.  Returns the losses of the
    second part and its final parameters."""
    import io
    params, f = problem(kind, dtype=dtype)
    opt = first(params, **kw)
    for _ in range(steps[0]):
        opt.step(_closure(opt, f))
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf)
    if load is not None:
        load(sd)
    opt2 = second(params, **kw)
    opt2.load_state_dict(sd)
    losses = [opt2.step(_closure(opt2, f)).item() for _ in range(steps[1])]
    return losses, [p.detach().clone() for p in params]


def _straight(cls, kind, dtype, steps=(4, 4), **kw):
    params, f = problem(kind, dtype=dtype)
    opt = cls(params, **kw)
    for _ in range(steps[0]):
        opt.step(_closure(opt, f))
    losses = [opt.step(_closure(opt, f)).item() for _ in range(steps[1])]
    return losses, [p.detach().clone() for p in params]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("kind", ["logistic", "mlp"])
def test_save_load_continue_equals_not_stopping(kind, line_search_fn, dtype):
    """The history (4 pairs kept of more formed, so the ring has wrapped), the pending step
    and its gradient travel in the state_dict: the resumed run is bit-identical."""
    kw = dict(max_iter=3, history_size=4, line_search_fn=line_search_fn)
    resumed, p1 = _resume(ft.LBFGS, ft.LBFGS, kind, dtype, steps=(3, 3), **kw)
    straight, p2 = _straight(ft.LBFGS, kind, dtype, steps=(3, 3), **kw)
    assert resumed == straight
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))
    # and the history matters: without it, the resumed run leaves that trajectory
    dropped, _ = _resume(ft.LBFGS, ft.LBFGS, kind, dtype, steps=(3, 3), load=_drop_history,
                         **kw)
    assert dropped[1:] != straight[1:]


def _drop_history(sd):
    for key in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                "prev_loss"):
        sd["state"][0].pop(key)


def test_state_dict_holds_torchs_history_keys():
    params, f = problem("least-squares")
    opt = ft.LBFGS(params, max_iter=5, history_size=3)
    opt.step(_closure(opt, f))
    state = opt.state_dict()["state"][0]
    assert list(state) == ["func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro",
                           "H_diag", "prev_flat_grad", "prev_loss"]
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 3
    s, y = state["old_stps"][-1], state["old_dirs"][-1]
    assert state["ro"][-1].item() == pytest.approx(1 / s.dot(y).item())
    assert state["H_diag"].item() == pytest.approx(s.dot(y).item() / y.dot(y).item())
    assert "old_dirs" not in opt.state[params[0]]   # the live history stays in fastopt


@pytest.mark.parametrize("direction", ["fastopt to torch", "torch to fastopt"])
def test_checkpoint_moves_between_fastopt_and_torch_lbfgs(direction):
    """Without a line search both classes take torch's iteration, so a run resumed from the
    other class's checkpoint follows the resuming class's own uninterrupted run (the same
    curvature pairs are kept on this least-squares fit; the recursions' arithmetic differ
    in rounding only)."""
    first, second = (ft.LBFGS, torch.optim.LBFGS) if direction == "fastopt to torch" \
        else (torch.optim.LBFGS, ft.LBFGS)
    kw = dict(max_iter=3, history_size=5, steps=(2, 2))
    resumed, p1 = _resume(first, second, "least-squares", torch.float64, **kw)
    straight, p2 = _straight(second, "least-squares", torch.float64, **kw)
    assert resumed == pytest.approx(straight, rel=1e-9)
    assert all(torch.allclose(a, b, rtol=1e-8, atol=1e-12) for a, b in zip(p1, p2))
    dropped, _ = _resume(first, second, "least-squares", torch.float64,
                         load=lambda sd: sd["state"][0].update(n_iter=0), **kw)
    assert dropped != pytest.approx(straight, rel=1e-6)


def test_loading_a_history_of_the_wrong_size_raises_before_anything_is_loaded():
    params, f = problem("least-squares")
    opt = ft.LBFGS(params, max_iter=3)
    opt.step(_closure(opt, f))
    sd = opt.state_dict()
    other = ft.LBFGS([torch.zeros(7, dtype=torch.float64, requires_grad=True)])
    with pytest.raises(ValueError, match="has 50 elements; the parameters have 7"):
        other.load_state_dict(sd)
    assert not other.state
    sd["state"][0]["old_dirs"] = sd["state"][0]["old_dirs"][:-1]
    with pytest.raises(ValueError, match="same length"):
        opt.load_state_dict(sd)
    sd["state"][0]["old_dirs"] = "nope"
    with pytest.raises(ValueError, match="lists"):
        opt.load_state_dict(sd)


def test_a_strong_wolfe_checkpoint_of_torch_resumes_in_fastopt():
    """With a line search the resumed run takes fastopt's search, so only its progress is
    checked: the loaded history gives a descent direction and the loss keeps falling."""
    kw = dict(max_iter=3, history_size=5, line_search_fn="strong_wolfe", steps=(2, 3))
    resumed, _ = _resume(torch.optim.LBFGS, ft.LBFGS, "logistic", torch.float64, **kw)
    assert all(b < a for a, b in zip(resumed, resumed[1:]))
