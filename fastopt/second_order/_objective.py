"""The user's objective behind one interface, with counting, timing and checks.

:class:`Objective` turns ``fun, jac, hess, hessp`` (SciPy's conventions) into ``fg(x)``,
``f(x)``, ``hess(x)`` and ``hessp(x, p)`` that return values of x0's dtype, count every call
(``nfev, njev, nhev``), add up the time spent inside the user's code (``user_time``: what the
benchmarks subtract to get the optimizer's own overhead), and refuse to go past ``maxfun``
evaluations by raising :class:`EvaluationLimit`.

``jac=None`` or ``False``, or one of SciPy's finite-difference names ``'2-point'``,
``'3-point'``, ``'cs'`` (all three mean the same here), means forward differences of ``fun``
with SciPy's relative step ``sqrt(eps) * max(1, |x_i|)``; any other string is a ValueError.
``hess=None`` and ``hessp=None`` mean differences of gradients where a method needs them;
a dense Hessian without ``hess`` comes from n ``hessp`` products when ``hessp`` is given.
"""
import time

import numpy as np

__all__ = ["Objective", "EvaluationLimit", "prepare_x0", "FD_NAMES"]

#: The ``jac`` strings accepted (SciPy's names); each means fastopt's forward differences.
FD_NAMES = ("2-point", "3-point", "cs")


class EvaluationLimit(Exception):
    """Raised by :class:`Objective` when one more evaluation would exceed ``maxfun``."""


def prepare_x0(x0):
    """x0 as a fresh 1-D float32/float64 array (float32 stays float32, integers become
    float64).  ValueError for a non-finite or multi-dimensional x0, TypeError for complex or
    non-numeric input."""
    a = np.asarray(x0)
    if a.dtype.kind == "c":
        raise TypeError("x0 must be real; complex values are not supported")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"x0 must be an array of real numbers, got dtype {a.dtype}")
    dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
    a = np.array(np.atleast_1d(a), dtype=dtype, order="C", copy=True)
    if a.ndim != 1:
        raise ValueError(f"x0 must be one-dimensional, got shape {np.shape(x0)}")
    if a.size == 0:
        raise ValueError("x0 is empty")
    if not np.all(np.isfinite(a)):
        raise ValueError("x0 contains non-finite values (NaN or inf)")
    return a


def _scalar(value, where):
    """The real scalar a user's function returned (float); errors name the culprit."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"{where} must return a scalar, got an array of shape {arr.shape}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{where} must return a real number, got {arr.dtype}")
    return float(arr.reshape(()))


class Objective:
    """Counted, timed, checked access to ``fun`` and its derivatives (see the module doc).

    >>> import numpy as np
    >>> obj = Objective(lambda x: float(x @ x), np.ones(3), jac=lambda x: 2 * x)
    >>> f, g = obj.fg(np.ones(3)); (f, g.tolist(), obj.nfev, obj.njev)
    (3.0, [2.0, 2.0, 2.0], 1, 1)
    """

    def __init__(self, fun, x0, args=(), jac=None, hess=None, hessp=None, maxfun=None):
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {type(fun).__name__}")
        if not isinstance(args, tuple):
            args = (args,)
        self.fun, self.args = fun, args
        self.n, self.dtype = x0.size, x0.dtype
        if isinstance(jac, str) and jac not in FD_NAMES:
            raise ValueError(f"jac must be callable, True, None or one of "
                             f"{', '.join(map(repr, FD_NAMES))}, got {jac!r}")
        if not (jac is None or isinstance(jac, (bool, str)) or callable(jac)):
            raise TypeError(f"jac must be callable, True, None or a string, got {jac!r}")
        self.jac_mode = "fun" if jac is True else ("callable" if callable(jac) else "fd")
        self.jac = jac if callable(jac) else None
        for name, h in (("hess", hess), ("hessp", hessp)):
            if h is not None and not callable(h):
                raise TypeError(f"{name} must be callable or None, got {type(h).__name__}")
        self.hess_fun, self.hessp_fun = hess, hessp
        self.maxfun = maxfun
        self.nfev = self.njev = self.nhev = 0
        self._kept = None
        self.user_time = 0.0
        self.fd_step = float(np.sqrt(np.finfo(self.dtype).eps))

    # ---------------------------------------------------------------------- raw calls
    def _user(self, fn, *arrays):
        """Call a user function on private copies of ``arrays`` (SciPy's contract: the user
        may keep or modify what it receives; the optimizer reuses its own buffers), timing
        the call as user time."""
        args = [a.copy() for a in arrays]
        t = time.perf_counter()
        try:
            return fn(*args, *self.args)
        finally:
            self.user_time += time.perf_counter() - t

    def _call_fun(self, x):
        if self.maxfun is not None and self.nfev >= self.maxfun:
            raise EvaluationLimit()
        self.nfev += 1
        return self._user(self.fun, x)

    def _vector(self, value, where):
        g = np.asarray(value)
        if g.dtype.kind not in "fiub":
            raise TypeError(f"{where} must return real numbers, got {g.dtype}")
        if g.size != self.n or (g.ndim > 1 and g.squeeze().ndim > 1):
            raise ValueError(f"{where} returned shape {g.shape}, expected ({self.n},)")
        # always a copy: the optimizer keeps gradients across evaluations, and a user function
        # may return a buffer of its own that it overwrites on the next call
        return np.array(g.reshape(self.n), dtype=self.dtype, order="C", copy=True)

    def _fd_grad(self, x, f):
        g = np.empty(self.n, self.dtype)
        xh = x.copy()
        for i in range(self.n):
            h = self.fd_step * max(1.0, abs(float(x[i])))
            xh[i] = x[i] + h
            h = float(xh[i]) - float(x[i])         # the step actually taken
            g[i] = (_scalar(self._call_fun(xh), "fun") - f) / h
            xh[i] = x[i]
        return g

    # -------------------------------------------------------------------- interface
    def fg(self, x):
        """``(f(x), grad f(x))``: f a float (maybe non-finite), the gradient x's dtype."""
        self._kept = None
        if self.jac_mode == "fun":
            out = self._call_fun(x)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError("with jac=True, fun must return a pair (f, gradient)")
            self.njev += 1
            return _scalar(out[0], "fun"), self._vector(out[1], "fun's gradient")
        f = _scalar(self._call_fun(x), "fun")
        self.njev += 1
        if self.jac_mode == "callable":
            g = self._user(self.jac, x)
            return f, self._vector(g, "jac")
        if not np.isfinite(f):
            return f, np.full(self.n, np.nan, self.dtype)
        return f, self._fd_grad(x, f)      # its fun calls are timed one by one

    def f(self, x, keep=False):
        """``f(x)`` only.  ``keep=True`` keeps what :meth:`kept_grad` needs at x: the
        gradient that comes along with ``jac=True`` (counted in ``njev`` only if taken),
        f(x) itself for finite differences; else nothing is kept."""
        self._kept = None
        if self.jac_mode == "fun":
            out = self._call_fun(x)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError("with jac=True, fun must return a pair (f, gradient)")
            if keep:
                self._kept = (x, out[1])
            return _scalar(out[0], "fun")
        value = _scalar(self._call_fun(x), "fun")
        if keep and self.jac_mode == "fd":
            self._kept = (x, value)
        return value

    def kept_grad(self, x):
        """The gradient at x without evaluating f there again when x is the point of the
        last :meth:`f` call with ``keep=True``: the gradient that call returned
        (``jac=True``), differences from its value (finite differences), or ``jac``.
        Methods use it to count a gradient only where they use one, as SciPy does (its
        ``njev`` counts gradient requests)."""
        kept, self._kept = self._kept, None
        if kept is not None and kept[0] is x:
            self.njev += 1
            if self.jac_mode == "fun":
                return self._vector(kept[1], "fun's gradient")
            return self._fd_grad(x, kept[1])
        if self.jac_mode == "callable":
            self.njev += 1
            g = self._user(self.jac, x)
            return self._vector(g, "jac")
        return self.grad(x)

    def grad(self, x):
        """The gradient alone (costs a function evaluation when the two come together)."""
        return self.fg(x)[1]

    @property
    def has_hess(self):
        return self.hess_fun is not None

    @property
    def has_hessp(self):
        return self.hessp_fun is not None

    def hess(self, x, g=None):
        """The Hessian as a dense (n, n) array of x's dtype.  Without ``hess``: the n
        products ``hessp(x, e_i)`` when ``hessp`` is given (each counted in ``nhev``), else
        forward differences of the gradient (n gradient evaluations); both symmetrized."""
        if self.hess_fun is None and self.hessp_fun is not None:
            # the user's exact products beat differences of the gradient (which cost as
            # many evaluations and lose half the digits)
            hp = self.product(x)
            H = np.empty((self.n, self.n), self.dtype)
            e = np.zeros(self.n, self.dtype)
            for i in range(self.n):
                e[i] = 1.0
                H[:, i] = hp(e)            # hp hands the user a copy of e
                e[i] = 0.0
            return 0.5 * (H + H.T)
        if self.hess_fun is None:
            if g is None:
                g = self.grad(x)
            H = np.empty((self.n, self.n), self.dtype)
            xh = x.copy()
            for i in range(self.n):
                h = self.fd_step * max(1.0, abs(float(x[i])))
                xh[i] = x[i] + h
                h = float(xh[i]) - float(x[i])
                H[i] = (self.grad(xh) - g) / h
                xh[i] = x[i]
            return 0.5 * (H + H.T)
        self.nhev += 1
        H = self._user(self.hess_fun, x)
        if hasattr(H, "toarray"):          # a scipy.sparse matrix
            H = H.toarray()
        H = np.asarray(H)
        if H.dtype.kind not in "fiub":     # complex, object, ...: as gradients are
            raise TypeError(f"hess must return real numbers, got {H.dtype}")
        if H.shape != (self.n, self.n):
            raise ValueError(f"hess returned shape {H.shape}, expected ({self.n}, {self.n})")
        return np.ascontiguousarray(H, dtype=self.dtype)

    def hessp(self, x, p, g=None):
        """``H(x) p`` (see :meth:`product`)."""
        return self.product(x, g)(p)

    def product(self, x, g=None):
        """The map ``p -> H(x) p`` at one point, for the many products of one CG run: the
        user's ``hessp``; else ``hess(x) @ p`` with ``hess(x)`` evaluated once, here; else a
        forward difference of gradients, ``(grad(x + h p) - grad(x)) / h`` with
        ``h = sqrt(eps) (1 + |x|) / |p|`` (one gradient evaluation per product; ``g`` is
        grad(x), evaluated here when None)."""
        if self.hessp_fun is not None:
            def hp(p):
                self.nhev += 1
                return self._vector(self._user(self.hessp_fun, x, p), "hessp")
            return hp
        if self.hess_fun is not None:
            H = self.hess(x)
            return lambda p: np.ascontiguousarray(H @ p, dtype=self.dtype)
        if g is None:
            g = self.grad(x)
        scale = self.fd_step * (1.0 + float(np.linalg.norm(x)))

        def fd(p):
            pn = float(np.linalg.norm(p))
            if pn == 0.0:
                return np.zeros(self.n, self.dtype)
            h = scale / pn
            return np.ascontiguousarray((self.grad(x + h * p) - g) / h, dtype=self.dtype)
        return fd

    @property
    def product_source(self):
        """What :meth:`product` multiplies by, for messages: 'hessp', 'hess' or
        'differences of the gradient'."""
        if self.hessp_fun is not None:
            return "hessp"
        return "hess" if self.hess_fun is not None else "differences of the gradient"
