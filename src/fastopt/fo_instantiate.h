/* Compiles the per-element part of an algorithm header once per element type.  The header
 * (e.g. adam.h) defines FO_TEMPLATE as its own name and includes this file, which includes
 * the header back twice with FO_INSTANTIATING defined and
 *     FO_T = float,  FO_SQRT = sqrtf, FO_FABS = fabsf, FO_TINY = FLT_MIN, FO_FN(x) = x_f32
 *     FO_T = double, FO_SQRT = sqrt,  FO_FABS = fabs,  FO_TINY = DBL_MIN, FO_FN(x) = x_f64
 * (FO_TINY: the smallest normal number of FO_T).  No include guard on purpose. */
#define FO_INSTANTIATING
#define FO_T float
#define FO_SQRT sqrtf
#define FO_FABS fabsf
#define FO_TINY FLT_MIN
#define FO_FN(name) name##_f32
#include FO_TEMPLATE
#undef FO_T
#undef FO_SQRT
#undef FO_FABS
#undef FO_TINY
#undef FO_FN

#define FO_T double
#define FO_SQRT sqrt
#define FO_FABS fabs
#define FO_TINY DBL_MIN
#define FO_FN(name) name##_f64
#include FO_TEMPLATE
#undef FO_T
#undef FO_SQRT
#undef FO_FABS
#undef FO_TINY
#undef FO_FN
#undef FO_INSTANTIATING
#undef FO_TEMPLATE
