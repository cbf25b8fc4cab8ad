"""grad_scale multiplies every gradient inside the optimizer's own pass, without writing it:
a step with grad_scale=s is bit-identical to a step on g * dtype(s), for every algorithm,
both dtypes, the classes and the functional steps."""
import numpy as np
import pytest

import fastopt
from fastopt import functional
from first_order_cases import ALGORITHMS, case_id, option_combinations

# the option combination of each algorithm with the most terms that see the gradient
CASES = [(name, option_combinations(name)[-1]) for name in ALGORITHMS]
SCALES = [0.37, 0.0, 3.0]


def _run(name, kw, dtype, grads_of, **step_kw):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(n).astype(dtype) for n in (1, 7, 33)]
    opt = ALGORITHMS[name][0](params, **kw)
    for t in range(1, 6):
        opt.step(grads_of(t, params), **step_kw)
    return params, opt


def _grads(t, params):
    rng = np.random.default_rng(t)
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("name,kw", CASES, ids=[case_id(n, k) for n, k in CASES])
def test_grad_scale_equals_stepping_on_the_scaled_gradient(name, kw, scale, dtype):
    seen = []

    def keep(t, params):
        g = _grads(t, params)
        seen.append([x.copy() for x in g])
        return g

    scaled, _ = _run(name, kw, dtype, keep, grad_scale=scale)
    for a, b in zip(sum(seen, []), sum((_grads(t, scaled) for t in range(1, 6)), [])):
        np.testing.assert_array_equal(a, b)  # the gradients were not written
    expected, _ = _run(name, kw, dtype,
                       lambda t, p: [g * dtype(scale) for g in _grads(t, p)])
    for a, b in zip(scaled, expected):
        assert a.tobytes() == b.tobytes()
    plain, _ = _run(name, kw, dtype, _grads)       # no scale in SCALES is 1: it changes the step
    assert any(a.tobytes() != b.tobytes() for a, b in zip(scaled, plain))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_grad_scale_equals_stepping_on_the_scaled_gradient(dtype):
    rng = np.random.default_rng(1)
    g = rng.standard_normal(37).astype(dtype)
    results = []
    for grad, scale in ((g, 0.37), (g * dtype(0.37), 1.0)):
        p = np.linspace(-1, 1, 37).astype(dtype)
        m, v = np.zeros_like(p), np.zeros_like(p)
        for t in (1, 2, 3):
            functional.adam_(p, grad, m, v, step=t, lr=0.1, weight_decay=0.1,
                             grad_scale=scale)
        results.append(p)
    assert results[0].tobytes() == results[1].tobytes()


@pytest.mark.parametrize("bad,error", [(-1.0, ValueError), (float("nan"), ValueError),
                                       (float("inf"), ValueError), (True, TypeError),
                                       ("1", TypeError), (None, TypeError)])
def test_bad_grad_scale_is_rejected_before_anything_is_written(bad, error):
    p = np.ones(5)
    opt = fastopt.Adam([p])
    with pytest.raises(error, match="grad_scale"):
        opt.step([np.ones(5)], grad_scale=bad)
    assert np.all(p == 1) and len(opt.state) == 0
    m, v = np.zeros(5), np.zeros(5)
    with pytest.raises(error, match="grad_scale"):
        functional.adam_(p, np.ones(5), m, v, step=1, grad_scale=bad)
    assert np.all(p == 1) and np.all(m == 0)
