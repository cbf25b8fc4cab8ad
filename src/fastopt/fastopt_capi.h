/* fastopt's C API through a capsule, as NumPy's import_array() works.
 *
 * A C or C++ extension module includes this header (after Python.h), calls import_fastopt()
 * once (in its module init), and then calls fastopt's own compiled code through the table
 * fastopt_api points to: the multi-array threaded step of Optimizer.step, the L-BFGS
 * building blocks, the thread count.  No link-time dependency on fastopt's binary: the
 * table lives in the capsule fastopt._capi._C_API, fetched at import.  The code behind it
 * is fastopt's (built with -ffp-contract=off, ISA-dispatched, on fastopt's thread pool), so
 * the results are bit-identical to the Python API whatever flags the extension is built with.
 *
 *     #include <Python.h>
 *     #include "fastopt/fastopt_capi.h"
 *
 *     PyMODINIT_FUNC PyInit_mine(void) {
 *         if (import_fastopt() < 0) return NULL;    // ImportError / RuntimeError set
 *         return PyModule_Create(&mine_module);
 *     }
 *     ...
 *     fo_adam_hyper h = fo_adam_defaults();
 *     h.lr = 1e-2;
 *     fastopt_array a[2] = {{w1, g1, {m1, v1, NULL}, n1}, {w2, g2, {m2, v2, NULL}, n2}};
 *     int rc = fastopt_api->step(FASTOPT_ADAM, FASTOPT_FLOAT32, &h, t, 1.0, NULL, a, 2);
 *
 * ABI rules (docs/embedding.md): published declarations never change meaning.  The table
 * starts with its version and its size; entries are only ever appended, each new entry
 * raising FASTOPT_CAPI_VERSION.  import_fastopt() refuses a table whose version or size is
 * smaller than this header's (an installed fastopt older than the header) with an
 * ImportError naming both versions.  The options struct fastopt_grad_options starts with
 * its own size the same way, so its later fields are appended too.
 *
 * fastopt_api is a static pointer: call import_fastopt() in every translation unit that
 * uses it (or pass the pointer around).  Define FASTOPT_CAPI_TYPES_ONLY to get the types
 * and constants without Python.h and import_fastopt() (fastopt's own modules do). */
#ifndef FASTOPT_CAPI_H
#define FASTOPT_CAPI_H

#include <stddef.h>
#include <stdint.h>
#include "fastopt/first_order.h"   /* fo_<algo>_hyper and fo_<algo>_defaults() */

/* Version 1: every entry up to noise_sigma; fastopt_grad_options up to noise_param. */
#define FASTOPT_CAPI_VERSION 1
#define FASTOPT_CAPI_CAPSULE "fastopt._capi._C_API"

/* Algorithm ids (the order of fastopt._kernels.algorithms). */
enum {
    FASTOPT_SGD = 0,
    FASTOPT_ADAGRAD = 1,
    FASTOPT_ADADELTA = 2,
    FASTOPT_RMSPROP = 3,
    FASTOPT_ADAM = 4,      /* also AdamW (decoupled_weight_decay) and AMSGrad (amsgrad) */
    FASTOPT_ADAMAX = 5,
    FASTOPT_NADAM = 6
};

/* dtypes: the element size in bytes */
enum { FASTOPT_FLOAT32 = 4, FASTOPT_FLOAT64 = 8 };

/* Return codes.  On any error nothing has been written. */
enum {
    FASTOPT_OK = 0,
    FASTOPT_ERR_NULL = -1,      /* a NULL pointer where data is needed */
    FASTOPT_ERR_SIZE = -2,      /* a negative size or count, a total beyond PTRDIFF_MAX, or
                                   (with noise) noise_param + n_arrays beyond 2**32 */
    FASTOPT_ERR_ALGO = -3,      /* unknown algorithm id */
    FASTOPT_ERR_DTYPE = -4,     /* dtype neither FASTOPT_FLOAT32 nor FASTOPT_FLOAT64 */
    FASTOPT_ERR_STEP = -5,      /* step not in [1, 2**62) */
    FASTOPT_ERR_VALUE = -6,     /* grad_scale or noise_sigma not finite and >= 0, mu_product
                                   not finite */
    FASTOPT_ERR_OPTIONS = -7,   /* options->size smaller than the fields of version 1 */
    FASTOPT_ERR_MEMORY = -8,    /* scratch memory could not be allocated */
    FASTOPT_ERR_IMPORT = -9     /* fastopt.kernels (Cython): import_fastopt() not called */
};

/* One array's part of a step: n elements of the parameter, its gradient and the state
 * arrays of the algorithm in the order of fastopt.functional / the C kernels:
 *   SGD: momentum_buffer            Adagrad: sum          Adadelta: square_avg, acc_delta
 *   RMSprop: square_avg, momentum_buffer, grad_avg        Adam: exp_avg, exp_avg_sq,
 *   max_exp_avg_sq                  Adamax: exp_avg, exp_inf    NAdam: exp_avg, exp_avg_sq
 * A state pointer the options leave unused may be NULL (SGD's buffer when momentum == 0,
 * RMSprop's momentum_buffer / grad_avg, Adam's max_exp_avg_sq unless amsgrad). */
typedef struct fastopt_array {
    void *param;
    const void *grad;
    void *state[3];
    ptrdiff_t n;
} fastopt_array;

/* Options applied to the gradients inside the step (nothing is written to them).  size is
 * sizeof(fastopt_grad_options) as the caller compiled it: fields are only ever appended,
 * and fastopt reads only the fields that size covers (later ones take their defaults).
 * Start from fastopt_grad_options_default().  NULL options mean the defaults.
 *
 * Gradient noise (fastopt.GradientNoise, src/fastopt/noise.h): with noise_sigma > 0 the
 * kernels read T(grad_scale) g[j] + T(noise_sigma z[j]) as the gradient of arrays[i], z[j]
 * the standard normal that Philox4x32-10 gives for (noise_seed, noise_step, position
 * noise_param + i, element j), T the dtype.  That is the noise opt.step(grads, noise=gn)
 * adds with gn.seed == noise_seed, gn.step == noise_step (its t before the step),
 * noise_sigma == gn.sigma(t) == fastopt_api->noise_sigma(eta, gamma, t), and noise_param +
 * i == the parameter's position in the optimizer (across its param groups; in one call over
 * all of them: noise_param = 0).  The caller keeps and advances t.  noise_sigma == 0 (the
 * default) draws no noise. */
typedef struct fastopt_grad_options {
    size_t size;
    double grad_scale;          /* every gradient is multiplied by this (1.0) */
    double noise_sigma;         /* this step's sigma_t, finite and >= 0 (0.0: no noise) */
    uint64_t noise_seed;        /* the generator's key (0) */
    uint32_t noise_step;        /* the noise step t (0) */
    uint32_t noise_param;       /* the position of arrays[0]; arrays[i] has noise_param + i (0) */
} fastopt_grad_options;

static inline fastopt_grad_options fastopt_grad_options_default(void)
{
    fastopt_grad_options o;
    o.size = sizeof(fastopt_grad_options);
    o.grad_scale = 1.0;
    o.noise_sigma = 0.0;
    o.noise_seed = 0;
    o.noise_step = 0;
    o.noise_param = 0;
    return o;
}

/* The function table.  Entries are only ever appended. */
typedef struct fastopt_capi {
    unsigned int version;       /* FASTOPT_CAPI_VERSION of the fastopt that built it */
    size_t size;                /* sizeof(fastopt_capi) there */
    const char *fastopt_version;    /* fastopt.__version__ */

    /* ---- version 1 ---- */

    /* One step of algorithm `algo` over n_arrays arrays, all of one dtype, in ONE parallel
     * region on fastopt's pool split by total element count: what Optimizer.step runs.
     * hyper points to the algorithm's fo_<algo>_hyper (not checked: start from
     * fo_<algo>_defaults()); step is the 1-based step number (SGD: step 1 starts the
     * momentum buffer from the gradient); mu_product is NAdam's schedule product before
     * this step (1.0 before the first; others ignore it); options may be NULL.  Checks the
     * pointers, sizes, ids, step and options, returning an FASTOPT_ERR_* code with nothing
     * written; does not check hyperparameter values or overlaps.  No GIL needed. */
    int (*step)(int algo, int dtype, const void *hyper, long long step, double mu_product,
                const fastopt_grad_options *options, const fastopt_array *arrays,
                ptrdiff_t n_arrays);
    /* NAdam's schedule product after `step`, given the one before it. */
    double (*nadam_mu_product)(const fo_nadam_hyper *hyper, long long step,
                               double mu_product);
    /* fastopt.get_num_threads() (no GIL needed); fastopt.set_num_threads(n) (takes the
     * GIL itself; FASTOPT_ERR_SIZE for n < 1). */
    int (*get_num_threads)(void);
    int (*set_num_threads)(int n);

    /* Fixed-order dot products: out[i * nw + j] = V[i] . W[j] over n elements, summed in
     * double in blocks, the same bits for every thread count (fastopt/second_order.h). */
    int (*multidot)(int dtype, ptrdiff_t n, int nv, const void *const *V, int nw,
                    const void *const *W, double *out);
    /* out = sum_i c[i] V[i] (out may be one of the V[i]); *dot = out . w when w != NULL. */
    int (*combine)(int dtype, ptrdiff_t n, int nv, const double *c, const void *const *V,
                   void *out, const void *w, double *dot);

    /* The L-BFGS memory of fastopt.minimize(method="lbfgs") (second_order/_vec.pyx's
     * LBFGSMemory): m pairs of vectors of n values of dtype.  lbfgs_new needs the GIL and
     * returns NULL with a Python exception set on bad arguments; lbfgs_free needs nothing.
     * lbfgs_update forms s = x1 - x0, y = g1 - g0, stores the pair if it passes the
     * curvature test (*stored = 1), and gives s.y and y.y; lbfgs_direction then writes
     * d = -H g1 and *gtd = g1 . d (two-loop recursion).  Both take the GIL themselves. */
    void *(*lbfgs_new)(int m, ptrdiff_t n, int dtype);
    void (*lbfgs_free)(void *memory);
    int (*lbfgs_update)(void *memory, const void *x1, const void *x0, const void *g1,
                        const void *g0, int *stored, double *sy, double *yy);
    int (*lbfgs_direction)(void *memory, const void *g, void *d, double *gtd);

    /* The gradient noise's sigma_t = sqrt(eta / (1 + t)^gamma) at noise step t, as
     * fastopt.GradientNoise(eta, gamma).sigma(t) computes it (for the options' noise_sigma;
     * eta, gamma finite and >= 0). */
    double (*noise_sigma)(double eta, double gamma, uint32_t t);
} fastopt_capi;

#ifndef FASTOPT_CAPI_TYPES_ONLY
#include <Python.h>

#if defined(__GNUC__) || defined(__clang__)
#define FASTOPT_CAPI_UNUSED __attribute__((unused))
#else
#define FASTOPT_CAPI_UNUSED
#endif

static const fastopt_capi *fastopt_api FASTOPT_CAPI_UNUSED = NULL;

/* Import fastopt._capi and fill fastopt_api.  0 on success; -1 with ImportError (fastopt
 * missing, or older than this header) or RuntimeError (not a fastopt table) set. */
static FASTOPT_CAPI_UNUSED int import_fastopt(void)
{
    PyObject *module, *capsule;
    const fastopt_capi *api;
    module = PyImport_ImportModule("fastopt._capi");
    if (module == NULL)
        return -1;
    capsule = PyObject_GetAttrString(module, "_C_API");
    Py_DECREF(module);
    if (capsule == NULL)
        return -1;
    if (!PyCapsule_IsValid(capsule, FASTOPT_CAPI_CAPSULE)) {
        Py_DECREF(capsule);
        PyErr_SetString(PyExc_RuntimeError,
                        "fastopt._capi._C_API is not a capsule named " FASTOPT_CAPI_CAPSULE);
        return -1;
    }
    /* the module holds the capsule, and the capsule's table is static in fastopt._capi */
    api = (const fastopt_capi *)PyCapsule_GetPointer(capsule, FASTOPT_CAPI_CAPSULE);
    Py_DECREF(capsule);
    if (api == NULL)
        return -1;
    if (api->version < FASTOPT_CAPI_VERSION || api->size < sizeof(fastopt_capi)) {
        PyErr_Format(PyExc_ImportError,
                     "the installed fastopt's C API is version %u (table of %zu bytes), "
                     "older than version %d (%zu bytes) this module was compiled against: "
                     "upgrade fastopt",
                     api->version, api->size, FASTOPT_CAPI_VERSION, sizeof(fastopt_capi));
        return -1;
    }
    fastopt_api = api;
    return 0;
}
#endif

#endif
