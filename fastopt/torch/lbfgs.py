"""``fastopt.torch.LBFGS``: torch.optim.LBFGS's interface on fastopt's L-BFGS kernels.

Each ``step(closure)`` runs up to ``max_iter`` iterations and ``max_eval`` closure
evaluations, with torch.optim.LBFGS's control flow and stopping tests (``tolerance_grad`` on
max |g|, ``tolerance_change`` on the step and on the change of the loss, the first step
``min(1, 1 / ||g||_1) * lr`` along ``-g``, then ``lr`` along the L-BFGS direction), over
the parameters flattened into one float32/float64 vector.  What differs is the machinery:

* the direction comes from :class:`fastopt.second_order._vec.LBFGSMemory` -- the two-loop
  recursion regrouped into two multithreaded passes over the history per iteration (torch:
  ``4 * history`` separate vector operations) -- which keeps a pair only when
  ``s.y > eps * (-g.s)`` and ``s.y > 0`` (scale-free; torch: ``s.y > 1e-10``);
* ``line_search_fn="strong_wolfe"`` runs Moré and Thuente's search
  (:func:`fastopt.second_order.linesearch.wolfe_search`, c1 = 1e-4, c2 = 0.9), limited like
  torch's to the evaluations left in ``max_eval``;
* trial points are formed in four reused buffers and copied into the parameters once per
  evaluation; the gradient is gathered once per evaluation.

The loss of the closure's first evaluation is returned, as torch does.  The parameters must
all be dense, contiguous CPU tensors of one dtype (float32 or float64).  ``state_dict()``
holds torch's counters ``func_evals`` and ``n_iter``; the curvature history is not saved,
so after ``load_state_dict`` the next iteration starts from the steepest-descent direction.

Example::

    >>> import torch, fastopt.torch
    >>> torch.manual_seed(0) and None
    >>> A, b = torch.randn(20, 5, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    >>> x = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    >>> opt = fastopt.torch.LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((A @ x - b) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> x_ls = torch.linalg.lstsq(A, b.unsqueeze(1)).solution.squeeze(1)
    >>> bool(torch.allclose(x.detach(), x_ls, atol=1e-6))
    True
"""
import numbers

import numpy as np
import torch

from fastopt.second_order import _vec
from fastopt.second_order.linesearch import wolfe_search
from fastopt.torch._checks import check_grad, check_param, tensor_name

__all__ = ["LBFGS"]


class _Flat:
    """The flattened problem of one step: views of the parameters, four x-sized buffers
    (current point, previous point, two trial points), the direction and the history."""

    def __init__(self, n, dtype, history_size):
        self.n, self.dtype, self.history_size = n, dtype, history_size
        self.memory = _vec.LBFGSMemory(history_size, n, dtype)
        self.buffers = [np.empty(n, dtype) for _ in range(4)]
        self.x, self.x_prev = self.buffers[:2]
        self.d = np.empty(n, dtype)
        self.g_prev = None          # gradient at x_prev (None: no previous point)

    def fits(self, n, dtype, history_size):
        return (self.n, self.dtype, self.history_size) == (n, dtype, history_size)

    @property
    def work(self):
        """Two buffers that are neither the current nor the previous point."""
        return [b for b in self.buffers if b is not self.x and b is not self.x_prev][:2]

    def stay(self):
        """No move: the previous point is the current one (the next pair is empty)."""
        self.x_prev = self.x

    def moved_to(self, x_new):
        """Make ``x_new`` (a trial buffer) the current point; the old one becomes x_prev."""
        self.x_prev, self.x = self.x, x_new


def _group_value(group, key, kind):
    v = group[key]
    if kind == "int":
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{key} must be an integer, got {v!r}")
        if v < 1:
            raise ValueError(f"Invalid {key}: {v} (must be >= 1)")
        return int(v)
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise ValueError(f"Tensor {key} must be 1-element")
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{key} must be a real number, got {v!r}")
    if not v >= 0:
        raise ValueError(f"Invalid {key}: {v} (must be >= 0)")
    return float(v)


class LBFGS(torch.optim.LBFGS):
    __doc__ = __doc__

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        super().__init__(params, lr=lr, max_iter=max_iter, max_eval=max_eval,
                         tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                         history_size=history_size, line_search_fn=line_search_fn)
        self._options()
        self._tensors()
        self._flat = None

    def _options(self):
        group = self.param_groups[0]
        fn = group["line_search_fn"]
        if fn not in (None, "strong_wolfe"):
            raise ValueError(f"line_search_fn must be None or 'strong_wolfe', got {fn!r}")
        return (_group_value(group, "lr", "real"), _group_value(group, "max_iter", "int"),
                _group_value(group, "max_eval", "int"),
                _group_value(group, "tolerance_grad", "real"),
                _group_value(group, "tolerance_change", "real"),
                _group_value(group, "history_size", "int"), fn)

    def _tensors(self):
        """The parameters, checked, with their total size and common dtype."""
        params = self.param_groups[0]["params"]
        for i, p in enumerate(params):
            check_param(p, tensor_name(0, i))
        dtypes = {p.dtype for p in params}
        if len(dtypes) > 1:
            raise TypeError(f"fastopt.torch.LBFGS needs all parameters of one dtype, got "
                            f"{sorted(map(str, dtypes))}")
        return params, sum(p.numel() for p in params), params[0].dtype

    def load_state_dict(self, state_dict):
        """torch's ``load_state_dict``; the curvature history starts afresh."""
        super().load_state_dict(state_dict)
        self._flat = None

    @torch.no_grad()
    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; returns the closure's first loss.

        ``closure`` re-evaluates the model (zero the gradients, compute the loss, call
        ``backward``) and returns the loss; it runs with gradients enabled."""
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        lr, max_iter, max_eval, tol_grad, tol_change, history, line_search = self._options()
        params, n, tdtype = self._tensors()
        dtype = np.float32 if tdtype == torch.float32 else np.float64
        if self._flat is None or not self._flat.fits(n, dtype, history):
            self._flat = _Flat(n, dtype, history)
        flat = self._flat
        closure = torch.enable_grad()(closure)
        views = [p.detach().numpy().reshape(-1) for p in params]
        bounds = np.cumsum([0] + [v.size for v in views])
        last = [None]                      # the buffer the parameters were last set from

        def set_params(z):
            for v, a, b in zip(views, bounds[:-1], bounds[1:]):
                v[...] = z[a:b]
            last[0] = z

        def gradient():
            out = np.empty(n, dtype)
            for i, (p, a, b) in enumerate(zip(params, bounds[:-1], bounds[1:])):
                if p.grad is None:
                    out[a:b] = 0
                else:
                    out[a:b] = check_grad(p.grad, p, tensor_name(0, i)).detach().numpy().reshape(-1)
            return out

        def evaluate(z):
            set_params(z)
            value = float(closure())
            return value, gradient()

        state = self.state[params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        for v, a, b in zip(views, bounds[:-1], bounds[1:]):
            flat.x[a:b] = v
        last[0] = flat.x

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        g = gradient()
        if _vec.absmax(g) <= tol_grad:
            return orig_loss
        memory, d = flat.memory, flat.d
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1 or flat.g_prev is None:
                memory.reset()
            else:
                memory.update(flat.x, flat.x_prev, g, flat.g_prev)
            gtd = memory.direction(g, d)
            flat.g_prev, prev_loss = g, loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(g, dtype=np.float64).sum())) * lr
            else:
                t = lr
            if gtd > -tol_change:
                flat.stay()
                break
            ls_evals, opt_cond = 0, False
            if line_search is not None:
                ls = wolfe_search(evaluate, flat.x, d, loss, g, gtd, t0=t, c1=1e-4, c2=0.9,
                                  maxiter=max(max_eval - current_evals, 1), work=flat.work)
                ls_evals = ls.nfev
                if ls.t > 0:
                    flat.moved_to(ls.x)
                    loss, g = ls.f, ls.g
                else:
                    flat.stay()
                t = ls.t
                if last[0] is not flat.x:
                    set_params(flat.x)
                opt_cond = _vec.absmax(g) <= tol_grad
            else:
                x_new = flat.work[0]
                _vec.combine((1.0, t), (flat.x, d), x_new)
                set_params(x_new)
                flat.moved_to(x_new)
                if n_iter != max_iter:
                    loss = float(closure())
                    g = gradient()
                    opt_cond = _vec.absmax(g) <= tol_grad
                    ls_evals = 1
            current_evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(t) * _vec.absmax(d) <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break
        return orig_loss
