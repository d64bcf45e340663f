"""The bad-input corpus: every broken raw folder must stop the run clearly.

Each folder of tests/bad_inputs/ is one case (see tests/bad_inputs/README.md):

    expected.txt   message fragments that must all appear in the error message
    cohort.txt     optional: the cohort to run (default cohort1)
    remove.txt     optional: paths, relative to the raw folder, to delete
    README         optional one-liner: what is broken
    <anything else> overlay files that replace the bundled file at the same relative path

A case copies data/raw and applies its overlay. Every case runs in this process through
`pipeline.check_inputs`, the runner's own argument checks followed by what notebook 01
runs on the raw files, which returns the message `make report` prints: it must name what
a researcher needs to fix, never show a traceback, and leave the raw folder untouched.
A few cases (E2E_CASES) also run end to end through `make report`: there the message must
appear line for line, before any kernel starts (the runner runs the same checks first), exit
1, and leave the report an earlier good run published byte-identical.

A case the pipeline gets wrong is listed in KNOWN_GAPS with what is missing: its test is
a strict xfail, so it stays visible and turns into a failure the day the gap is fixed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.data import paths
from helpers.runner import pipeline

CASES_DIR = Path(__file__).parent / "bad_inputs"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
# Files of a case folder that describe the case; every other file is an overlay.
CASE_FILES = {"expected.txt", "cohort.txt", "remove.txt", "README"}
DEFAULT_COHORT = "cohort1"
MIN_CASES = 30
TRACEBACK = "Traceback (most recent call last)"
# Cases the pipeline does not handle as a researcher needs: folder name -> what is wrong.
KNOWN_GAPS: dict[str, str] = {}
# Run end to end through `make report` too: a missing file, a cell-level problem, an unknown
# cohort (refused before any kernel starts), and problems in several files at once.
E2E_CASES = ("01_missing_sources_file", "11_code_not_in_codebook", "34_unknown_cohort",
             "37_several_problems_several_files")


# --- helpers --------------------------------------------------------------------------

def tree_hash(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under folder, by relative path: a run must change none."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read_lines(path: Path) -> list[str]:
    """Non-blank lines of a small text file of the case, without their line ends."""
    if not path.is_file():
        return []
    return [line.rstrip("\r\n") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def expected_fragments(case: Path) -> list[str]:
    return read_lines(case / "expected.txt")


def case_cohort(case: Path) -> str:
    lines = read_lines(case / "cohort.txt")
    return lines[0].strip() if lines else DEFAULT_COHORT


def overlay_files(case: Path) -> list[Path]:
    """The case's broken files, as paths relative to the raw folder."""
    return sorted(p.relative_to(case) for p in case.rglob("*")
                  if p.is_file() and p.relative_to(case).as_posix() not in CASE_FILES)


def removed_files(case: Path) -> list[Path]:
    return [Path(line.strip()) for line in read_lines(case / "remove.txt")]


def make_raw(case: Path, target: Path) -> Path:
    """A copy of data/raw with the case applied: overlay files replace, remove.txt deletes."""
    shutil.copytree(paths.RAW_DIR, target)
    for rel in overlay_files(case):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case / rel, target / rel)
    for rel in removed_files(case):
        (target / rel).unlink()
    return target


def make_report(cohort: str, raw: Path, processed: Path, reports: Path) -> subprocess.CompletedProcess:
    """`make report` as a user types it, into the given output folders, with a fixed build date."""
    return subprocess.run(
        ["make", "--no-print-directory", "report", f"COHORT={cohort}", f"RAW_DIR={raw}",
         f"PROCESSED_DIR={processed}", f"REPORTS_DIR={reports}"],
        cwd=paths.PROJECT_ROOT, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )


@dataclass
class GoodBuild:
    """A published cohort1 report that every failed run must leave byte-identical."""

    processed: Path
    reports: Path
    pristine: Path  # a copy of both trees, to undo a case the pipeline wrongly accepts
    report_bytes: bytes

    @property
    def report(self) -> Path:
        return self.reports / DEFAULT_COHORT / "report.html"

    def restore(self) -> None:
        """Put the good build back, so one wrongly accepted case cannot fail the next ones."""
        for name, live in (("processed", self.processed), ("reports", self.reports)):
            shutil.rmtree(live)
            shutil.copytree(self.pristine / name, live, symlinks=True)


# --- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project_raw_hashes() -> dict[str, str]:
    """data/raw as it was before this module ran anything; checked by the last test."""
    return tree_hash(paths.RAW_DIR)


@pytest.fixture(scope="module")
def good_build(tmp_path_factory, published) -> GoodBuild:
    """A copy of the shared good build (conftest.published) that every end-to-end case then uses."""
    out = tmp_path_factory.mktemp("good")
    published.copy_to(out)
    build = GoodBuild(out / "processed", out / "reports", out / "pristine", b"")
    build.report_bytes = build.report.read_bytes()
    shutil.copytree(build.processed, build.pristine / "processed", symlinks=True)
    shutil.copytree(build.reports, build.pristine / "reports", symlinks=True)
    return build


# --- tests ----------------------------------------------------------------------------

def test_corpus_is_complete_and_well_formed():
    """Enough cases, each with expectations, and overlays that replace real bundled files."""
    assert len(CASES) >= MIN_CASES, [c.name for c in CASES]
    for case in CASES:
        assert expected_fragments(case), f"{case.name}: expected.txt is missing or empty"
        # A misspelt overlay path would add an unread file and test nothing.
        for rel in overlay_files(case) + removed_files(case):
            assert (paths.RAW_DIR / rel).is_file(), f"{case.name}: {rel} is not a file of data/raw"
    assert set(KNOWN_GAPS) <= {c.name for c in CASES}, "KNOWN_GAPS names a case folder that does not exist"


def case_params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[case.name])] if case.name in KNOWN_GAPS else []
        yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(case_params()))
def test_bad_input_is_refused_with_a_clear_message(case: Path, tmp_path: Path, project_raw_hashes):
    raw = make_raw(case, tmp_path / "raw")
    raw_before = tree_hash(raw)
    message = pipeline.check_inputs(case_cohort(case), raw, tmp_path / "reports")
    assert message is not None, "the input was accepted"
    assert TRACEBACK not in message, message
    missing = [f for f in expected_fragments(case) if f not in message]
    assert not missing, f"not in the message: {missing}\nmessage:\n{message}"
    assert tree_hash(raw) == raw_before, "the check changed its raw folder"


def test_the_bundled_cohorts_pass_the_same_check(tmp_path):
    for cohort in ("cohort1", "cohort2", "all"):
        assert pipeline.check_inputs(cohort, paths.RAW_DIR, tmp_path) is None


@pytest.mark.e2e
@pytest.mark.parametrize("name", E2E_CASES)
def test_make_report_stops_with_the_same_message_and_keeps_the_report(name: str, good_build: GoodBuild,
                                                                     tmp_path: Path):
    case = CASES_DIR / name
    raw = make_raw(case, tmp_path / "raw")
    raw_before = tree_hash(raw)
    try:
        result = make_report(case_cohort(case), raw, good_build.processed, good_build.reports)
        report_now = good_build.report.read_bytes() if good_build.report.is_file() else None
    finally:
        if not good_build.report.is_file() or good_build.report.read_bytes() != good_build.report_bytes:
            good_build.restore()
    stderr = result.stderr
    assert result.returncode != 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{stderr}"
    assert "ERROR:" in stderr and TRACEBACK not in stderr, stderr
    # Line for line what the in-process check says: the runner answers with it before any kernel starts.
    expected = pipeline.check_inputs(case_cohort(case), raw, good_build.reports)
    missing = [line for line in expected.splitlines() if line not in stderr]
    assert not missing, f"not in make's output: {missing}\nstderr:\n{stderr}"
    assert tree_hash(raw) == raw_before, "the run changed its raw folder"
    assert report_now == good_build.report_bytes, "the failed run changed the published report"
    assert not (good_build.reports / ".build" / case_cohort(case) / "run").exists()  # the half-built run is gone
    assert "starting kernels" not in result.stdout and "Failing cell" not in stderr, result.stdout
    assert not (good_build.reports / "_failed" / case_cohort(case) / "01_clean.ipynb").exists()


def test_project_raw_data_are_unchanged(project_raw_hashes):
    """Last: nothing above wrote into the real data/raw."""
    assert tree_hash(paths.RAW_DIR) == project_raw_hashes
