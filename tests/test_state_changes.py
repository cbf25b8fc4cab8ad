"""Changing ``opt.state`` between steps, and memory shared between the arrays of a step.

A step keeps pointers to the state arrays from one step to the next.  These tests change
the state the ways a PyTorch user may (clear it, replace entries, assign a new mapping, put
in state by hand) and check that the next step uses exactly what is in ``state`` now,
rejects what does not fit before writing anything, and never writes memory it does not own.
"""
import numpy as np
import pytest

import fastopt
from fastopt import functional


def _adam(n=1000, k=2, **kw):
    params = [np.zeros(n) for _ in range(k)]
    opt = fastopt.Adam(params, lr=0.1, **kw)
    opt.step([np.ones(n) for _ in range(k)])
    return opt, params


def _fresh_step(params, grads, **kw):
    """What a new optimizer's first step does to copies of ``params``."""
    copies = [p.copy() for p in params]
    fastopt.Adam(copies, lr=0.1, **kw).step(grads)
    return copies


def test_cleared_state_starts_over_and_writes_nothing_else():
    opt, params = _adam()
    opt.state.clear()
    others = [np.full(1000, 5.0) for _ in range(50)]  # may reuse the freed state's memory
    grads = [np.full(1000, 0.5), np.full(1000, -0.5)]
    expected = _fresh_step(params, grads)
    opt.step(grads)
    for p, e in zip(params, expected):
        np.testing.assert_array_equal(p, e)
    assert all(np.all(o == 5.0) for o in others)
    assert int(opt.state[0]["step"]) == 1 and int(opt.state[1]["step"]) == 1


@pytest.mark.parametrize("how", ["assign", "del", "pop", "update"])
def test_state_replaced_as_a_whole(how):
    opt, params = _adam()
    if how == "assign":
        opt.state = {}
    elif how == "del":
        del opt.state[0], opt.state[1]
    elif how == "pop":
        opt.state.pop(0), opt.state.popitem()
    else:
        opt.state.update({0: {}, 1: {}})
    grads = [np.ones(1000), np.ones(1000)]
    expected = _fresh_step(params, grads)
    opt.step(grads)
    for p, e in zip(params, expected):
        np.testing.assert_array_equal(p, e)
    assert opt.state_dict()["state"].keys() == {0, 1}


def test_replaced_state_entries_are_used():
    opt, params = _adam(n=4, k=1)
    m = np.zeros(4)
    opt.state[0]["exp_avg"] = m
    opt.state[0]["step"] = 0                       # a plain int is taken too
    opt.step([np.ones(4)])
    np.testing.assert_array_equal(m, np.full(4, 1 - 0.9))  # (1 - beta1) g, written in place
    assert opt.state[0]["exp_avg"] is m and int(opt.state[0]["step"]) == 1


def test_state_assigned_from_a_state_dict_snapshot_continues_identically():
    opt, params = _adam(n=37, k=2)
    twin_params = [p.copy() for p in params]
    twin = fastopt.Adam(twin_params, lr=0.1)
    twin.state = {i: dict(st) for i, st in opt.state_dict()["state"].items()}
    for t in range(5):
        grads = [np.full(37, np.sin(t + 1.0)), np.full(37, np.cos(t + 1.0))]
        opt.step(grads)
        twin.step(grads)
    for p, q in zip(params, twin_params):
        np.testing.assert_array_equal(p, q)


BAD_STATE = [
    ("short array", {"exp_avg": np.zeros(2)}, ValueError, "shape"),
    ("dtype", {"exp_avg": np.zeros(1000, np.float32)}, TypeError, "dtype"),
    ("byte order", {"exp_avg": np.zeros(1000, ">f8")}, TypeError, "dtype"),
    ("read-only", {"exp_avg": np.zeros(1000)}, ValueError, "read-only"),
    ("strided", {"exp_avg": np.zeros(2000)[::2]}, ValueError, "C-contiguous"),
    ("negative step", {"step": -1}, ValueError, "step"),
    ("huge step", {"step": 2.0 ** 70}, ValueError, "step"),
    ("not a dict", None, TypeError, "must be a dict"),
]


@pytest.mark.parametrize("what,entries,exc,match", BAD_STATE, ids=[b[0] for b in BAD_STATE])
def test_bad_hand_made_state_is_rejected_before_anything_is_written(what, entries, exc, match):
    opt, params = _adam()
    before = [p.copy() for p in params]
    steps = [int(opt.state[i]["step"]) for i in range(2)]
    if entries is None:
        with pytest.raises(exc, match=match):
            opt.state[1] = [1, 2]
        dict.__setitem__(opt.state, 1, [1, 2])  # behind the mapping's back
        opt.state._bump()
        exc = TypeError
    else:
        if what == "read-only":
            entries["exp_avg"].setflags(write=False)
        for k, v in entries.items():
            opt.state[1][k] = v
    with pytest.raises(exc, match=match):
        opt.step([np.ones(1000), np.ones(1000)])
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)
    assert int(opt.state[0]["step"]) == steps[0]   # parameter 0's counter did not advance


def test_state_arrays_shared_between_parameters_are_rejected():
    opt, params = _adam()
    opt.state[1]["exp_avg"] = opt.state[0]["exp_avg"]
    with pytest.raises(ValueError, match="share memory"):
        opt.step([np.ones(1000), np.ones(1000)])


def test_state_array_that_is_a_parameter_is_rejected():
    opt, params = _adam()
    opt.state[0]["exp_avg_sq"] = params[1]
    with pytest.raises(ValueError, match="share memory"):
        opt.step([np.ones(1000), np.ones(1000)])


def test_changes_to_a_state_dict_snapshot_do_not_reach_the_optimizer():
    opt = fastopt.Adam([np.zeros(3)], betas=[0.9, 0.99], lr=np.array(0.1))
    opt.param_groups[0]["betas"] = [0.9, 0.99]
    snap = opt.state_dict()
    snap["param_groups"][0]["betas"][1] = 5.0
    snap["param_groups"][0]["lr"] -= 3
    assert opt.param_groups[0]["betas"] == [0.9, 0.99]
    assert float(opt.param_groups[0]["lr"]) == 0.1


def test_load_state_dict_rejects_a_parameter_listed_twice():
    a, b = np.zeros(20000), np.zeros(3)
    opt = fastopt.Adam([a, b])
    opt.step([np.ones(20000), np.ones(3)])
    sd = opt.state_dict()
    sd["param_groups"][0]["params"] = [0, 0]
    sd["state"] = {0: sd["state"][1]}
    with pytest.raises(ValueError, match="twice"):
        opt.load_state_dict(sd)
    opt.step([np.ones(20000), np.ones(3)])  # unchanged and still usable
    assert int(opt.state[0]["step"]) == 2


@pytest.mark.parametrize("bad,exc", [
    (lambda sd: sd["state"][0].update(step=np.array(2.0 ** 70)), ValueError),
    (lambda sd: sd["state"][0].update(step=2 ** 63 - 1), ValueError),
    (lambda sd: sd["param_groups"].__setitem__(0, "x"), TypeError),
    (lambda sd: sd.__setitem__("state", [1]), TypeError),
])
def test_load_state_dict_rejects_more_misfits(bad, exc):
    opt, params = _adam(n=5, k=1)
    sd = opt.state_dict()
    bad(sd)
    with pytest.raises(exc):
        opt.load_state_dict(sd)
    assert int(opt.state[0]["step"]) == 1


# ------------------------------------------------------------------ shared memory, dtypes

def test_gradient_sharing_memory_with_another_parameter_is_rejected():
    a, b = np.ones(100_000), np.ones(100_000)
    opt = fastopt.SGD([a, b], lr=0.5)
    with pytest.raises(ValueError, match="gradient 1 shares memory with parameter 0"):
        opt.step([np.ones(100_000), a])
    with pytest.raises(ValueError, match="gradient 0 shares memory with parameter 1"):
        opt.step([b, np.ones(100_000)])
    assert np.all(a == 1) and np.all(b == 1)


def test_gradient_sharing_memory_with_a_state_array_is_rejected():
    opt, params = _adam()
    with pytest.raises(ValueError, match=r"gradient 1 shares memory with state\[0\]\['exp_avg'\]"):
        opt.step([np.ones(1000), opt.state[0]["exp_avg"]])


def test_replacement_parameter_sharing_memory_is_rejected():
    a, b = np.ones(10), np.ones(10)
    opt = fastopt.SGD([a, b], lr=0.5)
    opt.param_groups[0]["params"][1] = a.reshape(10)  # same layout, a's memory
    with pytest.raises(ValueError, match="share memory"):
        opt.step([np.ones(10), np.ones(10)])
    assert np.all(a == 1)


def test_functional_gradient_sharing_memory_with_another_array_is_rejected():
    p = [np.ones(8), np.ones(8)]
    m, v = [np.zeros(8), np.zeros(8)], [np.zeros(8), np.zeros(8)]
    with pytest.raises(ValueError, match="gradient 1 shares memory with parameter 0"):
        functional.adam_(p, [np.ones(8), p[0]], m, v, step=1)
    with pytest.raises(ValueError, match="gradient 0 shares memory with exp_avg_sq 1"):
        functional.adam_(p, [v[1], np.ones(8)], m, v, step=1)
    assert all(np.all(a == 1) for a in p) and all(np.all(a == 0) for a in m + v)


@pytest.mark.parametrize("param_dtype,grad_dtype", [(">f8", ">f8"), ("<f8", ">f8"),
                                                    (">f4", ">f4"), ("<f4", ">f4")])
def test_non_native_byte_order_is_rejected(param_dtype, grad_dtype):
    native = np.dtype(param_dtype).isnative
    w = np.ones(3, dtype=param_dtype)
    if native:
        opt = fastopt.SGD([w], lr=0.1)
        with pytest.raises(TypeError, match="dtype"):
            opt.step([np.ones(3, dtype=grad_dtype)])
    else:
        with pytest.raises(TypeError, match="native byte order"):
            fastopt.SGD([w], lr=0.1)
    with pytest.raises(TypeError, match="dtype"):
        functional.sgd_(w, np.ones(3, dtype=grad_dtype), step=1, lr=0.1)
    np.testing.assert_array_equal(w, np.ones(3))


@pytest.mark.parametrize("step", [1.5, 2.0, "1", True])
def test_functional_step_must_be_an_integer(step):
    p = np.ones(3)
    with pytest.raises(TypeError, match="step must be an integer"):
        functional.adam_(p, np.ones(3), np.zeros(3), np.zeros(3), step=step)
    np.testing.assert_array_equal(p, np.ones(3))


# --------------------------------------------- options, groups and user code during a step

def test_state_array_that_becomes_needed_is_checked_for_overlap():
    p0, p1 = np.ones(64), np.zeros(64)
    opt = fastopt.Adam([p0, p1])
    g = [np.full(64, 3.0), np.full(64, 0.25)]
    opt.step(g)
    opt.state[0]["max_exp_avg_sq"] = p1  # not used while amsgrad is off
    opt.step(g)
    opt.step(g)
    opt.param_groups[0]["amsgrad"] = True
    before = p1.copy()
    with pytest.raises(ValueError, match=r"state\[0\]\['max_exp_avg_sq'\] and parameter 1 share"):
        opt.step(g)
    np.testing.assert_array_equal(p1, before)


def test_gradient_aliasing_a_buffer_that_becomes_needed_is_rejected():
    p = np.ones(8)
    opt = fastopt.SGD([p], lr=0.1, momentum=0.9)
    opt.step([np.ones(8)])
    opt.param_groups[0]["momentum"] = 0.0
    opt.step([np.ones(8)])
    opt.step([np.ones(8)])
    opt.param_groups[0]["momentum"] = 0.9
    with pytest.raises(ValueError, match="momentum_buffer"):
        opt.step([opt.state[0]["momentum_buffer"]])


@pytest.mark.parametrize("how", ["gradient", "replaced param", "added group", "state entry"])
def test_overlaps_across_param_groups_are_rejected(how):
    a, b = np.ones(16), np.ones(16)
    opt = fastopt.Adam([{"params": [a]}, {"params": [b], "lr": 0.01}])
    opt.step([np.ones(16), np.ones(16)])
    grads = [np.ones(16), np.ones(16)]
    if how == "gradient":
        grads[1] = a
    elif how == "replaced param":
        opt.param_groups[1]["params"][0] = a
    elif how == "added group":
        opt.add_param_group({"params": [opt.state[0]["exp_avg"]]})
        grads.append(np.ones(16))
    else:
        opt.state[1]["exp_avg"] = a
    before = [a.copy(), b.copy()]
    with pytest.raises(ValueError, match="shares? memory"):
        opt.step(grads)
    np.testing.assert_array_equal(a, before[0])
    np.testing.assert_array_equal(b, before[1])


def test_state_swapped_by_user_code_during_the_checks_is_caught():
    p = np.zeros(1 << 16, np.float32)
    opt = fastopt.Adam([p])
    st = opt.state

    class Step:  # np.asarray(Step()) swaps in a 1-element exp_avg while it is being checked
        def __array__(self, dtype=None, copy=None):
            st[0]["exp_avg"] = np.zeros(1, np.float32)
            return np.array(0)

    st[0] = {"step": Step()}
    with pytest.raises((RuntimeError, ValueError), match="changed while|has shape"):
        opt.step([np.ones(1 << 16, np.float32)])
    assert np.all(p == 0)


def test_state_swapped_by_a_later_groups_hyperparameter_is_caught():
    a, b = np.zeros(1 << 16, np.float32), np.zeros(4, np.float32)
    opt = fastopt.Adam([{"params": [a]}, {"params": [b]}])
    grads = [np.ones(1 << 16, np.float32), np.ones(4, np.float32)]
    opt.step(grads)

    class LR:  # read while group 1 is checked, after group 0 passed its checks
        def __float__(self):
            opt.state[0]["exp_avg"] = np.zeros(1, np.float32)
            return 1e-3

    opt.param_groups[1]["lr"] = LR()
    before = a.copy(), b.copy()
    with pytest.raises((RuntimeError, ValueError), match="changed while|has shape"):
        opt.step(grads)
    np.testing.assert_array_equal(a, before[0])
    np.testing.assert_array_equal(b, before[1])
    assert int(opt.state[1]["step"]) == 1


def test_memory_error_creating_a_later_groups_state_writes_nothing(monkeypatch):
    a, b = np.zeros(10), np.zeros(1000)
    opt = fastopt.Adam([{"params": [a]}, {"params": [b]}])
    opt.step([np.ones(10), None])
    full_like = np.full_like

    def no_memory(x, *args, **kwargs):
        if x.size > 100:
            raise MemoryError("test")
        return full_like(x, *args, **kwargs)

    monkeypatch.setattr(np, "full_like", no_memory)
    before = a.copy()
    with pytest.raises(MemoryError):
        opt.step([np.ones(10), np.ones(1000)])
    np.testing.assert_array_equal(a, before)
    assert int(opt.state[0]["step"]) == 1


def test_steps_from_two_threads_are_refused_or_serialized_never_unsafe():
    import threading
    n = 1 << 21
    p = np.zeros(n, np.float32)
    opt = fastopt.Adam([p], lr=1e-3)
    grads = [np.ones(n, np.float32)]
    errors, refused = [], [0]

    def other():
        for _ in range(200):
            try:
                if 0 in opt.state:  # frees the array the other thread's kernel may write
                    opt.state[0]["exp_avg"] = np.zeros(n, np.float32)
                opt.step(grads)
            except RuntimeError as e:   # while the first thread's kernels run
                assert "already in a step" in str(e) or "changed while" in str(e)
                refused[0] += 1
            except Exception as e:      # anything else is a defect
                errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    for _ in range(50):
        try:
            opt.step(grads)
        except RuntimeError as e:
            assert "already in a step" in str(e) or "changed while" in str(e)
    t.join()
    assert not errors, errors
    assert np.all(np.isfinite(p)) and np.all(p <= 0)


def test_parameter_dtype_changed_in_place_is_rejected():
    p = np.zeros(8, np.float32)
    opt = fastopt.Adam([p])
    opt.step([np.ones(8, np.float32)])
    p.dtype = np.float64  # same bytes, half the elements
    with pytest.raises((TypeError, ValueError), match="dtype|changed"):
        opt.step([np.ones(4)])


@pytest.mark.parametrize("what", ["state", "param state"])
def test_state_can_be_pickled_and_copied(what):
    import copy
    import pickle
    opt, params = _adam(n=5, k=2)
    obj = opt.state if what == "state" else opt.state[0]
    for clone in (pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj), copy.copy(obj)):
        plain = clone if what == "param state" else clone[0]
        np.testing.assert_array_equal(plain["exp_avg"], opt.state[0]["exp_avg"])
    opt.state = pickle.loads(pickle.dumps(opt.state))  # and a loaded one can be used
    opt.step([np.ones(5), np.ones(5)])
    assert int(opt.state[1]["step"]) == 2



class _StepThatClearsState:
    """A 'step' state entry whose ``__array__`` (run when the step checks the state it was
    given) clears the optimizer's state."""

    def __init__(self, opt, value):
        self.opt, self.value = opt, value

    def __array__(self, dtype=None, copy=None):
        self.opt.state.clear()
        return np.array(self.value, dtype=dtype)


def test_state_changed_by_user_code_during_the_checks_fails_the_step_and_writes_nothing():
    params = [np.zeros(1000), np.zeros(7)]
    opt = fastopt.Adam(params, lr=0.1)
    opt.step([np.ones(1000), np.ones(7)])
    before = [p.copy() for p in params]
    entry = dict(opt.state[0])
    entry["step"] = _StepThatClearsState(opt, 1)
    opt.state[0] = entry
    with pytest.raises(RuntimeError, match="opt.state was changed while the step was being "
                                           "checked; nothing was written"):
        opt.step([np.ones(1000), np.ones(7)])
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)
    assert len(opt.state) == 0  # what the user's code did, and nothing more
    opt.step([np.ones(1000), np.ones(7)])  # the state starts over
    np.testing.assert_array_equal(params[1], _fresh_step([before[1]], [np.ones(7)])[0])
