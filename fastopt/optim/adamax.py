from fastopt.optim._docs import fill_args
from fastopt.optim._functional import run as _run
from fastopt.optim.optimizer import Optimizer


@fill_args
class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm in place of
    the second moment.  The same update as ``torch.optim.Adamax``::

        g  <- -g if maximize;   g <- g + weight_decay * p     (if weight_decay != 0)
        m  <- beta1 * m + (1 - beta1) * g
        u  <- max(beta2 * u, |g| + eps)
        p  <- p - lr / (1 - beta1^t) * m / u

    Args:
        {params_doc}
        lr (float): learning rate (default 2e-3).
        betas (tuple[float, float]): decay rates of m and u, each in [0, 1) (default (0.9, 0.999)).
        eps (float): added to |g| (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        {maximize_doc}

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.zeros(2)
        >>> opt = fastopt.Adamax([w], lr=0.1)
        >>> opt.step([np.array([1.0, -3.0])])
        >>> w.round(6)
        array([-0.1,  0.1])
    """

    _algorithm = "adamax"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))


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
