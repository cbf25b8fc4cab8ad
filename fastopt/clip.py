r"""Gradient clipping: by the global norm of all arrays of a step, and by value.

Clipping by norm rescales every gradient of a step by one factor,
``min(1, max_norm / (norm + 1e-6))`` (``torch.nn.utils.clip_grad_norm_``'s), where ``norm``
is the norm of all gradient elements taken together.  :func:`global_norm` computes it in one
deterministic reduction (fixed-size chunks summed in float64, combined in chunk order: the
same bits for any thread count); :func:`step_clipped` then hands the factor to the
optimizer's own fused pass as ``opt.step(grads, grad_scale=factor)``, so the gradients are
neither copied nor written::

    >>> import numpy as np, fastopt
    >>> from fastopt import clip
    >>> w = np.zeros(2, dtype=np.float32)
    >>> opt = fastopt.SGD([w], lr=1.0)
    >>> clip.global_norm([np.array([3.0, 4.0], dtype=np.float32)])
    5.0
    >>> clip.step_clipped(opt, [np.array([3.0, 4.0], dtype=np.float32)], max_norm=10.0)
    5.0

``clip_grad_value_`` clamps each element to ``[-clip_value, clip_value]``, in place (an
element-wise operation cannot be folded into a scale factor).
"""
import math
import numbers

import numpy as np

from fastopt import _clip

__all__ = ["global_norm", "clip_factor", "clip_grad_norm", "step_clipped",
           "clip_grad_value_"]

#: Added to the norm before dividing, as torch does, so a zero gradient gives a finite factor.
NORM_EPS = 1e-6


def _grad_list(grads):
    if isinstance(grads, np.ndarray):
        return [grads]
    if isinstance(grads, (str, bytes, dict)):
        raise TypeError(f"grads must be an array or a list of arrays, got {type(grads).__name__}")
    try:
        return list(grads)
    except TypeError:
        raise TypeError(f"grads must be an array or a list of arrays, "
                        f"got {type(grads).__name__}") from None


def _norm_type(norm_type):
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"norm_type must be a positive number or inf, "
                        f"got {type(norm_type).__name__}")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    return norm_type


def global_norm(grads, norm_type=2.0):
    r"""The norm of all elements of ``grads`` taken together, as a Python float.

    ``grads``: an array or a list of arrays (float32/float64 are read in place; other
    floating dtypes and non-contiguous arrays are read through a contiguous copy; ``None``
    entries are skipped).  ``norm_type``: ``p > 0`` for ``(sum |g|^p)^(1/p)`` (2 by default),
    or ``math.inf`` for the largest ``|g|``.  The sum runs in float64 over fixed chunks in a
    fixed order (see :mod:`fastopt._clip`): the chunks' partial sums run on fastopt's thread
    pool with the GIL released, and are added in chunk order, so the result is the same bit
    for bit whatever the thread count; a NaN anywhere gives NaN.

    >>> import numpy as np
    >>> global_norm([np.array([3.0]), np.array([[4.0]], dtype=np.float32)])
    5.0
    >>> global_norm([np.array([1.0, -2.0])], norm_type=math.inf)
    2.0
    """
    return _clip.global_norm(_grad_list(grads), _norm_type(norm_type))


def clip_factor(total_norm, max_norm):
    r"""The clipping factor ``min(1, max_norm / (total_norm + 1e-6))`` (torch's); NaN when
    ``total_norm`` is NaN (so a NaN gradient stays NaN), 0 when it is infinite.

    >>> clip_factor(0.5, max_norm=1.0), clip_factor(math.inf, max_norm=1.0)
    (1.0, 0.0)
    """
    max_norm = _max_norm(max_norm)
    total_norm = float(total_norm)
    if math.isnan(total_norm):
        return math.nan
    return min(1.0, max_norm / (total_norm + NORM_EPS))


def _max_norm(max_norm):
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"max_norm must be a number, got {type(max_norm).__name__}")
    max_norm = float(max_norm)
    if not (max_norm > 0 and math.isfinite(max_norm)):
        raise ValueError(f"max_norm must be finite and > 0, got {max_norm}")
    return max_norm


def clip_grad_norm(grads, max_norm, norm_type=2.0, *, error_if_nonfinite=False):
    r"""``(norm, factor)``: the global norm of ``grads`` and the factor that clips it to
    ``max_norm``; nothing is written.  Scale the gradients by ``factor`` inside the step
    (``opt.step(grads, grad_scale=factor)``, or :func:`step_clipped`).  With
    ``error_if_nonfinite`` a NaN or infinite norm raises ValueError.

    >>> import numpy as np
    >>> clip_grad_norm([np.array([6.0, 8.0])], max_norm=20.0)
    (10.0, 1.0)
    """
    max_norm = _max_norm(max_norm)
    norm = global_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(norm):
        raise ValueError(f"the gradients' total {norm_type}-norm is {norm}; "
                         "error_if_nonfinite=True")
    return norm, clip_factor(norm, max_norm)


def step_clipped(optimizer, grads, max_norm, norm_type=2.0, *, error_if_nonfinite=False,
                 noise=None):
    r"""One optimizer step with the gradients clipped to a total norm of ``max_norm``;
    returns the norm before clipping.

    The factor of :func:`clip_grad_norm` is applied in the optimizer's own pass
    (``optimizer.step(grads, grad_scale=factor)``: the same result as stepping with
    ``g * g.dtype.type(factor)``); when no clipping is needed (factor 1) it is a plain
    ``optimizer.step(grads)``.  ``optimizer``: any fastopt optimizer, or one with schedules
    (:func:`fastopt.schedules.attach`).  ``noise``: a :class:`fastopt.GradientNoise` added
    to the clipped gradients in the same pass (``optimizer.step(grads, grad_scale=factor,
    noise=noise)``: clipping scales the gradient, not the noise).  The gradients are not
    written.

    Example::

        >>> import numpy as np, fastopt
        >>> w = np.zeros(2)
        >>> opt = fastopt.SGD([w], lr=1.0)
        >>> step_clipped(opt, [np.array([3.0, 4.0])], max_norm=10.0)   # within the limit
        5.0
        >>> w
        array([-3., -4.])
    """
    grads = _grad_list(grads)
    norm, factor = clip_grad_norm(grads, max_norm, norm_type,
                                  error_if_nonfinite=error_if_nonfinite)
    kw = {} if noise is None else {"noise": noise}
    if factor == 1.0:
        optimizer.step(grads, **kw)
    else:
        optimizer.step(grads, grad_scale=factor, **kw)
    return norm


def clip_grad_value_(grads, clip_value):
    r"""Clamp every gradient element to ``[-clip_value, clip_value]`` in place, as
    ``torch.nn.utils.clip_grad_value_`` (NaN stays NaN).  The arrays must be writeable
    floating ndarrays; all are checked before any is written.

    >>> import numpy as np
    >>> g = np.array([-3.0, 0.5, 2.0])
    >>> clip_grad_value_([g], 1.0)
    >>> g
    array([-1. ,  0.5,  1. ])
    """
    if isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real):
        raise TypeError(f"clip_value must be a number, got {type(clip_value).__name__}")
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value}")
    grads = [g for g in _grad_list(grads) if g is not None]
    for i, g in enumerate(grads):
        if not isinstance(g, np.ndarray):
            raise TypeError(f"gradient {i} must be a numpy array, got {type(g).__name__}")
        if g.dtype.kind != "f":
            raise TypeError(f"gradient {i} must have a floating dtype, got {g.dtype}")
        if not g.flags.writeable:
            raise ValueError(f"gradient {i} is read-only; clip_grad_value_ clips in place")
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)
