from fastopt.optim._docs import fill_args
from fastopt.optim._functional import run as _run
from fastopt.optim.optimizer import Optimizer


@fill_args
class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012): steps divided by a running RMS of the gradient.  The same
    update as ``torch.optim.RMSprop``::

        g  <- -g if maximize;   g <- g + weight_decay * p     (if weight_decay != 0)
        v  <- alpha * v + (1 - alpha) * g^2
        centered:  m <- m + (1 - alpha) * (g - m);   r = sqrt(v - m^2) + eps
        otherwise:                                    r = sqrt(v) + eps
        momentum > 0:  b <- momentum * b + g / r;   p <- p - lr * b
        otherwise:                                  p <- p - lr * g / r

    Args:
        {params_doc}
        lr (float): learning rate (default 1e-2).
        alpha (float): smoothing constant, in [0, 1) (default 0.99).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        momentum (float): momentum factor (default 0).
        centered (bool): normalize by an estimate of the gradient's variance.
        {maximize_doc}

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.zeros(2)
        >>> opt = fastopt.RMSprop([w], lr=0.01)
        >>> opt.step([np.ones(2)])
        >>> w.round(6)
        array([-0.1, -0.1])
    """

    _algorithm = "rmsprop"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize))


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
