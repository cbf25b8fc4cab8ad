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
* the buffers are allocated once: four points, each with its gradient, written in place;
  the parameters are copied in from a point and the gradients gathered into its gradient
  buffer once per evaluation.

The loss of the closure's first evaluation is returned, as torch does.  The parameters must
all be dense, contiguous CPU tensors of one dtype (float32 or float64).

``state_dict()`` holds what resuming needs, in torch.optim.LBFGS's keys: ``func_evals``,
``n_iter``, the pairs (``old_stps`` = s, ``old_dirs`` = y, oldest first, with ``ro`` and
``H_diag``), the last step and the gradient it started from (``d`` with ``t = 1.0``, torch
only uses ``d * t``; ``prev_flat_grad``) and ``prev_loss``.  Saving, loading into a new
optimizer and continuing is bit-identical to not stopping.  A torch.optim.LBFGS checkpoint
loads here (and ours there): the next step forms its first pair from torch's ``d * t`` and
``prev_flat_grad``, and continues with the loaded pairs.

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
from fastopt.torch._checks import check_grad, check_param, group_nonneg, tensor_name
from fastopt.torch._threads import ON_TORCH_THREADS

__all__ = ["LBFGS"]


class _Flat:
    """The flattened problem: four point buffers, each with the buffer of the gradient at
    that point (so the line search's best and trial points never share a gradient), the
    direction, a zero vector, the L-BFGS memory and the pending pair.

    ``x`` and ``x_prev`` index the current and the previous point.  Between steps,
    ``points[x_prev]`` holds the last step ``s`` and ``grads[x_prev]`` the gradient it
    started from (torch's ``d * t`` and ``prev_flat_grad``), when ``pending``: the next step
    forms its first pair from them and the gradient at the parameters."""

    def __init__(self, n, dtype, history_size):
        self.n, self.dtype, self.history_size = n, dtype, history_size
        self.memory = _vec.LBFGSMemory(history_size, n, dtype)
        self.points = [np.empty(n, dtype) for _ in range(4)]
        self.grads = [np.empty(n, dtype) for _ in range(4)]
        self.d = np.empty(n, dtype)
        self.zeros = np.zeros(n, dtype)
        self.x = self.x_prev = 0
        self.pending = False

    def fits(self, n, dtype, history_size):
        return (self.n, self.dtype, self.history_size) == (n, dtype, history_size)

    def index(self, z):
        return next(i for i, b in enumerate(self.points) if b is z)

    @property
    def work(self):
        """The indices of two points that are neither the current nor the previous one."""
        return [i for i in range(4) if i not in (self.x, self.x_prev)][:2]

    def first_pair(self, g):
        """The memory's update at the start of a step: the pending pair, or none."""
        if self.pending:
            self.memory.update(self.points[self.x_prev], self.zeros, g, self.grads[self.x_prev])
        else:
            self.memory.update(self.zeros, self.zeros, g, g)    # s = 0: inner products only

    def end_step(self, moved):
        """Keep the last step ``s = x - x_prev`` (in the previous point's buffer) for the
        next step, if the last iteration moved."""
        self.pending = moved and self.x != self.x_prev
        if self.pending:
            xp = self.points[self.x_prev]
            _vec.combine((1.0, -1.0), (self.points[self.x], xp), xp)

    def restore(self, history):
        """Load a checkpoint's history (torch.optim.LBFGS's keys, oldest pair first)."""
        for s, y in zip(history["old_stps"], history["old_dirs"]):
            self.memory.update(_vector(s, self.dtype), self.zeros, _vector(y, self.dtype),
                               self.zeros)
        d, t, g_prev = history["d"], history["t"], history["prev_flat_grad"]
        self.x, self.x_prev = 0, 1
        self.pending = d is not None and g_prev is not None
        if self.pending:
            self.points[1][:] = _vector(d.reshape(-1).mul(t), self.dtype)   # torch's s = d t
            self.grads[1][:] = _vector(g_prev, self.dtype)

    def history(self, prev_loss):
        """The history in torch.optim.LBFGS's ``state`` keys (new tensors): ``old_stps``
        (s) and ``old_dirs`` (y) oldest first, ``ro`` = 1 / s.y, ``H_diag`` = s.y / y.y of
        the newest pair, the pending step as ``d`` with ``t = 1.0``, ``prev_flat_grad``."""
        pairs = [self.memory.pair(i) for i in range(self.memory.k)]
        stps = [torch.from_numpy(s) for s, _ in pairs]
        dirs = [torch.from_numpy(y) for _, y in pairs]
        ro = [1.0 / y.dot(s) for s, y in zip(stps, dirs)]
        h_diag = dirs[-1].dot(stps[-1]) / dirs[-1].dot(dirs[-1]) if pairs else 1
        if self.pending:
            d = torch.from_numpy(self.points[self.x_prev].copy())
            g_prev = torch.from_numpy(self.grads[self.x_prev].copy())
        else:       # no step to pair: s = 0 * d, which torch rejects (s.y = 0)
            d = torch.from_numpy(np.zeros_like(self.d))
            g_prev = torch.from_numpy(self.grads[self.x].copy())
        return dict(d=d, t=1.0 if self.pending else 0.0, old_dirs=dirs, old_stps=stps,
                    ro=ro, H_diag=h_diag, prev_flat_grad=g_prev, prev_loss=prev_loss)


def _vector(t, dtype):
    return np.ascontiguousarray(t.detach().reshape(-1).numpy(), dtype)


def _group_value(group, key, kind):
    if kind == "real":
        return group_nonneg(group, key, key)
    v = group[key]
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{key} must be an integer, got {v!r}")
    if v < 1:
        raise ValueError(f"Invalid {key}: {v} (must be >= 1)")
    return int(v)


class _Parameters:
    """The parameters as one flat vector: copied from and into the flat buffers, and their
    gradients gathered (a missing gradient is zero).  NumPy copies on zero-copy views: a
    torch copy_ would wake torch's thread pool between fastopt's kernels, and on a busy
    machine the two pools contend (measured up to 5x slower at 10^5 parameters)."""

    def __init__(self, params, flat):
        self.params, self.flat = params, flat
        self.views = [p.detach().numpy().reshape(-1) for p in params]
        bounds = np.cumsum([0] + [v.size for v in self.views]).tolist()
        self.spans = list(zip(bounds[:-1], bounds[1:]))
        self.last = None                   # the point the parameters were last set from

    def read(self, i):
        """points[i] = the parameters."""
        z = self.flat.points[i]
        for v, (a, b) in zip(self.views, self.spans):
            z[a:b] = v
        self.last = i

    def write(self, i, changed=True):
        """The parameters = points[i]; ``changed=False``: points[i] is unchanged since it
        was last written, so the copy is skipped if it was the last one."""
        if changed or self.last != i:
            z = self.flat.points[i]
            for v, (a, b) in zip(self.views, self.spans):
                v[...] = z[a:b]
            self.last = i

    def gradient(self, i):
        """grads[i] = the gradient (checked), returned as the array."""
        out = self.flat.grads[i]
        for k, (p, (a, b)) in enumerate(zip(self.params, self.spans)):
            if p.grad is None:
                out[a:b] = 0
            else:
                out[a:b] = check_grad(p.grad, p, tensor_name(0, k)).detach().numpy().reshape(-1)
        return out


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
        self._prev_loss = None

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

    def state_dict(self):
        """torch's ``state_dict``, with the curvature history in torch.optim.LBFGS's keys
        (``d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss``), so that
        either class can resume from it.  The pending step is saved as ``d`` with
        ``t = 1.0`` (torch only uses their product)."""
        sd = super().state_dict()
        if self._flat is not None and sd["state"]:
            sd["state"][0] = {**sd["state"][0], **self._flat.history(self._prev_loss)}
        return sd

    def load_state_dict(self, state_dict):
        """torch's ``load_state_dict``, from a checkpoint of either class; the history
        (torch.optim.LBFGS's keys) is checked here and used from the next step."""
        _, n, _ = self._tensors()
        for key, state in state_dict["state"].items():
            _check_history(state, n)
        super().load_state_dict(state_dict)
        self._flat = None

    def _flat_for(self, state, n, dtype, history):
        """The flat buffers, made anew (the history from ``state``, if any, moved into
        them) when the problem changed or a checkpoint was loaded."""
        loaded = {k: state.pop(k) for k in _HISTORY_KEYS if k in state}
        if self._flat is None or not self._flat.fits(n, dtype, history):
            self._flat = _Flat(n, dtype, history)
            if "old_dirs" in loaded:
                loaded.setdefault("d", None)
                loaded.setdefault("t", 1.0)
                loaded.setdefault("prev_flat_grad", None)
                self._flat.restore(loaded)
        return self._flat

    @torch.no_grad()
    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; returns the closure's first loss.

        ``closure`` re-evaluates the model (zero the gradients, compute the loss, call
        ``backward``) and returns the loss; it runs with gradients enabled.  fastopt's
        kernels run on torch's OpenMP threads (:mod:`fastopt.torch._threads`)."""
        with ON_TORCH_THREADS:
            return self._iterate(closure)

    def _iterate(self, closure):
        """The body of :meth:`step`."""
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        lr, max_iter, max_eval, tol_grad, tol_change, history, line_search = self._options()
        params, n, tdtype = self._tensors()
        dtype = np.float32 if tdtype == torch.float32 else np.float64
        state = self.state[params[0]]
        flat = self._flat_for(state, n, dtype, history)
        io = _Parameters(params, flat)
        closure = torch.enable_grad()(closure)

        def evaluate(z):
            i = flat.index(z)
            io.write(i)
            value = float(closure())
            return value, io.gradient(i)

        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        io.read(flat.x)
        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        g = io.gradient(flat.x)
        if _vec.absmax(g) <= tol_grad:
            return orig_loss
        memory, d = flat.memory, flat.d
        n_iter, moved = 0, False
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                memory.reset()
            elif n_iter == 1:
                flat.first_pair(g)
            else:
                memory.update(flat.points[flat.x], flat.points[flat.x_prev], g,
                              flat.grads[flat.x_prev])
            gtd = memory.direction(g, d)
            prev_loss = self._prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(g, dtype=np.float64).sum())) * lr
            else:
                t = lr
            if gtd > -tol_change:
                moved = False
                break
            ls_evals, opt_cond = 0, False
            if line_search is not None:
                work = flat.work
                ls = wolfe_search(evaluate, flat.points[flat.x], d, loss, g, gtd, t0=t,
                                  c1=1e-4, c2=0.9, maxiter=max(max_eval - current_evals, 1),
                                  work=[flat.points[i] for i in work])
                ls_evals, t = ls.nfev, ls.t
                moved = ls.t > 0
                if moved:
                    flat.x_prev, flat.x = flat.x, flat.index(ls.x)
                    loss, g = ls.f, ls.g
                io.write(flat.x, changed=False)
                opt_cond = _vec.absmax(g) <= tol_grad
            else:
                x_new = flat.work[0]
                _vec.combine((1.0, t), (flat.points[flat.x], d), flat.points[x_new])
                io.write(x_new)
                flat.x_prev, flat.x, moved = flat.x, x_new, True
                if n_iter != max_iter:
                    loss = float(closure())
                    g = io.gradient(flat.x)
                    opt_cond = _vec.absmax(g) <= tol_grad
                    ls_evals = 1
            current_evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(t) * memory.dmax <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break
        flat.end_step(moved)
        return orig_loss


_HISTORY_KEYS = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
                 "prev_loss")


def _check_history(state, n):
    """TypeError/ValueError unless a checkpoint's LBFGS state holds a usable history for
    ``n`` parameters (what ``load_state_dict`` needs before anything is loaded)."""
    def vector(v, key):
        if not isinstance(v, torch.Tensor) or not v.is_floating_point():
            raise TypeError(f"LBFGS state[{key!r}] is {type(v).__name__}, not a float tensor")
        if v.numel() != n:
            raise ValueError(f"LBFGS state[{key!r}] has {v.numel()} elements; the "
                             f"parameters have {n}")
    if not isinstance(state, dict):
        raise TypeError(f"LBFGS state is a {type(state).__name__}, not a dict")
    dirs, stps = state.get("old_dirs"), state.get("old_stps")
    if dirs is None and stps is None:
        return
    if not isinstance(dirs, (list, tuple)) or not isinstance(stps, (list, tuple)) or \
            len(dirs) != len(stps):
        raise ValueError("LBFGS state['old_dirs'] and state['old_stps'] must be lists of "
                         "the same length")
    for key, vs in (("old_dirs", dirs), ("old_stps", stps)):
        for i, v in enumerate(vs):
            vector(v, f"{key}'][{i}")
    if state.get("d") is not None:
        vector(state["d"], "d")
        t = state.get("t")
        if isinstance(t, torch.Tensor):
            t = t.item() if t.numel() == 1 else None
        if isinstance(t, bool) or not isinstance(t, numbers.Real):
            raise TypeError(f"LBFGS state['t'] must be a number, got {state.get('t')!r}")
    if state.get("prev_flat_grad") is not None:
        vector(state["prev_flat_grad"], "prev_flat_grad")
