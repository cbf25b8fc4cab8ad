# fastopt's public Cython API: one step of any first-order algorithm over your own arrays.
#
#     from fastopt.kernels cimport AdamHyper, adam_defaults, adam_step
#
#     cdef AdamHyper h = adam_defaults()      # PyTorch's defaults; then set what differs
#     h.lr = 1e-2
#     with nogil:
#         adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, &h, step)
#
# Build: put fastopt.get_include() (the C headers) in the extension's include_dirs; Cython
# finds this .pxd through sys.path as it finds numpy's.  The calls run fastopt's compiled
# kernels (ISA-dispatched, built with -ffp-contract=off), so results are bit-identical to
# fastopt.Adam & co. whatever flags your extension uses.  Full guide: docs/embedding.md.
#
# Hyperparameters.  One struct per algorithm, PyTorch's names in one order for all: the
# reals in torch's signature order (betas as beta1, beta2), then the algorithm's own flags,
# maximize last.  X_defaults() returns the struct filled with torch.optim's defaults.  A zero
# field means zero, not "default": a struct built field by field (AdamHyper(lr=1e-3)) runs
# with beta1 = beta2 = eps = 0.  Start from X_defaults().
#
# Steps.  `step` is the 1-based number of this step (bias corrections and schedules depend
# on it; for SGD, step 1 starts the momentum buffer from the gradient, as torch.optim does).
# NAdam also takes mu_product, the product of its momentum schedule before this step (1.0
# before the first), advanced with nadam_mu_product().  Everything runs in place, serially,
# without the GIL, and may be called from inside your own `prange` on slices (one slice per
# thread); arrays must not overlap.
#
# Two levels:
# * X_step(memoryviews..., &hyper, step): fused over float/double, C-contiguous 1-D views.
#   Returns 0, or -1 (writing nothing) when the views' lengths differ.  State views an
#   algorithm does not use under the given options (SGD's momentum_buffer when momentum == 0,
#   RMSprop's momentum_buffer / grad_avg, Adam's max_exp_avg_sq unless amsgrad) are not read
#   or checked: pass any view of the right type, e.g. an empty one.
# * X_f32 / X_f64(pointers..., n, &hyper, step): raw pointers, nothing checked at all; the
#   unused state pointers may be NULL.
cimport cython
from cython cimport floating

# The structs, defaults and both levels of entry points of every algorithm are generated
# from the algorithm table (fastopt/_kernels/table.py) into this include by the build.
include "_kernels/kernels_api.pxi"

cdef extern from "fastopt/first_order.h" nogil:
    # The product of NAdam's momentum schedule after `step`, given the product before it.
    double nadam_mu_product "fo_nadam_mu_product"(const NAdamHyper* hyper, long long step,
                                                  double mu_product)
