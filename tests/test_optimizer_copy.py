"""Optimizers pickle and deep-copy, as torch.optim's do: the copy holds copies of the
parameters and of the state, and continues bit-identically."""
import copy
import pickle

import numpy as np
import pytest

import fastopt

CASES = [
    (fastopt.NAdam, dict(lr=0.01, weight_decay=0.01)),
    (fastopt.Adam, dict(lr=0.01, amsgrad=True)),
    (fastopt.SGD, dict(lr=0.01, momentum=0.9, dampening=0.1)),
    (fastopt.Adagrad, dict(lr=0.05, initial_accumulator_value=0.1)),
]


def _grads(t, params):
    rng = np.random.default_rng(t)
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


def _optimizer(cls, kw):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(d) for s, d in
              (((5,), np.float32), ((3, 4), np.float32), ((17,), np.float64))]
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": kw["lr"] * 2}]
    return cls(groups, **kw), params


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("cls,kw", CASES, ids=[c.__name__ for c, _ in CASES])
def test_copy_continues_bit_identically(cls, kw, how):
    opt, params = _optimizer(cls, kw)
    for t in (1, 2, 3):
        opt.step(_grads(t, params))
    clone = pickle.loads(pickle.dumps(opt)) if how == "pickle" else copy.deepcopy(opt)
    clone_params = [p for g in clone.param_groups for p in g["params"]]
    assert type(clone) is cls and len(clone.param_groups) == 2
    for p, q in zip(params, clone_params):
        assert p is not q and not np.shares_memory(p, q)
        assert p.tobytes() == q.tobytes() and p.dtype == q.dtype
    for i, st in opt.state.items():
        for name, value in st.items():
            assert not np.shares_memory(value, clone.state[i][name])
    for t in (4, 5, 6):
        opt.step(_grads(t, params))
        clone.step(_grads(t, clone_params))
    for p, q in zip(params, clone_params):
        assert p.tobytes() == q.tobytes()
    for i, st in opt.state.items():
        assert set(st) == set(clone.state[i])
        for name, value in st.items():
            assert np.asarray(value).tobytes() == np.asarray(clone.state[i][name]).tobytes()
    assert int(clone.state[0].get("step", 6)) == 6


def test_copy_of_a_fresh_optimizer_steps_like_the_original():
    opt, params = _optimizer(fastopt.Adam, dict(lr=0.01))
    clone = copy.deepcopy(opt)
    clone_params = [p for g in clone.param_groups for p in g["params"]]
    opt.step(_grads(1, params))
    clone.step(_grads(1, clone_params))
    for p, q in zip(params, clone_params):
        assert p.tobytes() == q.tobytes()
