"""Bad input: a precise ValueError/TypeError, raised before any array or state is written."""
import copy

import numpy as np
import pytest

import fastopt
from first_order_cases import ALGORITHMS


def _snapshot(opt, params):
    return [p.copy() for p in params], copy.deepcopy(opt.state_dict())


def _assert_unchanged(opt, params, snap):
    before_params, before_state = snap
    for p, q in zip(params, before_params):
        np.testing.assert_array_equal(p, q)
    after = opt.state_dict()
    assert after["param_groups"] == before_state["param_groups"]
    assert after["state"].keys() == before_state["state"].keys()
    for i, st in before_state["state"].items():
        assert after["state"][i].keys() == st.keys()
        for k, v in st.items():
            np.testing.assert_array_equal(after["state"][i][k], v)


def _stepped_adam(n_steps=2):
    params = [np.ones((3, 4), np.float32), np.ones(5, np.float32), np.ones(2, np.float32)]
    opt = fastopt.Adam(params, lr=0.1, amsgrad=True)
    for _ in range(n_steps):
        opt.step([np.ones_like(p) for p in params])
    return opt, params


BAD_GRADS = [
    ("shape", lambda p: np.ones(p.size + 1, p.dtype), ValueError, "shape"),
    ("reshaped", lambda p: np.ones(p.size, p.dtype).reshape(-1, 1) if p.ndim == 1
     else np.ones(p.size, p.dtype), ValueError, "shape"),
    ("dtype", lambda p: np.ones(p.shape, np.float64), TypeError, "dtype"),
    ("int dtype", lambda p: np.ones(p.shape, np.int32), TypeError, "dtype"),
    ("not an array", lambda p: p.tolist(), TypeError, "numpy.ndarray"),
    ("non-contiguous", lambda p: np.ones(p.shape + (2,), p.dtype)[..., 0], ValueError,
     "C-contiguous"),
]


@pytest.mark.parametrize("what,make,exc,match", BAD_GRADS, ids=[b[0] for b in BAD_GRADS])
def test_bad_last_gradient_changes_nothing(what, make, exc, match):
    opt, params = _stepped_adam()
    snap = _snapshot(opt, params)
    grads = [np.full_like(p, 0.5) for p in params]
    grads[-1] = make(params[-1])
    with pytest.raises(exc, match=match):
        opt.step(grads)
    _assert_unchanged(opt, params, snap)


def test_bad_gradient_in_second_group_changes_first_group_nothing():
    a, b = np.ones(4), np.ones(3)
    opt = fastopt.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    opt.step([np.ones(4), np.ones(3)])
    snap = _snapshot(opt, [a, b])
    with pytest.raises(ValueError, match="gradient 1 has shape"):
        opt.step([np.ones(4), np.ones(4)])
    _assert_unchanged(opt, [a, b], snap)


def test_first_step_failure_creates_no_state():
    a, b = np.ones(4), np.ones(3)
    opt = fastopt.Adam([a, b])
    with pytest.raises(TypeError):
        opt.step([np.ones(4), np.ones(3, np.float32)])
    assert opt.state == {} and opt.state_dict()["state"] == {}
    np.testing.assert_array_equal(a, 1)


def test_wrong_number_of_gradients():
    opt, params = _stepped_adam()
    snap = _snapshot(opt, params)
    with pytest.raises(ValueError, match="expected 3 gradients, got 2"):
        opt.step([np.ones_like(p) for p in params[:2]])
    _assert_unchanged(opt, params, snap)


def test_gradient_sharing_memory_with_its_parameter():
    p = np.ones(6)
    opt = fastopt.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="shares memory"):
        opt.step([p])
    buf = np.ones(7)
    p2 = buf[:6]
    opt2 = fastopt.SGD([p2], lr=0.1)
    with pytest.raises(ValueError, match="shares memory"):
        opt2.step([buf[1:]])
    np.testing.assert_array_equal(buf, 1)


@pytest.mark.parametrize("make,exc,match", [
    (lambda: np.ones(4, np.int64), TypeError, "float32 or float64"),
    (lambda: np.ones(4, np.complex128), TypeError, "float32 or float64"),
    (lambda: np.ones(4, np.float16), TypeError, "float32 or float64"),
    (lambda: np.ones((4, 2))[:, 0], ValueError, "C-contiguous"),
    (lambda: np.asfortranarray(np.ones((3, 2))), ValueError, "C-contiguous"),
    (lambda: [1.0, 2.0], TypeError, "numpy.ndarray"),
])
def test_bad_parameters_rejected_at_construction(make, exc, match):
    with pytest.raises(exc, match=match):
        fastopt.Adam([make()])


def test_read_only_parameter():
    p = np.ones(3)
    p.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        fastopt.SGD([p])
    q = np.ones(3)
    opt = fastopt.SGD([q], lr=0.1)
    q.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        opt.step([np.ones(3)])
    np.testing.assert_array_equal(q, 1)


def test_duplicate_or_overlapping_parameters():
    p = np.ones(4)
    with pytest.raises(ValueError, match="share memory"):
        fastopt.Adam([p, p])
    buf = np.ones(10)
    with pytest.raises(ValueError, match="share memory"):
        fastopt.Adam([buf[:6], buf[4:]])
    opt = fastopt.Adam([p])
    with pytest.raises(ValueError, match="share memory"):
        opt.add_param_group({"params": [p]})
    assert len(opt.param_groups) == 1


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="empty"):
        fastopt.SGD([])


BAD_HYPER = [
    ("sgd", dict(lr=-0.1), ValueError, "learning rate"),
    ("sgd", dict(lr=float("nan")), ValueError, "learning rate"),
    ("sgd", dict(momentum=-0.5), ValueError, "momentum"),
    ("sgd", dict(nesterov=True), ValueError, "Nesterov"),
    ("sgd", dict(nesterov=True, momentum=0.9, dampening=0.1), ValueError, "Nesterov"),
    ("sgd", dict(weight_decay=-1.0), ValueError, "weight_decay"),
    ("sgd", dict(lr="0.1"), TypeError, "real number"),
    ("adagrad", dict(eps=-1e-10), ValueError, "epsilon"),
    ("adagrad", dict(lr_decay=-0.1), ValueError, "lr_decay"),
    ("adagrad", dict(initial_accumulator_value=-1.0), ValueError, "initial_accumulator"),
    ("adadelta", dict(rho=1.5), ValueError, "rho"),
    ("adadelta", dict(rho=-0.1), ValueError, "rho"),
    ("rmsprop", dict(alpha=-0.5), ValueError, "alpha"),
    ("rmsprop", dict(momentum=-0.1), ValueError, "momentum"),
    ("adam", dict(betas=(1.0, 0.999)), ValueError, "beta parameter at index 0"),
    ("adam", dict(betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
    ("adam", dict(betas=(0.9,)), TypeError, "betas"),
    ("adam", dict(eps=-1e-8), ValueError, "epsilon"),
    ("adamax", dict(betas=(0.9, 1.0)), ValueError, "beta parameter at index 1"),
    ("nadam", dict(momentum_decay=-1.0), ValueError, "momentum_decay"),
]


@pytest.mark.parametrize("name,kw,exc,match", BAD_HYPER,
                         ids=[f"{b[0]}-{list(b[1])[0]}-{i}" for i, b in enumerate(BAD_HYPER)])
def test_bad_hyperparameters(name, kw, exc, match):
    cls = ALGORITHMS[name][0]
    with pytest.raises(exc, match=match):
        cls([np.ones(3)], **kw)
    # the same value set between steps is rejected by step(), which writes nothing
    p = np.ones(3)
    opt = cls([p])
    opt.step([np.ones(3)])
    snap = _snapshot(opt, [p])
    opt.param_groups[0].update(kw)
    with pytest.raises(exc, match=match):
        opt.step([np.ones(3)])
    opt.param_groups[0].update(snap[1]["param_groups"][0])
    _assert_unchanged(opt, [p], snap)


def test_unknown_keyword():
    with pytest.raises(TypeError):
        fastopt.Adam([np.ones(3)], lr=0.1, foo=1)
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        fastopt.Adam([{"params": [np.ones(3)], "momentum": 0.9}])


def test_zero_size_arrays_step_like_any_other_and_change_nothing_else():
    p, e = np.ones(3), np.ones((0, 4))
    opt = fastopt.Adam([p, e], lr=0.1)
    opt.step([np.ones(3), np.ones((0, 4))])
    alone = np.ones(3)
    fastopt.Adam([alone], lr=0.1).step([np.ones(3)])
    np.testing.assert_array_equal(p, alone)
    assert e.shape == (0, 4) and opt.state[1]["exp_avg"].shape == (0, 4)
    assert int(opt.state[1]["step"]) == 1
    only_empty = fastopt.SGD(np.zeros(0), momentum=0.9)
    only_empty.step(np.zeros(0))
    assert only_empty.state[0]["momentum_buffer"].shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        only_empty.step(np.zeros(1))


def test_functional_rejects_before_writing():
    from fastopt import functional

    p, g = [np.ones(4), np.ones(3)], [np.ones(4), np.ones(3)]
    m, v = [np.zeros(4), np.zeros(3)], [np.zeros(4), np.zeros(2)]
    with pytest.raises(ValueError, match=r"exp_avg_sq\[1\] has shape"):
        functional.adam_(p, g, m, v, step=1)
    assert all(np.all(a == 1) for a in p) and all(np.all(a == 0) for a in m)
    with pytest.raises(ValueError, match="max_exp_avg_sq is required"):
        functional.adam_(p, g, m, [np.zeros(4), np.zeros(3)], step=1, amsgrad=True)
    with pytest.raises(ValueError, match=r"step must be an integer in \[1, 2\*\*62\)"):
        functional.adam_(p, g, m, [np.zeros(4), np.zeros(3)], step=0)
    with pytest.raises(ValueError, match="got 2 parameters but 1 gradients"):
        functional.sgd_(p, g[:1], step=1)
    with pytest.raises(ValueError, match="share memory"):
        functional.adam_(p, g, [p[0], np.zeros(3)], [np.zeros(4), np.zeros(3)], step=1)
    assert all(np.all(a == 1) for a in p)
