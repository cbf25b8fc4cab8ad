"""Header-only C: a standalone C program (no Python at run time) compiled here against the
installed headers (fastopt.get_include()) with -O2 -ffp-contract=off runs Adam, AMSGrad and
SGD with Nesterov momentum over its own arrays, bit-identical to the Python API."""
import os
import shutil
import subprocess

import numpy as np
import pytest

import fastopt

CC = os.environ.get("CC", "cc")
N, STEPS = 1003, 6  # tails around the SIMD width and the 512-byte blocks

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "fastopt/adam.h"
#include "fastopt/sgd.h"

#define N %(n)d
#define STEPS %(steps)d

static void load(const char *path, void *data, size_t bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f || fread(data, 1, bytes, f) != bytes) { perror(path); exit(1); }
    fclose(f);
}

static void save(const char *path, const void *data, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, bytes, f) != bytes) { perror(path); exit(1); }
    fclose(f);
}

int main(void)
{
    static float p32[N], g32[STEPS][N], m32[N], v32[N];
    static double p64[N], g64[STEPS][N], m64[N], v64[N], vmax64[N], ps[N], buf[N];
    load("p32.bin", p32, sizeof p32);
    load("g32.bin", g32, sizeof g32);
    load("p64.bin", p64, sizeof p64);
    load("g64.bin", g64, sizeof g64);
    for (int i = 0; i < N; i++) ps[i] = p64[i];

    fo_adam_hyper adam = fo_adam_defaults();        /* torch's defaults, then what differs */
    adam.lr = 1e-2;
    fo_adam_hyper amsgrad = fo_adam_defaults();
    amsgrad.lr = 1e-2;
    amsgrad.weight_decay = 0.1;
    amsgrad.amsgrad = 1;
    amsgrad.decoupled_weight_decay = 1;
    fo_sgd_hyper sgd = fo_sgd_defaults();
    sgd.lr = 0.1;
    sgd.momentum = 0.9;
    sgd.nesterov = 1;
    for (long long t = 1; t <= STEPS; t++) {
        fo_adam_step_f32(&adam, t, N, p32, g32[t - 1], m32, v32, NULL);
        fo_adam_step_f64(&amsgrad, t, N, p64, g64[t - 1], m64, v64, vmax64);
        fo_sgd_step_f64(&sgd, t, N, ps, g64[t - 1], buf);
    }
    save("adam32.bin", p32, sizeof p32);
    save("amsgrad64.bin", p64, sizeof p64);
    save("sgd64.bin", ps, sizeof ps);
    return 0;
}
"""


@pytest.fixture(scope="module")
def run_program(tmp_path_factory):
    if shutil.which(CC) is None:
        pytest.skip(f"no C compiler ({CC})")
    d = tmp_path_factory.mktemp("header_only")
    (d / "main.c").write_text(PROGRAM % {"n": N, "steps": STEPS})
    proc = subprocess.run([CC, "-O2", "-ffp-contract=off", "-I", fastopt.get_include(),
                           "main.c", "-o", "main", "-lm"], cwd=d, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rng = np.random.default_rng(5)
    inputs = {"p32": rng.standard_normal(N).astype(np.float32),
              "g32": rng.standard_normal((STEPS, N)).astype(np.float32),
              "p64": rng.standard_normal(N), "g64": rng.standard_normal((STEPS, N))}
    for name, a in inputs.items():
        a.tofile(d / f"{name}.bin")
    proc = subprocess.run([str(d / "main")], cwd=d, capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", "")})  # no Python involved
    assert proc.returncode == 0, proc.stderr
    outputs = {name: np.fromfile(d / f"{name}.bin", dtype=dt) for name, dt in
               [("adam32", np.float32), ("amsgrad64", np.float64), ("sgd64", np.float64)]}
    return inputs, outputs


# what the C program ran: its output file -> (the inputs it stepped, the same optimizer here)
C_RUNS = {
    "adam32": ("p32", "g32", lambda p: fastopt.Adam([p], lr=1e-2)),
    "amsgrad64": ("p64", "g64",
                  lambda p: fastopt.AdamW([p], lr=1e-2, weight_decay=0.1, amsgrad=True)),
    "sgd64": ("p64", "g64", lambda p: fastopt.SGD([p], lr=0.1, momentum=0.9, nesterov=True)),
}


@pytest.mark.parametrize("output", C_RUNS, ids=["adam-float32", "amsgrad-adamw-float64",
                                                "sgd-nesterov-float64"])
def test_a_step_from_plain_c_is_bit_identical_to_the_python_optimizer(run_program, output):
    inputs, outputs = run_program
    p_name, g_name, make = C_RUNS[output]
    p = inputs[p_name].copy()
    opt = make(p)
    for g in inputs[g_name]:
        opt.step([np.ascontiguousarray(g)])
    np.testing.assert_array_equal(outputs[output], p)
