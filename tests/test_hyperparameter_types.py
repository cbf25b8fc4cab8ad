"""Hyperparameter types and ranges as torch.optim takes them: reals that are not bools, flags
that are bools, betas any pair of reals, Adadelta's rho up to 1; and torch's own state_dict
loads where its layout fits."""
import numpy as np
import pytest

import fastopt
from first_order_cases import ReferenceOptimizer, assert_close


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_a_bool_learning_rate_is_a_type_error(value):
    with pytest.raises(TypeError, match="lr must be a real number"):
        fastopt.SGD([np.ones(2)], lr=value)


@pytest.mark.parametrize("cls,flag", [(fastopt.SGD, "maximize"), (fastopt.SGD, "nesterov"),
                                      (fastopt.Adam, "amsgrad"), (fastopt.RMSprop, "centered"),
                                      (fastopt.Adam, "decoupled_weight_decay")])
@pytest.mark.parametrize("value", ["False", "True", 0, 1, 1.0, None, [True]])
def test_a_flag_that_is_not_a_bool_is_a_type_error(cls, flag, value):
    with pytest.raises(TypeError, match=f"{flag} must be a bool"):
        cls([np.ones(2)], lr=0.1, **{flag: value})


def test_a_flag_set_to_a_non_bool_in_a_param_group_is_refused_by_the_step():
    p = np.ones(2)
    opt = fastopt.SGD([p], lr=0.1)
    opt.param_groups[0]["maximize"] = "False"
    with pytest.raises(TypeError, match="maximize must be a bool"):
        opt.step([np.ones(2)])
    np.testing.assert_array_equal(p, 1.0)


@pytest.mark.parametrize("value", [False, np.False_])
def test_numpy_bools_are_bools(value):
    p, q = np.ones(3), np.ones(3)
    fastopt.SGD([p], lr=0.1, maximize=value).step([np.ones(3)])
    fastopt.SGD([q], lr=0.1, maximize=False).step([np.ones(3)])
    np.testing.assert_array_equal(p, q)
    p = np.ones(3)
    fastopt.SGD([p], lr=0.1, maximize=np.True_).step([np.ones(3)])
    np.testing.assert_array_equal(p, 1.1)


@pytest.mark.parametrize("betas", [(0.8, 0.99), [0.8, 0.99], np.array([0.8, 0.99]),
                                   (np.float64(0.8), np.float64(0.99))])
@pytest.mark.parametrize("cls", [fastopt.Adam, fastopt.Adamax, fastopt.NAdam])
def test_betas_may_be_any_pair_of_reals(cls, betas):
    p, q = np.ones(4), np.ones(4)
    cls([p], lr=0.1, betas=betas).step([np.full(4, 0.3)])
    cls([q], lr=0.1, betas=(0.8, 0.99)).step([np.full(4, 0.3)])
    np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("betas,exc", [((0.9,), TypeError), ((0.9, 0.99, 0.999), TypeError),
                                       (np.array([[0.9, 0.99]]), TypeError),
                                       ("ab", TypeError), (0.9, TypeError),
                                       ((True, 0.99), TypeError), ((0.9, "0.99"), TypeError),
                                       ((0.9, 1.0), ValueError), ((-0.1, 0.99), ValueError),
                                       ((0.9, float("nan")), ValueError)])
def test_betas_that_are_not_a_pair_of_reals_in_range_are_refused(betas, exc):
    with pytest.raises(exc, match="beta"):
        fastopt.Adam([np.ones(2)], betas=betas)


def test_adadelta_accepts_rho_1_as_torch_does():
    p = np.linspace(-1, 1, 9)
    q = p.copy()
    opt = fastopt.Adadelta([p], lr=1.0, rho=1.0)
    ref = ReferenceOptimizer("adadelta", [q], lr=1.0, rho=1.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        g = rng.standard_normal(9)
        opt.step([g.copy()])
        ref.step([g])
    assert_close(p, q, np.float64)
    for rho in (1.0 + 1e-12, -0.1, float("nan")):
        with pytest.raises(ValueError, match="rho"):
            fastopt.Adadelta([np.ones(2)], rho=rho)


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name,kw", [
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0)), ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01)),
])
def test_a_torch_state_dict_loads_and_the_run_continues_as_torch_does(name, kw):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(17)
    grads = [rng.standard_normal(17) for _ in range(6)]
    t = torch.tensor(x0.copy(), requires_grad=True)
    topt = getattr(torch.optim, name)([t], **kw)
    for g in grads[:3]:
        t.grad = torch.tensor(g)
        topt.step()
    p = t.detach().numpy().copy()
    opt = getattr(fastopt, name)([p], **kw)
    opt.load_state_dict(topt.state_dict())
    for g in grads[3:]:
        t.grad = torch.tensor(g)
        topt.step()
        opt.step([g.copy()])
    np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-10, atol=1e-10)
