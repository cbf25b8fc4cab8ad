from fastopt.optim._docs import fill_args
from fastopt.optim._functional import run as _run
from fastopt.optim.optimizer import Optimizer


@fill_args
class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum and Nesterov momentum.

    The same update as ``torch.optim.SGD``, fused into one pass over memory.  For each
    parameter p with gradient g, at step t::

        g  <- -g if maximize
        g  <- g + weight_decay * p                        (if weight_decay != 0)
        b  <- g                               if t == 1   (momentum buffer, if momentum != 0)
        b  <- momentum * b + (1 - dampening) * g          otherwise
        g  <- g + momentum * b  if nesterov  else  b      (if momentum != 0)
        p  <- p - lr * g

    Args:
        {params_doc}
        lr (float): learning rate (default 1e-3).
        momentum (float): momentum factor (default 0).
        dampening (float): dampening of the momentum (default 0).
        weight_decay (float): L2 penalty (default 0).
        nesterov (bool): Nesterov momentum; needs momentum > 0 and dampening == 0.
        {maximize_doc}

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.ones(3, dtype=np.float32)
        >>> opt = fastopt.SGD([w], lr=0.1, momentum=0.9)
        >>> opt.step([np.full(3, 2.0, dtype=np.float32)])
        >>> w
        array([0.8, 0.8, 0.8], dtype=float32)
    """

    _algorithm = "sgd"

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))


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
