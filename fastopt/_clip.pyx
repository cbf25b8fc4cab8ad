"""The deterministic multi-array norm behind :mod:`fastopt.clip`.

All arrays of a step are cut into fixed-size chunks (``CHUNK`` elements, each array on its
own; the last chunk of an array may be shorter).  A chunk's partial sum is taken in float64
over ``LANES`` interleaved accumulators (element ``i`` of the chunk goes to accumulator
``i % LANES``), combined pairwise in a fixed tree; the partials are then added one after the
other in chunk order, array after array.  Nothing depends on how the chunks are shared out,
so a parallel version (each thread computing some chunks' partials, one thread adding them
in order) gives the same bits as this serial one for any thread count.
"""
import numpy as np

cimport numpy as cnp
from libc.math cimport fabs, isnan, pow, sqrt, INFINITY

ctypedef fused real:
    float
    double

cdef enum:
    CHUNK = 4096
    LANES = 8

cnp.import_array()

# Kinds of reduction: the sum of squares, of absolute values, of |x|^p, and the maximum.
cdef enum:
    SUMSQ, SUMABS, SUMPOW, MAXABS


cdef inline double _combine(double* acc) noexcept nogil:
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))


cdef double _chunk(const real* x, Py_ssize_t n, int kind, double p) noexcept nogil:
    """The partial of one chunk of ``n <= CHUNK`` elements."""
    cdef double acc[LANES]
    cdef Py_ssize_t i, j
    cdef Py_ssize_t body = n - n % LANES
    cdef double v, m = 0.0
    for j in range(LANES):
        acc[j] = 0.0
    if kind == SUMSQ:
        i = 0
        while i < body:
            for j in range(LANES):
                v = <double>x[i + j]
                acc[j] += v * v
            i += LANES
        for i in range(body, n):
            v = <double>x[i]
            acc[i - body] += v * v
        return _combine(acc)
    if kind == SUMABS:
        i = 0
        while i < body:
            for j in range(LANES):
                acc[j] += fabs(<double>x[i + j])
            i += LANES
        for i in range(body, n):
            acc[i - body] += fabs(<double>x[i])
        return _combine(acc)
    if kind == SUMPOW:
        for i in range(n):
            acc[i % LANES] += pow(fabs(<double>x[i]), p)
        return _combine(acc)
    for i in range(n):                          # MAXABS: NaN wins
        v = fabs(<double>x[i])
        if isnan(v):
            return v
        if v > m:
            m = v
    return m


cdef double _reduce(const real* x, Py_ssize_t n, int kind, double p,
                    double total) noexcept nogil:
    """Fold the chunks of one array into ``total``, in chunk order."""
    cdef Py_ssize_t start
    cdef double part
    start = 0
    while start < n:
        part = _chunk(x + start, min(<Py_ssize_t>CHUNK, n - start), kind, p)
        start += CHUNK
        if kind == MAXABS:
            if isnan(part) or isnan(total):
                total = part if isnan(part) else total
            elif part > total:
                total = part
        else:
            total += part
    return total


def _as_float_array(g, Py_ssize_t index):
    if not isinstance(g, np.ndarray):
        raise TypeError(f"gradient {index} must be a numpy array, got {type(g).__name__}")
    if g.dtype.kind != "f":
        raise TypeError(f"gradient {index} must have a floating dtype, got {g.dtype}")
    if g.dtype not in (np.float32, np.float64) or not g.flags.c_contiguous:
        # read-only reduction: a contiguous copy is only read
        g = np.ascontiguousarray(g, dtype=np.float64 if g.dtype != np.float32 else np.float32)
    return g


def global_norm(grads, double norm_type):
    """The ``norm_type``-norm of all elements of ``grads`` (a list of arrays, None skipped)
    taken together, with the fixed chunk order described in the module docstring."""
    cdef double total = 0.0
    cdef int kind
    cdef Py_ssize_t i = 0
    cdef cnp.ndarray a
    cdef const float[::1] f32
    cdef const double[::1] f64
    if norm_type == INFINITY:
        kind = MAXABS
    elif norm_type == 2.0:
        kind = SUMSQ
    elif norm_type == 1.0:
        kind = SUMABS
    else:
        kind = SUMPOW
    arrays = [_as_float_array(g, i) for i, g in enumerate(grads) if g is not None]
    for a in arrays:
        if a.size == 0:
            continue
        if a.dtype == np.float32:
            f32 = a.reshape(-1)
            with nogil:
                total = _reduce(&f32[0], f32.shape[0], kind, norm_type, total)
        else:
            f64 = a.reshape(-1)
            with nogil:
                total = _reduce(&f64[0], f64.shape[0], kind, norm_type, total)
    if kind == SUMSQ:
        return sqrt(total)
    if kind == SUMPOW:
        return pow(total, 1.0 / norm_type)
    return total


CHUNK_SIZE = CHUNK
N_LANES = LANES
