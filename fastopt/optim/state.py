"""The state containers of an optimizer: ``opt.state`` (:class:`StateDict`) and each
parameter's entry in it (:class:`ParamState`).

A step keeps pointers to the state arrays between steps (re-reading a dict per array per
step would cost more than a small step).  So every change made through these mappings'
methods is counted, and the next step re-reads and re-checks all state before it writes
anything when the count moved.  In-place writes into the arrays
(``opt.state[0]["exp_avg"][:] = 0``) need nothing of the kind.
"""


class _Counted(dict):
    """A dict that counts the changes made through its methods (``_bump``).  Reads are plain
    dict reads; the step's own writes (``dict.__setitem__``) are not counted."""
    __slots__ = ()

    def _store(self, key, value):
        dict.__setitem__(self, key, value)

    def __setitem__(self, key, value):
        self._store(key, value)
        self._bump()

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._bump()

    def clear(self):
        dict.clear(self)
        self._bump()

    def pop(self, key, *default):
        self._bump()
        return dict.pop(self, key, *default)

    def popitem(self):
        self._bump()
        return dict.popitem(self)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self


class StateDict(_Counted):
    """``Optimizer.state``: parameter index -> that parameter's :class:`ParamState`.

    ``_version`` counts the changes made through this mapping and through the ParamStates
    it holds.

    Example::

        >>> from fastopt.optim.state import StateDict
        >>> state = StateDict()
        >>> state[0] = {"step": 3}
        >>> type(state[0]).__name__, state._version
        ('ParamState', 1)
        >>> state[0]["step"] = 4
        >>> state._version
        2
    """
    __slots__ = ("_version",)

    def __init__(self, *args, **kwargs):
        dict.__init__(self)
        self._version = 0
        self.update(*args, **kwargs)

    def _bump(self):
        self._version += 1

    def __reduce__(self):  # copies and pickles hold plain dicts, rebuilt on load
        return StateDict, ({k: dict(v) for k, v in self.items()},)

    def _store(self, key, value):
        if not isinstance(value, dict):
            raise TypeError(f"the state of parameter {key!r} must be a dict, "
                            f"got {type(value).__name__}")
        if not (type(value) is ParamState and value._owner is self):
            value = ParamState(self, value)
        dict.__setitem__(self, key, value)


class ParamState(_Counted):
    """One parameter's state, name -> array (``exp_avg``, ``step``, ...); its changes are
    counted by the :class:`StateDict` that holds it."""
    __slots__ = ("_owner",)

    def __init__(self, owner, *args, **kwargs):
        dict.__init__(self, *args, **kwargs)
        self._owner = owner

    def _bump(self):
        self._owner._version += 1

    def __reduce__(self):  # a copy or pickle of one parameter's state is a plain dict
        return dict, (dict(self),)
