"""The Philox4x32-10 noise stream of ``src/fastopt/noise.h`` as NumPy arrays, for
:mod:`fastopt.noise` (``GradientNoise.sample``) and the tests."""
import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint32_t, uint64_t

from fastopt._kernels.noise cimport (
    fo_noise_fill_f32, fo_noise_fill_f64, fo_noise_sigma, fo_philox4x32_10,
)

cnp.import_array()


def philox4x32_10(ctr, key):
    """The Philox4x32-10 output (4 ints) for counter ``ctr`` (4 ints < 2**32) and key
    ``key`` (2 ints < 2**32)."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t out[4]
    cdef int i
    if len(ctr) != 4 or len(key) != 2:
        raise ValueError("ctr must hold 4 words and key 2")
    for i in range(4):
        c[i] = ctr[i]
    for i in range(2):
        k[i] = key[i]
    fo_philox4x32_10(c, k, out)
    return (out[0], out[1], out[2], out[3])


def sigma(double eta, double gamma, uint32_t t):
    """``sqrt(eta / (1 + t)**gamma)``: ``fo_noise_sigma`` of noise.h (arguments already
    checked)."""
    return fo_noise_sigma(eta, gamma, t)


def fill(uint64_t seed, uint32_t step, uint32_t param, Py_ssize_t offset, Py_ssize_t n,
         double sigma, dtype):
    """``T(sigma z[offset + j])`` for ``j < n``: the noise of elements [offset, offset + n) of
    the parameter at position ``param`` at noise step ``step`` (arguments already checked)."""
    cdef cnp.ndarray out = np.empty(n, dtype=dtype)
    if n == 0:
        return out
    if out.dtype == np.float32:
        with nogil:
            fo_noise_fill_f32(seed, step, param, offset, n, sigma,
                              <float*>cnp.PyArray_DATA(out))
    else:
        with nogil:
            fo_noise_fill_f64(seed, step, param, offset, n, sigma,
                              <double*>cnp.PyArray_DATA(out))
    return out
