# Declarations of src/fastopt/noise.h (Gaussian gradient noise from Philox4x32-10) for the
# first-order driver and the fastopt._noise module.
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport uint32_t, uint64_t

cimport numpy as cnp

cdef extern from "fastopt/noise.h" nogil:
    ctypedef struct fo_noise_spec:
        uint64_t seed
        uint32_t step
        double sigma
        double scale
    enum: FO_NOISE_BLOCK
    double fo_noise_sigma(double eta, double gamma, uint32_t t)
    void fo_philox4x32_10(const uint32_t* ctr, const uint32_t* key, uint32_t* out)
    void fo_noise_normals(uint64_t seed, uint32_t step, uint32_t param, ptrdiff_t offset,
                          ptrdiff_t n, double* z)
    void fo_noise_fill_f32(uint64_t seed, uint32_t step, uint32_t param, ptrdiff_t offset,
                           ptrdiff_t n, double sigma, float* out)
    void fo_noise_fill_f64(uint64_t seed, uint32_t step, uint32_t param, ptrdiff_t offset,
                           ptrdiff_t n, double sigma, double* out)
    void fo_noise_add_f32(const fo_noise_spec* spec, uint32_t param, ptrdiff_t offset,
                          ptrdiff_t n, const float* g, float* out)
    void fo_noise_add_f64(const fo_noise_spec* spec, uint32_t param, ptrdiff_t offset,
                          ptrdiff_t n, const double* g, double* out)


cdef inline object read_noise(object noise, double grad_scale, fo_noise_spec* spec,
                              Py_ssize_t n_params):
    """Fill ``spec`` from a :class:`fastopt.noise.GradientNoise` (its seed, its counter t,
    sigma_t, and the step's ``grad_scale``) for a step on ``n_params`` parameters, or raise
    TypeError/ValueError.  Returns the noise's counter (a 0-d int64 array), which the step
    sets to t + 1 when it runs; nothing is written here."""
    from fastopt.noise import GradientNoise
    if not isinstance(noise, GradientNoise):
        raise TypeError(f"noise must be a fastopt.GradientNoise or None, "
                        f"got {type(noise).__name__}")
    if n_params > 0xFFFFFFFF:
        raise ValueError("gradient noise supports at most 2**32 parameters per step")
    counter = noise._counter
    if not (cnp.PyArray_CheckExact(counter) and
            cnp.PyArray_TYPE(<cnp.ndarray>counter) == cnp.NPY_INT64 and
            cnp.PyArray_NDIM(<cnp.ndarray>counter) == 0 and
            cnp.PyArray_ISWRITEABLE(<cnp.ndarray>counter)):
        raise TypeError("the GradientNoise's counter was replaced; use load_state_dict")
    seed, t, sigma = noise._spec()
    spec.seed = seed
    spec.step = t
    spec.sigma = sigma
    spec.scale = grad_scale
    return counter
