"""Input checks of a step: what a parameter, gradient or state array must be, and
:class:`WrittenSpans`, the sorted table of the memory a step writes, for the overlap checks.
Each check raises a precise TypeError/ValueError; none writes anything."""
cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdlib cimport qsort

cnp.import_array()


def check_param(object a, str what):
    """Raise unless ``a`` is a writeable, C-contiguous float32/float64 ndarray."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{what} must be a numpy.ndarray, got {type(a).__name__}")
    if not is_float_array(a):
        raise TypeError(f"{what} must have dtype float32 or float64 (native byte order), "
                        f"got {a.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        raise ValueError(f"{what} is not C-contiguous; fastopt updates arrays in place and "
                         f"will not update a copy (pass np.ascontiguousarray(...) and keep it)")
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        raise ValueError(f"{what} is read-only")


cdef int check_like(object a, cnp.ndarray param, str what, bint writeable) except -1:
    """``a`` must be an ndarray of the same dtype and shape as ``param``, C-contiguous."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{what} must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(param) or not cnp.PyArray_ISNOTSWAPPED(arr):
        raise TypeError(f"{what} has dtype {arr.dtype} but its parameter has dtype {param.dtype}")
    if (cnp.PyArray_NDIM(arr) != cnp.PyArray_NDIM(param) or
            memcmp(cnp.PyArray_DIMS(arr), cnp.PyArray_DIMS(param),
                   cnp.PyArray_NDIM(arr) * sizeof(cnp.npy_intp)) != 0):
        raise ValueError(f"{what} has shape {(<object>arr).shape} but its parameter has shape "
                         f"{(<object>param).shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{what} is not C-contiguous")
    if writeable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{what} is read-only")
    return 0


cdef cnp.ndarray grad_or_none(object grads, Py_ssize_t k, cnp.ndarray param):
    """Gradient k, validated against its parameter; None means: skip this parameter.
    The error message is only built on the failure path (this runs per array per step)."""
    cdef object g = grads[k]
    if g is None:
        return None
    if not (cnp.PyArray_Check(g) and same_layout(<cnp.ndarray>g, param) and
            cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g)):
        check_like(g, param, f"gradient {k}", False)
    return <cnp.ndarray>g


cdef int _by_start(const void* a, const void* b) noexcept nogil:
    cdef Py_ssize_t x = (<const Span*>a).start, y = (<const Span*>b).start
    return (x > y) - (x < y)


cdef class WrittenSpans:
    """The memory spans of the arrays a step writes in place, sorted by address.

    ``build`` checks that no two of them share memory: sorted by start address, two arrays
    overlap only if some neighbours do, O(n log n).  ``hit`` then finds in O(log n) whether
    another array (a gradient) overlaps any of them: since the spans are disjoint and
    sorted, only the last one starting before the array ends can.
    """

    def __dealloc__(self):
        PyMem_Free(self.spans)

    cdef int build(self, list arrays, object label) except -1:
        """Raise ValueError naming ``label(i)`` and ``label(j)`` if arrays i and j overlap."""
        cdef Py_ssize_t n = len(arrays), k, i, j
        cdef cnp.ndarray a
        self.reserve(n)
        for k in range(n):
            if not cnp.PyArray_Check(arrays[k]):
                raise TypeError(f"{label(k)} is not a numpy.ndarray")
            a = <cnp.ndarray>arrays[k]
            self.add(<Py_ssize_t>cnp.PyArray_DATA(a), cnp.PyArray_NBYTES(a), k)
        i = self.sort(&j)
        if i >= 0:
            raise ValueError(f"{label(min(i, j))} and {label(max(i, j))} share memory")
        return 0

    cdef int reserve(self, Py_ssize_t n) except -1:
        """Empty the table, with room for ``n`` spans."""
        PyMem_Free(self.spans)
        self.m = 0
        self.spans = <Span*>PyMem_Malloc(max(n, 1) * sizeof(Span))
        if self.spans == NULL:
            raise MemoryError()
        return 0

    cdef void add(self, Py_ssize_t start, Py_ssize_t nbytes, Py_ssize_t index) noexcept:
        """Add the span [start, start + nbytes) of array ``index`` (nothing when empty);
        at most the ``n`` reserved."""
        if nbytes > 0:
            self.spans[self.m].start = start
            self.spans[self.m].end = start + nbytes
            self.spans[self.m].index = index
            self.m += 1

    cdef Py_ssize_t sort(self, Py_ssize_t* other) noexcept:
        """Sort the spans by address; -1 when they are disjoint, else the index of one of
        two overlapping arrays (the other's in ``other``), and the table is emptied."""
        cdef Py_ssize_t k
        qsort(self.spans, self.m, sizeof(Span), _by_start)
        for k in range(self.m - 1):
            if self.spans[k + 1].start < self.spans[k].end:
                other[0] = self.spans[k + 1].index
                k = self.spans[k].index
                self.m = 0
                return k
        return -1

    cdef Py_ssize_t hit(self, const char* data, Py_ssize_t nbytes) noexcept:
        """Index of an array that overlaps [data, data + nbytes), or -1."""
        cdef Py_ssize_t lo = <Py_ssize_t>data, hi = lo + nbytes, left = 0, right = self.m, mid
        if nbytes <= 0 or self.m == 0 or hi <= self.spans[0].start or \
                lo >= self.spans[self.m - 1].end:
            return -1
        while left < right:  # first span that starts at or after hi
            mid = (left + right) // 2
            if self.spans[mid].start < hi:
                left = mid + 1
            else:
                right = mid
        if left > 0 and self.spans[left - 1].end > lo:
            return self.spans[left - 1].index
        return -1

    cdef Py_ssize_t first_hit(self, const Item* items, Py_ssize_t n_items,
                              Py_ssize_t* k) noexcept:
        """The first item whose gradient shares memory with an array of the table (that
        array's index in ``k``), or -1.  Such a step's result would depend on the order of
        the writes, so on the thread count."""
        cdef Py_ssize_t j
        for j in range(n_items):
            k[0] = self.hit(items[j].g, items[j].n * items[j].itemsize)
            if k[0] >= 0:
                return j
        return -1


def check_disjoint(arrays, str what):
    """Raise ValueError if two of ``arrays`` share memory (they are all written in place)."""
    WrittenSpans().build(list(arrays), lambda k: f"{what} {k}")
