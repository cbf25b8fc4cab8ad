"""Valid extreme inputs where folding or overflow could give a NaN torch does not produce:
a tiny eps with Adam/NAdam (eps * sqrt(1 - beta2^t) underflows in the array's type), and a
huge finite float32 gradient with RMSprop(centered=True) (v and m*m both overflow)."""
import numpy as np
import pytest

import fastopt
from fastopt import reference

TINY_EPS = {np.float32: 1e-44, np.float64: 5e-324}


def _grads(dtype, n, steps):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(steps)]
    for g in grads:
        g[: n // 2] = 0.0  # a zero gradient is where the folded form gave 0 / 0
    return grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_with_tiny_eps_keeps_the_parameter_like_the_reference(dtype, amsgrad):
    eps, n = TINY_EPS[dtype], 37
    p = np.ones(n, dtype)
    q = p.copy()
    opt = fastopt.Adam([p], lr=0.1, eps=eps, amsgrad=amsgrad)
    m, v, vmax = np.zeros(n, dtype), np.zeros(n, dtype), np.zeros(n, dtype)
    for t, g in enumerate(_grads(dtype, n, 5), 1):
        opt.step([g])
        reference.adam_(q, g, m, v, vmax, step=t, lr=0.1, eps=eps, amsgrad=amsgrad)
    assert np.isfinite(p).all()
    np.testing.assert_array_equal(p[: n // 2], 1.0)
    np.testing.assert_array_equal(p, q)  # the unfolded form is the reference's arithmetic


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_nadam_with_tiny_eps_keeps_the_parameter_like_the_reference(dtype):
    eps, n = TINY_EPS[dtype], 37
    p = np.ones(n, dtype)
    q = p.copy()
    opt = fastopt.NAdam([p], lr=0.1, eps=eps)
    m, v, mu = np.zeros(n, dtype), np.zeros(n, dtype), 1.0
    for t, g in enumerate(_grads(dtype, n, 5), 1):
        opt.step([g])
        mu = reference.nadam_(q, g, m, v, step=t, mu_product=mu, lr=0.1, eps=eps)
    assert np.isfinite(p).all()
    np.testing.assert_array_equal(p[: n // 2], 1.0)
    np.testing.assert_allclose(p, q, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("name", ["Adam", "NAdam"])
def test_tiny_eps_matches_torch(name):
    torch = pytest.importorskip("torch")
    n = 37
    p = np.ones(n, np.float32)
    tp = torch.ones(n, dtype=torch.float32)
    opt = getattr(fastopt, name)([p], lr=0.1, eps=1e-44)
    topt = getattr(torch.optim, name)([tp], lr=0.1, eps=1e-44, foreach=False)
    for g in _grads(np.float32, n, 5):
        opt.step([g])
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
    assert np.isfinite(tp.numpy()).all()
    np.testing.assert_allclose(p, tp.numpy(), rtol=1e-5)


def _huge_gradient_run(steps=200):
    g = np.full(9, 5e19, np.float32)
    g[::2] = -3e20
    g[0] = 1.0
    return g, steps


def test_rmsprop_centered_with_huge_float32_gradient_stays_finite_like_the_reference():
    g, steps = _huge_gradient_run()
    p = np.ones(9, np.float32)
    q = p.copy()
    v, m = np.zeros(9, np.float32), np.zeros(9, np.float32)
    opt = fastopt.RMSprop([p], lr=0.01, centered=True)
    for t in range(1, steps + 1):
        opt.step([g])
        with np.errstate(over="ignore"):  # v overflows to inf, as in torch
            reference.rmsprop_(q, g, v, None, m, step=t, lr=0.01, centered=True)
    assert np.isinf(opt.state[0]["square_avg"][1:]).all()  # the case: v overflowed
    assert np.isfinite(p).all()
    np.testing.assert_array_equal(p, q)


def test_rmsprop_centered_with_huge_float32_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    g, steps = _huge_gradient_run()
    p = np.ones(9, np.float32)
    tp = torch.ones(9, dtype=torch.float32)
    opt = fastopt.RMSprop([p], lr=0.01, centered=True)
    topt = torch.optim.RMSprop([tp], lr=0.01, centered=True, foreach=False)
    for _ in range(steps):
        opt.step([g])
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
    assert np.isfinite(tp.numpy()).all()
    np.testing.assert_allclose(p, tp.numpy(), rtol=1e-5)
