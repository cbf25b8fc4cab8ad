# Input checks of a step: array kinds and layouts, and the table of the memory spans a step
# writes (no two may overlap, no gradient may overlap one of them).
cimport numpy as cnp
from libc.string cimport memcmp

from fastopt._kernels.algorithms cimport Item


cdef inline bint is_float_array(object a) noexcept:
    """float32/float64 in the machine's byte order (a '>f8' array has NPY_DOUBLE's type
    number too, but the kernels would read its bytes as garbage)."""
    return cnp.PyArray_Check(a) and (cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_FLOAT or
                                     cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_DOUBLE) and \
        cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)


cdef inline bint same_layout(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Same dtype (native byte order) and shape, ``b`` being a checked parameter: the cheap
    test run on every array of every step."""
    return (cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b) and cnp.PyArray_ISNOTSWAPPED(a) and
            cnp.PyArray_NDIM(a) == cnp.PyArray_NDIM(b) and
            memcmp(cnp.PyArray_DIMS(a), cnp.PyArray_DIMS(b),
                   cnp.PyArray_NDIM(a) * sizeof(cnp.npy_intp)) == 0)


cdef int check_like(object a, cnp.ndarray param, str what, bint writeable) except -1
cdef cnp.ndarray grad_or_none(object grads, Py_ssize_t k, cnp.ndarray param)


cdef struct Span:          # the bytes of one array written in place
    Py_ssize_t start, end, index


cdef class WrittenSpans:
    cdef Span* spans
    cdef Py_ssize_t m
    cdef int build(self, list arrays, object label) except -1
    cdef int reserve(self, Py_ssize_t n) except -1
    cdef void add(self, Py_ssize_t start, Py_ssize_t nbytes, Py_ssize_t index) noexcept
    cdef Py_ssize_t sort(self, Py_ssize_t* other) noexcept
    cdef Py_ssize_t hit(self, const char* data, Py_ssize_t nbytes) noexcept
    cdef Py_ssize_t first_hit(self, const Item* items, Py_ssize_t n_items,
                              Py_ssize_t* k) noexcept
