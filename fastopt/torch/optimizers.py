"""``torch.optim`` optimizers whose step runs fastopt's fused kernels.

Each class is its ``torch.optim`` namesake (a subclass: same signature, defaults, checks,
param groups, ``state_dict``, hooks) with ``step`` replaced by one fused, GIL-released,
multithreaded kernel call per param group (see :mod:`fastopt.torch._first_order`).  The
update rules are torch's single-tensor ones; the state keys, shapes and dtypes are torch's,
so checkpoints move between ``torch.optim.X`` and ``fastopt.torch.X`` both ways.

Example::

    >>> import torch, fastopt.torch
    >>> model = torch.nn.Linear(4, 1)
    >>> opt = fastopt.torch.Adam(model.parameters(), lr=1e-2)
    >>> x, y = torch.randn(32, 4), torch.randn(32, 1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = torch.nn.functional.mse_loss(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    >>> sorted(opt.state[model.weight])
    ['exp_avg', 'exp_avg_sq', 'step']
"""
import torch

from fastopt.torch._first_order import FastoptStep

__all__ = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam"]

_DOC = """{what} on fastopt's fused kernels: ``torch.optim.{name}`` with its signature,
    defaults, validation and state (``{state}``), stepping every param group in one
    GIL-released, multithreaded pass over CPU float32/float64 tensors, in place.

    Parameters must be dense, contiguous CPU tensors of float32 or float64; anything else
    (other devices, sparse gradients, complex or half-precision dtypes, non-contiguous
    parameters, ``differentiable=True``, ``capturable=True``) raises before anything is
    written.  ``foreach`` and ``fused`` are accepted and change nothing: the step is always
    fastopt's fused multi-tensor kernel.  See ``torch.optim.{name}`` for the arguments and
    the update rule, and docs/torch.md.

    Example::

        >>> import torch, fastopt.torch
        >>> w = torch.nn.Parameter(torch.ones(3))
        >>> opt = fastopt.torch.{name}([w]{example})
        >>> w.grad = torch.ones(3)
        >>> _ = opt.step()
        >>> bool((w < 1).all())
        True
    """


def _optimizer(base, algorithm, what, state, example="", note=""):
    """``class <name>(FastoptStep, base)`` stepping with ``ALGORITHMS[algorithm]``."""
    name = base.__name__
    return type(name, (FastoptStep, base), dict(
        _algorithm=algorithm, __module__=__name__, __qualname__=name,
        __doc__=_DOC.format(what=what, name=name, state=state, example=example) + note))


SGD = _optimizer(torch.optim.SGD, "sgd", "Stochastic gradient descent (momentum, Nesterov)",
                 "momentum_buffer", ", lr=0.1, momentum=0.9")
Adagrad = _optimizer(torch.optim.Adagrad, "adagrad", "Adagrad", "step, sum")
Adadelta = _optimizer(torch.optim.Adadelta, "adadelta", "Adadelta",
                      "step, square_avg, acc_delta",
                      note="\n    rho must be < 1 here (torch also accepts rho = 1).\n")
RMSprop = _optimizer(torch.optim.RMSprop, "rmsprop", "RMSprop (momentum, centered)",
                     "step, square_avg, momentum_buffer, grad_avg")
Adam = _optimizer(torch.optim.Adam, "adam", "Adam (AMSGrad, decoupled weight decay)",
                  "step, exp_avg, exp_avg_sq, max_exp_avg_sq")
AdamW = _optimizer(torch.optim.AdamW, "adam", "AdamW (Adam with decoupled weight decay)",
                   "step, exp_avg, exp_avg_sq, max_exp_avg_sq")
Adamax = _optimizer(torch.optim.Adamax, "adamax", "Adamax", "step, exp_avg, exp_inf")
NAdam = _optimizer(torch.optim.NAdam, "nadam", "NAdam", "step, mu_product, exp_avg, exp_avg_sq")
