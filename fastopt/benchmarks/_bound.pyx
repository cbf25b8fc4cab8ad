"""The bandwidth bound of a first-order step (C loop: ``src/fastopt/stream_bound.h``).

:class:`StreamBound` runs, over a list of arrays, the STREAM-style loop
``x_k[i] = a x_k[i] + b g[i]`` (k < w) that reads ``w + 1`` arrays and writes ``w`` -- the
memory traffic of an optimizer step that updates ``w`` arrays in place (parameter and state)
from a gradient, and nothing else.  Its time is the time the machine needs to move those
bytes: the bound an optimizer kernel with that access pattern can approach but not beat.

The work is split across threads by the parallel driver of the first-order steps
(``fastopt/_kernels/driver.pxd``): the arrays are laid end to end as one index space, cut
into the driver's fixed chunks that the calling thread and the awake workers of fastopt's
thread pool claim, on at most ``fastopt.get_num_threads()`` threads and one thread per
``PARALLEL_MIN`` elements.

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
from libc.stddef cimport ptrdiff_t

from fastopt._kernels.driver cimport Work, run_work
from fastopt._kernels.driver import PARALLEL_MIN
from fastopt._kernels.threads import get_num_threads

cnp.import_array()

cdef extern from "fastopt/stream_bound.h" nogil:
    int FO_STREAM_MAX_WRITES
    void fo_stream_f32(ptrdiff_t n, int w, float* const* x, const float* g, double a, double b)
    void fo_stream_f64(ptrdiff_t n, int w, double* const* x, const double* g, double a,
                       double b)


cdef struct Item:          # one parameter's arrays
    char* x[4]             # the w written arrays
    char* g                # the read-only one


cdef struct _Job:          # what one call runs
    const Item* items
    int w, itemsize
    double a, b


cdef void _run_piece(const void* job, Py_ssize_t i, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Elements [lo, hi) of item i."""
    cdef const _Job* jb = <const _Job*>job
    cdef const Item* it = &jb.items[i]
    cdef char* x[4]
    cdef int k
    cdef Py_ssize_t o = lo * jb.itemsize
    for k in range(jb.w):
        x[k] = it.x[k] + o
    if jb.itemsize == 4:
        fo_stream_f32(hi - lo, jb.w, <float* const*>x, <const float*>(it.g + o), jb.a, jb.b)
    else:
        fo_stream_f64(hi - lo, jb.w, <double* const*>x, <const double*>(it.g + o), jb.a, jb.b)


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
    cdef Py_ssize_t* starts
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
        self.starts = <Py_ssize_t*>PyMem_Malloc((len(grads) + 1) * sizeof(Py_ssize_t))
        if self.items == NULL or self.starts == NULL:
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
            self.starts[n_items] = total
            total += g.size
            n_items += 1
        self.starts[n_items] = total
        self.n_items = n_items
        self.size = total

    def __dealloc__(self):
        PyMem_Free(self.items)
        PyMem_Free(self.starts)

    @property
    def bytes_per_step(self):
        """Bytes one call moves: (2 w + 1) arrays of ``size`` elements (w written, w + 1 read)."""
        return (2 * self.writes + 1) * self.itemsize * self.size

    def __call__(self, double a=1.0, double b=0.0, num_threads=None):
        cdef int t = get_num_threads() if num_threads is None else num_threads
        cdef _Job job
        cdef Work work
        if t < 1:
            raise ValueError(f"num_threads must be >= 1, got {t}")
        job.items = self.items
        job.w = self.writes
        job.itemsize = self.itemsize
        job.a = a
        job.b = b
        work.starts = self.starts
        work.n_items = self.n_items
        work.run_piece = _run_piece
        work.job = &job
        with nogil:
            run_work(&work, t)
