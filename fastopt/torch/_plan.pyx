"""The cached step of a fastopt.torch param group: the part that runs at every step, compiled.

:meth:`fastopt.torch._first_order.FastoptStep._build` checks every tensor of a param group
and records what it found here: a :class:`Plan` of :class:`Slot` (one per parameter with a
gradient: the tensors and the cheap keys they were checked with) and :class:`Call` (one
kernel call: the raw addresses of the parameters, gradients and state of the parameters
that share a step count).  At the next step :meth:`Plan.reuse` compares every tensor with
its key, checks each new gradient (``zero_grad()`` and ``backward()`` make new ones every
step) and puts its address in its call; :meth:`Call.run` runs the kernels on the addresses.
No address outlives the check that read it: every address a call holds was read from a
tensor whose key was compared at this step (or, for a contiguous copy of a gradient, from
the copy this step made), and the call holds a reference to that tensor.

:class:`Spans` is the overlap check: no two tensors a step writes share memory, and no
gradient shares memory with one (the result would depend on the order of the writes).
"""
from libc.stdint cimport uintptr_t
from cpython.mem cimport PyMem_Free, PyMem_Realloc

import torch

from fastopt._kernels._coef cimport fo_coef
from fastopt._kernels.algorithms cimport Hyper, Item, make_coef, read_hyper, run_items
from fastopt._kernels.checks cimport WrittenSpans
from fastopt._kernels.threads cimport num_threads
from fastopt._pool import _use_openmp
from fastopt.torch._checks import check_grad

cdef object STRIDED = torch.strided


cdef inline char* address(t):
    return <char*><uintptr_t>t.data_ptr()


def param_key(t):
    """What the use of a parameter ``t`` depends on, besides the tensor object: its
    address, shape and strides.  The plan holds an alias of it (``t.detach()``: the same
    storage), so no other memory can appear at a held address; its dtype and negative bit
    could then only change by reinterpreting the same memory in place (``.data =
    t.data.view(other dtype)`` or a lazily negated view of itself)."""
    return t.data_ptr(), t.shape, t.stride()


def state_key(t):
    """What the use of a state tensor ``t`` depends on, besides the tensor object: its
    address, and ``requires_grad``, which its check rejects.

    Enough because the plan holds an alias of every state tensor it uses (``t.detach()``:
    the same storage): no other memory can appear at an address the plan holds, so a
    state tensor still at its address still has the memory that was checked (its shape,
    strides and dtype can only differ by an in-place change of the same memory's
    metadata, which ``resize_`` or ``set_`` on optimizer state would be)."""
    return t.data_ptr(), t.requires_grad


cdef void* grown(void* p, size_t nbytes) except NULL:
    """``p`` reallocated to ``nbytes`` (MemoryError, and ``p`` left as it was, on failure)."""
    cdef void* q = PyMem_Realloc(p, nbytes)
    if q == NULL:
        raise MemoryError()
    return q


cdef struct Scalar:        # a one-element float32/float64 tensor's value
    char* data
    int itemsize


cdef Scalar scalar_at(t) except *:
    cdef Scalar v
    v.data = address(t)
    v.itemsize = t.element_size()
    return v


cdef inline double read_scalar(Scalar v) noexcept:
    return (<float*>v.data)[0] if v.itemsize == 4 else (<double*>v.data)[0]


cdef inline void write_scalar(Scalar v, double x) noexcept:
    if v.itemsize == 4:
        (<float*>v.data)[0] = <float>x
    else:
        (<double*>v.data)[0] = x


cdef inline double times(Scalar v, double mu) noexcept:
    """``v * mu`` rounded in v's dtype, as torch multiplies a scalar tensor."""
    if v.itemsize == 4:
        return <float>((<float*>v.data)[0] * <float>mu)
    return (<double*>v.data)[0] * mu


cdef class Call:
    """One kernel call: the parameters of a group that share a step count.

    ``step`` is the step number the call runs next, ``mu`` (NAdam) the ``mu_product`` its
    parameters hold before it.  The parameters' 0-d ``step`` and ``mu_product`` state
    (float32 or float64 tensors) are read and written through their addresses:
    :meth:`advance` writes what the call ran and moves ``step`` and ``mu`` on, so that a
    cached :class:`Plan` knows what the scalar state must read at the next step."""

    cdef public long long step
    cdef public object mu
    cdef list held            # per position: the tensors whose addresses the call holds
    cdef list labels          # per position: the parameter's name
    cdef Item* items
    cdef Py_ssize_t* starts
    cdef Py_ssize_t* item_of  # per position: its item, or -1 for an empty parameter
    cdef Scalar* steps        # per position (when the algorithm counts steps)
    cdef Scalar* mus          # per position (NAdam)
    cdef Py_ssize_t n, n_items, cap
    cdef bint counts, has_mu

    def __cinit__(self, long long step, bint counts, bint has_mu):
        self.step = step
        self.mu = None
        self.counts, self.has_mu = counts, has_mu
        self.held, self.labels = [], []

    def __dealloc__(self):
        PyMem_Free(self.items)
        PyMem_Free(self.starts)
        PyMem_Free(self.item_of)
        PyMem_Free(self.steps)
        PyMem_Free(self.mus)

    def add(self, p, grad, states, str what, step=None, mu=None):
        """Append a checked parameter (contiguous, float32/float64), its checked contiguous
        gradient, its state tensors (one per kernel state argument, None where the options
        use none) and its checked one-element float32/float64 ``step`` and ``mu_product``
        tensors (when the call has them); returns its position.  The call holds an alias
        of each tensor (see :func:`state_key`)."""
        cdef Py_ssize_t i = self.n, j, total
        cdef int k
        if self.n == self.cap:
            self._grow(2 * self.cap + 4)
        if self.counts:
            self.steps[i] = scalar_at(step)
        if self.has_mu:
            self.mus[i] = scalar_at(mu)
        numel = p.numel()
        self.item_of[i] = -1
        if numel:
            j = self.n_items
            total = self.starts[j]
            self.items[j].p = address(p)
            self.items[j].g = address(grad)
            for k in range(3):
                s = states[k] if k < len(states) else None
                self.items[j].s[k] = NULL if s is None else address(s)
            self.items[j].n = numel
            self.items[j].param = i
            self.items[j].itemsize = p.element_size()
            self.items[j].coef = NULL
            self.starts[j + 1] = total + numel
            self.item_of[i] = j
            self.n_items += 1
        self.held.append([p.detach(), grad,
                          [None if t is None else t.detach() for t in states],
                          None if step is None else step.detach(),
                          None if mu is None else mu.detach()])
        self.labels.append(what)
        self.n += 1
        return i

    cdef int _grow(self, Py_ssize_t cap) except -1:
        self.items = <Item*>grown(self.items, cap * sizeof(Item))
        self.starts = <Py_ssize_t*>grown(self.starts, (cap + 1) * sizeof(Py_ssize_t))
        self.item_of = <Py_ssize_t*>grown(self.item_of, cap * sizeof(Py_ssize_t))
        self.steps = <Scalar*>grown(self.steps, cap * sizeof(Scalar))
        self.mus = <Scalar*>grown(self.mus, cap * sizeof(Scalar))
        if self.cap == 0:
            self.starts[0] = 0
        self.cap = cap
        return 0

    cdef void set_grad(self, Py_ssize_t i, object grad, uintptr_t data):
        """Position ``i`` reads the (checked, contiguous) gradient ``grad``, whose data is at
        ``data``, from now on."""
        cdef list held = <list>self.held[i]
        held[1] = grad
        if self.item_of[i] >= 0:
            self.items[self.item_of[i]].g = <char*>data

    def run(self, int algo, dict hyper, double mu_product=1.0):
        """Run step number ``step`` of ``algo`` with the hyperparameters ``hyper`` (a param
        group's keys, as fastopt.optim reads them) on every parameter of the call, in one
        GIL-released pass on up to fastopt.get_num_threads() threads."""
        cdef Hyper h
        cdef fo_coef coef
        cdef Py_ssize_t j
        read_hyper(algo, hyper, &h)
        coef = make_coef(algo, &h, self.step, self.step == 1, mu_product)
        for j in range(self.n_items):
            self.items[j].coef = &coef
        with nogil:
            run_items(self.items, self.starts, self.n_items, algo, num_threads())

    cdef double read_step(self, Py_ssize_t i) noexcept:
        return read_scalar(self.steps[i])

    cdef double read_mu(self, Py_ssize_t i) noexcept:
        return read_scalar(self.mus[i])

    def mu_times(self, double mu):
        """``mu_product * mu`` as torch forms it, in the scalar's dtype (every position of
        the call holds the same ``mu_product``; the first one's dtype)."""
        return times(self.mus[0], mu) if self.n else mu

    def advance(self, mu=None):
        """After :meth:`run`: torch's ``step += 1`` on every parameter (when the algorithm
        counts steps; the call ran step ``step``) and NAdam's ``mu_product *= mu``, each in
        the scalar's own dtype; then ``step`` and ``mu`` are what the scalars hold."""
        cdef Py_ssize_t i
        cdef double m
        if self.has_mu:
            m = mu
            for i in range(self.n):
                write_scalar(self.mus[i], times(self.mus[i], m))
            self.mu = read_scalar(self.mus[0]) if self.n else None
        if self.counts:
            for i in range(self.n):
                write_scalar(self.steps[i], <double>self.step)
            self.step += 1


cdef class Slot:
    """One parameter with a gradient in a cached :class:`Plan`: the tensors its part of the
    step was built from, with their keys, and where it sits in its call.

    ``tensors``: ``(state key, tensor, state_key(tensor))`` of its scalar and array
    state."""

    cdef public object p, pkey, dtype, sd
    cdef public tuple tensors
    cdef public Call call
    cdef public Py_ssize_t index
    cdef public str what

    def __init__(self, p, sd, tuple tensors, Call call, Py_ssize_t index, str what):
        self.p, self.pkey, self.dtype = p, param_key(p), p.dtype
        self.sd, self.tensors = sd, tensors
        self.call, self.index, self.what = call, index, what


cdef class Plan:
    """One param group's step, kept between steps while nothing it was built from changed.

    :meth:`reuse` finds, with a few attribute reads per tensor:

    * the same group dict at the same index of ``param_groups``, the same ``params`` list
      object of the same length, the same ``opt.state`` object, and the same state keys
      for the group's current options (``amsgrad``, ``momentum``, ``centered`` choose them);
    * for every parameter: the same tensor, with a gradient exactly where it had one; the
      same :func:`param_key` (address, shape, strides); the same state dict, holding the
      same tensors under the same keys, each with the same :func:`state_key`;
    * every ``step`` (and NAdam ``mu_product``) holding the value the last step wrote.

    Anything else -- a swapped ``.data``, a state tensor replaced or reshaped,
    ``load_state_dict`` (new groups and state), ``add_param_group``, a gradient that
    appears or goes away, an edited step count -- rebuilds the group's plan with all
    checks.  Gradients may change without a rebuild: every gradient is checked, and its
    address put in its call, at every step.  Group values (``lr``, ``betas``, ...) are
    not part of the plan; they are read and checked at every step."""

    cdef public Py_ssize_t gi, n
    cdef public object group, params, keys, state
    cdef public list slots, calls, written

    def __init__(self, Py_ssize_t gi, group, keys, state):
        self.gi, self.group, self.keys, self.state = gi, group, keys, state
        self.params = group["params"]
        self.n = len(self.params)
        self.slots, self.calls, self.written = [], [], []

    def reuse(self, Py_ssize_t gi, group, keys, state, bint state_seen=False):
        """None when the plan is no longer what a full build would give (gradients
        aside); else True, the plan brought up to date with the current gradients: each
        is checked and its address read (gradients change every step: ``zero_grad()`` and
        ``backward()`` make new ones, DDP moves them into buckets).  ``state_seen``: the
        caller found ``state`` holding the same dicts for the same parameters as when the
        plans were built (else each parameter's is looked up).  Raises for a bad gradient
        the error a full build would raise first: with everything else unchanged (and
        checked when the plan was built), that is the first bad gradient in the group's
        order."""
        cdef Slot s
        cdef Call c
        cdef Py_ssize_t i
        params = group["params"]
        if gi != self.gi or group is not self.group or params is not self.params or \
                len(params) != self.n or keys != self.keys or state is not self.state:
            return None
        grads = []
        try:
            for i in range(self.n):
                p = params[i]
                slot = self.slots[i]
                g = p.grad
                if slot is None:
                    if g is not None:
                        return None
                    continue
                s = <Slot>slot
                if g is None or p is not s.p or \
                        (p.data_ptr(), p.shape, p.stride()) != s.pkey:
                    return None
                sd = s.sd if state_seen else state.get(p)
                if sd is not s.sd:
                    return None
                for k, t, tkey in s.tensors:
                    if sd.get(k) is not t or (t.data_ptr(), t.requires_grad) != tkey:
                        return None
                c = s.call
                if c.counts and (c.read_step(s.index) != c.step - 1 or c.step >= 2 ** 62):
                    return None       # (a step count too large: the build raises)
                if c.has_mu and c.read_mu(s.index) != c.mu:
                    return None
                grads.append(g)
        except Exception:     # something no longer a tensor or a dict: the build names it
            return None
        i = 0
        for slot in self.slots:
            if slot is not None:
                self.refresh_grad(<Slot>slot, grads[i])
                i += 1
        return True

    cpdef refresh_grad(self, Slot s, g):
        """Check the gradient ``g`` of slot ``s`` and put its address in the call.

        The common case -- a dense, contiguous CPU tensor of the parameter's dtype and
        shape (the shape from the parameter's key, checked this step) -- passes every check
        of :func:`~fastopt.torch._checks.check_grad` (a real dtype has no conjugate bit)
        with a few attribute reads; anything else goes through it (which raises, or
        returns a contiguous copy)."""
        _, shape, _ = s.pkey
        if not (g.layout is STRIDED and g.dtype is s.dtype and g.is_cpu and
                g.shape == shape and g.is_contiguous() and not g.is_neg()):
            g = check_grad(g, s.p, s.what)
        data = g.data_ptr()
        s.call.set_grad(s.index, g, data)


cdef class Spans:
    """The memory spans of the tensors a step writes (a
    :class:`fastopt._kernels.checks.WrittenSpans` table).

    ``Spans(written)`` (``(tensor, label)`` pairs of contiguous tensors) raises ValueError
    when two of them share memory; :meth:`check_grads` raises when a gradient of the
    calls overlaps one of them (the result would depend on the order of the writes)."""

    cdef WrittenSpans table
    cdef list labels

    def __init__(self, list written):
        cdef Py_ssize_t k, other
        self.labels = [label for _, label in written]
        self.table = WrittenSpans()
        self.table.reserve(len(written))
        for k in range(len(written)):
            t = written[k][0]
            self.table.add(<Py_ssize_t>t.data_ptr(), t.numel() * t.element_size(), k)
        k = self.table.sort(&other)
        if k >= 0:
            raise ValueError(f"{self.labels[max(k, other)]} shares memory with "
                             f"{self.labels[min(k, other)]}; fastopt.torch updates these "
                             "tensors in place, so they must not overlap")

    def check_grads(self, list calls):
        """ValueError naming the first gradient (in the calls' order) that shares memory
        with a tensor the step writes."""
        cdef Call c
        cdef Py_ssize_t j, k
        for call in calls:
            c = <Call>call
            j = self.table.first_hit(c.items, c.n_items, &k)
            if j >= 0:
                raise ValueError(f"the gradient of {c.labels[c.items[j].param]} shares "
                                 f"memory with {self.labels[k]}; fastopt.torch updates "
                                 "these tensors in place, so they must not overlap")


cdef class Options:
    """A group's checked values, reused while every value but ``lr`` is the same object
    as when they were checked (``items``: the group's other entries), and all of them are
    immutable (``cacheable``: plain numbers, bools, strings, None, tuples of these; a
    tensor or a list value is checked every step).  ``lr`` is read and checked at every
    step (schedulers set it); so is everything else whenever any value was set anew, as
    ``OneCycleLR`` does with ``betas``.  ``hyper``: the kernel's hyperparameters;
    ``keys``: the state keys these options use."""

    cdef public object group, keys
    cdef public dict hyper
    cdef public bint cacheable
    cdef tuple items
    cdef Py_ssize_t n

    def __init__(self, group, dict hyper, keys, tuple items, bint cacheable):
        self.group, self.hyper, self.keys = group, hyper, keys
        self.items, self.cacheable, self.n = items, cacheable, len(group)

    cpdef dict current(self, group, lr_of):
        """The kernel's hyperparameters with the group's ``lr`` (a float >= 0 read here,
        anything else by ``lr_of(group)``, which raises torch's error), or None when any
        other value changed."""
        cdef Py_ssize_t k
        if group is not self.group or len(group) != self.n:
            return None
        for k in range(len(self.items)):
            name, v = self.items[k]
            if group.get(name, MISSING) is not v:
                return None
        lr = group.get("lr", MISSING)
        if not (type(lr) is float and lr >= 0.0):
            lr = lr_of(group)
        self.hyper["lr"] = lr
        return self.hyper


cdef object MISSING = object()


def step_cached(opt, int algo, mu_of, lr_of, int team):
    """Run ``opt``'s step on the plans kept from its last step, when every group's options
    and plan are those kept in ``opt.__dict__`` and the plans can be reused
    (:meth:`Plan.reuse`, which brings them up to date with new gradients); returns False,
    having done nothing, when the step must be prepared in full.  Raises the error of a
    bad new gradient, or of one that shares memory with a tensor the step writes (and
    drops the plans).  ``lr_of(group)``: the group's checked ``lr``; ``mu_of``, ``team``:
    see :func:`run_step`."""
    cdef dict d = opt.__dict__
    try:
        out = _reused(d, opt.param_groups, opt.state, lr_of)
    except BaseException:
        d["_fastopt_plans"] = {}
        raise
    if out is None:
        return False
    run_step(d, out, algo, mu_of, team)
    return True


cdef object _reused(dict d, list groups, state, lr_of):
    """The step's ``[(hyper, plan)]`` from the kept plans, or None (see
    :func:`step_cached`)."""
    cdef Py_ssize_t gi
    if d.get("grad_scale") is not None or d.get("found_inf") is not None:
        return None
    plans, options, spans = (d.get("_fastopt_plans"), d.get("_fastopt_options"),
                             d.get("_fastopt_spans"))
    if not plans or not options or spans is None:
        return None
    built = <tuple>spans[0]              # the plans the spans were taken from
    if len(built) != len(groups) or not _same_items(state, d.get("_fastopt_state_seen")):
        return None
    out = []
    for gi in range(len(groups)):
        group = groups[gi]
        o = options.get(id(group))
        if o is None:
            return None
        hyper = (<Options>o).current(group, lr_of)
        plan = plans.get(id(group))
        if hyper is None or plan is None or plan is not built[gi]:
            return None
        if (<Plan>plan).reuse(gi, group, (<Options>o).keys, state, True) is None:
            return None
        out.append((hyper, plan))
    (<Spans>spans[1]).check_grads([c for _, plan in out for c in (<Plan>plan).calls])
    return out


def seen_items(state):
    """What :func:`step_cached` compares ``opt.state`` with: its keys and values, in order
    (comparing the same objects in the same order needs no lookup by a tensor key, whose
    hash is a Python function)."""
    return list(state), list(state.values())


cdef bint _same_items(state, seen):
    """Whether ``state`` holds the same keys, mapped to the same values, as when
    :func:`seen_items` saw it."""
    cdef Py_ssize_t i = 0
    if seen is None:
        return False
    keys, values = <tuple>seen
    if len(state) != len(<list>keys):
        return False
    for k, v in state.items():
        if k is not (<list>keys)[i] or v is not (<list>values)[i]:
            return False
        i += 1
    return True


def run_step(dict d, list out, int algo, mu_of, int team):
    """Run every call of the step ``out`` (``[(hyper, plan)]``) and advance its scalar
    state, on a team of ``team`` of torch's OpenMP threads (0 or 1: fastopt's pool; see
    :mod:`fastopt.torch._threads`).  ``mu_of(hyper, call)`` (NAdam) gives ``(mu,
    mu_product for the kernel)``.  ``d``: the optimizer's ``__dict__``: a call that raises
    drops its plans (a call not run makes them stale), and a plan whose calls now have
    the same step count and ``mu_product`` is dropped (a build merges them)."""
    cdef Call c
    merged = []
    if team > 1:
        _use_openmp(team)
    try:
        for hyper, plan in out:
            calls = (<Plan>plan).calls
            for call in calls:
                c = <Call>call
                if mu_of is None:
                    c.run(algo, hyper)
                    c.advance()
                else:
                    mu, mu_product = mu_of(hyper, c)
                    c.run(algo, hyper, mu_product)
                    c.advance(mu)
            if len(calls) > 1 and \
                    len({((<Call>c).step, (<Call>c).mu) for c in calls}) < len(calls):
                merged.append((<Plan>plan).group)
    except BaseException:
        d["_fastopt_plans"] = {}
        raise
    finally:
        if team > 1:
            _use_openmp(0)
    for group in merged:
        d["_fastopt_plans"].pop(id(group), None)
