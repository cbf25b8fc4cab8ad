# The hyperparameter structs and the pointer-level step functions under their older,
# internal path.  They are declared (and documented) once, in the public fastopt/kernels.pxd;
# cimport them from there in new code:
#
#     from fastopt.kernels cimport AdamHyper, adam_defaults, adam_f32, adam_step
from fastopt.kernels cimport (
    AdadeltaHyper, AdagradHyper, AdamaxHyper, AdamHyper, NAdamHyper, RMSpropHyper, SGDHyper,
    adadelta_f32, adadelta_f64, adagrad_f32, adagrad_f64, adam_f32, adam_f64, adamax_f32,
    adamax_f64, nadam_f32, nadam_f64, nadam_mu_product, rmsprop_f32, rmsprop_f64, sgd_f32,
    sgd_f64,
)
