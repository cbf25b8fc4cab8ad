"""state_dict / load_state_dict, and the public .pxd that ships with the package."""
import copy
import os
import re

import numpy as np
import pytest

import fastopt
from first_order_cases import ALL_CASES, ALGORITHMS, case_id, gradient, gradient_pool


@pytest.mark.parametrize("name,kw", ALL_CASES[::3], ids=[case_id(*c) for c in ALL_CASES[::3]])
def test_state_dict_round_trip_is_bit_identical(name, kw):
    cls = ALGORITHMS[name][0]
    rng = np.random.default_rng(8)
    shapes = [(40,), (3, 7)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    pools = [gradient_pool(rng, s, np.float32, k=3) for s in shapes]
    opt = cls(params, **kw)
    for t in range(1, 11):
        opt.step([gradient(pool, t) for pool in pools])
    saved = opt.state_dict()
    clones = [p.copy() for p in params]
    opt2 = cls(clones, lr=123.0)  # hyperparameters come from the state dict
    opt2.load_state_dict(copy.deepcopy(saved))
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    for t in range(11, 21):
        grads = [gradient(pool, t) for pool in pools]
        opt.step(grads)
        opt2.step(grads)
    for a, b in zip(params, clones):
        np.testing.assert_array_equal(a, b)


def test_state_dict_is_a_snapshot():
    p = np.ones(3)
    opt = fastopt.Adam([p], lr=0.1)
    opt.step([np.ones(3)])
    saved = opt.state_dict()
    opt.step([np.ones(3)])
    assert int(saved["state"][0]["step"]) == 1
    assert saved["param_groups"] == [{**opt.defaults, "lr": 0.1, "params": [0]}]


def _load_error(opt, state_dict, exc, match):
    before = copy.deepcopy(opt.state_dict())
    with pytest.raises(exc, match=match):
        opt.load_state_dict(state_dict)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i, st in before["state"].items():
        for k, v in st.items():
            np.testing.assert_array_equal(after["state"][i][k], v)


def test_load_state_dict_rejects_what_does_not_fit():
    p, q = np.ones(4), np.ones((2, 3))
    opt = fastopt.Adam([p, q], lr=0.1)
    opt.step([np.ones(4), np.ones((2, 3))])
    good = opt.state_dict()

    bad = copy.deepcopy(good)
    bad["state"][1]["exp_avg"] = np.zeros(6)
    _load_error(opt, bad, ValueError, "shape")
    bad = copy.deepcopy(good)          # saved indices 7, 8; state under 1, a position here
    bad["param_groups"][0]["params"] = [7, 8]
    bad["state"] = {7: good["state"][0], 8: good["state"][1], 1: {}}
    _load_error(opt, bad, ValueError, "position of a parameter")
    bad = copy.deepcopy(good)
    bad["state"][5] = 1.0
    _load_error(opt, bad, ValueError, "must be a dict")
    bad = copy.deepcopy(good)
    bad["param_groups"][0]["params"] = [0]
    _load_error(opt, bad, ValueError, "parameters")
    bad = copy.deepcopy(good)
    bad["param_groups"][0]["lr"] = -1.0
    _load_error(opt, bad, ValueError, "learning rate")
    bad = copy.deepcopy(good)
    bad["state"][0]["step"] = np.array(-3)
    _load_error(opt, bad, ValueError, "step")
    bad = copy.deepcopy(good)
    bad["param_groups"].append(bad["param_groups"][0])
    _load_error(opt, bad, ValueError, "param groups")
    _load_error(opt, {"state": {}}, ValueError, "keys")


def test_state_under_an_index_no_group_lists_is_kept_and_ignored_as_torch_does():
    """torch.optim's load_state_dict keeps state that no param group lists, as is, under
    its own key; a step ignores it and state_dict returns it.  fastopt does the same, so
    ``load_state_dict(state_dict())`` works whatever ``opt.state`` holds."""
    p, ref_p = np.ones(4), np.ones(4)
    opt, ref = fastopt.Adam([p], lr=0.1), fastopt.Adam([ref_p], lr=0.1)
    opt.state[5] = {"note": np.arange(3.0)}
    opt.state["tag"] = {}
    for o in (opt, ref):
        o.step([np.full(4, 0.5)])
    np.testing.assert_array_equal(p, ref_p)                        # the step ignored them
    saved = opt.state_dict()
    assert set(saved["state"]) == {0, 5, "tag"}
    q = np.ones(4)
    again = fastopt.Adam([q], lr=0.1)
    again.load_state_dict(saved)
    assert set(again.state) == {0, 5, "tag"}
    np.testing.assert_array_equal(again.state[5]["note"], [0.0, 1.0, 2.0])
    assert again.state[5]["note"] is not saved["state"][5]["note"]   # a copy
    np.copyto(q, p)
    for o in (again, ref):
        o.step([np.full(4, 0.25)])
    np.testing.assert_array_equal(q, ref_p)
    torch = pytest.importorskip("torch")
    w = torch.ones(4, requires_grad=True)
    topt = torch.optim.Adam([w], lr=0.1)
    w.grad = torch.full((4,), 0.5)
    topt.step()
    tsaved = topt.state_dict()
    tsaved["state"][5] = {"note": torch.arange(3.0)}
    topt.load_state_dict(tsaved)
    assert set(topt.state_dict()["state"]) == {0, 5}


def test_load_state_dict_casts_to_the_parameter_dtype():
    p = np.ones(4, np.float32)
    opt = fastopt.Adam([p], lr=0.1)
    opt.load_state_dict({"state": {0: {"step": 3, "exp_avg": np.ones(4),
                                       "exp_avg_sq": np.ones(4)}},
                         "param_groups": [{"lr": 0.2, "params": [0]}]})
    assert opt.state[0]["exp_avg"].dtype == np.float32
    assert int(opt.state[0]["step"]) == 3 and opt.param_groups[0]["lr"] == 0.2
    opt.step([np.ones(4, np.float32)])
    assert int(opt.state[0]["step"]) == 4


def test_the_public_pxd_ships_with_the_package():
    pxd = os.path.join(os.path.dirname(fastopt.__file__), "kernels.pxd")
    assert os.path.isfile(pxd)
    with open(pxd) as f:
        text = f.read()
    # and the generated declarations it includes, next to it in the package
    for include in re.findall(r'^include "([^"]+)"', text, re.MULTILINE):
        with open(os.path.join(os.path.dirname(pxd), include)) as f:
            text += f.read()
    for name in ["adam_f32", "adam_f64", "sgd_f32", "nadam_f64", "AdamHyper", "adam_step",
                 "adam_defaults", "noexcept nogil"]:
        assert name in text
