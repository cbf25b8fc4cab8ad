"""The algorithm table (fastopt/_kernels/table.py) is the one source of the code repeated
per first-order algorithm: the generated files are what the table and the templates give
now (setup.py regenerates them at every build: a stale one means a build is due), and the
table agrees with the C headers on each hyperparameter struct, field for field and in
order (a field the table left out would reach the kernel unset)."""
import os
import re
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATE = os.path.join(ROOT, "fastopt", "_kernels", "_generate.py")
pytestmark = pytest.mark.skipif(not os.path.exists(GENERATE),
                                reason="not a source tree (an installed package)")
gen = runpy.run_path(GENERATE) if os.path.exists(GENERATE) else {"TEMPLATES": []}


@pytest.mark.parametrize("template", gen["TEMPLATES"])
def test_the_generated_file_is_up_to_date_with_the_table(template):
    pytest.importorskip("Cython")
    out = os.path.join(ROOT, template[:-len(".tp")])
    assert os.path.exists(out), f"{out} missing: build (python setup.py build_ext --inplace)"
    with open(out) as f:
        assert f.read() == gen["render"](template), f"{out} is stale: rebuild"


def _c_struct_fields(name):
    with open(os.path.join(ROOT, "src", "fastopt", f"{name}.h")) as f:
        text = f.read()
    body = re.search(r"typedef struct \{([^}]*)\} fo_%s_hyper;" % name, text).group(1)
    fields = []
    for decl in body.split(";"):
        decl = re.sub(r"/\*.*?\*/", "", decl).split()
        if decl:
            fields += [("int" if decl[0] == "int" else "double", f.strip())
                       for f in " ".join(decl[1:]).split(",") if f.strip()]
    return fields


@pytest.mark.parametrize("algorithm", gen["algorithms"]() if gen["TEMPLATES"] else [],
                         ids=lambda a: a.name)
def test_the_table_has_every_field_of_the_c_hyperparameter_struct(algorithm):
    table = [(("int" if check == "flag" else "double"), key)
             for key, check, _ in algorithm.fields if check != "nonneg_unstored"
             for key in (("beta1", "beta2") if check == "betas" else (key,))]
    assert table == _c_struct_fields(algorithm.name)
