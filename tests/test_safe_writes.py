"""No write or delete through a symbolic link planted where the project writes (reports/_failed,
the index page and its figures, the PDF, the notebooks' scratch folders), and runs of one report
at once refused with a message, never a traceback."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.analysis.disclosure import Disclosure
from helpers.data import paths, safe_write
from helpers.report import index, pdf
from helpers.runner import pipeline


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A folder outside the project holding a folder named after a cohort, as a home folder might."""
    outside = tmp_path / "outside"
    (outside / "cohort1").mkdir(parents=True)
    (outside / "cohort1" / "thesis.docx").write_text("precious")
    (outside / "index.html").write_text("precious page")
    return outside


def untouched(victim: Path) -> bool:
    return (sorted(str(p.relative_to(victim)) for p in victim.rglob("*")) == ["cohort1", "cohort1/thesis.docx",
                                                                               "index.html"]
            and (victim / "cohort1" / "thesis.docx").read_text() == "precious"
            and (victim / "index.html").read_text() == "precious page")


# --- the helper ---------------------------------------------------------------------------------

def test_remove_refuses_a_path_through_a_link_and_deletes_nothing(tmp_path, victim):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "_failed").symlink_to(victim)
    with pytest.raises(safe_write.LinkRefused) as refused:
        safe_write.remove(reports / "_failed" / "cohort1", reports)
    assert f"{reports / '_failed'} -> {victim}" in str(refused.value) and untouched(victim)
    (reports / "_failed").unlink()
    (reports / "_failed").mkdir()
    (reports / "_failed" / "cohort1").symlink_to(victim / "cohort1")  # the folder itself a link
    with pytest.raises(safe_write.LinkRefused):
        safe_write.remove(reports / "_failed" / "cohort1", reports)
    assert untouched(victim)


def test_remove_deletes_a_real_folder_and_keeps_links_inside_it_pointing_where_they_did(tmp_path, victim):
    reports = tmp_path / "reports"
    (reports / "_failed" / "cohort1").mkdir(parents=True)
    (reports / "_failed" / "cohort1" / "inner").symlink_to(victim / "cohort1")
    safe_write.remove(reports / "_failed" / "cohort1", reports)
    assert not (reports / "_failed" / "cohort1").exists() and untouched(victim)
    safe_write.remove(reports / "_failed" / "cohort1", reports)  # absent: nothing to do


def test_a_file_is_replaced_in_one_rename_never_written_through_a_link(tmp_path, victim):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "index.html").symlink_to(victim / "index.html")
    with pytest.raises(safe_write.LinkRefused, match="index.html"):
        safe_write.write_text(reports / "index.html", "new", reports)
    assert untouched(victim) and [p.name for p in reports.iterdir()] == ["index.html"]  # no temporary file left
    (reports / "index.html").unlink()
    safe_write.write_text(reports / "index.html", "new", reports)
    assert (reports / "index.html").read_text() == "new" and not (reports / "index.html").is_symlink()


def test_make_dir_refuses_a_linked_folder_on_the_way(tmp_path, victim):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "index_figures").symlink_to(victim)
    with pytest.raises(safe_write.LinkRefused, match="index_figures"):
        safe_write.make_dir(reports / "index_figures" / "sub", reports)
    assert untouched(victim)


def test_a_path_outside_its_root_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="not under"):
        safe_write.check(tmp_path / "a", tmp_path / "b")


# --- reports/_failed ------------------------------------------------------------------------------

def test_a_link_at_reports_failed_stops_a_run_before_anything_and_deletes_nothing(tmp_path, victim):
    """A successful run clears reports/_failed/<cohort>, a failed one replaces it: through a link at
    reports/_failed both deleted the outside folder named after the cohort. Now the run stops before
    any step, naming the link."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "_failed").symlink_to(victim)
    with pytest.raises(safe_write.LinkRefused) as refused:
        pipeline.run("cohort1", paths.RAW_DIR, tmp_path / "processed", reports)
    assert f"{reports / '_failed'} -> {victim}" in str(refused.value)
    assert untouched(victim) and not (reports / pipeline.BUILD_DIR / "cohort1" / "steps").exists()
    result = subprocess.run([sys.executable, "-m", "helpers.runner.pipeline", "--cohort", "cohort1",
                             "--reports-dir", str(reports), "--processed-dir", str(tmp_path / "processed")],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("ERROR: Refusing to clear or keep failed notebooks") and untouched(victim)


def test_a_link_at_the_cohort_s_failed_folder_is_refused_too(tmp_path, victim):
    reports = tmp_path / "reports"
    (reports / "_failed").mkdir(parents=True)
    (reports / "_failed" / "cohort1").symlink_to(victim / "cohort1")
    with pytest.raises(safe_write.LinkRefused, match=str(reports / "_failed" / "cohort1")):
        pipeline.run("cohort1", paths.RAW_DIR, tmp_path / "processed", reports)
    assert untouched(victim)


def _build(tmp_path: Path) -> pipeline.Build:
    """A build folder with an executed notebook and a kernel log in its staging folder, as a
    failed step leaves them."""
    reports = tmp_path / "reports"
    build = pipeline.Build(reports / pipeline.BUILD_DIR / "cohort1", "cohort1", tmp_path / "processed", reports,
                           state={})
    build.executed("01_clean.ipynb").parent.mkdir(parents=True)
    build.executed("01_clean.ipynb").write_text("{}")
    build.kernel_log("01_clean.ipynb").write_text("kernel said")
    return build


def test_a_failed_step_with_a_link_planted_at_reports_failed_meanwhile_keeps_nothing_through_it(tmp_path, victim):
    """The link appears while the run is going: the failure is reported, the notebook is not kept,
    the message says why, and the outside folder is as it was."""
    build = _build(tmp_path)
    (tmp_path / "reports" / "_failed").symlink_to(victim)
    failure = pipeline._StepFailed("01_clean.ipynb", RuntimeError("boom"))
    with pytest.raises(pipeline.PipelineError) as raised:
        pipeline._report_failure(build, failure, [], "cohort1")
    message = str(raised.value)
    assert message.startswith("Step 1/5 01_clean.ipynb failed for cohort 'cohort1'.") and "boom" in message
    assert "The executed notebook was not kept" in message and f"{tmp_path / 'reports' / '_failed'} -> {victim}" \
        in message and "is kept at" not in message
    assert untouched(victim)


def test_a_failed_step_keeps_its_notebook_in_a_real_failed_folder(tmp_path):
    build = _build(tmp_path)
    failure = pipeline._StepFailed("01_clean.ipynb", RuntimeError("boom"))
    with pytest.raises(pipeline.PipelineError, match="is kept at"):
        pipeline._report_failure(build, failure, [], "cohort1")
    kept = tmp_path / "reports" / "_failed" / "cohort1"
    assert sorted(p.name for p in kept.iterdir()) == ["01_clean.ipynb", "01_clean.kernel.log"]


def test_a_published_run_leaves_a_link_planted_at_reports_failed_meanwhile_and_says_so(tmp_path, victim):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "_failed").symlink_to(victim)
    said: list[str] = []
    pipeline._clear_failed(reports, "cohort1", said.append)
    assert untouched(victim) and len(said) == 1 and "the earlier failed notebooks were not cleared" in said[0]
    (reports / "_failed").unlink()
    (reports / "_failed" / "cohort1").mkdir(parents=True)
    pipeline._clear_failed(reports, "cohort1", said.append)
    assert not (reports / "_failed" / "cohort1").exists() and len(said) == 1


# --- the index ------------------------------------------------------------------------------------

@pytest.mark.parametrize("planted", ["index.html", "index_figures", "index_figures/theme_shares.png"])
def test_make_report_all_refuses_a_link_where_the_index_goes_before_building(tmp_path, victim, planted):
    reports = tmp_path / "reports"
    link = reports / planted
    link.parent.mkdir(parents=True)
    target = victim / "index.html" if planted.endswith((".html", ".png")) else victim
    link.symlink_to(target)
    result = subprocess.run([sys.executable, "-m", "helpers.runner.pipeline", "--all", "--reports-dir", str(reports),
                             "--processed-dir", str(tmp_path / "processed")], capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ERROR: Refusing to write the index" in result.stderr and f"{link} -> {target}" in result.stderr
    assert "Building" not in result.stdout and not (reports / pipeline.BUILD_DIR).exists()  # nothing built
    assert untouched(victim)


@pytest.mark.parametrize("planted", ["index.html", "index_figures"])
def test_the_index_is_never_written_through_a_link(tmp_path, victim, planted):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / planted).symlink_to(victim / "index.html" if planted == "index.html" else victim)
    with pytest.raises(safe_write.LinkRefused, match=planted):
        index.write_index(reports, paths.RAW_DIR, ["cohort1"], {"cohort1": False}, Disclosure())
    assert untouched(victim)
    (reports / planted).unlink()
    page = index.write_index(reports, paths.RAW_DIR, ["cohort1"], {"cohort1": False}, Disclosure())
    assert page == reports / "index.html" and "cohort1" in page.read_text() and not page.is_symlink()


# --- the PDF --------------------------------------------------------------------------------------

def test_a_pdf_is_never_printed_through_a_link(tmp_path, victim):
    folder = tmp_path / "page"
    folder.mkdir()
    (folder / "report.html").write_text("<p>hello</p>")
    (folder / "report.pdf").symlink_to(victim / "index.html")
    with pytest.raises(safe_write.LinkRefused, match="report.pdf"):
        pdf.print_pdf(folder / "report.html")
    assert untouched(victim) and sorted(p.name for p in folder.iterdir()) == ["report.html", "report.pdf"]


@pytest.mark.browser
def test_a_link_at_the_old_fixed_temporary_name_is_not_printed_through(tmp_path, victim):
    """The PDF was printed to report.pdf.partial, a fixed name: a link planted there had Chromium
    write the PDF over whatever it pointed to. Now the temporary file is new each time (O_EXCL)."""
    folder = tmp_path / "page"
    folder.mkdir()
    (folder / "report.html").write_text("<p>hello</p>")
    (folder / "report.pdf.partial").symlink_to(victim / "index.html")
    printed = pdf.print_pdf(folder / "report.html")
    assert printed.read_bytes().startswith(b"%PDF") and not printed.is_symlink()
    assert untouched(victim) and sorted(p.name for p in folder.iterdir()) == ["report.html", "report.pdf",
                                                                              "report.pdf.partial"]


def test_printing_a_published_report_by_hand_is_refused_for_make_pdf(tmp_path):
    """A published page is printed by `make pdf`, under its cohort's lock; by hand it would change
    a published version outside any run."""
    build = tmp_path / "reports" / ".build" / "cohort1" / "versions" / "1" / "reports" / "cohort1"
    build.mkdir(parents=True)
    (build / "report.html").write_text("<p>hello</p>")
    (tmp_path / "reports" / "cohort1").symlink_to(build)
    result = subprocess.run([sys.executable, "-m", "helpers.report.pdf", str(tmp_path / "reports" / "cohort1" /
                                                                             "report.html")],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "make pdf COHORT=<cohort>" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in build.iterdir()) == ["report.html"]


# --- notebooks run by hand --------------------------------------------------------------------------

def test_a_notebook_run_by_hand_refuses_a_link_in_its_scratch_folder(tmp_path, victim, monkeypatch):
    from helpers.data import plan
    from helpers.notebook import start

    monkeypatch.setattr(paths, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setattr(paths, "PROCESSED_DIR", tmp_path / "processed")
    lab = tmp_path / "reports" / paths.LAB_DIR
    lab.mkdir(parents=True)
    (lab / "cohort1").symlink_to(victim / "cohort1")
    with pytest.raises(safe_write.LinkRefused, match=str(lab / "cohort1")):
        start(plan.TALLIES, "cohort1", str(paths.RAW_DIR))
    (lab / "cohort1").unlink()
    (lab / "cohort1" / "tables").mkdir(parents=True)
    (lab / "cohort1" / "tables" / "theme_tallies.csv").symlink_to(victim / "index.html")  # a file, not a folder
    with pytest.raises(safe_write.LinkRefused, match="theme_tallies.csv"):
        start(plan.TALLIES, "cohort1", str(paths.RAW_DIR))
    assert untouched(victim)


# --- runs at once -----------------------------------------------------------------------------------

@pytest.mark.parametrize("target,folder", [("manuscript", "cohort1"), ("pdf", "cohort1"),
                                           ("manuscript", "cohort1-min7-round5")])
def test_make_manuscript_or_pdf_while_another_run_builds_the_report_is_refused_with_a_message(tmp_path, target,
                                                                                              folder):
    """`make manuscript` and `make pdf` are runs of the runner (`--with`): they take the lock of the
    report they add to, as `make report` does, so a second one while another builds the same report
    stops at once with a message, and changes nothing; never a traceback."""
    reports = tmp_path / "reports"
    build_root = reports / pipeline.BUILD_DIR
    build_root.mkdir(parents=True)
    settings = ["MIN_COUNT=7", "ROUND_TO=5"] if folder.endswith("round5") else []
    # The other run, in another process: it holds the report's lock as a run does.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, fcntl, time; h = open(sys.argv[1], 'a'); fcntl.flock(h, fcntl.LOCK_EX); "
         "print('locked', flush=True); time.sleep(60)", str(build_root / f"{folder}.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        if target == "manuscript":
            command = ["make", "-s", target, "COHORT=cohort1", f"REPORTS_DIR={reports}",
                       f"PROCESSED_DIR={tmp_path / 'processed'}", *settings]
        else:  # what `make pdf` runs once Chromium is installed (its `browser` prerequisite)
            command = [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", "cohort1", "--with", target,
                       "--reports-dir", str(reports), "--processed-dir", str(tmp_path / "processed")]
        result = subprocess.run(command, cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
                                env={**os.environ, "MAKEFLAGS": ""})
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"ERROR: Another run for cohort '{folder}' is building in {build_root}; wait for it to finish." \
        in result.stderr, result.stderr
    assert sorted(p.name for p in build_root.iterdir()) == [f"{folder}.lock"]  # nothing else was made
    # The lock is free again once the other run ends.
    with open(build_root / f"{folder}.lock") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


# --- the manuscript's settings ------------------------------------------------------------------

@pytest.mark.parametrize("min_count,round_to,shown", [("-3", "0", "min_count"), ("7.5", "5", "min_count"),
                                                      ("7", "-5", "round_to")])
def test_the_manuscript_step_parses_its_settings_as_the_runner_does(tmp_path, capsys, min_count, round_to, shown):
    """The manuscript (and PDF) steps run through helpers.runner.tasks: the settings are read by the
    shared parser, and a bad one is refused by name, before any file is read or written."""
    from helpers.data.params import whole_number_setting
    from helpers.runner import tasks

    value = min_count if shown == "min_count" else round_to
    assert tasks.main(["helpers.report.manuscript:step", str(tmp_path), "cohort1", min_count, round_to]) == 1
    with pytest.raises(Exception) as runner_says:  # the runner's command line, for the same value
        whole_number_setting(shown)(value)
    assert capsys.readouterr().err.strip() == f"ArgumentTypeError: {runner_says.value}"
    assert list(tmp_path.iterdir()) == []
