# The algorithm table: each first-order algorithm's id, hyperparameters, state, per-step
# coefficients and C kernels, and one array's part of a step (Item) run through the driver.
cimport numpy as cnp

from fastopt._kernels._coef cimport fo_coef
from fastopt._kernels.noise cimport fo_noise_spec
# The algorithm ids (SGD, ..., N_ALGOS) and the union Hyper of the hyperparameter structs,
# generated from the algorithm table (fastopt/_kernels/table.py).
include "algorithms_decl.pxi"

cdef struct Item:          # one array's part of a step
    char* p                # parameter data
    char* g                # gradient data
    char* s[3]             # state arrays (NULL when not used)
    Py_ssize_t n           # number of elements
    Py_ssize_t param       # position of the parameter (in its optimizer or call)
    int itemsize           # 4: float32, 8: float64
    const fo_coef* coef

cdef long long STEP_MAX    # step counters are < STEP_MAX (far from int64 overflow)

cdef int read_hyper(int algo, dict g, Hyper* h) except -1
cdef double read_nonneg(dict group, str key, str what) except? -1.0
cdef void copy_hyper(int algo, const void* src, Hyper* h) noexcept nogil
cdef int needed_state(int algo, const Hyper* h) noexcept nogil
cdef fo_coef make_coef(int algo, const Hyper* h, long long step, bint first,
                       double mu_product) noexcept nogil
cdef double read_grad_scale(object value) except? -1.0
cdef void scale_gradients(int algo, fo_coef* c, double grad_scale) noexcept nogil
cdef double next_mu_product(int algo, const Hyper* h, long long step,
                            double mu_product) noexcept nogil
cdef str step_range_message(str what, object value, long long low)
# Runs items[0:n_items] (item i covers joint indices [starts[i], starts[i + 1])).
cdef void run_items(const Item* items, const Py_ssize_t* starts, Py_ssize_t n_items, int algo,
                    int n_threads) noexcept nogil
# The same with Gaussian gradient noise (src/fastopt/noise.h) added to every gradient inside
# the pass: the kernels read T(s) g + T(sigma z) (noise.scale s; the items' coefficients
# must not scale the gradient then).  noise == NULL: run_items.
cdef void run_items_noise(const Item* items, const Py_ssize_t* starts, Py_ssize_t n_items,
                          int algo, int n_threads, const fo_noise_spec* noise) noexcept nogil
