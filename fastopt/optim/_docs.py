"""Args lines that every optimizer class documents the same way, written once (as torch does
in ``torch/optim/optimizer.py``).  A class docstring names a fragment as ``{params_doc}``;
:func:`fill_args` puts the text in its place."""

FRAGMENTS = {
    "params_doc": "params: an array, a list of arrays, or a list of param-group dicts "
                  "(updated in place).",
    "maximize_doc": "maximize (bool): maximize the objective instead of minimizing it "
                    "(default False).",
}


def fill_args(cls):
    """Class decorator: replace each ``{name}`` of :data:`FRAGMENTS` in the docstring."""
    doc = cls.__doc__
    for name, text in FRAGMENTS.items():
        doc = doc.replace("{" + name + "}", text)
    cls.__doc__ = doc
    return cls
