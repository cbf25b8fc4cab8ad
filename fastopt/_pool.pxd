# Declarations of src/fastopt/pool.h for the extensions that run work on fastopt's pool.
# Each such module calls bind_pool() once at import; its fo_parallel() then runs on the one
# pool of the process (fastopt._pool), and fo_pool_num_threads() reads its thread count.
from libc.stddef cimport ptrdiff_t
from cpython.pycapsule cimport PyCapsule_GetPointer

cdef extern from "fastopt/pool.h" nogil:
    ctypedef void (*fo_chunk_fn)(void* ctx, ptrdiff_t chunk) noexcept nogil
    ctypedef struct fo_pool_api:
        pass
    void fo_pool_bind(const fo_pool_api* api)
    int fo_pool_num_threads()
    void fo_parallel(ptrdiff_t n_chunks, int max_threads, fo_chunk_fn fn, void* ctx)


cdef inline int bind_pool() except -1:
    from fastopt import _pool
    fo_pool_bind(<const fo_pool_api*>PyCapsule_GetPointer(_pool._C_API,
                                                           b"fastopt._pool._C_API"))
    return 0
