"""Property-based tests (hypothesis): random shapes (0, sizes around the SIMD widths, 2-D),
dtypes, hyperparameters and step counts for every algorithm, against ``fastopt.reference``
with the tolerances of tests/test_first_order_vs_reference.py; and random bad calls, which
must raise before anything (parameters, gradients, state, step counters) is written."""
import copy

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings                      # noqa: E402
from hypothesis import strategies as st                                  # noqa: E402

import fastopt                                                           # noqa: E402
from fastopt import functional                                           # noqa: E402
from first_order_cases import ALGORITHMS, ReferenceOptimizer, assert_close  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# sizes around 4/8/16-lane vectors (float64 AVX2 .. float32 AVX-512) and their tails
SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129]


@st.composite
def shapes(draw):
    n = draw(st.sampled_from(SIZES))
    if n > 1 and draw(st.booleans()):
        for rows in (2, 3, 4):
            if n % rows == 0:
                return (rows, n // rows)
    return (n,)


def _unit(lo=0.0, hi=0.99):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _decay():
    return st.one_of(st.just(0.0), _unit(0.0, 0.1))


@st.composite
def hyperparameters(draw, name):
    """Class keyword arguments of algorithm ``name``: every option that changes the result."""
    kw = dict(lr=draw(_unit(1e-4, 0.5)), weight_decay=draw(_decay()),
              maximize=draw(st.booleans()))
    if name == "sgd":
        kw["momentum"] = draw(st.one_of(st.just(0.0), _unit(0.0, 0.99)))
        kw["dampening"] = draw(st.one_of(st.just(0.0), _unit(0.0, 0.5)))
        kw["nesterov"] = (kw["momentum"] > 0 and kw["dampening"] == 0
                          and draw(st.booleans()))
    elif name == "adagrad":
        kw.update(lr_decay=draw(_decay()), initial_accumulator_value=draw(_unit(0.0, 1.0)),
                  eps=draw(_unit(1e-10, 1e-3)))
    elif name == "adadelta":
        kw.update(rho=draw(_unit(0.0, 0.99)), eps=draw(_unit(1e-8, 1e-3)))
    elif name == "rmsprop":
        kw.update(alpha=draw(_unit(0.0, 0.999)), eps=draw(_unit(1e-8, 1e-3)),
                  momentum=draw(st.one_of(st.just(0.0), _unit(0.0, 0.99))),
                  centered=draw(st.booleans()))
    else:   # adam, adamax, nadam
        kw.update(betas=(draw(_unit(0.0, 0.99)), draw(_unit(0.0, 0.999))),
                  eps=draw(_unit(1e-8, 1e-3)))
        if name == "adam":
            kw.update(amsgrad=draw(st.booleans()),
                      decoupled_weight_decay=draw(st.booleans()))
        elif name == "nadam":
            kw.update(momentum_decay=draw(_unit(0.0, 0.01)),
                      decoupled_weight_decay=draw(st.booleans()))
    return kw


@st.composite
def problems(draw):
    name = draw(st.sampled_from(sorted(ALGORITHMS)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    kw = draw(hyperparameters(name))
    arrays = draw(st.lists(shapes(), min_size=1, max_size=3))
    steps = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    return name, dtype, kw, arrays, steps, seed


def _gradients(rng, shapes_, dtype, steps):
    return [[rng.standard_normal(s).astype(dtype) for s in shapes_] for _ in range(steps)]


@settings(max_examples=150, **SETTINGS)
@given(problems())
def test_random_problems_match_the_reference(problem):
    name, dtype, kw, shapes_, steps, seed = problem
    rng = np.random.default_rng(seed)
    p0 = [rng.standard_normal(s).astype(dtype) for s in shapes_]
    grads = _gradients(rng, shapes_, dtype, steps)
    params = [p.copy() for p in p0]
    opt = ALGORITHMS[name][0](params, **kw)
    ref = ReferenceOptimizer(name, [p.copy() for p in p0], **kw)
    for g in grads:
        opt.step([x.copy() for x in g])
        ref.step(g)
    for i, (p, q) in enumerate(zip(params, ref.params)):
        assert p.shape == q.shape and p.dtype == q.dtype
        assert_close(p, q, dtype, f"{name} {kw} param {i}")
        for s, expected in ref.state[i].items():
            if s in opt.state.get(i, {}):
                assert_close(opt.state[i][s], expected, dtype, f"state {s} of param {i}")


# ---------------------------------------------------------------- rejected calls write nothing

def _snapshot(opt, params, grads):
    return (copy.deepcopy(opt.state_dict()), [p.copy() for p in params],
            [None if g is None or not isinstance(g, np.ndarray) else g.copy() for g in grads])


def _assert_unchanged(opt, params, grads, snap):
    sd, ps, gs = snap
    now = opt.state_dict()
    assert now["state"].keys() == sd["state"].keys()
    for k, st_ in sd["state"].items():
        assert now["state"][k].keys() == st_.keys()
        for name, v in st_.items():
            np.testing.assert_array_equal(now["state"][k][name], v, err_msg=f"{k} {name}")
    assert now["param_groups"] == sd["param_groups"]
    for p, q in zip(params, ps):
        np.testing.assert_array_equal(p, q)
    for g, h in zip(grads, gs):
        if h is not None:
            np.testing.assert_array_equal(g, h)


def _bad_gradient(kind, p, rng):
    """A gradient for parameter p that step() must refuse, and the exception it raises."""
    if kind == "shape":
        return np.ones(p.size + 1, p.dtype), ValueError
    if kind == "dtype":
        other = np.float64 if p.dtype == np.float32 else np.float32
        return np.ones(p.shape, other), TypeError
    if kind == "int":
        return np.ones(p.shape, np.int64), TypeError
    if kind == "complex":
        return np.ones(p.shape, np.complex128), TypeError
    if kind == "list":
        return p.tolist(), TypeError
    if kind == "strided":
        return np.ones(p.shape + (2,), p.dtype)[..., 0], ValueError
    if kind == "alias":
        return p, ValueError        # the gradient is the parameter itself
    raise AssertionError(kind)


BAD_GRADIENTS = ["shape", "dtype", "int", "complex", "list", "strided", "alias"]
# hyperparameter edits in param_groups that the next step must refuse (lr = inf is valid, as
# in torch)
BAD_GROUP_VALUES = [("lr", -0.1), ("lr", float("nan")), ("lr", "0.1"),
                    ("lr", True), ("weight_decay", -1.0), ("weight_decay", float("nan")),
                    ("eps", -1e-8), ("eps", float("nan"))]


@settings(max_examples=120, **SETTINGS)
@given(problems(), st.data())
def test_a_rejected_step_writes_nothing(problem, data):
    name, dtype, kw, shapes_, _, seed = problem
    shapes_ = [s for s in shapes_ if np.prod(s) > 1] or [(9,)]
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes_]
    opt = ALGORITHMS[name][0](params, **kw)
    for g in _gradients(rng, shapes_, dtype, data.draw(st.integers(0, 3), "steps before")):
        opt.step(g)
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes_]
    what = data.draw(st.sampled_from(["gradient", "count", "group"]), "what is bad")
    if what == "gradient":
        i = data.draw(st.integers(0, len(params) - 1), "which parameter")
        kind = data.draw(st.sampled_from(BAD_GRADIENTS), "kind")
        grads[i], exc = _bad_gradient(kind, params[i], rng)
    elif what == "count":
        grads = grads + [grads[0].copy()] if data.draw(st.booleans()) else grads[:-1]
        exc = ValueError
    else:
        key, value = data.draw(st.sampled_from(
            [(k, v) for k, v in BAD_GROUP_VALUES if k in opt.param_groups[0]]), "group value")
        opt.param_groups[0][key] = value
        exc = (ValueError, TypeError)
    snap = _snapshot(opt, params, grads)
    with pytest.raises(exc):
        opt.step(grads)
    _assert_unchanged(opt, params, grads, snap)


@settings(max_examples=60, **SETTINGS)
@given(st.sampled_from(sorted(ALGORITHMS)), st.sampled_from([np.float32, np.float64]),
       st.sampled_from(SIZES[1:]), st.data())
def test_a_rejected_functional_call_writes_nothing(name, dtype, n, data):
    fn = getattr(functional, f"{name}_")
    state_names = ALGORITHMS[name][2]
    rng = np.random.default_rng(n)
    params = [rng.standard_normal(n).astype(dtype), rng.standard_normal(3).astype(dtype)]
    grads = [rng.standard_normal(n).astype(dtype), rng.standard_normal(3).astype(dtype)]
    states = [[np.abs(rng.standard_normal(p.shape)).astype(dtype) for p in params]
              for _ in state_names]
    extra = {"momentum": 0.9} if name in ("sgd", "rmsprop") else {}
    if name == "rmsprop":
        extra["centered"] = True
    if name == "adam":
        extra["amsgrad"] = True
    step = 3
    bad = data.draw(st.sampled_from(["step", "state shape", "state dtype", "grad shape",
                                     "lr"]), "what is bad")
    if bad == "step":
        step = data.draw(st.sampled_from([0, -1, 1.5, None]))
    elif bad == "state shape":
        states[-1][1] = np.zeros(4, dtype)
    elif bad == "state dtype":
        states[0][1] = states[0][1].astype(np.float64 if dtype == np.float32 else np.float32)
    elif bad == "grad shape":
        grads[1] = np.zeros(4, dtype)
    else:
        extra["lr"] = data.draw(st.sampled_from([-1.0, float("nan"), "0.1"]))
    before = [a.copy() for a in params + grads + [s for group in states for s in group]]
    with pytest.raises((ValueError, TypeError)):
        fn(params, grads, *states, step=step, **extra)
    after = params + grads + [s for group in states for s in group]
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)
