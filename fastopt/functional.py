"""Stateless first-order steps on explicit arrays: ``fastopt.functional.adam_(...)`` etc.

Each function updates ``params`` and the state arrays in place, in one fused, GIL-released,
multithreaded pass over all arrays, and returns None (``nadam_`` returns the new
``mu_product``).  Every argument that takes arrays accepts one array or a list of arrays
(one per parameter); state arrays must have their parameter's shape and dtype.  ``step`` is
the 1-based number of this step, used by the bias corrections (and, for SGD, ``step == 1``
starts the momentum buffers from the gradients).  The update rules are those of the classes
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

from fastopt._kernels import _step

__all__ = ["sgd_", "adagrad_", "adadelta_", "rmsprop_", "adam_", "adamax_", "nadam_"]

_ALGO = _step.ALGORITHMS


def _list(arrays):
    if arrays is None or isinstance(arrays, list):
        return arrays
    if isinstance(arrays, np.ndarray):
        return [arrays]
    return list(arrays)


def _run(name, hyper, step, params, grads, *states, mu_product=1.0):
    return _step.functional_step(_ALGO[name], hyper, step, _list(params), _list(grads),
                                 tuple(_list(s) for s in states), mu_product)


def sgd_(params, grads, momentum_buffers=None, *, step, lr=1e-3, momentum=0.0,
         dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """One step of :class:`fastopt.SGD`; ``momentum_buffers`` is needed when momentum != 0."""
    hyper = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                 nesterov=nesterov, maximize=maximize)
    return _run("sgd", hyper, step, params, grads, momentum_buffers)


def adagrad_(params, grads, state_sums, *, step, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
             eps=1e-10, maximize=False):
    """One step of :class:`fastopt.Adagrad`."""
    hyper = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                 initial_accumulator_value=0.0, maximize=maximize)
    return _run("adagrad", hyper, step, params, grads, state_sums)


def adadelta_(params, grads, square_avgs, acc_deltas, *, step, lr=1.0, rho=0.9, eps=1e-6,
              weight_decay=0.0, maximize=False):
    """One step of :class:`fastopt.Adadelta`."""
    hyper = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
    return _run("adadelta", hyper, step, params, grads, square_avgs, acc_deltas)


def rmsprop_(params, grads, square_avgs, momentum_buffers=None, grad_avgs=None, *, step,
             lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
             maximize=False):
    """One step of :class:`fastopt.RMSprop`; ``momentum_buffers`` is needed when momentum > 0,
    ``grad_avgs`` when centered."""
    hyper = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                 centered=centered, maximize=maximize)
    return _run("rmsprop", hyper, step, params, grads, square_avgs, momentum_buffers, grad_avgs)


def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr=1e-3,
          beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
          decoupled_weight_decay=False):
    """One step of :class:`fastopt.Adam` (AdamW with ``decoupled_weight_decay=True``);
    ``max_exp_avg_sqs`` is needed when amsgrad."""
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                 amsgrad=amsgrad, maximize=maximize,
                 decoupled_weight_decay=decoupled_weight_decay)
    return _run("adam", hyper, step, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs)


def adamax_(params, grads, exp_avgs, exp_infs, *, step, lr=2e-3, beta1=0.9, beta2=0.999,
            eps=1e-8, weight_decay=0.0, maximize=False):
    """One step of :class:`fastopt.Adamax`."""
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                 maximize=maximize)
    return _run("adamax", hyper, step, params, grads, exp_avgs, exp_infs)


def nadam_(params, grads, exp_avgs, exp_avg_sqs, *, step, mu_product=1.0, lr=2e-3, beta1=0.9,
           beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
           decoupled_weight_decay=False, maximize=False):
    """One step of :class:`fastopt.NAdam`.  ``mu_product`` is the product of the momentum
    schedule before this step (1.0 at step 1); returns the product after it."""
    hyper = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
                 momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                 maximize=maximize)
    return _run("nadam", hyper, step, params, grads, exp_avgs, exp_avg_sqs,
                mu_product=mu_product)
