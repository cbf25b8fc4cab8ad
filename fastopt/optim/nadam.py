from fastopt.optim._docs import fill_args
from fastopt.optim._functional import run as _run
from fastopt.optim.optimizer import Optimizer


@fill_args
class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and a warming-up momentum schedule.
    The same update as ``torch.optim.NAdam``::

        g    <- -g if maximize
        p    <- p * (1 - lr * weight_decay)     if decoupled_weight_decay
        g    <- g + weight_decay * p            otherwise (if weight_decay != 0)
        mu_t  = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),   P_t = mu_1 * ... * mu_t
        m    <- beta1 * m + (1 - beta1) * g
        v    <- beta2 * v + (1 - beta2) * g^2
        r     = sqrt(v / (1 - beta2^t)) + eps
        p    <- p - lr * (1 - mu_t) / (1 - P_t) * g / r - lr * mu_{t+1} / (1 - P_{t+1}) * m / r

    The state holds ``step`` and ``mu_product`` (= P_t) per parameter, as in PyTorch.

    Args:
        {params_doc}
        lr (float): learning rate (default 2e-3).
        betas (tuple[float, float]): decay rates of m and v, each in [0, 1) (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): weight decay (default 0).
        momentum_decay (float): psi of the momentum schedule (default 4e-3).
        decoupled_weight_decay (bool): decay the weights directly, as AdamW does (NAdamW).
        {maximize_doc}

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.zeros(2)
        >>> opt = fastopt.NAdam([w], lr=0.1)
        >>> opt.step([np.array([1.0, -1.0])])
        >>> w.round(4)
        array([-0.1056,  0.1056])
    """

    _algorithm = "nadam"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))


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
