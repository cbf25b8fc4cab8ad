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


class SGD(FastoptStep, torch.optim.SGD):
    _algorithm = "sgd"
    __doc__ = _DOC.format(what="Stochastic gradient descent (momentum, Nesterov)", name="SGD",
                          state="momentum_buffer", example=", lr=0.1, momentum=0.9")


class Adagrad(FastoptStep, torch.optim.Adagrad):
    _algorithm = "adagrad"
    __doc__ = _DOC.format(what="Adagrad", name="Adagrad", state="step, sum", example="")


class Adadelta(FastoptStep, torch.optim.Adadelta):
    _algorithm = "adadelta"
    __doc__ = _DOC.format(what="Adadelta", name="Adadelta",
                          state="step, square_avg, acc_delta", example="") + \
        "\n    rho must be < 1 here (torch also accepts rho = 1).\n"


class RMSprop(FastoptStep, torch.optim.RMSprop):
    _algorithm = "rmsprop"
    __doc__ = _DOC.format(what="RMSprop (momentum, centered)", name="RMSprop",
                          state="step, square_avg, momentum_buffer, grad_avg", example="")


class Adam(FastoptStep, torch.optim.Adam):
    _algorithm = "adam"
    __doc__ = _DOC.format(what="Adam (AMSGrad, decoupled weight decay)", name="Adam",
                          state="step, exp_avg, exp_avg_sq, max_exp_avg_sq", example="")


class AdamW(FastoptStep, torch.optim.AdamW):
    _algorithm = "adam"
    __doc__ = _DOC.format(what="AdamW (Adam with decoupled weight decay)", name="AdamW",
                          state="step, exp_avg, exp_avg_sq, max_exp_avg_sq", example="")


class Adamax(FastoptStep, torch.optim.Adamax):
    _algorithm = "adamax"
    __doc__ = _DOC.format(what="Adamax", name="Adamax", state="step, exp_avg, exp_inf",
                          example="")


class NAdam(FastoptStep, torch.optim.NAdam):
    _algorithm = "nadam"
    __doc__ = _DOC.format(what="NAdam", name="NAdam",
                          state="step, mu_product, exp_avg, exp_avg_sq", example="")
