"""What the functional steps of ``fastopt.functional`` (each defined next to its class in
``fastopt/optim/<algorithm>.py``) share: the call of the fused kernel driver."""
import numpy as np

from fastopt._kernels.algorithms import ALGORITHMS
from fastopt._kernels.functional_step import functional_step


def _list(arrays):
    if arrays is None or isinstance(arrays, list):
        return arrays
    if isinstance(arrays, np.ndarray):
        return [arrays]
    return list(arrays)


def run(name, hyper, step, params, grads, *states, mu_product=1.0, grad_scale=1.0,
        noise=None):
    """One step of algorithm ``name`` with the hyperparameters ``hyper`` on explicit arrays
    (each argument one array or a list of them); ``noise``: a
    :class:`fastopt.GradientNoise` or None."""
    return functional_step(ALGORITHMS[name], hyper, step, _list(params), _list(grads),
                           tuple(_list(s) for s in states), mu_product, grad_scale, noise)
