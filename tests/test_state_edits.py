"""Edits made in place, behind the optimizer's back, are caught before anything is written
(a state array made read-only, a scalar state set to NaN, a parameter reshaped), and the
state torch allows -- entries of one's own, a torch state_dict -- round-trips."""
import copy

import numpy as np
import pytest

import fastopt


def _stepped(cls=fastopt.Adam, n=6, steps=2, **kw):
    p = np.linspace(-1, 1, n)
    opt = cls([p], lr=0.1, **kw)
    for _ in range(steps):
        opt.step([np.full(n, 0.5)])
    return opt, p


def _snapshot(opt, p):
    sd = opt.state_dict()
    return p.copy(), {k: np.array(v, copy=True) for k, v in sd["state"][0].items()}


def _assert_unchanged(opt, p, snap):
    before_p, before_state = snap
    np.testing.assert_array_equal(p, before_p)
    for k, v in before_state.items():
        np.testing.assert_array_equal(opt.state[0][k], v, err_msg=k)


@pytest.mark.parametrize("cls,name", [(fastopt.Adam, "exp_avg"), (fastopt.Adam, "exp_avg_sq"),
                                      (fastopt.SGD, "momentum_buffer"),
                                      (fastopt.RMSprop, "square_avg")])
def test_a_state_array_made_read_only_in_place_is_rejected_before_writing(cls, name):
    kw = {"momentum": 0.9} if cls is fastopt.SGD else {}
    opt, p = _stepped(cls, **kw)
    snap = _snapshot(opt, p)
    opt.state[0][name].flags.writeable = False
    with pytest.raises(ValueError, match=f"{name}.*(read-only|writeable)"):
        opt.step([np.full(p.size, 0.5)])
    _assert_unchanged(opt, p, snap)
    opt.state[0][name].flags.writeable = True           # made writeable again: steps on
    opt.step([np.full(p.size, 0.5)])
    assert not np.array_equal(p, snap[0])


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_mu_product_edited_in_place_to_an_invalid_value_is_rejected(value):
    opt, p = _stepped(fastopt.NAdam)
    snap = _snapshot(opt, p)
    opt.state[0]["mu_product"][...] = value
    with pytest.raises(ValueError, match="mu_product"):
        opt.step([np.full(p.size, 0.5)])
    np.testing.assert_array_equal(p, snap[0])
    for k in ("exp_avg", "exp_avg_sq", "step"):
        np.testing.assert_array_equal(opt.state[0][k], snap[1][k])


@pytest.mark.parametrize("value", [-1, 2**62, 2**63 - 1])
def test_a_step_counter_edited_in_place_out_of_range_is_rejected(value):
    opt, p = _stepped()
    snap = _snapshot(opt, p)
    opt.state[0]["step"][...] = value
    with pytest.raises(ValueError, match="step"):
        opt.step([np.full(p.size, 0.5)])
    np.testing.assert_array_equal(p, snap[0])
    np.testing.assert_array_equal(opt.state[0]["exp_avg"], snap[1]["exp_avg"])


def test_entries_of_ones_own_in_the_state_round_trip_and_do_not_change_the_step():
    opt, p = _stepped()
    ref, q = _stepped()
    opt.state[0]["note"] = np.array([1, 2, 3])
    opt.state[0]["lr_scale"] = 0.5
    opt.step([np.full(p.size, 0.5)])
    ref.step([np.full(q.size, 0.5)])
    np.testing.assert_array_equal(p, q)
    sd = opt.state_dict()
    opt.load_state_dict(sd)
    np.testing.assert_array_equal(opt.state[0]["note"], [1, 2, 3])
    assert opt.state[0]["lr_scale"] == 0.5
    opt.step([np.full(p.size, 0.5)])
    ref.step([np.full(q.size, 0.5)])
    np.testing.assert_array_equal(p, q)


def test_a_parameter_reshaped_in_place_is_rejected_by_the_step_before_writing():
    opt, p = _stepped()
    snap = _snapshot(opt, p)
    p.shape = (2, 3)
    with pytest.raises(ValueError, match=r"shape"):
        opt.step([np.full((2, 3), 0.5)])
    p.shape = (6,)
    _assert_unchanged(opt, p, snap)
    opt.load_state_dict(opt.state_dict())               # and the state still loads back
    opt.step([np.full(6, 0.5)])


def test_state_dict_of_a_reshaped_parameter_still_loads_back():
    opt, p = _stepped()
    p.shape = (3, 2)
    sd = opt.state_dict()
    try:
        opt.load_state_dict(sd)
    except ValueError as e:                             # refused: then the step refuses too
        assert "shape" in str(e)
        with pytest.raises(ValueError, match="shape"):
            opt.step([np.full((3, 2), 0.5)])


def test_a_float64_state_value_that_overflows_a_float32_parameter_is_rejected():
    p = np.ones(3, np.float32)
    opt = fastopt.Adam([p])
    opt.step([np.ones(3, np.float32)])
    before = copy.deepcopy(opt.state_dict())
    sd = opt.state_dict()
    sd["state"][0]["exp_avg_sq"] = np.array([1.0, 1e300, 2.0])
    with pytest.raises(ValueError, match=r"exp_avg_sq.*float32"):
        opt.load_state_dict(sd)
    np.testing.assert_array_equal(opt.state[0]["exp_avg_sq"], before["state"][0]["exp_avg_sq"])
    sd["state"][0]["exp_avg_sq"] = np.array([1.0, 3e38, 2.0])      # representable: fine
    opt.load_state_dict(sd)
    assert opt.state[0]["exp_avg_sq"].dtype == np.float32
