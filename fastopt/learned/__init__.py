"""A learned optimizer (Andrychowicz et al. 2016, "Learning to learn by gradient descent by
gradient descent"): a coordinate-wise two-layer LSTM, meta-trained on random 10-D quadratics,
shipped as a small checkpoint and run in NumPy with fastopt's optimizer interface.

* :class:`LSTMOptimizer` (:mod:`~fastopt.learned.lstm`): the learned optimizer, NumPy only;
* :mod:`~fastopt.learned.quadratics`: the problems ``||W x - y||^2``;
* :mod:`~fastopt.learned.train`: the meta-training (PyTorch: ``pip install 'fastopt[learn]'``);
* :mod:`~fastopt.learned.compare`: learned vs tuned fastopt optimizers on fresh quadratics;
* ``python -m fastopt learn compare`` / ``python -m fastopt learn train``.

Example::

    >>> import numpy as np
    >>> from fastopt.learned import LSTMOptimizer
    >>> x = np.zeros(10)
    >>> opt = LSTMOptimizer([x])
    >>> opt.step([np.ones(10)])           # a positive gradient: the learned update is negative
    >>> bool(np.all(x < 0))
    True
"""
from fastopt.learned.lstm import CHECKPOINT, LSTMOptimizer, load_weights

__all__ = ["LSTMOptimizer", "CHECKPOINT", "load_weights"]
