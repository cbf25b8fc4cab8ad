"""Peak extra memory of a steady-state optimizer step.

Two measurements of the same few steps (after a warm-up step, so state already exists):

* ``traced_bytes``: the peak of :mod:`tracemalloc` above what was allocated before the steps.
  NumPy reports every array buffer it allocates to tracemalloc, so this counts NumPy
  temporaries (and the small Python objects a call creates, a few hundred bytes).
  ``traced_arrays`` expresses it in units of one parameter array
  (``traced_bytes / array_bytes``): 0 means no array was allocated.  Allocations made in C++ (torch) are not seen here.
* ``rss_bytes``: the peak resident set size above the resident size before the steps
  (Linux: ``VmHWM`` after resetting it through ``/proc/self/clear_refs``; None elsewhere).
  This sees every allocator, torch's included.  To make temporaries visible, glibc is told
  (``mallopt(M_MMAP_THRESHOLD, 64 KiB)``) to map every block of 64 KiB or more afresh and to
  unmap it when freed, instead of recycling already-resident heap memory; so measure memory
  after the timings, as the ``bench`` command does: this setting stays for the process.
  ``malloc_trim(0)`` before the steps returns the free heap pages an earlier temporary left
  resident, so a reused heap block counts again when the step touches it.
  Temporaries under 64 KiB (arrays of fewer than 16,384 float32 elements) do not show up
  in ``rss_bytes``; ``traced_bytes`` still sees NumPy's.

Example::

    >>> import numpy as np, fastopt
    >>> from fastopt.benchmarks.memory import step_memory
    >>> p, g = np.zeros(1 << 16, dtype=np.float32), np.ones(1 << 16, dtype=np.float32)
    >>> opt = fastopt.Adam([p]); opt.step([g])
    >>> step_memory(lambda: opt.step([g]), p.nbytes)["traced_arrays"]
    0.0
"""
import ctypes
import sys
import tracemalloc

_M_MMAP_THRESHOLD = -3
_mmap_threshold_set = False


def _proc_status():
    try:
        with open("/proc/self/status") as f:
            out = {}
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":")
                    out[key] = int(value.split()[0]) * 1024
            return out if len(out) == 2 else None
    except OSError:
        return None


def _reset_peak_rss():
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _malloc_trim():
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _mmap_large_blocks():
    """Ask glibc to mmap (and unmap on free) every block >= 64 KiB; see the module doc."""
    global _mmap_threshold_set
    if _mmap_threshold_set or not sys.platform.startswith("linux"):
        return _mmap_threshold_set
    try:
        libc = ctypes.CDLL(None)
        _mmap_threshold_set = bool(libc.mallopt(_M_MMAP_THRESHOLD, 64 * 1024))
    except (OSError, AttributeError):
        _mmap_threshold_set = False
    return _mmap_threshold_set


def rss_supported():
    """True if peak RSS can be measured here (Linux with a writable /proc/self/clear_refs)."""
    return _proc_status() is not None and _reset_peak_rss()


def step_memory(step, array_bytes, steps=3):
    """Peak extra memory of ``steps`` calls of ``step()`` (after one warm-up call).

    Returns ``{"traced_bytes", "traced_arrays", "rss_bytes", "steps"}`` (see the module doc);
    ``array_bytes`` is the size of one parameter array, the unit of ``arrays``.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if array_bytes <= 0:
        raise ValueError(f"array_bytes must be > 0, got {array_bytes}")
    step()
    rss = None
    if _mmap_large_blocks() and rss_supported():
        _malloc_trim()
        before = _proc_status()["VmRSS"]
        _reset_peak_rss()
        for _ in range(steps):
            step()
        rss = max(0, _proc_status()["VmHWM"] - before)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        step()  # first call under tracemalloc: its own bookkeeping allocates
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            step()
        traced = max(0, tracemalloc.get_traced_memory()[1] - base)
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return {"traced_bytes": traced, "traced_arrays": round(traced / array_bytes, 2),
            "rss_bytes": rss, "steps": steps}


def case_memory(case, steps=3):
    """Rows (dicts) of :func:`step_memory` for every implementation of a built case."""
    rows = []
    unit = max(p.nbytes for p in case.params)
    for name, step in case.steps.items():
        m = step_memory(step, unit, steps)
        rows.append({"algorithm": case.algorithm.name, "size": case.size,
                     "arrays": len(case.params), "elements": case.elements,
                     "dtype": case.dtype.name, "implementation": name,
                     "largest_array_bytes": unit, **m})
    return rows

