"""The benchmark's own parts: the floor notebooks, tree memory, parsing and the table."""
from __future__ import annotations

import json
import sys

from helpers.data import paths, plan
from helpers.runner import bench, steps


def test_floor_notebooks_hold_only_the_real_imports(tmp_path):
    written = bench.import_only_notebooks(tmp_path)
    assert [p.name for p in written] == list(plan.NOTEBOOKS)
    figures = json.loads((tmp_path / "04_figures.ipynb").read_text())
    code = ["".join(c["source"]) for c in figures["cells"]]
    assert len(code) == 1 and "from helpers.report import figures" in code[0]
    assert "draw(" not in code[0] and "start(" not in code[0]
    assert code[0].splitlines() == steps.import_lines(paths.NOTEBOOKS_DIR / "04_figures.ipynb")


def test_peak_memory_counts_the_whole_process_tree():
    child = "import time; block = bytearray(300 * 2**20); time.sleep(1.0)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    result = bench.measure([sys.executable, "-c", parent])
    assert result["returncode"] == 0
    assert result["peak_mb"] > 300  # the grandchild's block, not only the parent's few MB
    assert result["seconds"] >= 1.0


def test_step_lines_are_parsed_from_the_runner_output():
    out = ("Building ...\n  [1/5] 01_clean.ipynb                  up to date\n"
           "  [4/5] 04_figures.ipynb                2.1 s  (changed: notebook)\n"
           "  [5/5] 05_report.ipynb                 1.3 s  (reads the new output of 04_figures.ipynb)\n")
    result = bench.Measured(stdout=out)
    assert bench.steps_run(result) == ["04_figures.ipynb", "05_report.ipynb"]
    assert bench.step_seconds(result) == {"04_figures.ipynb": 2.1, "05_report.ipynb": 1.3}


def test_table_marks_each_target_met_or_missed():
    results = {
        "machine": {"date": "2026-11-26 08:00 UTC", "cpus": 2, "python": "3.11", "commit": "abc1234"},
        "repeat": 3, "floor": {"seconds": 12.0}, "cold_cohort1": {"seconds": 9.0}, "cold_over_floor": 0.75,
        "papermill_chain": {"seconds": 20.0}, "cold_over_chain": 0.45,
        "noop": {"seconds": 0.2, "steps_run": []}, "figures_only": {"seconds": 6.0}, "figures_over_cold": 0.67,
        "figure_cell": {"seconds": 4.5}, "figure_cell_over_cold": 0.5, "figure_cell_watch": {"seconds": 2.0},
        "figure_cell_watch_over_cold": 0.22, "bad_input": {"seconds": 1.2}, "missing_key": {"seconds": 2.5},
        "scale": [{"participants": 100_000, "references": 1_000_000, "seconds": 70.0, "peak_mb": 1500.0,
                   "report_bytes": 520_000}],
    }
    text = bench.table(results)
    assert "| Cold `make report`, cohort1 | 9.0 s = 0.75x floor | <= 1.25x floor | met |" in text
    assert "| Plain papermill chain: 5 papermill commands + nbconvert of the 5 | 20.0 s |  |  |" in text
    assert "| Cold `make report` against the papermill chain | 0.45x | <= 0.5x | met |" in text
    assert "| No-op `make report` | 0.20 s, steps run: 0 | < 0.5 s | met |" in text
    assert "67% of cold | < 40% of cold | MISSED |" in text
    assert "edited, `make report` | 4.5 s = 50% of cold | < 5 s and < 25% of cold | MISSED |" in text
    assert "`make watch` (kernels kept ready) | 2.0 s = 22% of cold | < 5 s and < 25% of cold | met |" in text
    assert "| Bad input -> message: a missing file | 1.20 s | < 2 s | met |" in text
    assert "| Bad input -> message: real data, no pseudonym key | 2.50 s | < 2 s | MISSED |" in text
    assert "70.0 s, peak 1,500 MB, report 0.52 MB | < 60 s, < 2 GB, report < 2 MB | MISSED |" in text
