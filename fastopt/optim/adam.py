from fastopt.optim._docs import fill_args
from fastopt.optim._functional import run as _run
from fastopt.optim.optimizer import Optimizer


@fill_args
class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with the AMSGrad variant (Reddi, Kale & Kumar, 2018) and
    optional decoupled weight decay (AdamW).  The same update as ``torch.optim.Adam``::

        g     <- -g if maximize
        p     <- p * (1 - lr * weight_decay)     if decoupled_weight_decay
        g     <- g + weight_decay * p            otherwise (if weight_decay != 0)
        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g^2
        vmax  <- max(vmax, v);  v <- vmax        (if amsgrad)
        p     <- p - lr * m / (1 - beta1^t) / (sqrt(v / (1 - beta2^t)) + eps)

    One fused pass: p, g, m, v (and vmax) are each read once and written once.  The two
    bias corrections are folded into the step size and eps (lr sqrt(1-beta2^t)/(1-beta1^t)
    and eps sqrt(1-beta2^t)), which is the same update in exact arithmetic with one division
    per element.

    Args:
        {params_doc}
        lr (float): learning rate (default 1e-3).
        betas (tuple[float, float]): decay rates of m and v, each in [0, 1) (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): weight decay (default 0).
        amsgrad (bool): use the running maximum of v (AMSGrad) (default False).
        {maximize_doc}
        decoupled_weight_decay (bool): decay the weights directly (AdamW) (default False).

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.zeros(3, dtype=np.float32)
        >>> opt = fastopt.Adam([w], lr=0.1)
        >>> opt.step([np.array([1.0, -2.0, 0.0], dtype=np.float32)])
        >>> w.round(6)
        array([-0.1,  0.1,  0. ], dtype=float32)
        >>> opt.param_groups[0]["lr"] = 0.01        # hyperparameters can change between steps
    """

    _algorithm = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay,
    ``p <- p * (1 - lr * weight_decay)`` before the Adam step.  Same as ``torch.optim.AdamW``,
    including its default ``weight_decay=1e-2``.  See :class:`Adam` for the update.

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.ones(2)
        >>> opt = fastopt.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> opt.step([np.zeros(2)])
        >>> w
        array([0.95, 0.95])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


class AMSGrad(Adam):
    r"""AMSGrad (Reddi, Kale & Kumar, 2018): :class:`Adam` with ``amsgrad=True``, which
    divides by the running maximum of the second moment so the effective step never grows::

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g^2
        vmax  <- max(vmax, v)
        p     <- p - lr * m / (1 - beta1^t) / (sqrt(vmax / (1 - beta2^t)) + eps)

    Defaults as :class:`Adam`: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    maximize=False, decoupled_weight_decay=False.

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.zeros(2)
        >>> opt = fastopt.AMSGrad([w], lr=0.1)
        >>> opt.step([np.array([1.0, -1.0])])
        >>> w.round(6)
        array([-0.1,  0.1])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
                 maximize=False, decoupled_weight_decay=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=True, maximize=maximize,
                         decoupled_weight_decay=decoupled_weight_decay)


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
