"""Incremental builds: a rerun does only what changed, and never reuses outputs built otherwise."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CONTROLLED, CONTROLS, tree_hash

from helpers.data import paths, plan
from helpers.runner import bench

pytestmark = pytest.mark.e2e
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def run(out: Path, notebooks: Path, raw: Path = paths.RAW_DIR, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", "cohort1", "--raw-dir", str(raw),
         "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports"),
         "--notebooks-dir", str(notebooks), *extra],
        capture_output=True, text=True, env={**os.environ, **EPOCH})


def steps_run(result: subprocess.CompletedProcess) -> list[str]:
    """The notebooks a run executed, from its step lines ('  [4/5] 04_figures.ipynb   3.9 s')."""
    assert result.returncode == 0, result.stdout + result.stderr
    return re.findall(r"\[\d/\d\] (\S+\.ipynb) +\d+\.\d s", result.stdout)


def function_steps_run(result: subprocess.CompletedProcess) -> list[str]:
    """The steps of the runner's own (report.pdf, manuscript) a run executed, in name order."""
    return sorted(re.findall(r"\[\d/\d\] (report\.pdf|manuscript) +\d+\.\d s", result.stdout))


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) per file: a file that was written again gets a new mtime."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def built(published, tmp_path):
    """A private copy of the shared build (conftest.published; copy2 keeps the mtimes the build
    recorded) and of the notebooks, to edit: (out, notebooks)."""
    return (published.copy_to(tmp_path / "out"), shutil.copytree(paths.NOTEBOOKS_DIR, tmp_path / "notebooks"))


def test_cold_build_runs_every_step_and_the_two_independent_ones_at_once(published):
    """From the shared build's lines: each step starts once the steps it reads have ended, and
    02 and 03 both start before either ends (two steps at a time, on this machine's cores)."""
    lines = published.results["cohort1"]["stdout"].splitlines()

    def at(step: str, ending: bool) -> int:
        return next(i for i, line in enumerate(lines) if f"] {step}" in line
                    and (re.search(r" \d+\.\d s", line) if ending else line.endswith(("running...", "kernels..."))))

    assert sorted(steps_run(subprocess.CompletedProcess([], **published.results["cohort1"]))) == list(plan.NOTEBOOKS)
    describe, tallies = "02_describe.ipynb", "03_thematic_tallies.ipynb"
    assert max(at(describe, False), at(tallies, False)) < min(at(describe, True), at(tallies, True)), lines
    assert min(at(describe, False), at(tallies, False)) > at("01_clean.ipynb", True)
    assert at("04_figures.ipynb", False) > max(at(describe, True), at(tallies, True))


def test_rerun_with_nothing_changed_does_nothing(built):
    out, notebooks = built
    before = stats(out / "reports" / "cohort1") | stats(out / "processed" / "cohort1")
    result = run(out, notebooks)
    assert steps_run(result) == [] and "Up to date" in result.stdout and "Building" not in result.stdout
    assert stats(out / "reports" / "cohort1") | stats(out / "processed" / "cohort1") == before


def test_a_touched_raw_file_is_not_a_change_and_a_changed_one_reruns_from_cleaning(built, bundled_raw_copy):
    out, notebooks = built
    assert len(steps_run(run(out, notebooks, bundled_raw_copy))) == 5  # raw_dir is a parameter
    os.utime(bundled_raw_copy / "cohort1" / "questionnaire.csv")
    assert steps_run(run(out, notebooks, bundled_raw_copy)) == []
    segments = bundled_raw_copy / "cohort1" / "coded_segments.csv"
    segments.write_text(segments.read_text().replace("Getting the consultants", "Getting the surgeons", 1))
    result = run(out, notebooks, bundled_raw_copy)
    assert sorted(steps_run(result)) == list(plan.NOTEBOOKS) and "raw (cohort1/coded_segments.csv)" in result.stdout


def test_a_figures_notebook_edit_reruns_the_report_only_when_a_figure_changed(built):
    """Early cutoff: a step rebuilt with the same bytes does not make the steps after it rerun."""
    out, notebooks = built
    kept = stats(out / "processed" / "cohort1")
    tables = stats(out / "reports" / "cohort1" / "tables")
    page = stats(out / "reports" / "cohort1")["report.html"]
    book = json.loads((notebooks / "04_figures.ipynb").read_text())
    book["cells"][0]["source"].append("\n\nEdited for the test.")
    (notebooks / "04_figures.ipynb").write_text(json.dumps(book, indent=1))
    result = run(out, notebooks)  # a heading: every figure comes out byte-identical
    assert steps_run(result) == ["04_figures.ipynb"], result.stdout
    assert "04_figures.ipynb" in result.stdout and "(changed: notebook)" in result.stdout
    # Every figure's inputs are as when the shared build drew it: each is fetched from the memo.
    assert "drew none, kept 9 figures drawn from the same inputs before" in result.stdout, result.stdout
    assert re.search(r"01_clean.ipynb +up to date", result.stdout)
    assert re.search(r"05_report.ipynb +up to date \(what it reads came out unchanged\)", result.stdout)
    assert stats(out / "reports" / "cohort1")["report.html"] == page
    executed = (out / "reports" / "cohort1" / "notebooks" / "04_figures.ipynb").read_text()
    assert "Edited for the test." in executed
    assert steps_run(run(out, notebooks)) == []

    figure = out / "reports" / "cohort1" / "figures" / "role_groups.png"
    others = {k: v for k, v in tree_hash(out / "reports" / "cohort1" / "figures").items() if "role_groups" not in k}
    before = figure.read_bytes()
    bench.edit_figure_cell(notebooks, 1)  # one figure's cell: that figure changes, so the page does
    result = run(out, notebooks)
    assert steps_run(result) == ["04_figures.ipynb", "05_report.ipynb"], result.stdout
    assert "reads the new output of 04_figures.ipynb" in result.stdout
    assert "drew role_groups, kept 8 figures drawn from the same inputs before" in result.stdout, result.stdout
    assert figure.read_bytes() != before
    assert {k: v for k, v in tree_hash(out / "reports" / "cohort1" / "figures").items()
            if "role_groups" not in k} == others
    assert stats(out / "processed" / "cohort1") == kept
    assert {k: v for k, v in stats(out / "reports" / "cohort1" / "tables").items()
            if k != "reproduction_check.csv"} == {k: v for k, v in tables.items() if k != "reproduction_check.csv"}
    assert steps_run(run(out, notebooks)) == []


def test_a_pdf_and_manuscript_once_asked_for_are_rebuilt_with_their_report(built):
    """make pdf, make manuscript, then a figure edit and a plain make report: both are rebuilt
    from the new report and published with it, never left behind or dropped."""
    out, notebooks = built
    report = out / "reports" / "cohort1"
    before = tree_hash(report)
    result = run(out, notebooks, paths.RAW_DIR, "--with", "pdf", "--with", "manuscript")
    assert steps_run(result) == [] and function_steps_run(result) == ["manuscript", "report.pdf"]
    assert "(asked for)" in result.stdout
    assert {k: v for k, v in tree_hash(report).items() if k in before} == before  # the report as it was
    assert (report / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (report / "manuscript" / "tables.docx").is_file()

    bench.edit_figure_cell(notebooks, 1)
    result = run(out, notebooks)  # a plain make report
    assert steps_run(result) == ["04_figures.ipynb", "05_report.ipynb"]
    assert function_steps_run(result) == ["manuscript", "report.pdf"]
    assert (report / "report.pdf").is_file() and (report / "manuscript" / "numbers.json").is_file()
    state = json.loads((out / "reports" / ".build" / "cohort1" / "state.json").read_text())
    page = {"reports/cohort1/report.html": hashlib.sha256((report / "report.html").read_bytes()).hexdigest()}
    assert state["steps"]["report.pdf"]["inputs"]["upstream"] == page  # printed from the new page
    assert state["steps"]["manuscript"]["inputs"]["upstream"]["reports/cohort1/figures/role_groups.png"] == \
        hashlib.sha256((report / "figures" / "role_groups.png").read_bytes()).hexdigest()
    assert run(out, notebooks).stdout.startswith("Up to date")


def test_saving_outputs_from_jupyterlab_is_not_a_change(built):
    out, notebooks = built
    book = json.loads((notebooks / "02_describe.ipynb").read_text())
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = 7
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["saved in Lab\n"]}]
    (notebooks / "02_describe.ipynb").write_text(json.dumps(book, indent=1))
    assert steps_run(run(out, notebooks)) == []


def test_a_controlled_report_is_built_beside_the_full_one_never_over_it(published, tmp_path):
    # The shared build made cohort1, then cohort1 with disclosure control, in the same folders.
    result = published.results[CONTROLLED]
    # 02 and 03 run side by side: their lines come in the order they finish.
    assert sorted(steps_run(subprocess.CompletedProcess([], **result))) == list(plan.NOTEBOOKS), result["stdout"]
    assert "[REDACTED]" in (published.out / "reports" / CONTROLLED / "tables" / "participants_by_role.csv").read_text()
    assert (published.out / "processed" / CONTROLLED / "participants.parquet").is_file()
    assert published.full_after_controlled == published.full_before_controlled  # the full report is untouched
    out = published.copy_to(tmp_path / "out")
    assert steps_run(run(out, paths.NOTEBOOKS_DIR)) == []  # and still up to date
    assert steps_run(run(out, paths.NOTEBOOKS_DIR, paths.RAW_DIR, *CONTROLS)) == []  # both kept side by side


def test_an_output_edited_by_hand_is_rebuilt_by_the_step_that_writes_it(built):
    out, notebooks = built
    summary = out / "reports" / "cohort1" / "tables" / "theme_summary.csv"
    original = summary.read_text()
    # Rewritten with the same bytes (in place, and as a new file): not a change.
    summary.write_text(original)
    assert steps_run(run(out, notebooks)) == []
    summary.unlink()
    summary.write_text(original)
    assert steps_run(run(out, notebooks)) == []
    with open(summary, "a") as handle:  # in place, as a spreadsheet program might
        handle.write("Invented theme,1,1\n")
    result = run(out, notebooks)
    # 03 writes the table again as it was, so 04 and 05, built from those bytes, are kept (early cutoff).
    assert steps_run(result) == ["03_thematic_tallies.ipynb"], result.stdout
    assert "output missing or changed" in result.stdout
    assert summary.read_text() == original
    (out / "reports" / "cohort1" / "report.html").unlink()
    assert steps_run(run(out, notebooks)) == ["05_report.ipynb"]


def test_a_failing_step_beside_a_running_one_keeps_the_report_and_names_the_step(built):
    out, notebooks = built
    report = out / "reports" / "cohort1" / "report.html"
    previous = report.read_bytes()
    book = json.loads((notebooks / "03_thematic_tallies.ipynb").read_text())
    code = [c for c in book["cells"] if c["cell_type"] == "code"]
    code[-1]["source"] = ["raise RuntimeError('broken on purpose')\n"]
    (notebooks / "03_thematic_tallies.ipynb").write_text(json.dumps(book, indent=1))
    (notebooks / "02_describe.ipynb").write_text((notebooks / "02_describe.ipynb").read_text() + " ")
    book2 = json.loads((notebooks / "02_describe.ipynb").read_text())
    book2["cells"][0]["source"].append(" ")  # 02 reruns too, beside 03
    (notebooks / "02_describe.ipynb").write_text(json.dumps(book2, indent=1))
    result = run(out, notebooks, paths.RAW_DIR, "--jobs", "2")
    assert result.returncode == 1
    assert "03_thematic_tallies.ipynb failed" in result.stderr and "broken on purpose" in result.stderr
    assert (out / "reports" / "_failed" / "cohort1" / "03_thematic_tallies.ipynb").is_file()
    assert report.read_bytes() == previous and not (out / "reports" / ".build" / "cohort1" / "run").exists()
