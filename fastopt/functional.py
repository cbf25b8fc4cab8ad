"""Stateless first-order steps on explicit arrays: ``fastopt.functional.adam_(...)`` etc.

Each function updates ``params`` and the state arrays in place, in one fused, GIL-released,
multithreaded pass over all arrays, and returns None (``nadam_`` returns the new
``mu_product``).  Every argument that takes arrays accepts one array or a list of arrays
(one per parameter); state arrays must have their parameter's shape and dtype.  ``step`` is
the 1-based number of this step, used by the bias corrections (and, for SGD, ``step == 1``
starts the momentum buffers from the gradients).  ``grad_scale`` (default 1) multiplies
every gradient inside the update without writing it (the step equals one on
``g * g.dtype.type(grad_scale)``, bit for bit).  ``noise``, a :class:`fastopt.GradientNoise`,
adds annealed Gaussian noise to every (scaled) gradient inside the update and advances the
noise's own counter (:mod:`fastopt.noise`; a parameter's position is its index in
``params``).  The update rules are those of the classes
in :mod:`fastopt.optim`; :mod:`fastopt.reference` has a plain NumPy implementation of each
function with the same signature.

Example::

    >>> import numpy as np
    >>> from fastopt import functional as F
    >>> p, g = np.zeros(4), np.ones(4)
    >>> m, v = np.zeros(4), np.zeros(4)
    >>> F.adam_(p, g, m, v, step=1, lr=0.1)
    >>> p
    array([-0.1, -0.1, -0.1, -0.1])
"""
import numpy as np

from fastopt._kernels.algorithms import ALGORITHMS
from fastopt._kernels.functional_step import functional_step

__all__ = ["sgd_", "adagrad_", "adadelta_", "rmsprop_", "adam_", "adamax_", "nadam_"]



def _list(arrays):
    if arrays is None or isinstance(arrays, list):
        return arrays
    if isinstance(arrays, np.ndarray):
        return [arrays]
    return list(arrays)


def _run(name, hyper, step, params, grads, *states, mu_product=1.0, grad_scale=1.0,
         noise=None):
    return functional_step(ALGORITHMS[name], hyper, step, _list(params), _list(grads),
                           tuple(_list(s) for s in states), mu_product, grad_scale, noise)


def sgd_(params, grads, momentum_buffers=None, *, step, lr=1e-3, momentum=0.0,
         dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False, grad_scale=1.0,
         noise=None):
    """One SGD step (the update rule of :class:`fastopt.SGD`) on explicit arrays.

    ``momentum_buffers`` (needed when momentum != 0) are overwritten with the gradients at
    ``step == 1``, then accumulate.

    Example::

        >>> import numpy as np
        >>> from fastopt.functional import sgd_
        >>> p, b = np.ones(2), np.zeros(2)
        >>> for t in (1, 2):
        ...     sgd_(p, np.ones(2), b, step=t, lr=0.1, momentum=0.9)
        >>> p
        array([0.71, 0.71])
    """
    hyper = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                 nesterov=nesterov, maximize=maximize)
    return _run("sgd", hyper, step, params, grads, momentum_buffers, grad_scale=grad_scale,
                noise=noise)


def adagrad_(params, grads, state_sums, *, step, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
             eps=1e-10, maximize=False, grad_scale=1.0, noise=None):
    """One Adagrad step (the update rule of :class:`fastopt.Adagrad`) on explicit arrays.

    ``state_sums`` start at the initial accumulator value (0 in PyTorch's default).

    Example::

        >>> import numpy as np
        >>> from fastopt.functional import adagrad_
        >>> p, s = np.zeros(2), np.zeros(2)
        >>> adagrad_(p, np.array([2.0, -1.0]), s, step=1, lr=0.5)
        >>> p, s
        (array([-0.5,  0.5]), array([4., 1.]))
    """
    hyper = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                 initial_accumulator_value=0.0, maximize=maximize)
    return _run("adagrad", hyper, step, params, grads, state_sums, grad_scale=grad_scale,
                noise=noise)


def adadelta_(params, grads, square_avgs, acc_deltas, *, step, lr=1.0, rho=0.9, eps=1e-6,
              weight_decay=0.0, maximize=False, grad_scale=1.0, noise=None):
    """One Adadelta step (the update rule of :class:`fastopt.Adadelta`) on explicit arrays.

    Example::

        >>> import numpy as np
        >>> from fastopt.functional import adadelta_
        >>> p, v, a = np.zeros(1), np.zeros(1), np.zeros(1)
        >>> adadelta_(p, np.ones(1), v, a, step=1)
        >>> p.round(5), v
        (array([-0.00316]), array([0.1]))
    """
    hyper = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
    return _run("adadelta", hyper, step, params, grads, square_avgs, acc_deltas,
                grad_scale=grad_scale, noise=noise)


def rmsprop_(params, grads, square_avgs, momentum_buffers=None, grad_avgs=None, *, step,
             lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
             maximize=False, grad_scale=1.0, noise=None):
    """One RMSprop step (the update rule of :class:`fastopt.RMSprop`) on explicit arrays.

    ``momentum_buffers`` are needed when momentum > 0, ``grad_avgs`` when centered.

    Example::

        >>> import numpy as np
        >>> from fastopt.functional import rmsprop_
        >>> p, v = np.zeros(2), np.zeros(2)
        >>> rmsprop_(p, np.ones(2), v, step=1, lr=0.01)
        >>> p.round(6)
        array([-0.1, -0.1])
    """
    hyper = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                 centered=centered, maximize=maximize)
    return _run("rmsprop", hyper, step, params, grads, square_avgs, momentum_buffers, grad_avgs,
                grad_scale=grad_scale, noise=noise)


def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr=1e-3,
          beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
          decoupled_weight_decay=False, grad_scale=1.0, noise=None):
    """One Adam step (the update rule of :class:`fastopt.Adam`; AdamW with
    ``decoupled_weight_decay=True``) on explicit arrays.

    ``max_exp_avg_sqs`` are needed when amsgrad.  ``step`` drives the bias corrections.

    Example::

        >>> import numpy as np
        >>> from fastopt.functional import adam_
        >>> p = np.zeros(2, dtype=np.float32)
        >>> m, v = np.zeros_like(p), np.zeros_like(p)
        >>> for t in (1, 2, 3):
        ...     adam_(p, np.array([1.0, -1.0], dtype=np.float32), m, v, step=t, lr=0.1)
        >>> p.round(5)
        array([-0.3,  0.3], dtype=float32)
    """
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                 amsgrad=amsgrad, maximize=maximize,
                 decoupled_weight_decay=decoupled_weight_decay)
    return _run("adam", hyper, step, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                grad_scale=grad_scale, noise=noise)


def adamax_(params, grads, exp_avgs, exp_infs, *, step, lr=2e-3, beta1=0.9, beta2=0.999,
            eps=1e-8, weight_decay=0.0, maximize=False, grad_scale=1.0, noise=None):
    """One Adamax step (the update rule of :class:`fastopt.Adamax`) on explicit arrays.

    Example::

        >>> import numpy as np
        >>> from fastopt.functional import adamax_
        >>> p, m, u = np.zeros(2), np.zeros(2), np.zeros(2)
        >>> adamax_(p, np.array([1.0, -3.0]), m, u, step=1, lr=0.1)
        >>> p.round(6), u.round(6)
        (array([-0.1,  0.1]), array([1., 3.]))
    """
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                 maximize=maximize)
    return _run("adamax", hyper, step, params, grads, exp_avgs, exp_infs, grad_scale=grad_scale,
                noise=noise)


def nadam_(params, grads, exp_avgs, exp_avg_sqs, *, step, mu_product=1.0, lr=2e-3, beta1=0.9,
           beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
           decoupled_weight_decay=False, maximize=False, grad_scale=1.0, noise=None):
    """One NAdam step (the update rule of :class:`fastopt.NAdam`) on explicit arrays.

    ``mu_product`` is the product of the momentum schedule before this step (1.0 at step 1);
    the function returns the product after it, to pass to the next step.

    Example::

        >>> import numpy as np
        >>> from fastopt.functional import nadam_
        >>> p, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
        >>> mu = 1.0
        >>> for t in (1, 2):
        ...     mu = nadam_(p, np.ones(2), m, v, step=t, mu_product=mu, lr=0.1)
        >>> round(mu, 4), p.round(4)
        (0.2026, array([-0.184, -0.184]))
    """
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                 momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                 maximize=maximize)
    return _run("nadam", hyper, step, params, grads, exp_avgs, exp_avg_sqs,
                mu_product=mu_product, grad_scale=grad_scale, noise=noise)
