"""The step plan of an optimizer: one step of all its param groups.

A step has three phases, each run for every group before the next:

1. ``prepare``: read and validate every group's hyperparameters, every parameter, gradient
   and state array, and check that no array the step writes overlaps another or a
   gradient.  Nothing is written; user code may run here (a hyperparameter's
   ``__float__``, a state entry's ``__array__``), so it ends by checking that such code
   did not change ``opt.state`` meanwhile.
2. ``sync``: create the state this step needs (only MemoryError can stop it).
3. ``run``: advance the step counters (and a gradient noise's) and run the kernels of all
   groups in one GIL-released call, so that a step is all groups or none (no signal can
   land between groups).

The plan holds preallocated C buffers so that a step allocates nothing, and pointers into
the state arrays between steps, with references to what it points into (``held``): no
change to ``state`` can free memory a step writes, and a counted change (see
:mod:`fastopt.optim.state`) makes the next step re-read and re-check it.
"""
import numpy as np

cimport numpy as cnp
from libc.math cimport isfinite
from cpython.dict cimport PyDict_SetItem, PyDict_Update
from cpython.mem cimport PyMem_Free, PyMem_Realloc

from fastopt._kernels._coef cimport fo_coef
from fastopt._kernels.algorithms cimport (
    ADAGRAD, SGD, STEP_MAX, Hyper, Item, make_coef, needed_state, next_mu_product,
    read_grad_scale, read_hyper, read_nonneg, run_items_noise, scale_gradients,
    step_range_message,
)
from fastopt._kernels.algorithms import STATE_ARRAYS, STATE_SCALARS, state_scalar
from fastopt._kernels.checks cimport WrittenSpans, check_like, grad_or_none, same_layout
from fastopt._kernels.checks import check_param
from fastopt._kernels.noise cimport fo_noise_spec, read_noise
from fastopt._kernels.threads cimport num_threads
from fastopt.optim.state import ParamState

cnp.import_array()


cdef struct Slot:          # what the plan keeps per parameter between steps
    char* s[3]             # its state arrays' data (NULL when not needed)
    long long* step        # its 'step' counter (a 0-d int64 array), NULL before the first step
    double* mu_product     # NAdam's 'mu_product' (a 0-d float64 array)
    int synced             # mask of the state arrays s[] was filled for (-1: re-read state)
    bint fresh             # SGD: momentum buffer created for this step
    int typenum            # the parameter's dtype and size when it was added
    Py_ssize_t size
    Py_ssize_t group       # its param group


cdef struct Group:         # what the plan keeps per param group
    Hyper hyper            # as read by the last prepare
    int needed             # mask of the state arrays its options need (-1: never prepared)
    double initial_value   # Adagrad's initial_accumulator_value
    Py_ssize_t first, n    # its parameters: indices first .. first + n - 1


cdef void* _resized(void* p, size_t nbytes) except NULL:
    """``p`` reallocated to ``nbytes``; on MemoryError ``p`` is left as it was."""
    cdef void* q = PyMem_Realloc(p, nbytes)
    if q == NULL:
        raise MemoryError()
    return q


cdef class StepPlan:
    """Runs the steps of one optimizer (all its param groups) and guards it against
    concurrent use: ``enter``/``leave`` mark it busy for a step, ``load_state_dict`` or
    ``add_param_group``.  ``state`` is the optimizer's :class:`~fastopt.optim.state.StateDict`,
    keyed by parameter index; state arrays are created on a parameter's first step, as in
    torch.optim.
    """
    cdef int algo
    cdef object state
    cdef tuple keys            # the hyperparameter names every group holds
    cdef double grad_scale     # of the prepared step
    cdef fo_noise_spec noise   # its gradient noise, if noise_counter is not None
    cdef object noise_counter  # the GradientNoise's counter (0-d int64 array), or None
    cdef list groups           # the param group dicts
    cdef Group* info
    cdef Py_ssize_t n_groups, n_params
    cdef Slot* slots           # per parameter
    cdef list current          # per parameter: the array as last checked
    cdef list held             # per parameter: the arrays its slot points into
    cdef Item* items           # the prepared step: one item per parameter with a gradient
    cdef Py_ssize_t* starts    # item j covers joint indices [starts[j], starts[j + 1])
    cdef fo_coef* coefs
    cdef Py_ssize_t n_items
    cdef WrittenSpans written  # every array the steps write: parameters and needed state
    cdef list labels           # labels[k]: (parameter index, state name or None)
    cdef bint stale            # written must be rebuilt before the next step
    cdef bint busy
    cdef bint prepared
    cdef Py_ssize_t n_unsynced # prepared parameters whose state sync must create or re-read
    cdef long long seen_version  # state._version when the slots were last invalidated

    def __cinit__(self, int algo, object state, keys):
        self.algo = algo
        self.state = state
        self.keys = tuple(keys)
        self.groups = []
        self.current = []
        self.held = []
        self.written = WrittenSpans()
        self.labels = []
        self.stale = True
        self.seen_version = state._version
        self._grow(0, 0)

    def __dealloc__(self):
        PyMem_Free(self.info)
        PyMem_Free(self.slots)
        PyMem_Free(self.items)
        PyMem_Free(self.starts)
        PyMem_Free(self.coefs)

    cdef int _grow(self, Py_ssize_t n_groups, Py_ssize_t n_params) except -1:
        """Make room for n_groups groups and n_params parameters (the data kept)."""
        self.info = <Group*>_resized(self.info, max(n_groups, 1) * sizeof(Group))
        self.slots = <Slot*>_resized(self.slots, max(n_params, 1) * sizeof(Slot))
        self.items = <Item*>_resized(self.items, max(n_params, 1) * sizeof(Item))
        self.starts = <Py_ssize_t*>_resized(self.starts, (n_params + 1) * sizeof(Py_ssize_t))
        self.coefs = <fo_coef*>_resized(self.coefs, max(n_params, 1) * sizeof(fo_coef))
        return 0

    def add_group(self, dict group):
        """Add a param group (validated by the optimizer: its parameters are writeable,
        C-contiguous float arrays that share no memory with any other parameter)."""
        cdef list params = group["params"]
        cdef Py_ssize_t n = len(params), i, first = self.n_params
        cdef Group* G
        cdef Slot* s
        self._grow(self.n_groups + 1, first + n)
        self.prepared = False
        G = &self.info[self.n_groups]
        G.needed = -1
        G.initial_value = 0.0
        G.first = first
        G.n = n
        for i in range(n):
            s = &self.slots[first + i]
            s.typenum = cnp.PyArray_TYPE(<cnp.ndarray>params[i])
            s.size = cnp.PyArray_SIZE(<cnp.ndarray>params[i])
            s.group = self.n_groups
            self._reset(first + i)
        self.groups.append(group)
        self.current.extend(params)
        self.held.extend([()] * n)
        self.n_groups += 1
        self.n_params += n
        self.stale = True

    cpdef enter(self):
        """Mark the optimizer busy, or raise if it already is: its steps, which run Python
        code and release the GIL, share the plan's buffers.  (A C-level test and set: no
        other thread runs in between.)"""
        if self.busy:
            raise RuntimeError("this optimizer is already in a step (or load_state_dict, "
                               "add_param_group) in another thread; it is not thread-safe")
        self.busy = True

    cpdef leave(self):
        self.busy = False

    cdef void _reset(self, Py_ssize_t k) noexcept:
        self.slots[k].synced = -1
        self.slots[k].step = NULL
        self.slots[k].mu_product = NULL
        self.slots[k].fresh = False

    def invalidate(self):
        """Re-read and re-check all state before the next step."""
        cdef Py_ssize_t k
        for k in range(self.n_params):
            self._reset(k)
        self.prepared = False
        self.stale = True

    def step(self, groups, grads, grad_scale=1.0, noise=None):
        """One step of every group.  ``groups``: the optimizer's ``param_groups``, read
        now (a group dict or the list may have been replaced since the last step);
        ``grads``: one gradient (or None: skip the parameter) per parameter, in the order
        of the parameters across groups, as a list or tuple, or one array when there is
        one parameter; ``grad_scale``: a factor applied to every gradient inside the
        update (the gradients are not written); ``noise``: a :class:`fastopt.GradientNoise`
        whose noise is added to every (scaled) gradient inside the update, and whose
        counter the step advances."""
        cdef tuple grad_tuple = self._grad_tuple(grads)
        self.enter()
        try:
            self._prepare(groups, grad_tuple, read_grad_scale(grad_scale), noise)
            if self.n_unsynced:
                self._sync()
            self._run()
        finally:
            self.leave()

    cdef tuple _grad_tuple(self, object grads):
        """``grads`` as a tuple of one entry per parameter (a tuple: the step holds its own
        references, whatever user code run by the checks does to a list)."""
        cdef object t = None
        if type(grads) is list:
            t = tuple(<list>grads)
        elif type(grads) is tuple:
            t = grads
        elif cnp.PyArray_Check(grads):
            t = (grads,)
        elif not isinstance(grads, (str, bytes, dict)):
            try:
                t = tuple(grads)
            except TypeError:
                pass
        if t is None:
            raise TypeError(f"grads must be an array or a list of arrays, "
                            f"got {type(grads).__name__}")
        if len(t) != self.n_params:
            raise ValueError(f"expected {self.n_params} gradients, got {len(t)}")
        return t

    # ------------------------------------------------------------------------- phases

    cdef _prepare(self, object groups, tuple grads, double grad_scale, object noise):
        cdef Py_ssize_t gi, i, k, j, n_items = 0, n_unsynced = 0, total = 0, size
        cdef long long version
        cdef int needed
        cdef Group* G
        cdef Slot* s
        cdef Item* it
        cdef cnp.ndarray p, g
        cdef list params
        self.prepared = False
        self.grad_scale = grad_scale
        self.noise_counter = None
        if noise is not None:
            self.noise_counter = read_noise(noise, grad_scale, &self.noise, self.n_params)
        if len(groups) != self.n_groups:
            raise ValueError(f"param_groups holds {len(groups)} groups but the optimizer has "
                             f"{self.n_groups}; use add_param_group to add one")
        for gi in range(self.n_groups):
            group = groups[gi]
            if group is not self.groups[gi]:  # replaced: read it from now on
                self._replace_group(gi, group)
            G = &self.info[gi]
            try:
                read_hyper(self.algo, <dict>group, &G.hyper)
                if self.algo == ADAGRAD:
                    G.initial_value = read_nonneg(<dict>group, "initial_accumulator_value",
                                                  "initial_accumulator_value")
                entries = (<dict>group)["params"]
            except KeyError:
                self._missing_key(gi)
                raise
            if type(entries) is not list:
                raise TypeError(f"param_groups[{gi}]['params'] must be a list, "
                                f"got {type(entries).__name__}")
            if len(<list>entries) != G.n:
                raise ValueError("a param group's 'params' list changed length; "
                                 "use add_param_group to add parameters")
            needed = needed_state(self.algo, &G.hyper)
            if needed != G.needed:  # other state arrays join (or leave) the overlap table
                G.needed = needed
                self.stale = True
        version = self.state._version
        if version != self.seen_version:  # someone changed the state: re-read it all
            self.invalidate()
            self.seen_version = version
        for gi in range(self.n_groups):
            G = &self.info[gi]
            params = (<dict>self.groups[gi])["params"]  # (a list: checked when read)
            for i in range(G.n):
                k = G.first + i
                p = self._param(params, i, k)
                g = grad_or_none(grads, k, p)
                if g is None:
                    continue
                s = &self.slots[k]
                if s.synced != G.needed:
                    n_unsynced += 1
                    if not self.stale:
                        self._check_state(k, p)
                else:
                    self._check_in_place(k, p)
                size = cnp.PyArray_SIZE(p)
                it = &self.items[n_items]
                it.p = <char*>cnp.PyArray_DATA(p)
                it.g = <char*>cnp.PyArray_DATA(g)
                it.n = size
                it.param = k
                it.itemsize = <int>cnp.PyArray_ITEMSIZE(p)
                self.starts[n_items] = total
                n_items += 1
                total += size
        self.starts[n_items] = total
        if self.stale:
            self._rebuild()
        j = self.written.first_hit(self.items, n_items, &k)
        if j >= 0:
            raise ValueError(f"gradient {self.items[j].param} shares memory with "
                             f"{self._label(k)}, which the step writes")
        self.n_items = n_items
        self.n_unsynced = n_unsynced
        if self.state._version != version:  # user code run by the checks changed it
            self._changed()
        self.prepared = True

    cdef _changed(self):
        self.prepared = False
        raise RuntimeError("opt.state was changed while the step was being checked; "
                           "nothing was written")

    cdef _sync(self):
        """Create the state this step needs and point the slots at it: first every missing
        array is allocated (nothing is stored yet: an interrupt or MemoryError here leaves
        the state as it was), then stored without running Python-level code."""
        cdef Py_ssize_t j, k
        if not self.prepared:
            raise RuntimeError("StepPlan: sync needs a successful prepare first")
        created = []
        for j in range(self.n_items):
            k = self.items[j].param
            if self.slots[k].synced != self.info[self.slots[k].group].needed:
                created.append((k, self._allocate(k)))
        for k, arrays in created:
            self._sync_slot(k, arrays)

    cdef _run(self):
        """Run the prepared, synced step: advance the step counters, update every group."""
        cdef Py_ssize_t j, n_coefs = 0, prev_group = -1
        cdef Slot* s
        cdef Group* G
        cdef long long step, prev_step = -1
        cdef double mu = 1.0, prev_mu = -1.0
        cdef bint prev_fresh = False
        if not self.prepared:
            raise RuntimeError("StepPlan: run needs a successful prepare first")
        self.prepared = False
        for j in range(self.n_items):
            s = &self.slots[self.items[j].param]
            G = &self.info[s.group]
            self.items[j].s[0] = s.s[0]
            self.items[j].s[1] = s.s[1]
            self.items[j].s[2] = s.s[2]
            step = 0
            if s.step != NULL:
                s.step[0] += 1
                step = s.step[0]
            if s.mu_product != NULL:
                mu = s.mu_product[0]
            # arrays of one group at the same step share one coefficient struct
            if (n_coefs == 0 or s.group != prev_group or step != prev_step or
                    s.fresh != prev_fresh or mu != prev_mu):
                self.coefs[n_coefs] = make_coef(self.algo, &G.hyper, step, s.fresh, mu)
                if self.grad_scale != 1.0 and self.noise_counter is None:  # (noise: scales)
                    scale_gradients(self.algo, &self.coefs[n_coefs], self.grad_scale)
                n_coefs += 1
                prev_group, prev_step, prev_fresh, prev_mu = s.group, step, s.fresh, mu
            self.items[j].coef = &self.coefs[n_coefs - 1]
            s.fresh = False
            if s.mu_product != NULL:
                s.mu_product[0] = next_mu_product(self.algo, &G.hyper, step, mu)
        if self.noise_counter is None:
            with nogil:
                run_items_noise(self.items, self.starts, self.n_items, self.algo,
                                num_threads(), NULL)
        else:
            (<long long*>cnp.PyArray_DATA(<cnp.ndarray>self.noise_counter))[0] = \
                <long long>self.noise.step + 1
            with nogil:
                run_items_noise(self.items, self.starts, self.n_items, self.algo,
                                num_threads(), &self.noise)
            self.noise_counter = None

    # ------------------------------------------------------------------------- helpers

    cdef _replace_group(self, Py_ssize_t gi, object group):
        """Group gi's dict was replaced in param_groups: read the new dict from now on."""
        if not isinstance(group, dict):
            raise TypeError(f"param_groups[{gi}] must be a dict, got {type(group).__name__}")
        self.groups[gi] = group
        self.stale = True

    cdef _missing_key(self, Py_ssize_t gi):
        """Raise ValueError naming an entry param group gi lacks (if it does)."""
        group = self.groups[gi]
        for key in ("params",) + self.keys:
            if key not in group:
                raise ValueError(f"param group {gi} has no {key!r} entry (a param group "
                                 f"holds 'params' and every hyperparameter: "
                                 f"{', '.join(self.keys)})")

    cdef str _label(self, Py_ssize_t k):
        index, name = self.labels[k]
        return f"parameter {index}" if name is None else f"state[{index}][{name!r}]"

    cdef _rebuild(self):
        """Check every slot that will be re-read, then all written arrays for overlaps."""
        cdef Py_ssize_t gi, k
        cdef int j, mask
        cdef Group* G
        names = STATE_ARRAYS[self.algo]
        arrays, labels = [], []
        for gi in range(self.n_groups):
            G = &self.info[gi]
            mask = max(G.needed, 0)  # a group never prepared yet writes no state
            for k in range(G.first, G.first + G.n):
                arrays.append(self.current[k])
                labels.append((k, None))
                if self.slots[k].synced != G.needed and G.needed >= 0:
                    self._check_state(k, <cnp.ndarray>self.current[k])
                st = self.state.get(k)
                if st is None:
                    continue
                for j in range(3):
                    if (mask >> j) & 1 and st.get(names[j]) is not None:
                        arrays.append(st[names[j]])
                        labels.append((k, names[j]))
        self.labels = labels
        self.written.build(arrays, lambda i: self._label(i))
        self.stale = False

    cdef cnp.ndarray _param(self, list params, Py_ssize_t i, Py_ssize_t k):
        """Parameter k (``params[i]``), checked against the array it was when last checked
        (dtype and size against those it was added with: both can be changed in place)."""
        cdef object a = params[i]
        cdef cnp.ndarray last = <cnp.ndarray>self.current[k]
        cdef Slot* s = &self.slots[k]
        if cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == s.typenum and \
                cnp.PyArray_SIZE(<cnp.ndarray>a) == s.size and \
                cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a) and \
                cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a) and \
                cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a) and \
                (a is last or same_layout(<cnp.ndarray>a, last)):  # (flags can change)
            if a is not last:  # replaced by an array of the same layout
                self.current[k] = a
                self.stale = True
            return <cnp.ndarray>a
        what = f"parameter {k}"
        check_param(a, what)
        raise ValueError(f"{what} changed shape or dtype since it was added "
                         f"({(<object>last).shape} -> {a.shape}, {a.dtype})")

    cdef int _check_in_place(self, Py_ssize_t k, cnp.ndarray p) except -1:
        """Raise if the state slot k points into was edited in place since it was checked:
        a counter out of range, a non-finite mu_product, an array made read-only, or a
        parameter whose shape (set in place) no longer matches its state arrays'."""
        cdef Slot* s = &self.slots[k]
        cdef cnp.ndarray arr
        if s.step != NULL and not (0 <= s.step[0] < STEP_MAX):
            raise ValueError(step_range_message(f"state[{k}]['step']", s.step[0], 0))
        if s.mu_product != NULL and not isfinite(s.mu_product[0]):
            raise ValueError(f"state[{k}]['mu_product'] must be a finite real number, "
                             f"got {s.mu_product[0]!r}")
        for obj in <tuple>self.held[k]:
            arr = <cnp.ndarray>obj
            if not cnp.PyArray_ISWRITEABLE(arr):
                raise ValueError(f"a state array of parameter {k} ({self._held_name(k, arr)}) "
                                 f"is read-only (not writeable); the step writes it")
            if cnp.PyArray_NDIM(arr) != 0 or cnp.PyArray_NDIM(p) == 0:
                if not cnp.PyArray_SAMESHAPE(arr, p):
                    raise ValueError(f"parameter {k} has shape {(<object>p).shape} but its "
                                     f"state {self._held_name(k, arr)} has shape "
                                     f"{(<object>arr).shape} (was the parameter reshaped in "
                                     f"place?)")
        return 0

    cdef str _held_name(self, Py_ssize_t k, cnp.ndarray arr):
        st = self.state.get(k) or {}
        for name, value in st.items():
            if value is arr:
                return f"state[{k}][{name!r}]"
        return f"state[{k}]"

    cdef _check_state(self, Py_ssize_t k, cnp.ndarray p):
        """Raise unless the state of parameter k (what exists of it) fits the kernel.  The
        scalars first: reading them may run user code (``__array__``)."""
        cdef int j, needed = self.info[self.slots[k].group].needed
        st = self.state.get(k)
        if st is None:
            return
        if not isinstance(st, dict):
            raise TypeError(f"state[{k}] must be a dict, got {type(st).__name__}")
        for name in STATE_SCALARS[self.algo]:
            if st.get(name) is not None:
                state_scalar(st[name], name, f"state[{k}][{name!r}]")
        names = STATE_ARRAYS[self.algo]
        for j in range(3):
            if (needed >> j) & 1:
                arr = st.get(names[j])
                if arr is not None:
                    check_like(arr, p, f"state[{k}][{names[j]!r}]", True)

    cdef dict _allocate(self, Py_ssize_t k):
        """The state of parameter k this step needs and it lacks, newly allocated, and its
        scalar state as 0-d arrays the slot will own."""
        cdef int j, needed = self.info[self.slots[k].group].needed
        cdef double initial = (self.info[self.slots[k].group].initial_value
                               if self.algo == ADAGRAD else 0.0)
        st = self.state.get(k) or {}
        arrays = {}
        names = STATE_ARRAYS[self.algo]
        for j in range(3):
            if (needed >> j) & 1 and st.get(names[j]) is None:
                arrays[names[j]] = np.full_like(self.current[k], initial)
        for name in STATE_SCALARS[self.algo]:
            value = st.get(name)
            if value is None:
                arrays[name] = np.array(0 if name == "step" else 1.0,
                                        dtype=np.int64 if name == "step" else np.float64)
            else:
                arrays[name] = state_scalar(value, name, name)
        return arrays

    cdef _sync_slot(self, Py_ssize_t k, dict created):
        """Point slot k at its state arrays (checked by prepare, and checked again here: a
        change behind the mapping's back must not make a step write out of bounds), storing
        ``created`` (from ``_allocate``) into its state.  Runs no Python-level code, so no
        interrupt can land between two slots."""
        cdef Slot* s = &self.slots[k]
        cdef Group* G = &self.info[s.group]
        cdef int j
        st = self.state.get(k)
        if type(st) is not ParamState or (<object>st)._owner is not self.state:
            fresh_st = ParamState.__new__(ParamState)
            fresh_st._owner = self.state
            if st is not None:
                PyDict_Update(fresh_st, st)
            st = fresh_st
            PyDict_SetItem(self.state, k, st)
        held = []
        names = STATE_ARRAYS[self.algo]
        s.fresh = False
        for j in range(3):
            s.s[j] = NULL
            if not (G.needed >> j) & 1:
                continue
            arr = created.get(names[j])
            if arr is not None:
                PyDict_SetItem(st, names[j], arr)
                s.fresh = self.algo == SGD
            else:
                arr = st.get(names[j])
                check_like(arr, <cnp.ndarray>self.current[k], f"state[{k}][{names[j]!r}]", True)
            s.s[j] = <char*>cnp.PyArray_DATA(<cnp.ndarray>arr)
            held.append(arr)
        for name in STATE_SCALARS[self.algo]:
            arr = created[name]
            PyDict_SetItem(st, name, arr)
            if name == "step":
                s.step = <long long*>cnp.PyArray_DATA(<cnp.ndarray>arr)
            else:
                s.mu_product = <double*>cnp.PyArray_DATA(<cnp.ndarray>arr)
            held.append(arr)
        self.held[k] = tuple(held)
        s.synced = G.needed
        self.stale = True  # new state arrays join the overlap check
