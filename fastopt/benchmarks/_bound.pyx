"""The bandwidth bound of a first-order step (C loop: ``src/fastopt/stream_bound.h``).

:class:`StreamBound` runs, over a list of arrays, the STREAM-style loop
``x_k[i] = a x_k[i] + b g[i]`` (k < w) that reads ``w + 1`` arrays and writes ``w`` -- the
memory traffic of an optimizer step that updates ``w`` arrays in place (parameter and state)
from a gradient, and nothing else.  Its time is the time the machine needs to move those
bytes: the bound an optimizer kernel with that access pattern can approach but not beat.

The work is split across threads exactly as ``fastopt/_kernels/_step.pyx`` splits a step:
the arrays are laid end to end as one index space, each of the ``fastopt.get_num_threads()``
threads takes one contiguous share (a multiple of 16 elements) in one parallel region, and a
step stays on one thread below ``PARALLEL_MIN`` elements per thread.

Example::

    >>> import numpy as np
    >>> from fastopt.benchmarks._bound import StreamBound
    >>> p, m, v, g = (np.ones(1000, dtype=np.float32) for _ in range(4))
    >>> bound = StreamBound([[p, m, v]], [g])      # Adam's pattern: 3 written, 4 read
    >>> bound.bytes_per_step                        # (2 * 3 + 1) * 4 bytes * 1000
    28000
    >>> bound()                                     # a = 1, b = 0: the data are unchanged
    >>> float(p.sum())
    1000.0
"""
import numpy as np

cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cython.parallel cimport parallel
from libc.stddef cimport ptrdiff_t

from fastopt._kernels._step import get_num_threads

cnp.import_array()

cdef extern from "fastopt/omp_shim.h" nogil:
    int omp_get_thread_num()
    int omp_get_num_threads()

cdef extern from "fastopt/stream_bound.h" nogil:
    int FO_STREAM_MAX_WRITES
    void fo_stream_f32(ptrdiff_t n, int w, float* const* x, const float* g, double a, double b)
    void fo_stream_f64(ptrdiff_t n, int w, double* const* x, const double* g, double a,
                       double b)

# Same value and meaning as in fastopt/_kernels/_step.pyx: fewer elements per thread than this
# stay on one thread (starting a parallel region costs a few microseconds).
PARALLEL_MIN = 1 << 15
cdef Py_ssize_t _PARALLEL_MIN = PARALLEL_MIN

cdef struct Item:
    char* x[4]
    char* g
    Py_ssize_t n, start


cdef void run_piece(const Item* it, int w, int itemsize, Py_ssize_t a, Py_ssize_t b,
                    double ca, double cb) noexcept nogil:
    cdef char* x[4]
    cdef int k
    cdef Py_ssize_t o = a * itemsize
    for k in range(w):
        x[k] = it.x[k] + o
    if itemsize == 4:
        fo_stream_f32(b - a, w, <float* const*>x, <const float*>(it.g + o), ca, cb)
    else:
        fo_stream_f64(b - a, w, <double* const*>x, <const double*>(it.g + o), ca, cb)


cdef void run_range(const Item* items, Py_ssize_t n_items, int w, int itemsize,
                    Py_ssize_t lo, Py_ssize_t hi, double ca, double cb) noexcept nogil:
    cdef Py_ssize_t left = 0, right = n_items - 1, mid, i
    if lo >= hi:
        return
    while left < right:  # first item that ends after lo
        mid = (left + right) // 2
        if items[mid].start + items[mid].n <= lo:
            left = mid + 1
        else:
            right = mid
    i = left
    while i < n_items and items[i].start < hi:
        run_piece(&items[i], w, itemsize, max(lo, items[i].start) - items[i].start,
                  min(hi, items[i].start + items[i].n) - items[i].start, ca, cb)
        i += 1


cdef inline Py_ssize_t _share_start(Py_ssize_t total, int k, int nt) noexcept nogil:
    if k >= nt:
        return total
    return (total // nt * k + (total % nt) * k // nt) & ~(<Py_ssize_t>15)


cdef class StreamBound:
    """A prepared bandwidth-bound loop over fixed arrays (validated once, then cheap to call).

    Args:
        written: one sequence per parameter of the ``w`` arrays written in place (1 <= w <= 4),
            e.g. ``[[p0, m0, v0], [p1, m1, v1]]`` for Adam.
        grads: one read-only array per parameter, the same size as its written arrays.

    All arrays must be C-contiguous and of one dtype, float32 or float64; the written ones
    writeable.  ``bound(a=1.0, b=0.0, num_threads=None)`` runs the loop
    ``x = a x + b g`` on every written array (threads: ``fastopt.get_num_threads()``).
    """
    cdef Item* items
    cdef Py_ssize_t n_items
    cdef readonly Py_ssize_t size
    cdef readonly int writes
    cdef readonly int itemsize
    cdef list _keep

    def __cinit__(self, written, grads):
        written = [list(ws) for ws in written]
        grads = list(grads)
        if len(written) != len(grads):
            raise ValueError(f"got {len(written)} lists of written arrays but {len(grads)} "
                             f"gradients")
        if not grads:
            raise ValueError("StreamBound needs at least one array")
        w = len(written[0])
        if not 1 <= w <= FO_STREAM_MAX_WRITES:
            raise ValueError(f"the number of written arrays must be 1..{FO_STREAM_MAX_WRITES}, "
                             f"got {w}")
        dtype = None
        for j, (ws, g) in enumerate(zip(written, grads)):
            if len(ws) != w:
                raise ValueError(f"parameter {j} has {len(ws)} written arrays, expected {w}")
            for a in ws + [g]:
                if not isinstance(a, np.ndarray):
                    raise TypeError(f"expected numpy arrays, got {type(a).__name__}")
                if a.dtype not in (np.float32, np.float64):
                    raise TypeError(f"arrays must be float32 or float64, got {a.dtype}")
                dtype = a.dtype if dtype is None else dtype
                if a.dtype != dtype:
                    raise TypeError(f"arrays must share one dtype ({dtype} and {a.dtype})")
                if not a.flags.c_contiguous:
                    raise ValueError("arrays must be C-contiguous")
                if a.size != g.size:
                    raise ValueError(f"parameter {j}: arrays of sizes {a.size} and {g.size}")
            for a in ws:
                if not a.flags.writeable:
                    raise ValueError("written arrays must be writeable")
        self.writes = w
        self.itemsize = dtype.itemsize
        self._keep = [ws + [g] for ws, g in zip(written, grads)]
        self.items = <Item*>PyMem_Malloc(len(grads) * sizeof(Item))
        if self.items == NULL:
            raise MemoryError()
        cdef Py_ssize_t total = 0, n_items = 0
        cdef int k
        cdef cnp.ndarray arr
        for ws, g in zip(written, grads):
            if g.size == 0:
                continue
            for k in range(w):
                arr = ws[k]
                self.items[n_items].x[k] = <char*>cnp.PyArray_DATA(arr)
            arr = g
            self.items[n_items].g = <char*>cnp.PyArray_DATA(arr)
            self.items[n_items].n = g.size
            self.items[n_items].start = total
            total += g.size
            n_items += 1
        self.n_items = n_items
        self.size = total

    def __dealloc__(self):
        PyMem_Free(self.items)

    @property
    def bytes_per_step(self):
        """Bytes one call moves: (2 w + 1) arrays of ``size`` elements (w written, w + 1 read)."""
        return (2 * self.writes + 1) * self.itemsize * self.size

    def __call__(self, double a=1.0, double b=0.0, num_threads=None):
        cdef int t = get_num_threads() if num_threads is None else num_threads
        cdef int tid, nt, w = self.writes, itemsize = self.itemsize
        cdef Py_ssize_t total = self.size
        cdef const Item* items = self.items
        cdef Py_ssize_t n_items = self.n_items
        if t < 1:
            raise ValueError(f"num_threads must be >= 1, got {t}")
        if t > total // _PARALLEL_MIN:
            t = <int>(total // _PARALLEL_MIN)
        with nogil:
            if t <= 1:
                run_range(items, n_items, w, itemsize, 0, total, a, b)
            else:
                with parallel(num_threads=t):
                    tid = omp_get_thread_num()
                    nt = omp_get_num_threads()
                    run_range(items, n_items, w, itemsize, _share_start(total, tid, nt),
                              _share_start(total, tid + 1, nt), a, b)
