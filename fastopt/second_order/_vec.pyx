"""Vector kernels of the second-order methods: deterministic multi-dots, fused linear
combinations and the L-BFGS history (src/fastopt/second_order.h does the loops).

Every function takes 1-D C-contiguous float32 or float64 arrays of one dtype and length and
releases the GIL.  Dot products are accumulated in double precision and do not depend on the
number of threads (``fastopt.set_num_threads``).

>>> import numpy as np
>>> from fastopt.second_order import _vec
>>> a = np.arange(4.0); b = np.ones(4)
>>> _vec.multidot([a, b], [b])            # [[a.b], [b.b]]
array([[6.],
       [4.]])
>>> out = np.empty(4); float(_vec.combine([2.0, -1.0], [a, b], out, b))  # out = 2a - b
8.0
"""
import numbers

import numpy as np

cimport numpy as cnp
from libc.math cimport isfinite
from libc.stddef cimport ptrdiff_t
from libc.stdlib cimport free, malloc

from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject

from fastopt._pool cimport bind_pool, fo_pool_num_threads

cnp.import_array()
bind_pool()  # the kernels run on fastopt's thread pool (src/fastopt/pool.h)

cdef extern from "fastopt/second_order.h" nogil:
    int fo_multidot_f32(ptrdiff_t n, int nv, const float* const* V, int nw,
                        const float* const* W, double* out, int nt)
    int fo_multidot_f64(ptrdiff_t n, int nv, const double* const* V, int nw,
                        const double* const* W, double* out, int nt)
    int fo_combine_f32(ptrdiff_t n, int nv, const double* c, const float* const* V,
                       float* out, const float* w, double* dot, int nt)
    int fo_combine_f64(ptrdiff_t n, int nv, const double* c, const double* const* V,
                       double* out, const double* w, double* dot, int nt)
    double fo_absmax_f32(ptrdiff_t n, const float* v)
    double fo_absmax_f64(ptrdiff_t n, const double* v)
    int fo_lbfgs_update_f32(ptrdiff_t n, ptrdiff_t B, float* H, int ns, int nv,
                            const int* slot, int ps, int py, const float* x1,
                            const float* x0, const float* g1, const float* g0,
                            double* out, double* gmax, int nt)
    int fo_lbfgs_update_f64(ptrdiff_t n, ptrdiff_t B, double* H, int ns, int nv,
                            const int* slot, int ps, int py, const double* x1,
                            const double* x0, const double* g1, const double* g0,
                            double* out, double* gmax, int nt)
    int fo_lbfgs_direction_f32(ptrdiff_t n, ptrdiff_t B, const float* H, int ns, int nv,
                               const int* slot, const double* c, double cg,
                               const float* g, float* d, double* gtd, double* dmax, int nt)
    int fo_lbfgs_direction_f64(ptrdiff_t n, ptrdiff_t B, const double* H, int ns, int nv,
                               const int* slot, const double* c, double cg,
                               const double* g, double* d, double* gtd, double* dmax,
                               int nt)
    int FO_LB_TILE

cdef extern from "fastopt/fastopt_capi.h" nogil:
    enum:
        FASTOPT_OK, FASTOPT_ERR_NULL, FASTOPT_ERR_SIZE, FASTOPT_ERR_DTYPE, FASTOPT_ERR_MEMORY
        FASTOPT_FLOAT32, FASTOPT_FLOAT64


#: the largest L-BFGS memory size: slot numbers (up to 2 m + 1) are C ints and the tables'
#: 16 (m + 1)^2 bytes must be a size_t
MAX_PAIRS = 2**29 - 1
# the tables are allocated for this many slots first and doubled as pairs are stored
cdef Py_ssize_t TABLE_START = 16


def _gib(nbytes):
    return f"{nbytes / 2**30:.3g} GiB"


def _memory_need(m, n, dtype):
    """What ``LBFGSMemory(m, n, dtype)`` needs, in words (Python integers: no overflow)."""
    M = m + 1
    history = 2 * M * n * np.dtype(dtype).itemsize
    tables = 16 * M * M
    return (f"m={m} pairs of n={n} {np.dtype(dtype).name} values need {_gib(history)} for "
            f"the history (2 (m + 1) n values) and up to {_gib(tables)} for the "
            f"inner-product tables (16 (m + 1)^2 bytes, allocated as pairs are stored)")


cdef inline int _kind(cnp.ndarray a) except -1:
    """0 for float32, 1 for float64; TypeError/ValueError for anything else."""
    cdef int t = cnp.PyArray_TYPE(a)
    if cnp.PyArray_NDIM(a) != 1 or not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError("expected a 1-D C-contiguous array")
    if t == cnp.NPY_FLOAT:
        return 0
    if t == cnp.NPY_DOUBLE:
        return 1
    raise TypeError(f"expected a float32 or float64 array, got {a.dtype}")


cdef int _check(list arrays, Py_ssize_t n, int kind) except -1:
    for a in arrays:
        if not isinstance(a, cnp.ndarray):
            raise TypeError(f"expected an ndarray, got {type(a).__name__}")
        if _kind(<cnp.ndarray>a) != kind:
            raise TypeError("all arrays must have the same dtype")
        if cnp.PyArray_DIM(<cnp.ndarray>a, 0) != n:
            raise ValueError("all arrays must have the same length")
    return 0


cdef inline void* _data(object a) noexcept:
    return cnp.PyArray_DATA(<cnp.ndarray>a)


def multidot(V, W):
    """``out[i, j] = V[i] @ W[j]`` for lists of equal-length vectors, in one pass over V.

    Each ``V[i]`` is read once from memory; the blocks of the (few) ``W[j]`` stay in cache.
    """
    cdef list v = list(V), w = list(W)
    cdef int nv = len(v), nw = len(w), i, kind, rc
    if nv == 0 or nw == 0:
        return np.zeros((nv, nw))
    kind = _kind(v[0])
    cdef Py_ssize_t n = cnp.PyArray_DIM(<cnp.ndarray>v[0], 0)
    _check(v, n, kind)
    _check(w, n, kind)
    cdef cnp.ndarray out = np.empty((nv, nw))
    cdef void** pv = <void**>malloc(sizeof(void*) * (nv + nw))
    if pv == NULL:
        raise MemoryError()
    for i in range(nv):
        pv[i] = _data(v[i])
    for i in range(nw):
        pv[nv + i] = _data(w[i])
    cdef double* po = <double*>cnp.PyArray_DATA(out)
    cdef int nt = fo_pool_num_threads()
    with nogil:
        if kind == 0:
            rc = fo_multidot_f32(n, nv, <const float* const*>pv, nw,
                                 <const float* const*>(pv + nv), po, nt)
        else:
            rc = fo_multidot_f64(n, nv, <const double* const*>pv, nw,
                                 <const double* const*>(pv + nv), po, nt)
    free(pv)
    if rc != 0:
        raise MemoryError()
    return out


def combine(coefs, V, cnp.ndarray out, cnp.ndarray w=None):
    """``out[:] = sum_i coefs[i] * V[i]`` in one pass (``out`` may be one of the ``V[i]``);
    returns ``out @ w`` when ``w`` is given, else None.  Sums are formed in double precision
    and rounded once to the array dtype."""
    cdef list v = list(V)
    cdef int nv = len(v), i, kind = _kind(out), rc
    cdef Py_ssize_t n = cnp.PyArray_DIM(out, 0)
    if len(coefs) != nv:
        raise ValueError("need one coefficient per vector")
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("out must be writeable")
    _check(v, n, kind)
    if w is not None:
        _check([w], n, kind)
    cdef void** pv = <void**>malloc(sizeof(void*) * nv + sizeof(double) * nv + 1)
    if pv == NULL:
        raise MemoryError()
    cdef double* c = <double*>(pv + nv)
    for i in range(nv):
        pv[i] = _data(v[i])
        c[i] = coefs[i]
    cdef void* pw = NULL if w is None else _data(w)
    cdef double dot = 0.0
    cdef void* po = _data(out)
    cdef int nt = fo_pool_num_threads()
    with nogil:
        if kind == 0:
            rc = fo_combine_f32(n, nv, c, <const float* const*>pv, <float*>po,
                                <const float*>pw, &dot, nt)
        else:
            rc = fo_combine_f64(n, nv, c, <const double* const*>pv, <double*>po,
                                <const double*>pw, &dot, nt)
    free(pv)
    if rc != 0:
        raise MemoryError()
    return None if w is None else dot


def absmax(cnp.ndarray v):
    """``max(abs(v))`` (NaN when v holds a NaN; 0 for an empty array)."""
    cdef int kind = _kind(v)
    cdef Py_ssize_t n = cnp.PyArray_DIM(v, 0)
    cdef double r
    cdef void* p = _data(v)
    with nogil:
        r = fo_absmax_f32(n, <float*>p) if kind == 0 else fo_absmax_f64(n, <double*>p)
    return r


def dot(cnp.ndarray a, cnp.ndarray b):
    """``a @ b`` accumulated in double precision (thread-count independent)."""
    return float(multidot([a], [b])[0, 0])


cdef class LBFGSMemory:
    """The last ``m`` curvature pairs ``s = x1 - x0, y = g1 - g0`` of L-BFGS and the inverse-
    Hessian product of the two-loop recursion (Nocedal & Wright, Algorithm 7.4), computed
    with two passes over the history per iteration.

    The recursion only needs inner products, so they are kept: the m x m tables ``s_i . y_j``
    (i older than j) and ``y_i . y_j``, and ``s_i . g``, ``y_i . g`` for the current gradient.
    :meth:`update` forms the new pair and, in the same pass over the history (one read of
    every stored vector), computes ``S^T g1, Y^T g1, S^T y_new, Y^T y_new`` and
    ``max |g1_i|`` (:attr:`gmax`); :meth:`direction` runs the recursion on those scalars
    (O(m^2)) and forms ``d = -H g = c_g g + sum_i (a_i s_i + b_i y_i)`` and ``g . d`` in a
    second pass.  The arithmetic is the two-loop recursion's, regrouped:

        loop 1 (newest to oldest):  alpha_i = rho_i (s_i.g - sum_{j newer} alpha_j s_i.y_j)
        gamma = s.y / y.y of the newest pair
        loop 2 (oldest to newest):  beta_i = rho_i (gamma (y_i.g - sum_j alpha_j y_i.y_j)
                                               + sum_{j older} (alpha_j - beta_j) s_j.y_i)
        H g = gamma (g - sum_j alpha_j y_j) + sum_j (alpha_j - beta_j) s_j

    A pair is stored only when ``s.y > eps * (-g0 . s)`` (eps the dtype's machine epsilon;
    L-BFGS-B's test, ``s'y > epsmch * (-g'd * stp)``) and ``s.y > 0``, which keeps H
    positive definite, and when ``y.y`` is positive and finite (gamma = s.y / y.y).  Both
    sides of the first test scale alike when f or x is rescaled; the former test
    ``s.y > eps * y.y`` did not (y.y grows as c^2 for f -> c f, s.y as c) and rejected
    every pair once the curvature y.y / s.y exceeded 1 / eps (4.5e15 in float64, 8.4e6 in
    float32).  ``-g0 . s = s.y - s.g1`` comes from the update pass, at no extra cost.  The
    ring holds m + 1 slots so a rejected pair never evicts the oldest kept one.

    Storage: one buffer of ``2 (m + 1)`` slots laid out by blocks of B = 2048 elements (block
    b of every slot, then block b + 1 of every slot, ...), so each pass reads the history
    as one contiguous stream (src/fastopt/second_order.h).  :meth:`pair` returns a stored
    pair as ordinary vectors.  The history and the O(m) scratch are allocated by the
    constructor, which raises a ValueError saying how much memory ``m`` needs when they cannot
    be; the O(m^2) inner-product tables start small and double as pairs are stored, so the
    memory size costs nothing until that many pairs are kept, and the arithmetic does not
    depend on ``m`` while fewer than ``m`` pairs are stored.
    """
    cdef readonly int m
    cdef readonly Py_ssize_t n
    cdef readonly Py_ssize_t block     # B
    cdef object H                       # (nblocks, 2 (m + 1), B) array of x's dtype
    cdef void* Hp
    cdef int kind
    cdef int* live                      # slots, oldest first
    cdef int* slots                     # scratch: the slots a pass reads
    cdef readonly int k                 # number of stored pairs
    cdef int spare
    cdef Py_ssize_t cap                 # the tables cover slots 0 .. cap - 1
    cdef double* SY                     # SY[a*cap+b] = s_a . y_b
    cdef double* YY                     # YY[a*cap+b] = y_a . y_b
    cdef double* Sg
    cdef double* Yg
    cdef double* alpha
    cdef double* beta
    cdef double* coef
    cdef double* D
    cdef double eps
    cdef readonly double gmax           # max |g1_i| of the last update (NaN if g1 has a NaN)
    cdef readonly double dmax           # max |d_i| of the last direction (NaN if d has a NaN)

    def __cinit__(self, m, n, dtype):
        if not isinstance(m, numbers.Integral) or isinstance(m, bool) or m < 1:
            raise ValueError(f"the memory size m must be an integer >= 1, got {m!r}")
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"the dimension n must be an integer >= 1, got {n!r}")
        dt = np.dtype(dtype)
        if dt != np.float32 and dt != np.float64:
            raise TypeError(f"dtype must be float32 or float64, got {dt}")
        if m > MAX_PAIRS:           # slot numbers (0 .. 2m + 1) are C ints
            raise ValueError(f"the memory size m must be <= {MAX_PAIRS}, got {m}; "
                             + _memory_need(m, n, dt))
        cdef Py_ssize_t M = m + 1
        # everything but the tables is linear in m: allocate it now, so that a memory size
        # that cannot be held is rejected here and not after the first iterations
        self.live = <int*>malloc(sizeof(int) * 3 * <size_t>M)
        self.Sg = <double*>malloc(sizeof(double) * 10 * <size_t>M)
        if self.live == NULL or self.Sg == NULL:
            raise ValueError(f"cannot allocate the L-BFGS memory: " + _memory_need(m, n, dt))
        self.slots = self.live + M
        self.Yg = self.Sg + M
        self.alpha = self.Yg + M
        self.beta = self.alpha + M
        self.coef = self.beta + M
        self.D = self.coef + 2 * M      # 2 * (2M) doubles
        self._grow(min(M, TABLE_START))
        if self.SY == NULL:
            raise ValueError(f"cannot allocate the L-BFGS memory: " + _memory_need(m, n, dt))

    def __init__(self, m, n, dtype):
        dt = np.dtype(dtype)
        self.m, self.n = m, n
        self.kind = 0 if dt == np.float32 else 1
        self.block = min(<Py_ssize_t>FO_LB_TILE, self.n)
        nb = (self.n + self.block - 1) // self.block
        try:
            self.H = np.zeros((nb, 2 * (self.m + 1), self.block), dt)
        except MemoryError:
            raise ValueError(f"cannot allocate the L-BFGS memory: "
                             + _memory_need(m, n, dt)) from None
        self.Hp = cnp.PyArray_DATA(<cnp.ndarray>self.H)
        self.eps = float(np.finfo(dt).eps)
        self.gmax = self.dmax = 0.0
        self.reset()

    def __dealloc__(self):
        free(self.live)
        free(self.Sg)
        free(self.SY)

    cdef int _grow(self, Py_ssize_t cap) except -1:
        """Widen the s.y and y.y tables to cover slots 0 .. cap - 1 (entries kept).  The
        tables are the only part quadratic in m, so they grow with the pairs stored: a large
        m costs memory only once that many pairs are kept."""
        cdef Py_ssize_t old = self.cap, a, b
        cdef double* t = <double*>malloc(sizeof(double) * 2 * <size_t>cap * <size_t>cap)
        if t == NULL:
            if self.SY == NULL:
                return 0            # __cinit__ reports it
            raise MemoryError(f"L-BFGS: {_gib(16 * cap * cap)} for the inner-product tables "
                              f"of {cap - 1} pairs cannot be allocated")
        for a in range(old):
            for b in range(old):
                t[a * cap + b] = self.SY[a * old + b]
                t[cap * cap + a * cap + b] = self.YY[a * old + b]
        free(self.SY)
        self.SY = t
        self.YY = t + cap * cap
        self.cap = cap
        return 0

    def reset(self):
        """Forget every pair."""
        self.k = 0
        self.spare = 0

    cdef int _vector_ok(self, object a) except -1:
        if not isinstance(a, cnp.ndarray):
            raise TypeError(f"expected an ndarray, got {type(a).__name__}")
        if _kind(<cnp.ndarray>a) != self.kind:
            raise TypeError("the vectors must have the memory's dtype")
        if cnp.PyArray_DIM(<cnp.ndarray>a, 0) != self.n:
            raise ValueError(f"expected vectors of length {self.n}")
        return 0

    def pair(self, int i):
        """``(s, y)`` of the i-th stored pair (0 = oldest), as new 1-D arrays."""
        if not 0 <= i < self.k:
            raise IndexError(f"pair {i} of {self.k}")
        cdef Py_ssize_t a = self.live[i], M = self.m + 1
        H = self.H
        s = H[:, a, :].reshape(-1)[:self.n].copy()
        y = H[:, M + a, :].reshape(-1)[:self.n].copy()
        return s, y

    def update(self, x1, x0, g1, g0):
        """Form ``s = x1 - x0, y = g1 - g0``; store the pair if it passes the curvature test
        (``s.y > eps * (-g0 . s)`` and ``s.y > 0``, see the class doc).  Also
        computes the inner products of the history with ``g1`` for :meth:`direction` and
        :attr:`gmax` = max |g1_i|, all in one pass.  Returns ``(stored, s.y, y.y)``."""
        for v in (x1, x0, g1, g0):
            self._vector_ok(v)
        cdef bint stored
        cdef double sy, yy
        self._update_raw(_data(x1), _data(x0), _data(g1), _data(g0), &stored, &sy, &yy)
        return stored, sy, yy

    cdef int _update_raw(self, const void* px1, const void* px0, const void* pg1,
                         const void* pg0, bint* stored, double* sy_out,
                         double* yy_out) except -1:
        """:meth:`update` on pointers to n values of the memory's dtype (checked by the
        caller): sets ``stored``, ``s.y`` and ``y.y``."""
        if self.spare >= self.cap:      # the pair may be stored in slot spare
            self._grow(min(2 * self.cap, self.m + 1))
        cdef int M = self.m + 1, p = self.spare, i, k = self.k, nv = 2 * k + 2, rc
        cdef Py_ssize_t a, C = self.cap
        cdef int* sl = self.slots
        for i in range(k):
            sl[i] = self.live[i]
            sl[k + 1 + i] = M + self.live[i]
        sl[k] = p
        sl[2 * k + 1] = M + p
        cdef double* D = self.D
        cdef double gm = 0.0
        cdef int nt = fo_pool_num_threads()
        with nogil:
            if self.kind == 0:
                rc = fo_lbfgs_update_f32(self.n, self.block, <float*>self.Hp, 2 * M, nv, sl,
                                         p, M + p, <float*>px1, <float*>px0, <float*>pg1,
                                         <float*>pg0, D, &gm, nt)
            else:
                rc = fo_lbfgs_update_f64(self.n, self.block, <double*>self.Hp, 2 * M, nv, sl,
                                         p, M + p, <double*>px1, <double*>px0, <double*>pg1,
                                         <double*>pg0, D, &gm, nt)
        if rc != 0:
            raise MemoryError()
        self.gmax = gm
        # D[2 i + 0] = v_i . g1, D[2 i + 1] = v_i . y_new, v = (S_live, s_new, Y_live, y_new)
        for i in range(k + 1):
            a = self.live[i] if i < k else p
            self.Sg[a] = D[2 * i]
            self.Yg[a] = D[2 * (k + 1 + i)]
        cdef double sy = D[2 * k + 1], yy = D[2 * (2 * k + 1) + 1]
        cdef double slope = sy - D[2 * k]          # -g0 . s = s.y - s.g1
        # scale-invariant, as L-BFGS-B's (see the class doc); y.y > 0 also guards gamma
        # against an underflowed y.y
        sy_out[0], yy_out[0], stored[0] = sy, yy, False
        if not (sy > 0 and sy > self.eps * slope and yy > 0
                and isfinite(sy) and isfinite(yy) and isfinite(slope)):
            return 0
        for i in range(k):
            a = self.live[i]
            self.SY[a * C + p] = D[2 * i + 1]
            self.YY[a * C + p] = D[2 * (k + 1 + i) + 1]
            self.YY[p * C + a] = D[2 * (k + 1 + i) + 1]
        self.SY[p * C + p] = sy
        self.YY[p * C + p] = yy
        if k == self.m:             # full: the oldest slot becomes the spare
            self.spare = self.live[0]
            for i in range(k - 1):
                self.live[i] = self.live[i + 1]
            self.live[k - 1] = p
        else:
            self.live[k] = p
            self.k = k + 1
            self.spare = self.k     # slots 0..k-1 are live, so slot k is free
        stored[0] = True
        return 0

    def direction(self, g, d):
        """``d[:] = -H g`` (H the L-BFGS inverse-Hessian approximation, ``H = I`` with no
        pairs); returns ``g . d`` and sets :attr:`dmax` = max |d_i|.  Requires the inner
        products of the last :meth:`update` (or none stored), with the same ``g``."""
        self._vector_ok(g)
        self._vector_ok(d)
        if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>d):
            raise ValueError("d must be writeable")
        cdef double gtd
        self._direction_raw(_data(g), _data(d), &gtd)
        return gtd

    cdef int _direction_raw(self, const void* pg, void* pd, double* gtd_out) except -1:
        """:meth:`direction` on pointers to n values of the memory's dtype (checked by the
        caller): sets ``g . d``."""
        cdef int M = self.m + 1, k = self.k, i, j, rc
        cdef Py_ssize_t a, b, C = self.cap
        cdef double acc, gamma = 1.0, cg = -1.0, gtd = 0.0, dm = 0.0
        cdef double* al = self.alpha
        cdef double* bt = self.beta
        cdef double* c = self.coef
        cdef int* sl = self.slots
        if k > 0:
            for i in range(k - 1, -1, -1):
                a = self.live[i]
                acc = self.Sg[a]
                for j in range(i + 1, k):
                    acc -= al[j] * self.SY[a * C + self.live[j]]
                al[i] = acc / self.SY[a * C + a]
            a = self.live[k - 1]
            gamma = self.SY[a * C + a] / self.YY[a * C + a]
            for i in range(k):
                a = self.live[i]
                acc = self.Yg[a]
                for j in range(k):
                    acc -= al[j] * self.YY[a * C + self.live[j]]
                acc *= gamma
                for j in range(i):
                    b = self.live[j]
                    acc += (al[j] - bt[j]) * self.SY[b * C + a]
                bt[i] = acc / self.SY[a * C + a]
            cg = -gamma
            for i in range(k):
                c[i] = -(al[i] - bt[i])
                c[k + i] = gamma * al[i]
                sl[i] = self.live[i]
                sl[k + i] = M + self.live[i]
        cdef int nt = fo_pool_num_threads()
        with nogil:
            if self.kind == 0:
                rc = fo_lbfgs_direction_f32(self.n, self.block, <float*>self.Hp, 2 * M, 2 * k,
                                            sl, c, cg, <float*>pg, <float*>pd, &gtd, &dm, nt)
            else:
                rc = fo_lbfgs_direction_f64(self.n, self.block, <double*>self.Hp, 2 * M,
                                            2 * k, sl, c, cg, <double*>pg, <double*>pd,
                                            &gtd, &dm, nt)
        if rc != 0:
            raise MemoryError()
        self.dmax = dm
        gtd_out[0] = gtd
        return 0

    def gamma(self):
        """``s.y / y.y`` of the newest stored pair (1.0 with none)."""
        if self.k == 0:
            return 1.0
        cdef Py_ssize_t a = self.live[self.k - 1], C = self.cap
        return self.SY[a * C + a] / self.YY[a * C + a]

# ------------------------------------------------------------------------- C and Cython
# The raw entry points of fastopt's C API (fastopt/fastopt_capi.h: the capsule's multidot,
# combine, lbfgs_* entries) and of fastopt.kernels: pointers in, a FASTOPT_* code out.

cdef int multidot_raw(int dtype, ptrdiff_t n, int nv, const void* const* V, int nw,
                      const void* const* W, double* out) noexcept nogil:
    cdef int i
    if n < 0 or nv < 0 or nw < 0:
        return FASTOPT_ERR_SIZE
    if dtype != FASTOPT_FLOAT32 and dtype != FASTOPT_FLOAT64:
        return FASTOPT_ERR_DTYPE
    if nv == 0 or nw == 0:
        return FASTOPT_OK
    if V == NULL or W == NULL or out == NULL:
        return FASTOPT_ERR_NULL
    for i in range(max(nv, nw)):
        if (i < nv and V[i] == NULL) or (i < nw and W[i] == NULL):
            return FASTOPT_ERR_NULL
    if dtype == FASTOPT_FLOAT32:
        i = fo_multidot_f32(n, nv, <const float* const*>V, nw, <const float* const*>W, out,
                            fo_pool_num_threads())
    else:
        i = fo_multidot_f64(n, nv, <const double* const*>V, nw, <const double* const*>W, out,
                            fo_pool_num_threads())
    return FASTOPT_OK if i == 0 else FASTOPT_ERR_MEMORY


cdef int combine_raw(int dtype, ptrdiff_t n, int nv, const double* c, const void* const* V,
                     void* out, const void* w, double* dot) noexcept nogil:
    cdef int i
    cdef double d = 0.0
    if n < 0 or nv < 0:
        return FASTOPT_ERR_SIZE
    if dtype != FASTOPT_FLOAT32 and dtype != FASTOPT_FLOAT64:
        return FASTOPT_ERR_DTYPE
    if out == NULL or (nv > 0 and (V == NULL or c == NULL)) or (w != NULL and dot == NULL):
        return FASTOPT_ERR_NULL
    for i in range(nv):
        if V[i] == NULL:
            return FASTOPT_ERR_NULL
    if dtype == FASTOPT_FLOAT32:
        i = fo_combine_f32(n, nv, c, <const float* const*>V, <float*>out, <const float*>w, &d,
                           fo_pool_num_threads())
    else:
        i = fo_combine_f64(n, nv, c, <const double* const*>V, <double*>out, <const double*>w,
                           &d, fo_pool_num_threads())
    if i != 0:
        return FASTOPT_ERR_MEMORY
    if w != NULL:
        dot[0] = d
    return FASTOPT_OK


cdef void* lbfgs_new(int m, ptrdiff_t n, int dtype) except NULL:
    if dtype != FASTOPT_FLOAT32 and dtype != FASTOPT_FLOAT64:
        raise TypeError(f"dtype must be FASTOPT_FLOAT32 (4) or FASTOPT_FLOAT64 (8), got {dtype}")
    memory = LBFGSMemory(m, n, np.float32 if dtype == FASTOPT_FLOAT32 else np.float64)
    Py_INCREF(memory)
    return <void*>memory


cdef void lbfgs_free(void* memory) noexcept with gil:
    Py_XDECREF(<PyObject*>memory)


cdef int lbfgs_update(void* memory, const void* x1, const void* x0, const void* g1,
                      const void* g0, int* stored, double* sy, double* yy) noexcept with gil:
    cdef bint kept
    cdef double a, b
    if memory == NULL or x1 == NULL or x0 == NULL or g1 == NULL or g0 == NULL:
        return FASTOPT_ERR_NULL
    try:
        (<LBFGSMemory><object>memory)._update_raw(x1, x0, g1, g0, &kept, &a, &b)
    except BaseException:       # MemoryError is the only one
        return FASTOPT_ERR_MEMORY
    if stored != NULL:
        stored[0] = kept
    if sy != NULL:
        sy[0] = a
    if yy != NULL:
        yy[0] = b
    return FASTOPT_OK


cdef int lbfgs_direction(void* memory, const void* g, void* d, double* gtd) noexcept with gil:
    cdef double r
    if memory == NULL or g == NULL or d == NULL:
        return FASTOPT_ERR_NULL
    try:
        (<LBFGSMemory><object>memory)._direction_raw(g, d, &r)
    except BaseException:       # MemoryError is the only one
        return FASTOPT_ERR_MEMORY
    if gtd != NULL:
        gtd[0] = r
    return FASTOPT_OK
