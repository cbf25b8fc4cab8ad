"""``python -m fastopt bench``: runs a tiny case, prints well-formed tables and JSON."""
import json
import os
import subprocess
import sys

import pytest

from fastopt.__main__ import main as fastopt_main
from fastopt.benchmarks import cli

TINY = ["--algorithms", "adam", "--sizes", "1000", "--implementations", "fastopt,bound,numpy",
        "--repeat", "3", "--dtypes", "float32"]


def test_tiny_run_table_and_json(tmp_path, capsys):
    out_file = tmp_path / "r.json"
    assert cli.main(TINY + ["--json", str(out_file)]) == 0
    out, err = capsys.readouterr()
    assert "timing adam 1000 float32" in err and "done in" in err  # progress on stderr
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("algorithm  size"))
    for col in ("median", "x fastopt", "GB/s", "of bound"):
        assert col in lines[header]
    body = lines[header + 2:header + 5]
    assert [l.split()[0] for l in body] == ["adam", "bound", "numpy"]
    assert body[0].split()[3] == "fastopt" and "1.00" in body[0]
    assert "100%" in body[1]  # the bound is 100% of itself
    assert "Peak extra memory" in out and "Targets" in out

    data = json.loads(out_file.read_text())
    assert set(data) >= {"machine", "command", "first_order", "memory", "targets"}
    assert data["machine"]["cores"] == os.cpu_count()
    rows = {r["implementation"]: r for r in data["first_order"]}
    assert set(rows) == {"fastopt", "bound", "numpy"}
    for r in rows.values():
        assert r["repeat"] == 3 and r["elements"] == 1000 and r["bytes"] == 28_000
        assert r["median_s"] > 0 and r["gb_per_s"] == pytest.approx(28_000 / r["median_s"] / 1e9)
        assert r["q1_s"] <= r["median_s"] <= r["q3_s"] and r["cache"] == "warm"
    assert rows["fastopt"]["vs_fastopt"] == 1.0
    paired = [a / b for a, b in zip(rows["numpy"]["samples_s"], rows["fastopt"]["samples_s"])]
    assert rows["numpy"]["vs_fastopt"] == pytest.approx(sorted(paired)[1])  # median of 3
    assert rows["bound"]["bound_fraction"] == 1.0
    assert data["memory"][0]["implementation"] == "fastopt"
    assert data["memory"][0]["traced_bytes"] < 1024  # no array: a few Python objects
    assert any(t["met"] is True for t in data["targets"])


def test_markdown_threads_and_cold(capsys):
    assert cli.main(TINY + ["--format", "markdown", "--threads", "1,2", "--cold",
                            "--no-memory"]) == 0
    out = capsys.readouterr().out
    tables, current = [], None
    for line in out.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            current.append(line)
        else:
            current = None
    assert len(tables) == 3  # timings, thread scaling, targets
    for t in tables:
        assert t[1].startswith("|---") and len(t) >= 3
        assert all(l.count("|") == t[0].count("|") for l in t), t
    assert tables[0][0].startswith("| algorithm | size |")
    assert "Thread scaling" in out and "Peak extra memory" not in out
    assert [l.split("|")[1].strip() for l in tables[1][2:]] == ["1", "1", "2", "2"]


def test_plan_quick_and_full():
    quick = cli.plan_cases(cli.build_parser().parse_args(["--quick"]))
    assert ("adam", "1000", "float32") in quick and ("sgd", "1048576", "float32") in quick
    assert {d for _, _, d in quick} == {"float32"}
    full = cli.plan_cases(cli.build_parser().parse_args([]))
    assert ("adam", "gpt2-small", "float32") in full and ("sgd", "gpt2-small", "float32") \
        not in full
    assert ("adam", "33554432", "float32") in full and ("adam", "1000x1000", "float32") in full
    assert ("adam", "1048576", "float64") in full and ("nadam", "1000", "float64") not in full
    assert len(full) > len(quick)


@pytest.mark.parametrize("argv", [["--threads", "0"], ["--threads", "x"], ["--sizes", "12"],
                                  ["--algorithms", "lbfgs"], ["--plot", "p.png"],
                                  ["--repeat", "0"], ["--suite", "third-order"]])
def test_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    assert "error" in capsys.readouterr().err


def test_fmt_time():
    assert cli.fmt_time(1.234e-6) == "1.23 us"
    assert cli.fmt_time(338.4e-6) == "338 us"
    assert cli.fmt_time(12.34e-3) == "12.3 ms"
    assert cli.fmt_time(1.5) == "1.5 s"


def test_main_dispatch(capsys):
    assert fastopt_main(["--help"]) == 0
    assert "bench" in capsys.readouterr().out
    assert fastopt_main([]) == 2
    assert fastopt_main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_python_dash_m(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "fastopt", "bench", "--no-memory"] + TINY,
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "fastopt" in r.stdout and "Targets" in r.stdout
