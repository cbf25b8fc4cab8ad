# Thread settings of fastopt's kernels (see threads.pyx).

# The number of threads a step may use (fastopt.set_num_threads).
cdef int num_threads() noexcept nogil
