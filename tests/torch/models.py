"""A small deterministic MLP problem shared by the fastopt.torch tests."""
import copy

import torch

OPTIONS = {   # the main options of every algorithm, as (torch class name, kwargs)
    "sgd": ("SGD", dict(lr=0.05)),
    "sgd-momentum-dampening-wd": ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1,
                                              weight_decay=1e-2)),
    "sgd-nesterov-maximize": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True,
                                          maximize=True)),
    "adagrad-lr_decay-wd-init": ("Adagrad", dict(lr=0.05, lr_decay=1e-3, weight_decay=1e-2,
                                                 initial_accumulator_value=0.1)),
    "adadelta-wd-maximize": ("Adadelta", dict(lr=1.0, weight_decay=1e-2, maximize=True)),
    "rmsprop": ("RMSprop", dict(lr=1e-3)),
    "rmsprop-momentum-centered-wd": ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True,
                                                     weight_decay=1e-2)),
    "adam": ("Adam", dict(lr=1e-2)),
    "adam-amsgrad-wd-maximize": ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-2,
                                              maximize=True)),
    "adam-decoupled": ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    "adamw": ("AdamW", dict(lr=1e-2)),
    "adamw-amsgrad": ("AdamW", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
    "adamax-wd": ("Adamax", dict(lr=1e-2, weight_decay=1e-2)),
    "nadam": ("NAdam", dict(lr=1e-2)),
    "nadam-decoupled-wd": ("NAdam", dict(lr=1e-2, weight_decay=0.1,
                                         decoupled_weight_decay=True)),
}


def mlp(dtype, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, 1)).to(dtype)


def data(dtype, seed=1, n=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g, dtype=dtype)
    y = torch.sin(x.sum(1, keepdim=True)) + 0.1 * torch.randn(n, 1, generator=g, dtype=dtype)
    return x, y


def batches(x, y, step, size=16):
    i = (step * size) % x.shape[0]
    return x[i:i + size], y[i:i + size]


def train(model, opt, x, y, steps, start=0, sched=None, plateau=None):
    """Minibatch training; returns the loss of every step (as floats).  An optimizer with
    ``maximize=True`` maximizes the negated loss."""
    sign = -1.0 if opt.param_groups[0].get("maximize") else 1.0
    losses = []
    for t in range(start, start + steps):
        xb, yb = batches(x, y, t)

        def closure():
            opt.zero_grad()
            loss = sign * torch.nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            return loss

        loss = opt.step(closure)
        losses.append(loss.item())
        if sched is not None:
            sched.step(loss.item()) if plateau else sched.step()
    return losses


def pair(dtype, seed=0):
    """Two identical models."""
    m = mlp(dtype, seed)
    return m, copy.deepcopy(m)


def max_rel(a, b):
    a, b = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    return ((a - b).abs() / b.abs().clamp_min(1e-30)).max().item()
