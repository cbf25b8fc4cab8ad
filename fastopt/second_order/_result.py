"""The result object of :func:`fastopt.minimize` and the status codes every method shares."""

__all__ = ["OptimizeResult", "STATUS"]

#: ``status`` values of :class:`OptimizeResult`, the same for every method.
STATUS = {
    0: "converged",
    1: "iteration limit reached",
    2: "function-evaluation limit reached",
    3: "line search could not make progress",
    4: "non-finite value",
    5: "Hessian could not be made positive definite",
    99: "stopped by callback (StopIteration)",
}


class OptimizeResult(dict):
    """Result of :func:`fastopt.minimize`: a dict whose keys are also attributes, with SciPy's
    fields ``x, fun, jac, nit, nfev, njev, nhev, status, success, message`` for every
    method (``nhev`` is 0 when no Hessian or Hessian-vector product was evaluated).

    ``scipy.optimize.OptimizeResult`` is a dict subclass with the same behaviour, so code
    written for SciPy's result reads this one unchanged.

    >>> r = OptimizeResult(x=[1.0], fun=0.0, success=True)
    >>> r.fun, r["success"]
    (0.0, True)
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self):
        if not self:
            return self.__class__.__name__ + "()"
        width = max(map(len, self.keys())) + 1
        lines = []
        for k, v in self.items():
            text = repr(v)
            if "\n" in text:
                text = text.replace("\n", "\n" + " " * (width + 2))
            lines.append(f"{k.rjust(width)}: {text}")
        return "\n".join(lines)
