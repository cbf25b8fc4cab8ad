"""Generates the code that repeats per first-order algorithm from the algorithm table.

Each template ``X.tp`` of :data:`TEMPLATES` (Tempita, as scikit-learn's ``_loss.pyx.tp``)
becomes ``X``, rendered with ``algorithms``, the rows of ``fastopt/_kernels/table.py`` as
:class:`Algorithm` objects.  ``setup.py`` runs :func:`generate` before cythonize; the
outputs are git-ignored and rebuilt from the table by every build (a file is rewritten only
when its text changes, so an unchanged table recompiles nothing).  Plain Python, run by
path: it imports nothing of fastopt.

    python fastopt/_kernels/_generate.py          # regenerate by hand
"""
import os
import runpy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLE = os.path.join("fastopt", "_kernels", "table.py")
TEMPLATES = [
    os.path.join("fastopt", "_kernels", "kernels_api.pxi.tp"),      # fastopt/kernels.pxd
    os.path.join("fastopt", "_kernels", "kernels_impl.pxi.tp"),     # fastopt/kernels.pyx
    os.path.join("fastopt", "_kernels", "algorithms_decl.pxi.tp"),  # algorithms.pxd
    os.path.join("fastopt", "_kernels", "algorithms_impl.pxi.tp"),  # algorithms.pyx
    os.path.join("src", "fastopt", "fo_algorithms.h.tp"),            # first_order.h
]
TYPES = (("f32", "float"), ("f64", "double"))  # C suffix, element type


class Algorithm:
    """One row of the table, with the pieces of code the templates need."""

    def __init__(self, row):
        self.__dict__.update(row)
        self.C = f"fo_{self.name}"
        self.upper = self.name.upper()
        # struct fields: betas are beta1 and beta2; unstored checks are no field
        self.reals, self.flags = [], []
        for key, check, _ in self.fields:
            if check == "flag":
                self.flags.append(key)
            elif check == "betas":
                self.reals += ["beta1", "beta2"]
            elif check != "nonneg_unstored":
                self.reals.append(key)
        # lr, weight_decay and maximize first (every algorithm has them), then the others
        first = ("lr", "weight_decay", "maximize")
        self.reads = ([f for k in first for f in self.fields if f[0] == k]
                      + [f for f in self.fields if f[0] not in first])
        self.states = [(s[0], s[1], s[2] if len(s) > 2 else s[0]) for s in self.state]
        self.mu = "mu_product" in self.coef

    def step_params(self, T):
        """The pointer-level function's parameters (fastopt.kernels.X_f32/_f64)."""
        states = "".join(f"{T}* {arg}, " for _, _, arg in self.states)
        mu = ", double mu_product" if self.mu else ""
        return (f"{T}* param, const {T}* grad, {states}Py_ssize_t n, "
                f"const {self.hyper}* hyper, long long step{mu}")

    def used(self, when, hyper):
        """The Cython condition ``when`` (on one field) for the struct pointer ``hyper``."""
        return f"{hyper}.{when}"

    def needed_state(self, hyper):
        """The bit mask of the state arrays the kernel uses, as a Cython expression."""
        bits = [str(1 << k) if when is None else f"({1 << k} if {self.used(when, hyper)} else 0)"
                for k, (_, when, _) in enumerate(self.states)]
        return " | ".join(bits) or "0"

    def coef_call(self, hyper):
        """The call of the algorithm's coefficient function (see _coef.pxd) on ``hyper``."""
        return f"{self.name}_coef({', '.join([hyper] + list(self.coef))})"

    def c_coef(self):
        """(parameters, arguments) of fo_coef_<name> in C: the hyperparameters, then coef."""
        c_types = {"step": "long long step", "first": "int first",
                   "mu_product": "double mu_product"}
        params = [f"const {self.C}_hyper *h"] + [c_types[a] for a in self.coef]
        return ", ".join(params), ", ".join(["h"] + list(self.coef))

    def cy_coef_params(self):
        cy_types = {"step": "long long step", "first": "bint first",
                    "mu_product": "double mu_product"}
        return ", ".join([f"const {self.hyper}* h"] + [cy_types[a] for a in self.coef])


def algorithms(root=ROOT):
    return [Algorithm(row) for row in runpy.run_path(os.path.join(root, TABLE))["ALGORITHMS"]]


def render(template, root=ROOT):
    """The text generated from ``template`` (a path relative to ``root``)."""
    from Cython import Tempita

    with open(os.path.join(root, template)) as f:
        text = f.read()
    return Tempita.sub(text, algorithms=algorithms(root), types=TYPES,
                       template=template.replace(os.sep, "/"))


def generate(root=ROOT):
    """Write every template's output next to it, where its text changed."""
    for template in TEMPLATES:
        text = render(template, root)
        out = os.path.join(root, template[:-len(".tp")])
        if os.path.exists(out):
            with open(out) as f:
                if f.read() == text:
                    continue
        with open(out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    generate()
