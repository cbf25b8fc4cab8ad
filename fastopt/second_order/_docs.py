"""Parameters entries that the solvers (``minimize_lbfgs``, ``minimize_newton``,
``minimize_hessian_free``, ``minimize_cg``) document the same way, each written once (as
torch does with ``_maximize_doc``), and the references they share.  A solver's docstring
names an entry as ``{gtol_doc}`` on a line of its own; :func:`fill_doc` puts the text there at the line's indentation, so
``help()`` and the doctests see one plain NumPy-style docstring.

A solver's own options (``maxcor``, ``beta``, ``damping``, ...) are documented in its own
docstring, next to their defaults in its signature.
"""

options_doc = """\
The keyword arguments are the method's options, with their defaults: this signature is the
one place they are written; :func:`fastopt.minimize` reads them from it, checks the types
and ranges of the values given in ``options`` and passes them here."""

run_doc = """\
run : fastopt.second_order._driver.Run
    The objective with its counters, the callback and the iteration limit
    (:func:`fastopt.minimize` builds it)."""

x_doc = """\
x : ndarray
    The starting point (float32 or float64, C-contiguous; not modified)."""

gtol_doc = """\
gtol : float
    Stop when ``max |g_i| <= gtol`` (``tol`` of :func:`fastopt.minimize` sets it)."""

limits_doc = """\
maxiter, maxfun : int or None
    Iteration and function-evaluation limits (status 1 and 2), applied by ``run``; ``None``
    given in ``options`` means no limit."""

# the methods whose maxiter default depends on n (fastopt.second_order._minimize._PER_N)
limits_per_n_doc = limits_doc + """  The default ``maxiter=None`` stands for ``200 n``
    (SciPy's CG and Newton-CG default), ``maxfun=None`` for no limit."""

maxls_doc = """\
maxls : int
    Trial points per line search."""

wolfe_doc = """\
c1, c2 : float
    Sufficient-decrease and curvature constants of the strong Wolfe search: a step t is
    accepted when ``f(x + t d) <= f(x) + c1 t g.d`` and ``|g(x + t d).d| <= c2 |g.d|``."""

disp_doc = """\
disp : bool
    Print a line per iteration (``run`` does)."""

returns_doc = """\
Returns
-------
OptimizeResult
    ``x, fun, jac, nit, nfev, njev, nhev, status, success, message`` (status codes in
    ``fastopt.second_order.STATUS``)."""

example_doc = """\
Example (through :func:`fastopt.minimize`, which builds ``run``):

>>> import numpy as np, fastopt"""

# references that several solvers cite (one line each in a "References" section)
nocedal_wright_ref = """\
J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer, 2006."""

more_thuente_ref = """\
J. J. Moré and D. J. Thuente, "Line search algorithms with guaranteed sufficient
decrease", *ACM Trans. Math. Software* 20(3), 1994 (the strong Wolfe search)."""

FRAGMENTS = {name: text for name, text in globals().items()
             if name.endswith(("_doc", "_ref"))}


def fill_doc(func):
    """Decorator: replace each ``{name}`` of :data:`FRAGMENTS` in ``func.__doc__``, indenting
    the entry's continuation lines like the line that names it."""
    if func.__doc__ is None:                 # python -OO
        return func
    lines = []
    for line in func.__doc__.split("\n"):
        stripped = line.strip()
        name = stripped[1:-1] if stripped.startswith("{") and stripped.endswith("}") else None
        if name is not None and name.endswith(("_doc", "_ref")):
            if name not in FRAGMENTS:
                raise KeyError(f"{func.__qualname__}: no docstring fragment {name!r}")
            indent = line[:len(line) - len(line.lstrip())]
            lines.extend(indent + part if part else part
                         for part in FRAGMENTS[name].split("\n"))
        else:
            lines.append(line)
    func.__doc__ = "\n".join(lines)
    return func
