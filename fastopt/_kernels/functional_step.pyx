"""The functional step: one step of one algorithm on explicit arrays, the engine of
:mod:`fastopt.functional`.  Everything is validated before anything is written; the kernels
then run in one GIL-released call through the parallel driver."""
cimport numpy as cnp
from cpython.mem cimport PyMem_Free, PyMem_Malloc

from fastopt._kernels._coef cimport fo_coef
from fastopt._kernels.algorithms cimport (
    NADAM, Hyper, Item, make_coef, needed_state, next_mu_product, read_grad_scale, read_hyper,
    run_items_noise, scale_gradients,
)
from fastopt._kernels.algorithms import STATE_ARRAYS, check_step
from fastopt._kernels.checks cimport WrittenSpans, check_like, is_float_array, same_layout
from fastopt._kernels.checks import check_param
from fastopt._kernels.noise cimport fo_noise_spec, read_noise
from fastopt._kernels.threads cimport num_threads

cnp.import_array()


def functional_step(int algo, dict hyper, object step, params, grads, states,
                    double mu_product=1.0, grad_scale=1.0, noise=None):
    """One step of ``algo`` on explicit arrays.

    ``params``, ``grads`` and each entry of ``states`` (one per STATE_ARRAYS name, None when
    unused) are equal-length lists.  ``step`` >= 1 is the step number used by the bias
    corrections; every gradient is multiplied by ``grad_scale`` inside the update (not
    written); ``noise``, a :class:`fastopt.GradientNoise`, adds its noise for its counter t
    (parameter position: the index in ``params``) to every scaled gradient inside the
    update and advances t.  Returns NAdam's schedule product after the step (None for the others).
    """
    cdef Hyper h
    cdef Py_ssize_t n = len(params), i, k, total = 0, n_items = 0
    cdef int needed, j
    cdef long long t
    cdef double scale
    cdef fo_coef coef
    cdef fo_noise_spec noise_spec
    cdef cnp.ndarray p
    cdef Item* items
    cdef Py_ssize_t* starts
    cdef WrittenSpans apart = WrittenSpans()
    grads = tuple(grads)  # held for the GIL-free kernel: the caller's list may change
    read_hyper(algo, hyper, &h)
    t = check_step(step, "step", 1)
    scale = read_grad_scale(grad_scale)
    counter = None if noise is None else read_noise(noise, scale, &noise_spec, n)
    needed = needed_state(algo, &h)
    names = STATE_ARRAYS[algo]
    if len(grads) != n:
        raise ValueError(f"got {n} parameters but {len(grads)} gradients")
    for k in range(len(names)):
        if (needed >> k) & 1:
            if states[k] is None:
                raise ValueError(f"{names[k]} is required with these options")
            if len(states[k]) != n:
                raise ValueError(f"got {n} parameters but {len(states[k])} {names[k]} arrays")
    written, labels = [], []
    for i in range(n):  # the cheap C checks first; messages are built only on failure
        a = params[i]
        if not (is_float_array(a) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and
                cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)):
            check_param(a, f"parameter {i}")
        p = <cnp.ndarray>a
        g = grads[i]
        if not (cnp.PyArray_Check(g) and same_layout(<cnp.ndarray>g, p) and
                cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g)):
            check_like(g, p, f"gradient {i}", False)
        written.append(p)
        labels.append(("parameter", i))
        for k in range(len(names)):
            if (needed >> k) & 1:
                a = states[k][i]
                if not (cnp.PyArray_Check(a) and same_layout(<cnp.ndarray>a, p) and
                        cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and
                        cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)):
                    check_like(a, p, f"{names[k]}[{i}]", True)
                written.append(a)
                labels.append((names[k], i))
    label = lambda k: f"{labels[k][0]} {labels[k][1]}"
    apart.build(written, label)
    coef = make_coef(algo, &h, t, t == 1, mu_product)
    if scale != 1.0 and counter is None:  # (with noise, the noise block scales)
        scale_gradients(algo, &coef, scale)
    items = <Item*>PyMem_Malloc(max(n, 1) * sizeof(Item))
    starts = <Py_ssize_t*>PyMem_Malloc((n + 1) * sizeof(Py_ssize_t))
    try:
        if items == NULL or starts == NULL:
            raise MemoryError()
        for i in range(n):
            p = <cnp.ndarray>params[i]
            if cnp.PyArray_SIZE(p) == 0:
                continue
            items[n_items].p = <char*>cnp.PyArray_DATA(p)
            items[n_items].g = <char*>cnp.PyArray_DATA(<cnp.ndarray>grads[i])
            for j in range(3):
                items[n_items].s[j] = (<char*>cnp.PyArray_DATA(<cnp.ndarray>states[j][i])
                                       if (needed >> j) & 1 else NULL)
            items[n_items].n = cnp.PyArray_SIZE(p)
            items[n_items].param = i
            items[n_items].itemsize = <int>cnp.PyArray_ITEMSIZE(p)
            items[n_items].coef = &coef
            starts[n_items] = total
            total += items[n_items].n
            n_items += 1
        starts[n_items] = total
        i = apart.first_hit(items, n_items, &k)
        if i >= 0:
            raise ValueError(f"gradient {items[i].param} shares memory with {label(k)}, "
                             f"an array the step writes")
        if counter is None:
            with nogil:
                run_items_noise(items, starts, n_items, algo, num_threads(), NULL)
        else:
            (<long long*>cnp.PyArray_DATA(<cnp.ndarray>counter))[0] = \
                <long long>noise_spec.step + 1
            with nogil:
                run_items_noise(items, starts, n_items, algo, num_threads(), &noise_spec)
    finally:
        PyMem_Free(items)
        PyMem_Free(starts)
    if algo == NADAM:
        return next_mu_product(algo, &h, t, mu_product)
    return None
