"""The build's step graph and fingerprints, and the checks made before any notebook runs.

None of these starts a Jupyter kernel: they run in the fast loop (`make test-fast`).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from helpers.data import paths, plan
from helpers.runner import pipeline, steps


def run_pipeline(cohort: str, raw: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", cohort, "--raw-dir", str(raw),
         "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports")],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )


def helper_files() -> dict[str, set[str]]:
    return {name: {p.relative_to(steps.PACKAGE_DIR).as_posix() for p in steps.helper_files(paths.NOTEBOOKS_DIR / name)}
            for name in plan.NOTEBOOKS}


def test_each_step_depends_on_the_helpers_it_imports():
    files = helper_files()
    assert {"analysis/clean.py", "data/load.py", "data/privacy.py", "data/store.py"} <= files["01_clean.ipynb"]
    assert "report/figures.py" not in files["01_clean.ipynb"] and "report/page.py" not in files["01_clean.ipynb"]
    assert "report/figures.py" in files["04_figures.ipynb"] and "report/page.py" not in files["04_figures.ipynb"]
    assert {"report/page.py", "report/repro.py", "report/readings.py", "report/outputs.py",
            "report/templates/report.html.j2", "report/published_figures.csv"} <= files["05_report.ipynb"]
    assert "report/templates/index.html.j2" not in files["05_report.ipynb"]
    assert all("__init__.py" in found for found in files.values())


def test_an_analysis_module_is_read_only_by_the_steps_whose_notebooks_use_it():
    files = helper_files()
    readers = {module: [name[:2] for name in plan.NOTEBOOKS if module in files[name]]
               for module in ("analysis/agreement.py", "analysis/themes.py", "analysis/participants.py",
                              "analysis/cooccurrence.py", "analysis/saturation.py", "report/figures.py",
                              "report/readings.py")}
    assert readers == {"analysis/agreement.py": ["03"], "analysis/themes.py": ["03"],
                       "analysis/participants.py": ["02"], "analysis/cooccurrence.py": ["03"],
                       "analysis/saturation.py": ["03"], "report/figures.py": ["04"], "report/readings.py": ["05"]}


def test_later_steps_do_not_import_the_validation_or_the_build_engine():
    files = helper_files()
    for name in ("02_describe.ipynb", "03_thematic_tallies.ipynb", "04_figures.ipynb", "05_report.ipynb"):
        assert "data/load.py" not in files[name], name  # load imports pandera: only cleaning needs it
    assert not any(f.startswith(("runner/", "tools/", "importers/")) for found in files.values() for f in found)


def test_the_step_graph_is_derived_from_what_each_step_reads():
    assert [s.name for s in plan.parents(plan.FIGURES)] == ["02_describe.ipynb", "03_thematic_tallies.ipynb"]
    assert plan.descendants(plan.FIGURES, plan.ALWAYS) == (plan.REPORT,)
    assert plan.ancestors(plan.FIGURES) == (plan.CLEAN, plan.DESCRIBE, plan.TALLIES)
    assert plan.parents(plan.CLEAN) == ()
    with_manuscript = plan.active({"manuscript"})
    assert with_manuscript[-1] is plan.WRITE_MANUSCRIPT and plan.PRINT_PDF not in with_manuscript


@pytest.mark.parametrize("flags, expected", [
    ("", os.cpu_count()), ("s", os.cpu_count()), ("s -j3 --jobserver-auth=3,4", 3), (" -j", os.cpu_count()),
    (" -j1 --jobserver-auth=fifo:/tmp/x", 1), (" --jobs=4", 4),
])
def test_make_j_sets_how_many_steps_run_at_once(flags, expected, monkeypatch):
    monkeypatch.setenv("MAKEFLAGS", flags)
    assert pipeline.default_jobs() == expected


def test_unknown_cohort_lists_existing_ones_before_running_anything(tmp_path):
    result = run_pipeline("cohort9", paths.RAW_DIR, tmp_path)
    assert result.returncode == 1
    assert "Unknown cohort 'cohort9'" in result.stderr and "cohort1, cohort2, all" in result.stderr
    assert not (tmp_path / "reports" / "cohort9").exists()


@pytest.mark.parametrize("variable, value", [
    ("COHORT", "cohort1;touch PWNED"),
    ("COHORT", "`touch PWNED`"),
    ("COHORT", "$(touch PWNED)"),
    ("COHORT", "../cohort1"),
    ("COHORT", "/etc"),
    ("RAW_DIR", "data/raw;touch PWNED"),
    ("RAW_DIR", "data/raw`touch PWNED`"),
])
def test_unsafe_parameters_are_refused_before_anything_runs(variable, value, tmp_path):
    result = subprocess.run(["make", "-s", "report", f"{variable}={value}"], cwd=paths.PROJECT_ROOT,
                            capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode != 0
    assert "ERROR:" in result.stderr and "Building the report" not in result.stdout
    assert not (paths.PROJECT_ROOT / "PWNED").exists() and not Path("PWNED").exists()


def test_notebooks_name_the_project_kernel_and_it_uses_this_environment(monkeypatch):
    names = {nbformat.read(paths.NOTEBOOKS_DIR / n, as_version=4).metadata.kernelspec.name for n in plan.NOTEBOOKS}
    assert names == {"nhsda-eval"}
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))  # as make lab sets it
    spec = KernelSpecManager().get_kernel_spec("nhsda-eval")
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve(), "the kernel must use .venv's Python"


def test_every_function_the_makefile_calls_is_defined():
    """A target calling an undefined function gets an empty argument from make, silently."""
    import re

    text = (paths.PROJECT_ROOT / "Makefile").read_text()
    called = set(re.findall(r"\$\(call (\w+),", text))
    defined = set(re.findall(r"^(\w+) *[:?]?= ", text, flags=re.M))
    assert called and called <= defined, called - defined
