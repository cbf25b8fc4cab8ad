"""NumPy reference of every first-order step (see fastopt.reference).

Each function follows torch.optim's single-tensor implementation operation by operation
(scalars are Python floats, so float32 arrays compute in float32, as in PyTorch).
"""
import math

import numpy as np


def _lists(*arrays):
    return [[a] if isinstance(a, np.ndarray) else a for a in arrays]


def _effective_grad(p, g, weight_decay, maximize):
    d = -g if maximize else g
    return d + weight_decay * p if weight_decay != 0 else d


def _adam_moments(p, g, m, v, lr, beta1, beta2, weight_decay, decoupled_weight_decay,
                  maximize):
    """Adam's and NAdam's weight decay and moment updates; returns the effective gradient."""
    if decoupled_weight_decay:
        p *= 1 - lr * weight_decay
        d = _effective_grad(p, g, 0.0, maximize)
    else:
        d = _effective_grad(p, g, weight_decay, maximize)
    m += (1 - beta1) * (d - m)
    v *= beta2
    v += (1 - beta2) * d * d
    return d


def _centered_square_avg(v, m):
    """RMSprop's v - m*m, as torch computes it: +inf, not inf - inf = NaN, when both v and
    m*m overflow (|m| > 1.8e19 in float32), because torch rounds v - m*m once (a fused
    multiply-add) and its product does not overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        mm = m * m
        return np.where(np.isposinf(v) & np.isposinf(mm), v, v - mm)


def sgd_(params, grads, momentum_buffers=None, *, step, lr=1e-3, momentum=0.0,
         dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """NumPy reference of :func:`fastopt.functional.sgd_`: the update rule of
    :class:`fastopt.SGD`, one array at a time, operation by operation as torch.optim."""
    params, grads, bufs = _lists(params, grads, momentum_buffers)
    for i, (p, g) in enumerate(zip(params, grads)):
        d = _effective_grad(p, g, weight_decay, maximize)
        if momentum != 0:
            b = bufs[i]
            if step == 1:
                b[...] = d
            else:
                b *= momentum
                b += (1 - dampening) * d
            d = d + momentum * b if nesterov else b
        p -= lr * d


def adagrad_(params, grads, state_sums, *, step, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
             eps=1e-10, maximize=False):
    """NumPy reference of :func:`fastopt.functional.adagrad_`: the update rule of
    :class:`fastopt.Adagrad`, one array at a time, operation by operation as torch.optim."""
    for p, g, s in zip(*_lists(params, grads, state_sums)):
        d = _effective_grad(p, g, weight_decay, maximize)
        clr = lr / (1 + (step - 1) * lr_decay)
        s += d * d
        p -= clr * d / (np.sqrt(s) + eps)


def adadelta_(params, grads, square_avgs, acc_deltas, *, step, lr=1.0, rho=0.9, eps=1e-6,
              weight_decay=0.0, maximize=False):
    """NumPy reference of :func:`fastopt.functional.adadelta_`: the update rule of
    :class:`fastopt.Adadelta`, one array at a time, operation by operation as torch.optim."""
    for p, g, v, a in zip(*_lists(params, grads, square_avgs, acc_deltas)):
        d = _effective_grad(p, g, weight_decay, maximize)
        v *= rho
        v += (1 - rho) * d * d
        u = np.sqrt(a + eps) / np.sqrt(v + eps) * d
        a *= rho
        a += (1 - rho) * u * u
        p -= lr * u


def rmsprop_(params, grads, square_avgs, momentum_buffers=None, grad_avgs=None, *, step,
             lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
             maximize=False):
    """NumPy reference of :func:`fastopt.functional.rmsprop_`: the update rule of
    :class:`fastopt.RMSprop`, one array at a time, operation by operation as torch.optim."""
    params, grads, vs, bufs, ms = _lists(params, grads, square_avgs, momentum_buffers,
                                         grad_avgs)
    for i, (p, g, v) in enumerate(zip(params, grads, vs)):
        d = _effective_grad(p, g, weight_decay, maximize)
        v *= alpha
        v += (1 - alpha) * d * d
        if centered:
            m = ms[i]
            m += (1 - alpha) * (d - m)
            r = np.sqrt(_centered_square_avg(v, m)) + eps
        else:
            r = np.sqrt(v) + eps
        if momentum > 0:
            b = bufs[i]
            b *= momentum
            b += d / r
            p -= lr * b
        else:
            p -= lr * d / r


def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr=1e-3,
          beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
          decoupled_weight_decay=False):
    """NumPy reference of :func:`fastopt.functional.adam_`: the update rule of
    :class:`fastopt.Adam`, one array at a time, operation by operation as torch.optim."""
    params, grads, ms, vs, vmaxs = _lists(params, grads, exp_avgs, exp_avg_sqs,
                                          max_exp_avg_sqs)
    for i, (p, g, m, v) in enumerate(zip(params, grads, ms, vs)):
        d = _adam_moments(p, g, m, v, lr, beta1, beta2, weight_decay, decoupled_weight_decay,
                          maximize)
        if amsgrad:
            np.maximum(vmaxs[i], v, out=vmaxs[i])
            v = vmaxs[i]
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        denom = np.sqrt(v) / math.sqrt(bias_correction2) + eps
        p -= (lr / bias_correction1) * m / denom


def adamax_(params, grads, exp_avgs, exp_infs, *, step, lr=2e-3, beta1=0.9, beta2=0.999,
            eps=1e-8, weight_decay=0.0, maximize=False):
    """NumPy reference of :func:`fastopt.functional.adamax_`: the update rule of
    :class:`fastopt.Adamax`, one array at a time, operation by operation as torch.optim."""
    for p, g, m, u in zip(*_lists(params, grads, exp_avgs, exp_infs)):
        d = _effective_grad(p, g, weight_decay, maximize)
        m += (1 - beta1) * (d - m)
        np.maximum(u * beta2, np.abs(d) + eps, out=u)
        p -= (lr / (1 - beta1 ** step)) * m / u


def nadam_(params, grads, exp_avgs, exp_avg_sqs, *, step, mu_product=1.0, lr=2e-3, beta1=0.9,
           beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
           decoupled_weight_decay=False, maximize=False):
    """NumPy reference of :func:`fastopt.functional.nadam_`: the update rule of
    :class:`fastopt.NAdam`, one array at a time, operation by operation as torch.optim."""
    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    product = mu_product * mu
    bias_correction2 = 1 - beta2 ** step
    for p, g, m, v in zip(*_lists(params, grads, exp_avgs, exp_avg_sqs)):
        d = _adam_moments(p, g, m, v, lr, beta1, beta2, weight_decay, decoupled_weight_decay,
                          maximize)
        denom = np.sqrt(v / bias_correction2) + eps
        p -= lr * (1 - mu) / (1 - product) * d / denom
        p -= lr * mu_next / (1 - product * mu_next) * m / denom
    return product
