from fastopt.optim._docs import fill_args
from fastopt.optim._functional import run as _run
from fastopt.optim.optimizer import Optimizer


@fill_args
class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate steps shrinking with the
    sum of squared gradients.  The same update as ``torch.optim.Adagrad``::

        g    <- -g if maximize;   g <- g + weight_decay * p    (if weight_decay != 0)
        clr   = lr / (1 + (t - 1) * lr_decay)
        s    <- s + g^2                                         (s starts at initial_accumulator_value)
        p    <- p - clr * g / (sqrt(s) + eps)

    Args:
        {params_doc}
        lr (float): learning rate (default 1e-2).
        lr_decay (float): learning-rate decay (default 0).
        weight_decay (float): L2 penalty (default 0).
        initial_accumulator_value (float): starting value of the sum s (default 0).
        eps (float): added to the denominator (default 1e-10).
        {maximize_doc}

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.ones(2)
        >>> opt = fastopt.Adagrad(w, lr=0.5)
        >>> opt.step(np.array([2.0, -1.0]))
        >>> w
        array([0.5, 1.5])
    """

    _algorithm = "adagrad"

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))


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
