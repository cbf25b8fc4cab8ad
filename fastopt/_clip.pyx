"""The deterministic multi-array norm behind :mod:`fastopt.clip`.

All arrays of a step are cut into fixed-size chunks (``CHUNK`` elements, each array on its
own; the last chunk of an array may be shorter).  A chunk's partial sum is taken in float64
over ``LANES`` interleaved accumulators (element ``i`` of the chunk goes to accumulator
``i % LANES``), combined pairwise in a fixed tree; the partials are then added one after the
other in chunk order, array after array.  The partials are computed on fastopt's thread
pool (``src/fastopt/pool.h``): chunk ``c``'s partial goes to slot ``c``, whichever thread
computes it, and the calling thread adds the slots in order, so the result is the same bit
for bit for any thread count (and equal to the serial order, which is what one thread runs).
"""
import numpy as np

cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.math cimport fabs, isnan, pow, sqrt, INFINITY
from libc.stddef cimport ptrdiff_t

from fastopt._pool cimport bind_pool, fo_parallel, fo_pool_num_threads

bind_pool()

ctypedef fused real:
    float
    double

cdef enum:
    CHUNK = 4096
    LANES = 8
    TASK_CHUNKS = 8    # norm chunks per task of the pool (32768 elements)

# Below this many elements per thread the norm uses fewer threads (one below it): a parallel
# job costs a few microseconds to start, about a thread's time on this many elements.
PARALLEL_MIN = 1 << 16
cdef Py_ssize_t _parallel_min = PARALLEL_MIN


def _set_parallel_min(Py_ssize_t n):
    """Testing hook: set the per-thread element minimum; returns the previous value."""
    global _parallel_min
    old, _parallel_min = _parallel_min, max(n, 1)
    return old

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


cdef inline double _fold(double total, double part, int kind) noexcept nogil:
    """``total`` with one more chunk's partial (the serial order: chunk after chunk)."""
    if kind == MAXABS:
        if isnan(part) or isnan(total):
            return part if isnan(part) else total
        return part if part > total else total
    return total + part


cdef struct _Array:        # one gradient, read in place
    const char* data
    Py_ssize_t n
    bint f32
    Py_ssize_t first       # the index of its first chunk among all chunks


cdef struct _Job:
    const _Array* arrays
    Py_ssize_t n_arrays    # arrays with at least one element
    Py_ssize_t n_chunks
    int kind
    double p
    double* partials       # partials[c]: chunk c's


cdef void _run_task(void* ctx, ptrdiff_t task) noexcept nogil:
    """The partials of chunks [task TASK_CHUNKS, (task + 1) TASK_CHUNKS)."""
    cdef const _Job* job = <const _Job*>ctx
    cdef Py_ssize_t c = task * TASK_CHUNKS, end = min(c + TASK_CHUNKS, job.n_chunks)
    cdef Py_ssize_t left = 0, right = job.n_arrays - 1, mid, start
    cdef const _Array* a
    while left < right:  # the last array that starts at or before chunk c
        mid = (left + right + 1) // 2
        if job.arrays[mid].first <= c:
            left = mid
        else:
            right = mid - 1
    a = &job.arrays[left]
    while c < end:
        start = (c - a.first) * CHUNK
        if start >= a.n:
            a += 1
            continue
        if a.f32:
            job.partials[c] = _chunk((<const float*>a.data) + start,
                                     min(<Py_ssize_t>CHUNK, a.n - start), job.kind, job.p)
        else:
            job.partials[c] = _chunk((<const double*>a.data) + start,
                                     min(<Py_ssize_t>CHUNK, a.n - start), job.kind, job.p)
        c += 1


cdef double _reduce(_Job* job, Py_ssize_t n_elements) noexcept nogil:
    """All chunks' partials (on the pool), folded in chunk order."""
    cdef Py_ssize_t n_tasks = (job.n_chunks + TASK_CHUNKS - 1) // TASK_CHUNKS, c
    cdef int threads = fo_pool_num_threads()
    cdef double total = 0.0
    if threads > n_elements // _parallel_min:
        threads = <int>(n_elements // _parallel_min)
    fo_parallel(n_tasks, threads, _run_task, <void*>job)
    for c in range(job.n_chunks):
        total = _fold(total, job.partials[c], job.kind)
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
    cdef Py_ssize_t i, k = 0, n_elements = 0
    cdef cnp.ndarray a
    cdef _Job job
    cdef _Array* arrays
    if norm_type == INFINITY:
        job.kind = MAXABS
    elif norm_type == 2.0:
        job.kind = SUMSQ
    elif norm_type == 1.0:
        job.kind = SUMABS
    else:
        job.kind = SUMPOW
    job.p = norm_type
    held = [_as_float_array(g, i) for i, g in enumerate(grads) if g is not None]
    held = [a for a in held if a.size > 0]
    job.n_arrays = len(held)
    job.n_chunks = 0
    arrays = <_Array*>PyMem_Malloc(max(job.n_arrays, 1) * sizeof(_Array))
    job.partials = NULL
    try:
        if arrays == NULL:
            raise MemoryError()
        for a in held:
            arrays[k].data = <const char*>cnp.PyArray_DATA(a)
            arrays[k].n = cnp.PyArray_SIZE(a)
            arrays[k].f32 = cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32
            arrays[k].first = job.n_chunks
            job.n_chunks += (arrays[k].n + CHUNK - 1) // CHUNK
            n_elements += arrays[k].n
            k += 1
        job.arrays = arrays
        job.partials = <double*>PyMem_Malloc(max(job.n_chunks, 1) * sizeof(double))
        if job.partials == NULL:
            raise MemoryError()
        if job.n_chunks > 0:
            with nogil:
                total = _reduce(&job, n_elements)
    finally:
        PyMem_Free(job.partials)
        PyMem_Free(arrays)
    if job.kind == SUMSQ:
        return sqrt(total)
    if job.kind == SUMPOW:
        return pow(total, 1.0 / norm_type)
    return total


CHUNK_SIZE = CHUNK
N_LANES = LANES
