"""The base class of fastopt's optimizers: param groups, state, state_dict, step."""
import contextlib
import copy

import numpy as np

from fastopt._kernels.algorithms import (
    ALGORITHMS, STATE_ARRAYS, STATE_SCALARS, check_hyperparameters, state_scalar,
)
from fastopt._kernels.checks import check_disjoint, check_param
from fastopt._kernels.plan import StepPlan
from fastopt.optim.state import StateDict

# keys of torch.optim's param groups that only choose torch's implementation (not the math):
# a torch state_dict that holds them loads where the rest fits
TORCH_IMPLEMENTATION_FLAGS = ("foreach", "fused", "capturable", "differentiable")


def _as_param_list(params, what):
    if isinstance(params, np.ndarray):
        return [params]
    if isinstance(params, (str, bytes, dict)):
        raise TypeError(f"{what} must be an array or a list of arrays, got {type(params).__name__}")
    try:
        return list(params)
    except TypeError:
        raise TypeError(
            f"{what} must be an array or a list of arrays, got {type(params).__name__}"
        ) from None


def _with_tuple_betas(group):
    """``group`` with a ``betas`` list made a tuple (as torch stores it)."""
    if isinstance(group.get("betas"), list):
        group["betas"] = tuple(group["betas"])
    return group


class Optimizer:
    """Base class: PyTorch's ``torch.optim.Optimizer`` contract on NumPy arrays.

    ``params`` is an array, a list of arrays, or a list of dicts (param groups, each with a
    ``"params"`` entry and any hyperparameters that differ from the defaults).  Arrays must be
    C-contiguous, writeable float32/float64 ndarrays; they are updated in place by
    :meth:`step`, which takes the gradients in the same order.  ``state`` maps each
    parameter's index (its position across all groups, as in ``state_dict()``) to a dict of
    its state arrays, created on its first step.  Changing ``state`` (replacing an entry,
    deleting one, ``state.clear()``, assigning ``opt.state = ...``) is allowed: the next
    step re-reads and re-checks it before it writes anything.

    Subclasses set ``_algorithm`` (a kernel name) and pass their defaults.
    """

    _algorithm = None

    def __init__(self, params, defaults):
        self._algo = ALGORITHMS[self._algorithm]
        self.defaults = dict(defaults)
        check_hyperparameters(self._algo, {**self.defaults, "params": []})
        self._state = StateDict()
        self.param_groups = []
        self._plan = StepPlan(self._algo, self._state, sorted(self.defaults))
        self._n_params = 0
        params = _as_param_list(params, "params")
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    @property
    def state(self):
        """Parameter index -> its state dict (``exp_avg``, ``step``, ...)."""
        return self._state

    @state.setter
    def state(self, value):
        items = dict(value)  # first: value may be this very mapping
        self._state.clear()
        self._state.update(items)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])

    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (missing ones: defaults)."""
        with self._exclusive():
            self._add_param_group(param_group)

    def _add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unknown hyperparameter(s) {sorted(unknown)}; "
                f"known: {sorted(self.defaults)}"
            )
        if "params" not in param_group:
            raise ValueError("a param group needs a 'params' entry")
        group = _with_tuple_betas({**self.defaults, **param_group})
        params = group["params"] = _as_param_list(group["params"], "a group's 'params'")
        first = self._n_params
        for i, p in enumerate(params):
            check_param(p, f"parameter {first + i}")
        existing = [p for g in self.param_groups for p in g["params"]]
        check_disjoint(existing + params, "parameters")
        check_hyperparameters(self._algo, group)
        self._plan.add_group(group)
        self.param_groups.append(group)
        self._n_params += len(params)

    def step(self, grads, *, grad_scale=1.0, noise=None):
        """Update every parameter in place from its gradient.

        ``grads``: the gradients in the order of the parameters (across groups), as a list,
        or a single array when there is one parameter.  A ``None`` entry skips its parameter.
        ``grad_scale`` (a finite real >= 0, default 1) multiplies every gradient inside the
        update, without writing the gradients: the step is bit-identical to one on
        ``g * g.dtype.type(grad_scale)`` (gradient clipping by a global norm passes
        ``min(1, max_norm / norm)``).  ``noise``: a :class:`fastopt.GradientNoise`, whose
        annealed Gaussian noise ``T(sigma_t z)`` is added to every (scaled) gradient inside
        the update, and whose counter ``t`` the step advances (see :mod:`fastopt.noise`).
        ``param_groups`` is read at every step, so a
        replaced group dict (or list) takes effect now.  Everything is checked, and missing
        state created, before anything is written: on error (or an interrupt), no array,
        state or step counter has changed, in any group.  An optimizer is not thread-safe:
        a step called from another thread while one runs (its kernels release the GIL)
        raises RuntimeError.

        Example::

            >>> import numpy as np, fastopt
            >>> w = np.zeros(2)
            >>> opt = fastopt.SGD([w], lr=0.1)
            >>> opt.step([np.array([4.0, -2.0])], grad_scale=0.5)
            >>> w
            array([-0.2,  0.1])
        """
        self._plan.step(self.param_groups, grads, grad_scale, noise)

    def __getstate__(self):
        """Pickles and copies hold the hyperparameters, the parameters and the state (as
        torch.optim's do); the step plan is rebuilt from them."""
        return {"defaults": self.defaults, "param_groups": self.param_groups,
                "state": self._state}

    def __setstate__(self, saved):
        self._algo = ALGORITHMS[self._algorithm]
        self.defaults = saved["defaults"]
        self._state = StateDict(saved["state"])
        self.param_groups = []
        self._plan = StepPlan(self._algo, self._state, sorted(self.defaults))
        self._n_params = 0
        for group in saved["param_groups"]:
            self._plan.add_group(group)
            self.param_groups.append(group)
            self._n_params += len(group["params"])

    @contextlib.contextmanager
    def _exclusive(self):
        """No other thread may step, load or add groups meanwhile (RuntimeError)."""
        self._plan.enter()
        try:
            yield
        finally:
            self._plan.leave()

    def state_dict(self):
        """A snapshot (copies) of the state and hyperparameters, in torch.optim's layout:
        ``{"state": {index: {name: array}}, "param_groups": [{..., "params": [indices]}]}``."""
        groups, first = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**copy.deepcopy({k: v for k, v in group.items() if k != "params"}),
                           "params": list(range(first, first + n))})
            first += n
        state = {i: {k: np.array(v, copy=True) for k, v in st.items()}
                 for i, st in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a :meth:`state_dict`.  It must fit these parameters (same group sizes,
        shapes and state names); anything that does not fit raises ValueError/TypeError and
        leaves the optimizer unchanged.  The arrays are copied, in the parameters' dtypes.

        The saved param groups map the saved indices to these parameters by position, as in
        torch.optim.  State under an index that no saved group lists is kept as is (a deep
        copy) under that index, as torch.optim keeps it: a step ignores it and
        :meth:`state_dict` returns it, so ``opt.load_state_dict(opt.state_dict())`` always
        works.  Such an index must not be the position of one of these parameters (it would
        become that parameter's state): ValueError."""
        with self._exclusive():
            self._load_state_dict(state_dict)

    def _load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups'")
        groups, state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not isinstance(state, dict):
            raise TypeError("state_dict['param_groups'] must be a list and "
                            "state_dict['state'] a dict")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(groups)} param groups, "
                             f"this optimizer has {len(self.param_groups)}")
        new_groups, params = [], []
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if not isinstance(saved, dict):
                raise TypeError(f"state_dict param group {i} must be a dict, "
                                f"got {type(saved).__name__}")
            if len(saved.get("params", ())) != len(group["params"]):
                raise ValueError(f"param group {i} has {len(group['params'])} parameters, "
                                 f"the state_dict's has {len(saved.get('params', ()))}")
            # torch's groups also hold flags that choose its implementation: same layout
            saved = {k: v for k, v in saved.items()
                     if not (k in TORCH_IMPLEMENTATION_FLAGS and (v is None or
                                                                  isinstance(v, bool)))}
            unknown = set(saved) - set(self.defaults) - {"params"}
            if unknown:
                raise ValueError(f"state_dict param group {i} has unknown keys {sorted(unknown)}")
            new = _with_tuple_betas({**group, **{k: v for k, v in saved.items() if k != "params"}})
            check_hyperparameters(self._algo, new)
            new_groups.append(new)
            params += [(index, p) for index, p in zip(saved["params"], group["params"])]
        new_state, unlisted = {}, {}
        by_index = dict(params)
        if len(by_index) != len(params):
            raise ValueError("state_dict's param groups list a parameter index twice")
        for index, saved in state.items():
            if index in by_index:
                new_state[index] = self._load_param_state(index, saved, by_index[index])
                continue
            if index in range(len(params)):
                raise ValueError(f"state_dict has state under index {index!r}, which no param "
                                 f"group lists; here {index!r} is the position of a parameter, "
                                 f"so it would become that parameter's state")
            if not isinstance(saved, dict):
                raise ValueError(f"state of index {index!r} must be a dict")
            unlisted[index] = copy.deepcopy(saved)
        # every check passed: commit
        order = [index for index, _ in params]
        for group, new in zip(self.param_groups, new_groups):
            group.update({k: v for k, v in new.items() if k != "params"})
        self.state.clear()
        for position, index in enumerate(order):
            if index in new_state:
                self.state[position] = new_state[index]
        self.state.update(unlisted)
        self._plan.invalidate()

    def _load_param_state(self, index, saved, param):
        arrays = STATE_ARRAYS[self._algo]
        scalars = STATE_SCALARS[self._algo]
        if not isinstance(saved, dict):
            raise ValueError(f"state of parameter {index} must be a dict")
        out = {}
        for name, value in saved.items():
            if name not in arrays and name not in scalars:
                out[name] = copy.deepcopy(value)    # the user's own entry: kept, as torch does
            elif name in scalars:
                out[name] = state_scalar(value, name, f"state[{index}][{name!r}]")
            else:
                a = np.asarray(value)
                if a.shape != param.shape:
                    raise ValueError(f"state[{index}][{name!r}] has shape {a.shape}, "
                                     f"its parameter has shape {param.shape}")
                if a.dtype.kind not in "fiu":
                    raise TypeError(f"state[{index}][{name!r}] has dtype {a.dtype}")
                with np.errstate(over="ignore"):
                    out[name] = np.array(a, dtype=param.dtype, order="C", copy=True)
                if a.dtype.kind == "f" and a.dtype.itemsize > param.dtype.itemsize:
                    overflow = np.isinf(out[name]) & np.isfinite(a)
                    if overflow.any():
                        raise ValueError(f"state[{index}][{name!r}] holds values beyond the "
                                         f"range of {param.dtype} (its parameter's dtype), "
                                         f"e.g. {a[overflow].flat[0]!r}")
        return out
