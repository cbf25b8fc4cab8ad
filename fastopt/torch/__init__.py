"""fastopt from PyTorch: drop-in ``torch.optim`` optimizers on fastopt's kernels.

``fastopt.torch.SGD, Adagrad, Adadelta, RMSprop, Adam, AdamW, Adamax, NAdam`` are the
``torch.optim`` classes of the same names (subclasses: signatures, defaults, param groups,
``state_dict`` and hooks are torch's) whose ``step`` runs fastopt's fused, multithreaded
kernels in place on CPU float32/float64 tensors.  :class:`LBFGS` has
``torch.optim.LBFGS``'s signature and per-``step(closure)`` semantics on fastopt's L-BFGS
history kernels and Moré–Thuente line search.  Needs PyTorch (``pip install
'fastopt[torch]'``).  See docs/torch.md.

Example::

    >>> import torch, fastopt.torch
    >>> model = torch.nn.Linear(3, 1)
    >>> opt = fastopt.torch.AdamW(model.parameters(), lr=1e-3)
    >>> model(torch.randn(8, 3)).pow(2).mean().backward()
    >>> opt.step()
"""
try:
    import torch  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("fastopt.torch needs PyTorch: pip install 'fastopt[torch]'") from e

from fastopt.torch.lbfgs import LBFGS
from fastopt.torch.optimizers import (
    SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RMSprop,
)

__all__ = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam",
           "LBFGS"]
