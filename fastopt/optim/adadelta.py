from fastopt.optim._docs import fill_args
from fastopt.optim._functional import run as _run
from fastopt.optim.optimizer import Optimizer


@fill_args
class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012): steps scaled by the ratio of running RMS of past updates
    and of gradients.  The same update as ``torch.optim.Adadelta``::

        g  <- -g if maximize;   g <- g + weight_decay * p     (if weight_decay != 0)
        v  <- rho * v + (1 - rho) * g^2
        u   = sqrt(a + eps) / sqrt(v + eps) * g
        a  <- rho * a + (1 - rho) * u^2
        p  <- p - lr * u

    Args:
        {params_doc}
        lr (float): scale of the update (default 1.0).
        rho (float): decay of the running averages, in [0, 1) (default 0.9).
        eps (float): added inside both square roots (default 1e-6).
        weight_decay (float): L2 penalty (default 0).
        {maximize_doc}

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.zeros(2, dtype=np.float32)
        >>> opt = fastopt.Adadelta([w])
        >>> opt.step([np.ones(2, dtype=np.float32)])
        >>> w.round(5)
        array([-0.00316, -0.00316], dtype=float32)
    """

    _algorithm = "adadelta"

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))


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
