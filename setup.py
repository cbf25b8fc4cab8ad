"""Build the fastopt extensions.

Every ``fastopt/**/*.pyx`` becomes an extension module.  The C headers in ``src/fastopt``
hold each algorithm's whole step; they are installed with the package (``fastopt/include``,
see ``fastopt.get_include()``).  Compiler flags:

* ``-O3 -fno-math-errno -fno-trapping-math``: lets GCC/Clang vectorize ``sqrt`` and selects
  (``-fno-math-errno`` changes no result; it only drops the errno write that blocks SIMD).
* ``-ffp-contract=off``: no silent FMA contraction, so the SIMD body, the scalar tail and the
  NumPy reference all round identically, whatever the thread count or CPU.
* Threads: the kernels run on fastopt's own thread pool (``src/fastopt/pool.c``, pthreads;
  ``-pthread``), not in OpenMP regions (see ``docs/threads.md``).  ``FASTOPT_SERIAL=1``
  builds the serial pool (every kernel on the calling thread).  ``-fopenmp`` is still
  passed when a probe shows the compiler and linker accept it (``openmp_enabled()``
  reports it; ``src/fastopt/omp_shim.h`` stands in without it).
* Portable by default: the hot loops are compiled for several ISAs with ``target_clones``
  (see ``src/fastopt/simd.h``) and picked at load time.  ``FASTOPT_NATIVE=1`` adds
  ``-march=native`` for a machine-specific build; ``FASTOPT_NO_OPENMP=1`` leaves out ``-fopenmp``.
"""
import os
import runpy
import shutil
import tempfile
import warnings
from glob import glob

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

BASE_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]


def _compiler_accepts(compiler, cflags, ldflags):
    """True if ``compiler`` compiles and links a small OpenMP program with these flags."""
    code = (
        "#include <omp.h>\n"
        "int main(void) { int n = 0;\n"
        "#pragma omp parallel reduction(+:n)\n"
        "n += 1; return n > 0 ? 0 : 1; }\n"
    )
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(code)
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
        compiler.link_executable(objs, os.path.join(tmp, "probe"), extra_postargs=ldflags)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    def build_extensions(self):
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            cflags, omp_c, omp_l = ["/O2", "/fp:precise"], ["/openmp"], []
        else:
            cflags, omp_c, omp_l = list(BASE_FLAGS), ["-fopenmp"], ["-fopenmp"]
            if os.environ.get("FASTOPT_NATIVE") == "1":
                cflags.append("-march=native")
        if os.environ.get("FASTOPT_NO_OPENMP") == "1":
            use_omp = False
        else:
            use_omp = _compiler_accepts(self.compiler, omp_c, omp_l)
            if not use_omp:
                warnings.warn(
                    "fastopt: the C compiler does not support OpenMP; building serial kernels "
                    "(set CC to an OpenMP-capable compiler for multithreading)."
                )
        threads_c, threads_l = ([], []) if ctype == "msvc" else (["-pthread"], ["-pthread"])
        if os.environ.get("FASTOPT_SERIAL") == "1":
            threads_c, threads_l = ["-DFO_POOL_SERIAL"], []
        for ext in self.extensions:
            ext.extra_compile_args = cflags + threads_c + (omp_c if use_omp else [])
            ext.extra_link_args = threads_l + (omp_l if use_omp else [])
        super().build_extensions()


# C sources compiled into one extension besides its .pyx (the thread pool lives in exactly
# one extension, so a process has one pool; the others bind to it through a capsule).
EXTRA_SOURCES = {"fastopt._pool": [os.path.join("src", "fastopt", "pool.c")]}


class BuildPy(build_py):
    """Also install the C headers of ``src/fastopt`` as ``fastopt/include/fastopt/*.h``, the
    directory ``fastopt.get_include()`` returns, for C, C++ and Cython code that uses them."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "fastopt", "include", "fastopt")
        self.mkpath(target)
        for header in sorted(glob(os.path.join("src", "fastopt", "*.h"))):
            self.copy_file(header, os.path.join(target, os.path.basename(header)))


def extensions():
    exts = []
    sources = sorted(glob(os.path.join("fastopt", "**", "*.pyx"), recursive=True))
    if not sources:             # never build a package without its kernels
        raise RuntimeError("fastopt: no fastopt/**/*.pyx found in " + os.getcwd()
                           + ": the source tree is incomplete (see MANIFEST.in)")
    # the code repeated per algorithm, generated from the algorithm table (before cythonize)
    runpy.run_path(os.path.join("fastopt", "_kernels", "_generate.py"))["generate"](os.getcwd())
    # every header, for every extension: they include each other, so editing any one of them
    # rebuilds whatever may include it (build_ext compares them with the built module)
    headers = sorted(glob(os.path.join("src", "fastopt", "*.h")))
    for pyx in sources:
        name = os.path.splitext(pyx)[0].replace(os.sep, ".")
        exts.append(
            Extension(
                name,
                [pyx] + EXTRA_SOURCES.get(name, []),
                depends=headers,
                include_dirs=[numpy.get_include(), "src"],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
            )
        )
    return cythonize(
        exts,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt, "build_py": BuildPy})
