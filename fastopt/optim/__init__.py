"""PyTorch-style optimizer classes over NumPy arrays."""
from fastopt.optim.adadelta import Adadelta
from fastopt.optim.adagrad import Adagrad
from fastopt.optim.adam import Adam, AdamW, AMSGrad
from fastopt.optim.adamax import Adamax
from fastopt.optim.nadam import NAdam
from fastopt.optim.optimizer import Optimizer
from fastopt.optim.rmsprop import RMSprop
from fastopt.optim.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "AMSGrad", "Adamax", "NAdam", "Optimizer",
           "RMSprop", "SGD"]
