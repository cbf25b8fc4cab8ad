"""The first-order algorithm table: the one list of fastopt's first-order algorithms.

Plain data, no imports: ``setup.py`` reads it with ``runpy`` (before anything is compiled)
and generates from it, with Tempita, the code that repeats per algorithm
(``fastopt/_kernels/*.tp``, see ``docs/adding_an_algorithm.md``): the Cython declarations
and entry points of the public API ``fastopt/kernels.pxd``/``.pyx``, the algorithm ids, the
hyperparameter readers, the state and kernel tables of ``fastopt/_kernels/algorithms`` and
the C list ``FO_ALGORITHMS`` that ``src/fastopt/first_order.h`` expands.  At run time
``fastopt._kernels.algorithms`` reads the names and state of each row from here.

A row (a dict), in the order of the algorithm ids (row k is id k):

``name``
    The C prefix: ``src/fastopt/<name>.h`` defines ``fo_<name>_hyper``,
    ``fo_<name>_defaults()``, ``fo_<name>_coef``, ``fo_<name>_coefficients(h, <coef>)``,
    ``fo_<name>_update_f32/_f64(n, p, g, <state>, c)`` and
    ``fo_<name>_step_f32/_f64(h, step[, mu_product], n, p, g, <state>)``.  Also the name
    under which the Python layer (``fastopt.optim``, ``fastopt.functional``) runs it.
``hyper``
    The Cython name of the hyperparameter struct (``fastopt.kernels.AdamHyper``).
``fields``
    The hyperparameters, in the C struct's order, as ``(key, check, what)``: ``key`` is the
    param-group key (torch's name) and the struct field, ``what`` names it in error messages
    (torch's wording: ``Invalid <what>: ...``).  ``check`` says how a value is read:

    * ``nonneg``: a real number >= 0 (not NaN);
    * ``finite``: a finite real number;
    * ``closed_unit``: a real number in [0, 1];
    * ``betas``: a pair of reals in [0, 1), the struct fields ``beta1`` and ``beta2``;
    * ``flag``: a bool (True/False or a NumPy bool);
    * ``nonneg_unstored``: checked as ``nonneg`` but not a struct field (a value that only
      sets up the state, such as Adagrad's ``initial_accumulator_value``).

    ``lr``, ``weight_decay`` and ``maximize`` (every algorithm has them) are read first,
    then the others in this order, so the first invalid value reported is always the same.
``invalid``
    ``(condition, message)`` pairs checked after the fields: a Cython condition on the
    struct ``h`` that, when true, raises ValueError(message).
``state``
    The state arrays in the order the kernel takes them (state0, state1, state2), as
    ``(name, used_when)`` or ``(name, used_when, argument)``: ``name`` is the key in the
    optimizer's state, ``used_when`` a condition on one hyperparameter field (``"momentum
    > 0"``; None: always) under which the kernel reads and writes the array, ``argument``
    the parameter name in the public Cython API (default ``name``).
``scalars``
    The scalar state (``step``, NAdam's ``mu_product``).
``coef``
    What ``fo_<name>_coefficients`` takes after the hyperparameters: any of ``step`` (the
    1-based step number), ``first`` (the state is new: SGD's momentum buffer starts from the
    gradient) and ``mu_product`` (NAdam's schedule product before this step).
"""

ALGORITHMS = [
    dict(
        name="sgd", hyper="SGDHyper",
        fields=[("lr", "nonneg", "learning rate"),
                ("momentum", "nonneg", "momentum value"),
                ("dampening", "finite", "dampening value"),
                ("weight_decay", "nonneg", "weight_decay value"),
                ("nesterov", "flag", None),
                ("maximize", "flag", None)],
        invalid=[("h.nesterov and (h.momentum <= 0 or h.dampening != 0)",
                   "Nesterov momentum requires a momentum and zero dampening")],
        state=[("momentum_buffer", "momentum != 0")],
        scalars=[],
        coef=["first"],
    ),
    dict(
        name="adagrad", hyper="AdagradHyper",
        fields=[("lr", "nonneg", "learning rate"),
                ("lr_decay", "nonneg", "lr_decay value"),
                ("weight_decay", "nonneg", "weight_decay value"),
                ("eps", "nonneg", "epsilon value"),
                ("initial_accumulator_value", "nonneg_unstored", "initial_accumulator_value"),
                ("maximize", "flag", None)],
        invalid=[],
        state=[("sum", None, "state_sum")],
        scalars=["step"],
        coef=["step"],
    ),
    dict(
        name="adadelta", hyper="AdadeltaHyper",
        fields=[("lr", "nonneg", "learning rate"),
                ("rho", "closed_unit", "rho value"),       # torch: rho = 1 is allowed
                ("eps", "nonneg", "epsilon value"),
                ("weight_decay", "nonneg", "weight_decay value"),
                ("maximize", "flag", None)],
        invalid=[],
        state=[("square_avg", None), ("acc_delta", None)],
        scalars=["step"],
        coef=[],
    ),
    dict(
        name="rmsprop", hyper="RMSpropHyper",
        fields=[("lr", "nonneg", "learning rate"),
                ("alpha", "nonneg", "alpha value"),        # torch: any alpha >= 0
                ("eps", "nonneg", "epsilon value"),
                ("weight_decay", "nonneg", "weight_decay value"),
                ("momentum", "nonneg", "momentum value"),
                ("centered", "flag", None),
                ("maximize", "flag", None)],
        invalid=[],
        state=[("square_avg", None), ("momentum_buffer", "momentum > 0"),
               ("grad_avg", "centered")],
        scalars=["step"],
        coef=[],
    ),
    dict(
        name="adam", hyper="AdamHyper",
        fields=[("lr", "nonneg", "learning rate"),
                ("betas", "betas", None),
                ("eps", "nonneg", "epsilon value"),
                ("weight_decay", "nonneg", "weight_decay value"),
                ("amsgrad", "flag", None),
                ("decoupled_weight_decay", "flag", None),
                ("maximize", "flag", None)],
        invalid=[],
        state=[("exp_avg", None), ("exp_avg_sq", None), ("max_exp_avg_sq", "amsgrad")],
        scalars=["step"],
        coef=["step"],
    ),
    dict(
        name="adamax", hyper="AdamaxHyper",
        fields=[("lr", "nonneg", "learning rate"),
                ("betas", "betas", None),
                ("eps", "nonneg", "epsilon value"),
                ("weight_decay", "nonneg", "weight_decay value"),
                ("maximize", "flag", None)],
        invalid=[],
        state=[("exp_avg", None), ("exp_inf", None)],
        scalars=["step"],
        coef=["step"],
    ),
    dict(
        name="nadam", hyper="NAdamHyper",
        fields=[("lr", "nonneg", "learning rate"),
                ("betas", "betas", None),
                ("eps", "nonneg", "epsilon value"),
                ("weight_decay", "nonneg", "weight_decay value"),
                ("momentum_decay", "nonneg", "momentum_decay value"),
                ("decoupled_weight_decay", "flag", None),
                ("maximize", "flag", None)],
        invalid=[],
        state=[("exp_avg", None), ("exp_avg_sq", None)],
        scalars=["step", "mu_product"],
        coef=["step", "mu_product"],
    ),
]
