"""What fastopt.torch accepts, checked before anything is written.

fastopt's kernels run in place on the memory of CPU, strided, C-contiguous float32/float64
tensors (on their addresses).  Anything else gets an error that names
the tensor by its place in ``param_groups`` -- never a silent copy that would be updated
instead of the user's parameter.
"""
import numbers

import torch

SUPPORTED_DTYPES = (torch.float32, torch.float64)


def tensor_name(gi, i):
    return f"param_groups[{gi}]['params'][{i}]"


def _describe(t):
    return f"shape {tuple(t.shape)}, dtype {t.dtype}, device {t.device}"


def check_param(p, what):
    """TypeError/ValueError unless ``p`` can be updated in place by fastopt's kernels."""
    if p.device.type != "cpu":
        raise ValueError(f"{what} ({_describe(p)}) is not on the CPU: fastopt.torch runs "
                         "fastopt's CPU kernels only; use torch.optim for other devices")
    if p.layout != torch.strided:
        raise ValueError(f"{what} ({_describe(p)}) has layout {p.layout}; fastopt.torch "
                         "updates dense (strided) tensors only")
    if p.is_complex():
        raise TypeError(f"{what} ({_describe(p)}) is complex; fastopt.torch supports real "
                        "float32 and float64 parameters only")
    if p.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"{what} ({_describe(p)}) has dtype {p.dtype}; fastopt.torch "
                        "supports float32 and float64 parameters only")
    if not p.is_contiguous():
        raise ValueError(f"{what} ({_describe(p)}, strides {p.stride()}) is not contiguous: "
                         "fastopt.torch updates parameters in place and never a copy; make "
                         "the parameter contiguous (p.data = p.data.contiguous()) before "
                         "creating the optimizer")
    if p.is_conj() or p.is_neg():
        raise ValueError(f"{what} ({_describe(p)}) is a lazily negated/conjugated view; "
                         "resolve it first (p.data = p.data.resolve_neg())")


def check_grad(g, p, what):
    """The gradient of ``p`` as a contiguous CPU tensor of p's dtype and shape (a
    contiguous copy of a strided gradient: it is only read)."""
    if g.is_sparse or g.layout != torch.strided:
        raise ValueError(f"the gradient of {what} is sparse ({g.layout}); fastopt.torch "
                         "supports dense gradients only (torch.optim.SparseAdam handles "
                         "sparse ones)")
    if g.device.type != "cpu":
        raise ValueError(f"the gradient of {what} is on {g.device}, not on the CPU")
    _like_param(g, p, f"the gradient of {what}")
    if not g.is_contiguous() or g.is_conj() or g.is_neg():
        g = g.resolve_neg().contiguous()
    return g


def _like_param(t, p, name):
    """TypeError/ValueError unless ``t`` (called ``name``) has ``p``'s dtype and shape."""
    if t.dtype != p.dtype:
        raise TypeError(f"{name} has dtype {t.dtype}, the parameter {p.dtype}")
    if t.shape != p.shape:
        raise ValueError(f"{name} has shape {tuple(t.shape)}, the parameter "
                         f"{tuple(p.shape)}")


def check_state_tensor(t, p, key, what):
    """A state tensor of ``p`` (``key``) usable in place; TypeError/ValueError otherwise."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"state[{key!r}] of {what} is a {type(t).__name__}, not a tensor")
    if t.device.type != "cpu" or t.layout != torch.strided:
        raise ValueError(f"state[{key!r}] of {what} is on {t.device} ({t.layout}); "
                         "expected a dense CPU tensor")
    _like_param(t, p, f"state[{key!r}] of {what}")
    if not t.is_contiguous() or t.is_conj() or t.is_neg():
        raise ValueError(f"state[{key!r}] of {what} is not contiguous (strides "
                         f"{t.stride()}); fastopt.torch updates state in place")
    if t.requires_grad:
        raise ValueError(f"state[{key!r}] of {what} requires grad")


def group_real(group, key):
    """``group[key]`` as a float (a number or a one-element tensor); TypeError otherwise."""
    v = group[key]
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise ValueError(f"Tensor {key} must be 1-element")
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{key} must be a real number, got {v!r}")
    return float(v)


def group_nonneg(group, key, what):
    """:func:`group_real`, and ValueError ``Invalid {what}`` (torch's wording) unless >= 0."""
    v = group_real(group, key)
    if not v >= 0.0:                       # also rejects NaN
        raise ValueError(f"Invalid {what}: {group[key]}")
    return v
