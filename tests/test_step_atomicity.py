"""A step of an optimizer with several param groups is all groups or none: an interrupt
(KeyboardInterrupt) raised anywhere in Python code during a step leaves every group's step
counter and arrays either all before the step or all after it."""
import sys

import numpy as np
import pytest

import fastopt

SIZES = [(5,), (3, 4), (17,)]


def _adam_three_groups(seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in SIZES]
    groups = [{"params": [p], "lr": 1e-2 * (i + 1)} for i, p in enumerate(params)]
    return fastopt.Adam(groups, amsgrad=True), params


def _grads(t):
    rng = np.random.default_rng(100 + t)
    return [rng.standard_normal(s).astype(np.float32) for s in SIZES]


def _counters(opt):
    return [int(opt.state[i]["step"]) for i in range(len(SIZES)) if i in opt.state]


def _snapshot(opt, params):
    state = {i: {k: np.array(v) for k, v in st.items()} for i, st in opt.state.items()}
    return [p.copy() for p in params], state


def _assert_same(opt, params, snapshot):
    before_params, before_state = snapshot
    for p, q in zip(params, before_params):
        np.testing.assert_array_equal(p, q)
    assert set(opt.state) == set(before_state)
    for i, st in before_state.items():
        assert set(opt.state[i]) == set(st)
        for k, v in st.items():
            np.testing.assert_array_equal(opt.state[i][k], v)


class _Interrupt:
    """A hyperparameter whose conversion to float is interrupted (Ctrl-C in user code)."""

    def __float__(self):
        raise KeyboardInterrupt


@pytest.mark.parametrize("group", [1, 2])
def test_interrupt_in_a_later_groups_hyperparameter_changes_nothing(group):
    opt, params = _adam_three_groups()
    for t in (1, 2, 3):
        opt.step(_grads(t))
    snapshot = _snapshot(opt, params)
    lr = opt.param_groups[group]["lr"]
    opt.param_groups[group]["lr"] = _Interrupt()
    with pytest.raises(KeyboardInterrupt):
        opt.step(_grads(4))
    assert _counters(opt) == [3, 3, 3]
    _assert_same(opt, params, snapshot)
    opt.param_groups[group]["lr"] = lr  # the optimizer still works, and is in step
    opt.step(_grads(4))
    assert _counters(opt) == [4, 4, 4]


def _step_interrupted_at_line(opt, grads, n):
    """Run ``opt.step(grads)`` with a KeyboardInterrupt raised at the n-th Python line
    executed inside it (any frame).  Returns True if the interrupt was raised."""
    count = [0]

    def trace(frame, event, arg):
        if event == "line":
            count[0] += 1
            if count[0] == n:
                raise KeyboardInterrupt
        return trace

    sys.settrace(trace)
    try:
        opt.step(grads)
    except KeyboardInterrupt:
        return True
    finally:
        sys.settrace(None)
    return False


@pytest.mark.parametrize("warm_steps", [0, 2])
def test_interrupt_at_any_line_of_a_step_leaves_groups_in_step(warm_steps):
    interrupted = 0
    for n in range(1, 1000):
        opt, params = _adam_three_groups()
        ref, ref_params = _adam_three_groups()
        for t in range(1, warm_steps + 1):
            opt.step(_grads(t))
            ref.step(_grads(t))
        before = _snapshot(opt, params)
        ref.step(_grads(warm_steps + 1))
        after = _snapshot(ref, ref_params)
        if not _step_interrupted_at_line(opt, _grads(warm_steps + 1), n):
            _assert_same(opt, params, after)
            break
        interrupted += 1
        counters = _counters(opt)
        if counters and counters[0] == warm_steps + 1:  # interrupted after the step
            assert counters == [warm_steps + 1] * 3
            _assert_same(opt, params, after)
        else:  # interrupted before it: nothing written, no state created
            _assert_same(opt, params, before)
        opt.step(_grads(0))  # the next step keeps the groups in step
        assert len(set(_counters(opt))) == 1
    else:
        pytest.fail("the step never completed")
    assert interrupted > 0
