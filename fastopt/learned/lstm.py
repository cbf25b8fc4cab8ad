r"""The learned optimizer at work, in NumPy: a coordinate-wise two-layer LSTM
(Andrychowicz et al. 2016, "Learning to learn by gradient descent by gradient descent").

Every coordinate of every parameter runs through the *same* small network with its own
hidden state.  At each step the gradient ``g`` of a coordinate is preprocessed (the paper's
log-and-sign, with ``k = 5``)::

    (max(log(|g| + eps) / k, -1),  clip(g e^k, -1, 1))

fed through two LSTM layers of 20 units and a linear read-out, and the read-out times
``output_scale`` (0.01) is the coordinate's update: ``x <- x + update``.  The weights are
meta-trained with :mod:`fastopt.learned.train` (PyTorch); this module only runs them, so using
the shipped checkpoint needs NumPy only.

Example::

    >>> import numpy as np
    >>> from fastopt.learned import LSTMOptimizer
    >>> from fastopt.learned.quadratics import Quadratics
    >>> q = Quadratics.sample(64, seed=1)
    >>> x = q.x0.copy()
    >>> opt = LSTMOptimizer([x])               # the shipped checkpoint
    >>> start = q.loss(x).mean()
    >>> for _ in range(100):
    ...     opt.step([q.grad(x)])
    >>> bool(q.loss(x).mean() < 0.1 * start)
    True
"""
import os

import numpy as np

__all__ = ["LSTMOptimizer", "CHECKPOINT", "load_weights", "preprocess"]

#: the shipped meta-trained weights
CHECKPOINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lstm_quadratic.npz")

_NAMES = ("w_ih0", "w_hh0", "b0", "w_ih1", "w_hh1", "b1", "w_out", "b_out")


def preprocess(g, k=5.0):
    """The paper's log-and-sign preprocessing of gradients: shape ``g.shape + (2,)``."""
    g = np.asarray(g, dtype=np.float64)
    eps = np.finfo(np.float32).eps
    log = np.maximum(np.log(np.abs(g) + eps) / k, -1.0)
    sign = np.clip(g * np.exp(k), -1.0, 1.0)
    return np.stack([log, sign], axis=-1)


def load_weights(path=CHECKPOINT):
    """The weights of a checkpoint (``.npz`` written by :func:`fastopt.learned.train.save`):
    a dict of arrays, plus ``hidden``, ``k`` and ``output_scale``."""
    with np.load(path) as z:
        weights = {name: np.asarray(z[name], dtype=np.float64) for name in _NAMES}
        for key in ("hidden", "k", "output_scale"):
            weights[key] = z[key].item()
    return weights


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _lstm_cell(x, h, c, w_ih, w_hh, b):
    # gate order i, f, g, o (as torch.nn.LSTMCell)
    z = x @ w_ih.T + h @ w_hh.T + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    return h, c


class LSTMOptimizer:
    """The learned optimizer with fastopt's optimizer interface: ``LSTMOptimizer(params)``,
    then ``opt.step(grads)`` updates every parameter array in place.

    ``params``: an array or a list of float arrays (updated in place); ``weights``: a dict
    from :func:`load_weights` or a path to a checkpoint (default: the shipped one).
    """

    def __init__(self, params, weights=None):
        if isinstance(params, np.ndarray):
            params = [params]
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"parameter {i} must be a float ndarray")
            if not p.flags.writeable:
                raise ValueError(f"parameter {i} is not writeable")
        if weights is None or isinstance(weights, (str, os.PathLike)):
            weights = load_weights(CHECKPOINT if weights is None else weights)
        self.weights = weights
        n = sum(p.size for p in self.params)
        hidden = int(weights["hidden"])
        self.state = [np.zeros((n, hidden)) for _ in range(4)]   # h0, c0, h1, c1

    def update(self, g):
        """The update of every coordinate for the flat gradient ``g`` (advances the state)."""
        w = self.weights
        x = preprocess(g, w["k"])
        h0, c0, h1, c1 = self.state
        h0, c0 = _lstm_cell(x, h0, c0, w["w_ih0"], w["w_hh0"], w["b0"])
        h1, c1 = _lstm_cell(h0, h1, c1, w["w_ih1"], w["w_hh1"], w["b1"])
        self.state = [h0, c0, h1, c1]
        return (h1 @ w["w_out"].T + w["b_out"])[:, 0] * w["output_scale"]

    def step(self, grads):
        """Update every parameter in place from its gradient (same order as the params)."""
        if isinstance(grads, np.ndarray):
            grads = [grads]
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradients, got {len(grads)}")
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if np.shape(g) != p.shape:
                raise ValueError(f"gradient {i} has shape {np.shape(g)}, its parameter "
                                 f"{p.shape}")
        flat = np.concatenate([np.asarray(g, dtype=np.float64).ravel() for g in grads])
        delta = self.update(flat)
        start = 0
        for p in self.params:
            p += delta[start:start + p.size].reshape(p.shape).astype(p.dtype, copy=False)
            start += p.size
