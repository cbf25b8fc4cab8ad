"""Line searches: strong Wolfe (Moré & Thuente 1994) and Armijo backtracking.

Both search along ``x + t d`` from a point with value ``f0`` and slope ``gtd0 = g0 . d < 0``.

* :func:`line_search_wolfe` finds ``t`` with the strong Wolfe conditions

      f(x + t d) <= f0 + c1 t gtd0            (sufficient decrease)
      |g(x + t d) . d| <= c2 |gtd0|            (curvature)

  with Moré and Thuente's safeguarded search: cubic and quadratic interpolation of the
  function and slope values, an interval of uncertainty that is known to contain such a
  point once it brackets one, and a first stage on the modified function
  ``f(x + t d) - f0 - c1 t gtd0`` until a point with sufficient decrease and non-negative
  slope is found.  Defaults c1 = 1e-4, c2 = 0.9 (quasi-Newton, Newton); nonlinear CG uses
  c2 = 0.1.
* :func:`line_search_armijo` only asks for sufficient decrease, shrinking ``t`` by the
  minimizer of the quadratic through ``f0, gtd0, f(x + t d)``, kept within ``[0.1 t, 0.5 t]``
  (Nocedal & Wright, section 3.5).

A trial point where the function or its slope is NaN or infinite counts as "too far": the
step is halved toward the best point so far.  When a search cannot satisfy its conditions it
returns the lowest point it saw (``success`` tells whether that point has sufficient decrease)
and a ``message`` that says what happened.

>>> import numpy as np
>>> fg = lambda x: (float(x @ x), 2 * x)
>>> x = np.array([1.0, 1.0]); f0, g0 = fg(x); d = -g0
>>> r = line_search_wolfe(fg, x, d, f0, g0)
>>> r.wolfe, round(r.t, 3), r.nfev
(True, 0.5, 2)
"""
import math

import numpy as np

from fastopt.second_order import _vec
from fastopt.second_order._objective import EvaluationLimit

__all__ = ["LineSearchResult", "line_search_wolfe", "line_search_armijo", "wolfe_search",
           "armijo_search"]


class LineSearchResult:
    """Outcome of a line search.

    Attributes: ``t`` (step), ``x, f, g`` (the point ``x + t d``, its value and gradient;
    ``g`` is None for Armijo), ``gtd`` (``g . d``, None for Armijo), ``nfev`` (evaluations
    made), ``success`` (sufficient decrease ``f <= f0 + c1 t gtd0`` holds at the returned
    point, so a caller may take the step), ``wolfe`` (all conditions asked for hold),
    ``message``,
    ``limit`` (stopped because the caller's evaluation budget ran out), ``nonfinite`` (every
    step tried gave a NaN or infinite value or slope: the solvers then stop with status 4).
    """

    __slots__ = ("t", "x", "f", "g", "gtd", "nfev", "success", "wolfe", "message", "limit",
                 "nonfinite")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def __repr__(self):
        return (f"LineSearchResult(t={self.t!r}, f={self.f!r}, nfev={self.nfev}, "
                f"success={self.success}, wolfe={self.wolfe}, message={self.message!r})")


def _as_vectors(x, *others):
    """Fresh 1-D C-contiguous copies of ``x`` and of ``others`` in x's float dtype
    (float32 or float64; float64 for integers and anything else): the compiled kernels
    take only such arrays, all of one dtype.  Copies, so the caller's arrays are never
    aliased by the result (the returned ``x`` may be the input ``x``)."""
    xa = np.asarray(x)
    dtype = xa.dtype if xa.dtype in (np.float32, np.float64) else np.float64
    out = [np.array(a, dtype=dtype, order="C", copy=True) for a in (xa, *others)]
    for name, a in zip(("x", "d", "g0"), out):
        if a.ndim != 1 or a.shape != out[0].shape:
            raise ValueError(f"{name} must be a 1-D array of x's length, got shape {a.shape}")
    return out


def _trial(x, d, t, out=None):
    """``x + t d``, written into ``out`` (a new array when None)."""
    xt = np.empty_like(x) if out is None else out
    _vec.combine((1.0, t), (x, d), xt)
    return xt


def _check_work(work, x):
    """The two scratch arrays a search may write its trial points into (None: allocate)."""
    if work is None:
        return None
    work = list(work)
    if len(work) != 2 or work[0] is work[1]:
        raise ValueError("work must be two distinct arrays")
    for w in work:
        if not (isinstance(w, np.ndarray) and w.shape == x.shape and w.dtype == x.dtype
                and w.flags.c_contiguous and w.flags.writeable):
            raise ValueError("each work array must be a writeable C-contiguous array of "
                             "x's shape and dtype")
        if np.may_share_memory(w, x):
            raise ValueError("the work arrays must not overlap x")
    return work


def _check_start(f0, gtd0, t0):
    if not math.isfinite(f0):
        raise ValueError(f"the starting value f0 must be finite, got {f0}")
    if not (gtd0 < 0):
        raise ValueError(f"d must be a descent direction (g0 . d < 0), got g0 . d = {gtd0}")
    if not (t0 > 0 and math.isfinite(t0)):
        raise ValueError(f"the initial step must be positive and finite, got {t0}")


# ------------------------------------------------------------------------ Moré–Thuente

def _cubic_min(a, fa, da, b, fb, db):
    """Minimizer of the cubic interpolating (a, fa, da), (b, fb, db) (scaled to avoid
    overflow); NaN when the cubic has no minimizer between them."""
    theta = 3.0 * (fa - fb) / (b - a) + da + db
    s = max(abs(theta), abs(da), abs(db))
    disc = (theta / s) ** 2 - (da / s) * (db / s)
    if disc < 0:
        return math.nan
    gamma = s * math.sqrt(disc)
    if b < a:
        gamma = -gamma
    p = (gamma - da) + theta
    q = ((gamma - da) + gamma) + db
    return a + (p / q) * (b - a)


def _step(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, stpmin, stpmax):
    """One Moré–Thuente update of the interval ``[stx, sty]`` with the trial ``stp``.

    ``stx`` is the best step so far, ``sty`` the other end of the interval.  Returns the
    updated ``(stx, fx, dx, sty, fy, dy, next trial step, brackt)``.  The four cases:

    1. higher value than at stx: a minimizer is bracketed; take the cubic step if it is
       closer to stx than the quadratic (value-based) one, else their midpoint;
    2. lower value and the slopes have opposite signs: bracketed; cubic or secant step,
       whichever is farther from stp;
    3. lower value, same slope signs, slope decreasing in size: cubic step if it tends
       beyond stp (else the bound), safeguarded to 0.66 of the way to sty once bracketed;
    4. lower value, slope not decreasing: cubic through stp and sty when bracketed, else
       the step bound.
    """
    sgnd = dp * math.copysign(1.0, dx)
    if fp > fx:                                                   # case 1
        stpc = _cubic_min(stx, fx, dx, stp, fp, dp)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        if math.isnan(stpc):
            stpf = stpq
        elif abs(stpc - stx) < abs(stpq - stx):
            stpf = stpc
        else:
            stpf = stpc + (stpq - stpc) / 2.0
        brackt = True
    elif sgnd < 0:                                                # case 2
        stpc = _cubic_min(stp, fp, dp, stx, fx, dx)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        stpf = stpc if (not math.isnan(stpc) and abs(stpc - stp) > abs(stpq - stp)) else stpq
        brackt = True
    elif abs(dp) < abs(dx):                                       # case 3
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * math.sqrt(max(0.0, (theta / s) ** 2 - (dx / s) * (dp / s)))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = p / q if q != 0 else math.nan
        if r < 0 and gamma != 0:
            stpc = stp + r * (stx - stp)
        elif stp > stx:
            stpc = stpmax
        else:
            stpc = stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if brackt:
            stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
            if stp > stx:
                stpf = min(stp + 0.66 * (sty - stp), stpf)
            else:
                stpf = max(stp + 0.66 * (sty - stp), stpf)
        else:
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            stpf = max(stpmin, min(stpmax, stpf))
    else:                                                         # case 4
        if brackt:
            stpf = _cubic_min(stp, fp, dp, sty, fy, dy)
            if math.isnan(stpf):
                stpf = stp + 0.5 * (sty - stp)
        elif stp > stx:
            stpf = stpmax
        else:
            stpf = stpmin
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if sgnd < 0:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return stx, fx, dx, sty, fy, dy, stpf, brackt


def line_search_wolfe(fg, x, d, f0, g0, gtd0=None, t0=1.0, c1=1e-4, c2=0.9, xtol=0.1,
                      tmin=0.0, tmax=1e10, maxiter=20, work=None):
    """Strong Wolfe line search of Moré–Thuente type (see the module doc).

    ``x, d, g0`` may be any 1-D array-likes: they are copied to C-contiguous arrays of x's
    float dtype (float32 or float64; float64 for integer or other input), and the
    gradients ``fg`` returns are converted likewise, so lists, integer arrays, strided
    views and mixed float32/float64 inputs all work.  (The solvers call
    :func:`wolfe_search`, which takes such arrays as they are, without copies.)

    Parameters: ``fg(x) -> (f, g)``; ``x, d`` the point and a descent direction (1-D
    float32/float64 arrays); ``f0, g0`` value and gradient at x; ``gtd0 = g0 . d``
    (computed when None); ``t0`` first trial step; ``c1 < c2`` the Wolfe constants;
    ``xtol`` relative width of the interval of uncertainty below which the search stops;
    ``[tmin, tmax]`` the allowed steps; ``maxiter`` evaluations at most; ``work``: None
    (each trial point is a new array) or two arrays like x that the trial points are
    written into, in turn, never overwriting the lowest point so far (the returned ``x`` is
    then one of them, or x itself).

    Returns a :class:`LineSearchResult`.  ``wolfe`` is True when both conditions hold;
    otherwise ``x, f, g`` are the lowest point seen, ``success`` says whether it has
    sufficient decrease, and ``message`` why the search stopped.
    """
    if work is not None and isinstance(x, np.ndarray) and any(
            isinstance(w, np.ndarray) and np.may_share_memory(w, x) for w in work):
        # checked on the caller's x: the copy below would hide the overlap
        raise ValueError("the work arrays must not overlap x")
    x, d, g0 = _as_vectors(x, d, g0)
    dtype = x.dtype

    def fg_converted(z):
        f, g = fg(z)
        return f, np.array(g, dtype=dtype, order="C", copy=True)
    return wolfe_search(fg_converted, x, d, f0, g0, gtd0, t0, c1, c2, xtol, tmin, tmax,
                        maxiter, work)


def wolfe_search(fg, x, d, f0, g0, gtd0=None, t0=1.0, c1=1e-4, c2=0.9, xtol=0.1,
                 tmin=0.0, tmax=1e10, maxiter=20, work=None):
    """:func:`line_search_wolfe` without its input conversion: the solvers' path.  ``x, d,
    g0`` must be 1-D C-contiguous arrays of one float dtype and ``fg`` must return its
    gradient as such an array (what :class:`~fastopt.second_order._objective.Objective`
    does), since the compiled kernels accept nothing else; converting here would copy
    three vectors per search for nothing."""
    if gtd0 is None:
        gtd0 = _vec.dot(g0, d)
    _check_start(f0, gtd0, t0)
    if not (0 < c1 < c2 < 1):
        raise ValueError(f"need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")
    gtest = c1 * gtd0
    brackt, stage1 = False, True
    width = tmax - tmin
    width1 = 2.0 * width
    stx, fx, gx = 0.0, f0, gtd0
    sty, fy, gy = 0.0, f0, gtd0
    stmin, stmax = 0.0, t0 + 4.0 * t0
    stp = min(max(t0, tmin), tmax)
    work = _check_work(work, x)
    best = (0.0, f0, x, g0, gtd0)
    nfev, message, wolfe, limit, finite = 0, None, False, False, 0
    while True:
        if nfev >= maxiter:
            message = f"no step met the strong Wolfe conditions within {maxiter} evaluations"
            break
        xt = _trial(x, d, stp, None if work is None else
                    (work[1] if best[2] is work[0] else work[0]))
        try:
            f, g = fg(xt)
        except EvaluationLimit:
            message, limit = "the evaluation limit was reached during the line search", True
            break
        nfev += 1
        dg = _vec.dot(g, d) if math.isfinite(f) else math.nan
        if not (math.isfinite(f) and math.isfinite(dg)):
            # too far: come back halfway toward the best point and never go beyond again
            tmax = stp
            stp = stx + 0.5 * (stp - stx)
            if stp <= tmin or stp == stx:
                break
            continue
        finite += 1
        if f < best[1]:
            best = (stp, f, xt, g, dg)
        ftest = f0 + stp * gtest
        if stage1 and f <= ftest and dg >= 0:
            stage1 = False
        if f <= ftest and abs(dg) <= -c2 * gtd0:
            best, wolfe, message = (stp, f, xt, g, dg), True, "strong Wolfe conditions hold"
            break
        if brackt and (stp <= stmin or stp >= stmax):
            message = "rounding errors prevent further progress in the line search"
            break
        if brackt and stmax - stmin <= xtol * stmax:
            message = "the interval of uncertainty is below xtol"
            break
        if stp == tmax and f <= ftest and dg <= gtest:
            message = "the step reached its upper bound tmax"
            break
        if stp == tmin and (f > ftest or dg >= gtest):
            message = "the step reached its lower bound tmin"
            break
        if stage1 and f <= fx and f > ftest:
            # first stage: work on the modified function psi(t) = f(t) - f0 - c1 t gtd0
            (stx, fxm, gxm, sty, fym, gym, stp_new, brackt) = _step(
                stx, fx - stx * gtest, gx - gtest, sty, fy - sty * gtest, gy - gtest,
                stp, f - stp * gtest, dg - gtest, brackt, stmin, stmax)
            fx, fy = fxm + stx * gtest, fym + sty * gtest
            gx, gy = gxm + gtest, gym + gtest
        else:
            (stx, fx, gx, sty, fy, gy, stp_new, brackt) = _step(
                stx, fx, gx, sty, fy, gy, stp, f, dg, brackt, stmin, stmax)
        if brackt:
            if abs(sty - stx) >= 0.66 * width1:
                stp_new = stx + 0.5 * (sty - stx)
            width1, width = width, abs(sty - stx)
            stmin, stmax = min(stx, sty), max(stx, sty)
        else:
            stmin = stp_new + 1.1 * (stp_new - stx)
            stmax = stp_new + 4.0 * (stp_new - stx)
        stp = min(max(stp_new, tmin), tmax)
        if brackt and (stp <= stmin or stp >= stmax or stmax - stmin <= xtol * stmax):
            stp = stx
        if not math.isfinite(stp):
            message = "the interpolated step is not finite"
            break
    nonfinite = nfev > 0 and finite == 0 and not limit
    if nonfinite:
        message = (f"the function or its slope is not finite at any of the {nfev} steps tried "
                   f"along the direction")
    t, f, xt, g, dg = best
    return LineSearchResult(t=t, x=xt, f=f, g=g, gtd=dg, nfev=nfev,
                            success=t > 0 and f <= f0 + c1 * t * gtd0,
                            wolfe=wolfe, message=message, limit=limit, nonfinite=nonfinite)


def line_search_armijo(f, x, d, f0, gtd0, t0=1.0, c1=1e-4, maxiter=30):
    """Backtracking line search for sufficient decrease ``f(x + t d) <= f0 + c1 t gtd0``.

    ``f(x) -> float``.  Each rejected step ``t`` is replaced by the minimizer of the
    quadratic through ``f0``, ``gtd0`` and ``f(x + t d)``, clipped to ``[0.1 t, 0.5 t]``
    (a non-finite value halves ``t``).  At most ``maxiter`` evaluations.  Returns a
    :class:`LineSearchResult` (``g`` and ``gtd`` are None; ``wolfe`` means sufficient
    decrease holds).

    >>> import numpy as np
    >>> r = line_search_armijo(lambda x: float(x @ x), np.ones(2), -np.ones(2) * 4, 2.0, -16.0)
    >>> r.wolfe, r.t
    (True, 0.25)

    ``x`` and ``d`` are converted as in :func:`line_search_wolfe` (the solvers call
    :func:`armijo_search`, which does not convert).
    """
    x, d = _as_vectors(x, d)
    return armijo_search(f, x, d, f0, gtd0, t0, c1, maxiter)


def armijo_search(f, x, d, f0, gtd0, t0=1.0, c1=1e-4, maxiter=30):
    """:func:`line_search_armijo` without its input conversion (``x, d``: 1-D C-contiguous
    arrays of one float dtype), for the solvers."""
    _check_start(f0, gtd0, t0)
    if not (0 < c1 < 1):
        raise ValueError(f"need 0 < c1 < 1, got c1={c1}")
    t, nfev, finite = t0, 0, 0
    best = (0.0, f0, x)
    message, wolfe, limit = None, False, False
    while True:
        if nfev >= maxiter:
            message = f"no step gave sufficient decrease within {maxiter} evaluations"
            break
        xt = _trial(x, d, t)
        try:
            ft = f(xt)
        except EvaluationLimit:
            message, limit = "the evaluation limit was reached during the line search", True
            break
        nfev += 1
        finite += math.isfinite(ft)
        if math.isfinite(ft) and ft < best[1]:
            best = (t, ft, xt)
        if math.isfinite(ft) and ft <= f0 + c1 * t * gtd0:
            best, wolfe, message = (t, ft, xt), True, "sufficient decrease holds"
            break
        if math.isfinite(ft):
            denom = 2.0 * (ft - f0 - gtd0 * t)
            tq = -gtd0 * t * t / denom if denom > 0 else 0.5 * t
            t_new = min(max(tq, 0.1 * t), 0.5 * t)
        else:
            t_new = 0.5 * t
        if t_new == 0.0 or _trial(x, d, t_new).tobytes() == x.tobytes():
            message = "the step became too small to change x"
            break
        t = t_new
    nonfinite = nfev > 0 and finite == 0 and not limit
    if nonfinite:
        message = f"the function is not finite at any of the {nfev} steps tried along the direction"
    t, ft, xt = best
    return LineSearchResult(t=t, x=xt, f=ft, g=None, gtd=None, nfev=nfev,
                            success=t > 0 and ft <= f0 + c1 * t * gtd0,
                            wolfe=wolfe, message=message, limit=limit, nonfinite=nonfinite)
