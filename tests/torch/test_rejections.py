"""What fastopt.torch cannot run raises a precise error naming the tensor, and nothing --
parameters, state -- is changed."""
import pytest

torch = pytest.importorskip("torch")
import fastopt.torch as ft  # noqa: E402


def _snapshot(opt):
    params = [p.detach().clone() for g in opt.param_groups for p in g["params"]]
    state = {id(p): {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
             for p, s in opt.state.items()}
    return params, state


def _unchanged(opt, snap):
    params, state = snap
    now = [p.detach() for g in opt.param_groups for p in g["params"]]
    assert all(torch.equal(a, b) for a, b in zip(now, params))
    assert {id(p) for p in opt.state if opt.state[p]} == {i for i, s in state.items() if s}
    for p, s in opt.state.items():
        for k, v in s.items():
            assert torch.equal(v, state[id(p)][k]) if isinstance(v, torch.Tensor) else \
                v == state[id(p)][k]


def _rejected(opt, exc, match):
    """``opt.step()`` raises ``exc`` matching ``match`` and changes nothing."""
    snap = _snapshot(opt)
    with pytest.raises(exc, match=match):
        opt.step()
    _unchanged(opt, snap)


def _trained(cls=ft.Adam, **kw):
    """An optimizer with state after one step, over a good parameter and a second one."""
    good, other = torch.nn.Parameter(torch.ones(5)), torch.nn.Parameter(torch.ones(3, 4))
    opt = cls([good, other], **kw)
    good.grad, other.grad = torch.ones(5), torch.ones(3, 4)
    opt.step()
    return opt, good, other


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.complex64,
                                   torch.int64])
def test_unsupported_dtypes_are_rejected_at_construction(dtype):
    p = torch.zeros(3, dtype=dtype, requires_grad=dtype != torch.int64)
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['params'\]\[1\].*" +
                       str(dtype).replace("torch.", "")):
        ft.Adam([torch.nn.Parameter(torch.zeros(2)), p])


@pytest.mark.parametrize("make", ["non-contiguous", "meta-device"])
def test_params_that_are_not_contiguous_cpu_tensors_are_rejected(make):
    base = torch.zeros(4, 6)
    p = (torch.nn.Parameter(base.t()) if make == "non-contiguous"
         else torch.nn.Parameter(torch.zeros(3, device="meta")))
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[0\]"):
        ft.SGD([p], lr=0.1)


def test_a_parameter_made_non_contiguous_later_is_rejected_and_nothing_written():
    opt, good, other = _trained()
    other.data = torch.zeros(4, 3).t()
    good.grad, other.grad = torch.ones(5), torch.ones(3, 4)
    _rejected(opt, ValueError, match=r"\['params'\]\[1\].*not contiguous")


def test_sparse_gradient_is_rejected_and_nothing_written():
    opt, good, other = _trained()
    good.grad = torch.ones(5)
    other.grad = torch.eye(3, 4).to_sparse()
    snap = _snapshot(opt)
    with pytest.raises(ValueError, match=r"gradient of param_groups\[0\]\['params'\]\[1\] is "
                                         "sparse"):
        opt.step()
    _unchanged(opt, snap)


def test_gradient_of_another_dtype_is_rejected_and_nothing_written():
    opt, good, other = _trained()
    other.grad_dtype = None                 # torch itself refuses a mismatch otherwise
    good.grad, other.grad = torch.ones(5), torch.ones(3, 4, dtype=torch.float64)
    _rejected(opt, TypeError, match="gradient of .*float64")


@pytest.mark.parametrize("flag", ["differentiable", "capturable"])
def test_flags_asking_for_another_implementation_are_rejected(flag):
    with pytest.raises(ValueError, match=f"{flag}=True"):
        ft.Adam([torch.nn.Parameter(torch.zeros(2))], **{flag: True})


def test_flags_set_on_a_group_later_are_rejected_and_nothing_written():
    opt, good, other = _trained()
    opt.param_groups[0]["capturable"] = True
    good.grad, other.grad = torch.ones(5), torch.ones(3, 4)
    _rejected(opt, ValueError, match="capturable")


def test_foreach_and_fused_are_accepted_but_not_both_and_not_non_bools():
    w = torch.nn.Parameter(torch.zeros(2))
    ft.Adam([w], foreach=True)
    ft.Adam([w], fused=True)
    with pytest.raises(TypeError, match="foreach must be None or a bool"):
        ft.Adam([w], foreach="yes")
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        ft.Adam([w], foreach=True, fused=True)


@pytest.mark.parametrize("key,value,message", [
    ("lr", -1.0, "Invalid learning rate"), ("lr", float("nan"), "Invalid learning rate"),
    ("betas", (0.9, 1.0), "Invalid beta parameter at index 1"),
    ("eps", -1e-8, "Invalid epsilon value"), ("weight_decay", -1, "Invalid weight_decay"),
])
def test_a_bad_group_value_set_mid_training_is_rejected_and_nothing_written(key, value,
                                                                           message):
    opt, good, other = _trained()
    opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))]})
    opt.param_groups[1]["params"][0].grad = torch.ones(2)
    opt.param_groups[1][key] = value          # the second group: the first must not move
    good.grad, other.grad = torch.ones(5), torch.ones(3, 4)
    _rejected(opt, ValueError, match=message)


def test_a_bad_added_param_group_is_rejected_and_not_kept():
    opt, _, _ = _trained()
    with pytest.raises(TypeError, match=r"param_groups\[1\]\['params'\]\[0\].*float16"):
        opt.add_param_group({"params": [torch.zeros(2, dtype=torch.float16,
                                                     requires_grad=True)]})
    assert len(opt.param_groups) == 1


def test_parameters_sharing_memory_across_groups_are_rejected_and_nothing_written():
    base = torch.zeros(10)
    a = torch.nn.Parameter(base[:6])
    b = torch.nn.Parameter(torch.ones(1))
    opt = ft.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    b.data = base[4:8]                     # overlaps a
    a.grad, b.grad = torch.ones(6), torch.ones(4)
    before = base.clone()
    with pytest.raises(ValueError, match="shares memory"):
        opt.step()
    assert torch.equal(base, before)


def test_state_of_the_wrong_shape_is_rejected_and_nothing_written():
    opt, good, other = _trained()
    opt.state[other]["exp_avg"] = torch.zeros(12)
    good.grad, other.grad = torch.ones(5), torch.ones(3, 4)
    _rejected(opt, ValueError, match=r"state\['exp_avg'\] of .*\[1\] has shape")


@pytest.mark.parametrize("value", [torch.tensor(1.0, dtype=torch.float16),
                                   torch.tensor(1.0, dtype=torch.bfloat16),
                                   torch.tensor([1.0, 1.0]), 1.0])
def test_step_state_that_is_not_a_one_element_float32_or_float64_tensor_is_rejected(value):
    opt, good, other = _trained()
    opt.state[other]["step"] = value
    good.grad, other.grad = torch.ones(5), torch.ones(3, 4)
    _rejected(opt, TypeError, match=r"state\['step'\] of .*\[1\] is .*float32 or float64")


def test_a_same_address_view_that_is_not_contiguous_is_rejected_after_cached_steps():
    """The plans cached between steps key parameters by strides as well as the address: a square
    parameter swapped for its own transpose (same data_ptr, same shape), and a state tensor
    replaced the same way, are rejected."""
    sq = torch.nn.Parameter(torch.arange(9.0).reshape(3, 3))
    opt = ft.Adam([sq])
    for _ in range(3):
        sq.grad = torch.ones(3, 3)
        opt.step()
    opt.state[sq]["exp_avg"] = opt.state[sq]["exp_avg"].t()
    sq.grad = torch.ones(3, 3)
    _rejected(opt, ValueError, match=r"state\['exp_avg'\].*not contiguous")
    opt.state[sq]["exp_avg"] = opt.state[sq]["exp_avg"].t()     # back: contiguous
    sq.data = sq.data.t()
    with pytest.raises(ValueError, match=r"\['params'\]\[0\].*not contiguous"):
        opt.step()
    sq.data = sq.data.t()
    opt.step()


def test_a_gradient_kept_between_steps_is_checked_again_when_it_changes():
    w = torch.nn.Parameter(torch.zeros(4))
    opt = ft.SGD([w], lr=0.1, momentum=0.9)
    w.grad = torch.ones(4)
    opt.step()
    opt.step()                             # the same gradient tensor, a cached view
    w.grad.data = torch.ones(4, dtype=torch.float64)
    _rejected(opt, TypeError, match="gradient of .* has dtype torch.float64")


def test_a_grad_scale_handed_to_the_optimizer_is_rejected_after_cached_steps():
    # torch.amp.GradScaler sets these for optimizers that unscale inside the step, which
    # fastopt's kernels do not
    opt, good, other = _trained()
    for name in ("grad_scale", "found_inf"):
        setattr(opt, name, torch.tensor(2.0))
        good.grad, other.grad = torch.ones(5), torch.ones(3, 4)
        _rejected(opt, RuntimeError, match="grad_scale/found_inf")
        setattr(opt, name, None)
    opt.step()
