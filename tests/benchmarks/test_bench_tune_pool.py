"""bench/tune_pool.py runs (one short round per spin window) and leaves the pool's spin
window as it found it; no timing is asserted."""
import importlib.util
import os

from fastopt import _pool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tune_pool():
    spec = importlib.util.spec_from_file_location(
        "tune_pool", os.path.join(ROOT, "bench", "tune_pool.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tune_pool_reports_every_figure_for_every_window_and_restores_the_spin(capsys):
    tune = _tune_pool()
    before = _pool._set_spin_us(37)
    try:
        assert tune.main(["--quick", "--spins", "0,37"]) == 0
        assert _pool._set_spin_us(37) == 37             # restored after the run
    finally:
        _pool._set_spin_us(before)
    out = capsys.readouterr().out
    assert all(figure in out for figure in tune.FIGURES)
    assert "| 0 |" in out and "| 37 (default) |" in out
