"""The plan (helpers.data.plan): every output declared once, every notebook checked against it."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.data import paths, plan
from helpers.notebook import PlanError, Run, start
from helpers.report import outputs
from helpers.runner import pipeline

# Calls through which a notebook reads or writes an output: the call, and the position of the
# plan's output among its arguments.
WRITES = {("run", "write"): 0, ("run", "target"): 0, ("figures", "draw"): 1}
READS = {("run", "read"): 0}


def plan_name(node: ast.AST) -> str | None:
    """'THEME_TALLIES' for the expression plan.THEME_TALLIES."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "plan":
        return node.attr
    return None


def notebook_use(path: Path) -> tuple[str | None, list[str], list[str]]:
    """(the step a notebook starts, the outputs it writes, those it reads), by the names of the plan."""
    book = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code")
    step, writes, reads = None, [], []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "start":
            step = plan_name(node.args[0])
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            call = (func.value.id, func.attr)
            for table, found in ((WRITES, writes), (READS, reads)):
                if call in table:
                    found.append(plan_name(node.args[table[call]]) or ast.unparse(node.args[table[call]]))
    return step, writes, reads


@pytest.mark.parametrize("name", plan.NOTEBOOKS)
def test_every_notebook_writes_exactly_what_the_plan_declares_for_its_step(name):
    step_name, writes, reads = notebook_use(paths.NOTEBOOKS_DIR / name)
    step = getattr(plan, step_name)
    assert step.name == name, f"{name} starts the run of step {step.name}"
    for found in writes + reads:
        assert isinstance(getattr(plan, found, None), plan.Output), f"{name}: {found} is not an output of the plan"
    assert sorted(writes) == sorted(set(writes)), f"{name} writes an output twice"
    assert {getattr(plan, w) for w in writes} == set(step.writes)
    assert {getattr(plan, r) for r in reads} <= set(step.reads)


def test_each_output_has_one_step_that_writes_it_and_steps_read_only_earlier_outputs():
    written = [o for s in plan.STEPS for o in s.writes]
    assert len(written) == len(set(written))
    assert len({(o.tree, f) for o in written for f in o.files}) == sum(len(o.files) for o in written)
    for index, step in enumerate(plan.STEPS):
        for entry in step.reads:
            assert plan.STEPS.index(plan.producer(entry)) < index, (step.name, entry.name)
    figures_read = {t for f in plan.FIGURES.writes for t in f.reads}
    assert figures_read == set(plan.FIGURES.reads)


def test_every_table_and_figure_of_the_plan_is_presented_once():
    planned = {(o.kind, o.name) for o in plan.OUTPUTS if o.kind in (plan.TABLE, plan.FIGURE)}
    shown = [(o.kind, o.name) for o in outputs.OUTPUTS]
    assert len(shown) == len(set(shown)) and set(shown) == planned
    for entry in outputs.figures():
        assert entry.step == plan.FIGURES.name and outputs.get(entry.source)
        assert entry.beside in outputs.numbering()


def test_published_folder_names_carry_the_disclosure_settings():
    assert plan.published_name("cohort1") == "cohort1"
    assert plan.published_name("cohort1", 0, 1) == "cohort1"  # rounding to 1 changes nothing
    assert plan.published_name("cohort1", 7, 5) == "cohort1-min7-round5"
    for name in ("cohort1", "cohort1-min7-round5", "cohort1-min10", "my-study-round5"):
        assert plan.published_name(*plan.settings_of(name)) == name


def test_a_notebook_cannot_write_what_its_step_does_not_declare(tmp_path):
    run, _ = start(plan.DESCRIBE, "c", str(tmp_path / "raw"), str(tmp_path / "p"), str(tmp_path / "r"))
    frame = pd.DataFrame({"item": ["q_confident"], "n": [1]})
    with pytest.raises(PlanError, match=r"02_describe.ipynb does not declare that it writes table 'theme_tallies' "
                                        r"\(written by 03_thematic_tallies.ipynb\)"):
        run.write(plan.THEME_TALLIES, frame)
    with pytest.raises(PlanError, match="reads"):
        run.read(plan.THEME_TALLIES)
    assert not any((tmp_path / "r").rglob("*.csv"))
    assert run.write(plan.LIKERT_SUMMARY, frame) == tmp_path / "r" / "c" / "tables" / "likert_summary.csv"


def test_a_notebook_run_by_hand_writes_to_scratch_and_reads_the_published_report(tmp_path, monkeypatch):
    reports, processed = tmp_path / "reports", tmp_path / "processed"
    monkeypatch.setattr(paths, "REPORTS_DIR", reports)
    monkeypatch.setattr(paths, "PROCESSED_DIR", processed)
    published = reports / "c" / "tables"
    published.mkdir(parents=True)
    pd.DataFrame({"theme": ["A"], "references": [3], "pct_references": [100.0]}).to_csv(
        published / "theme_summary.csv", index=False)
    before = (published / "theme_summary.csv").read_bytes()

    run, _ = start(plan.FIGURES, "c", str(tmp_path / "raw"))  # blank out_dir: JupyterLab
    assert run.out == reports / paths.LAB_DIR / "c" and run.processed == processed / paths.LAB_DIR / "c"
    assert run.read(plan.THEME_SUMMARY)["references"].tolist() == [3]
    # A table the analyst rewrote by hand in the scratch folder (as 03 run by hand would) is read from there.
    tallies, _ = start(plan.TALLIES, "c", str(tmp_path / "raw"))
    tallies.write(plan.THEME_SUMMARY, pd.DataFrame({"theme": ["A"], "references": [4], "pct_references": [100.0]}))
    again, _ = start(plan.FIGURES, "c", str(tmp_path / "raw"))
    assert again.read(plan.THEME_SUMMARY)["references"].tolist() == [4]
    assert (published / "theme_summary.csv").read_bytes() == before  # the published report is untouched
    # Disclosure-controlled runs by hand have a scratch folder of their own.
    controlled, _ = start(plan.FIGURES, "c", str(tmp_path / "raw"), min_count=7, round_to=5)
    assert controlled.out == reports / paths.LAB_DIR / "c-min7-round5"


def test_the_runner_refuses_a_file_the_plan_does_not_declare(tmp_path):
    build = pipeline.Build(tmp_path / ".build" / "c", "c", tmp_path / "processed", tmp_path / "reports")
    stage = build.staging(plan.DESCRIBE.name)
    for name in ("tables/likert_summary.csv", "tables/theme_tallies.csv"):
        (stage / "reports" / "c" / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / "reports" / "c" / name).write_text("x\n")
    with pytest.raises(pipeline.PipelineError, match="does not declare for it: reports/c/tables/theme_tallies.csv"):
        pipeline._collect(build, {}, plan.DESCRIBE.name)
    (stage / "reports" / "c" / "tables" / "theme_tallies.csv").unlink()
    with pytest.raises(pipeline.PipelineError, match="did not write participant_characteristics"):
        pipeline._collect(build, {}, plan.DESCRIBE.name)


def test_run_object_names_its_step():
    assert "02_describe.ipynb" in repr(Run(plan.DESCRIBE, paths.RunDirs("c", out_dir="/tmp/x")))
