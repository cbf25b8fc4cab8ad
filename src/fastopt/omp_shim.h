/* OpenMP shim: the few omp_* calls fastopt uses, with serial stand-ins when the compiler
 * builds without OpenMP, so every extension compiles either way.  Plain C, no Python.h. */
#ifndef FASTOPT_OMP_SHIM_H
#define FASTOPT_OMP_SHIM_H

#ifdef _OPENMP
#include <omp.h>
#define FO_HAVE_OPENMP 1
#else
#define FO_HAVE_OPENMP 0
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_max_threads(void) { return 1; }
#endif

#endif
