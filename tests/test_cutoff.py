"""Early cutoff and checks before kernels, through pipeline.run in process with no kernel.

Each step is replaced by a writer of its declared outputs (`written` says what bytes each
output gets, "same" unless a test changes it), so what reruns is decided by the runner's own
fingerprints and output digests, and the test takes a second or two, not a build's minute.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from helpers.data import paths, plan
from helpers.runner import pipeline


@pytest.fixture
def steps_in_process(monkeypatch):
    """(what each output is written as, the steps run so far) with every step a plain writer."""
    written: dict[str, str] = {}
    ran: list[str] = []

    def execute(build, name, *args, **kwargs):
        ran.append(name)
        for output in plan.step(name).outputs:
            for file in () if output.when else output.files:
                path = build.staging(name) / output.tree / build.cohort / file
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(written.get(output.name, "same"))

    monkeypatch.setattr(pipeline._Kernels, "warm", lambda self, notebook, log: None)
    monkeypatch.setattr(pipeline, "_execute", execute)
    return written, ran


def edit_heading(notebooks: Path, name: str, text: str) -> None:
    book = json.loads((notebooks / name).read_text())
    book["cells"][0]["source"].append(f"\n\n{text}")
    (notebooks / name).write_text(json.dumps(book, indent=1))


def build(tmp_path: Path, notebooks: Path, capsys) -> str:
    pipeline.run("cohort1", paths.RAW_DIR, tmp_path / "processed", tmp_path / "reports", jobs=1,
                 notebooks_dir=notebooks)
    return capsys.readouterr().out


def test_a_step_rebuilt_with_the_same_bytes_does_not_rerun_the_steps_after_it(tmp_path, steps_in_process, capsys):
    written, ran = steps_in_process
    notebooks = shutil.copytree(paths.NOTEBOOKS_DIR, tmp_path / "notebooks")
    build(tmp_path, notebooks, capsys)
    assert ran == list(plan.NOTEBOOKS)

    ran.clear()
    edit_heading(notebooks, plan.TALLIES.name, "A new sentence.")
    out = build(tmp_path, notebooks, capsys)
    assert ran == [plan.TALLIES.name], out  # its tables came out the same: 04 and 05 are kept
    for later in (plan.FIGURES.name, plan.REPORT.name):
        assert re.search(rf"{re.escape(later)} +up to date \(what it reads came out unchanged\)", out), out

    ran.clear()
    edit_heading(notebooks, plan.TALLIES.name, "Another sentence.")
    written[plan.THEME_SUMMARY.name] = "one table changed"
    out = build(tmp_path, notebooks, capsys)
    assert ran == [plan.TALLIES.name, plan.FIGURES.name, plan.REPORT.name], out  # 02 reads no table of 03
    assert "(reads the new output of 03_thematic_tallies.ipynb)" in out

    ran.clear()
    build(tmp_path, notebooks, capsys)
    assert ran == []  # what the cutoff recorded holds: nothing left to do


def test_the_cleaning_step_rebuilt_the_same_stops_the_cascade_at_once(tmp_path, steps_in_process, capsys):
    _, ran = steps_in_process
    notebooks = shutil.copytree(paths.NOTEBOOKS_DIR, tmp_path / "notebooks")
    build(tmp_path, notebooks, capsys)
    ran.clear()
    edit_heading(notebooks, plan.CLEAN.name, "A new sentence.")
    build(tmp_path, notebooks, capsys)
    assert ran == [plan.CLEAN.name]


def test_bad_input_is_answered_before_any_kernel_with_the_checks_message(tmp_path, steps_in_process, capsys,
                                                                         bundled_raw_copy):
    _, ran = steps_in_process
    (bundled_raw_copy / "cohort1" / paths.SOURCES).unlink()
    with pytest.raises(pipeline.PipelineError) as failed:
        pipeline.run("cohort1", bundled_raw_copy, tmp_path / "processed", tmp_path / "reports", jobs=1)
    assert ran == [] and "starting kernels" not in capsys.readouterr().out
    assert str(failed.value) == pipeline.check_inputs("cohort1", bundled_raw_copy, tmp_path / "reports")
