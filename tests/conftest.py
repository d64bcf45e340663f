"""Shared fixtures: small hand-made cohorts written as real CSV files."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from helpers.data import paths

PROJECT_RAW = paths.RAW_DIR


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


@pytest.fixture
def tiny_raw(tmp_path: Path) -> Path:
    """A raw_dir with one cohort 'tiny' whose counts are easy to work out by hand.

    Participants after cleaning: A (clinician), B (management), C (clinician).
    References: S1 x Alpha (coded by two coders: counts once), S1 x Beta, S2 x Alpha,
    S3 x Gamma (unattributed focus-group talk). Total 4 references.
    """
    raw = tmp_path / "raw"
    write_csv(raw / "role_map.csv", [["role_as_typed", "role_group"],
                                     ["GP", "clinician"], ["Head of IM&T", "management"],
                                     ["Data scientist", "data science"], ["Librarian", "other"]])
    write_csv(raw / "tiny" / "questionnaire.csv", [
        ["participant_id", "submitted_at", "consent", "finished", "role", "q_useful", "text_best"],
        ["A", "2021-01-01T10:00:00Z", "yes", "yes", " gp ", "5", "Great"],
        ["B", "2021-01-02T10:00:00Z", "Yes", "TRUE", "head of  IM&T", "", ""],
        ["C", "2021-01-03T10:00:00Z", "1", "1", "GP", "2", ""],
        ["C", "2021-01-01T09:00:00Z", "yes", "yes", "Librarian", "4", ""],   # earlier duplicate
        ["D", "2021-01-03T10:00:00Z", "no", "yes", "GP", "3", ""],           # no consent
        ["E", "2021-01-03T10:00:00Z", "yes", "no", "GP", "3", ""],           # unfinished
    ])
    write_csv(raw / "tiny" / "sources.csv", [
        ["source_id", "source_type", "participant_ids"],
        ["I1", "interview", "A"], ["I2", "interview", "B"], ["F1", "focus_group", "A;B;C"],
        ["D1", "dissertation", "D"],
    ])
    write_csv(raw / "tiny" / "coded_segments.csv", [
        ["segment_id", "source_id", "participant_id", "code", "coder", "text"],
        ["S1", "I1", "A", "Alpha", "c1", "quote one"],
        ["S1", "I1", "A", "Alpha", "c2", "quote one"],
        ["S1", "I1", "A", "Beta", "c2", "quote one"],
        ["S2", "I2", "B", "Alpha", "c1", ""],
        ["S3", "F1", "", "Gamma", "c1", "someone said"],
        ["S4", "D1", "D", "Gamma", "c1", "from a participant without consent"],
    ])
    write_csv(raw / "tiny" / "codebook.csv", [
        ["code", "theme", "subtheme", "description"],
        ["Alpha", "Theme one", "Sub a", "first"], ["Beta", "Theme one", "Sub b", "second"],
        ["Gamma", "Theme two", "", "third"], ["Delta", "Theme two", "", "never used"],
    ])
    return raw


@pytest.fixture
def bundled_raw_copy(tmp_path: Path) -> Path:
    """A copy of the bundled synthetic data/raw, safe to break."""
    target = tmp_path / "raw"
    shutil.copytree(PROJECT_RAW, target)
    return target


# --- one build of the bundled cohorts, shared by the end-to-end tests ---------------------

SHARED_COHORTS = ("cohort1", "cohort2", "all")
# Also built once and shared: cohort1 with disclosure control, published beside the full cohort1.
CONTROLLED = "cohort1-min7-round5"
CONTROLS = ("--min-count", "7", "--round-to", "5")
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def tree_hash(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under folder, by relative path."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_pipeline(cohort: str, raw: Path, out: Path, *extra: str):
    """The runner as `make report` calls it, into out/processed and out/reports, with a fixed date."""
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", cohort, "--raw-dir", str(raw),
         "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports"), *extra],
        capture_output=True, text=True, env={**os.environ, **EPOCH})


class Published:
    """cohort1, cohort2 and all built from the bundled data by the real runner, once per test run,
    then cohort1 with disclosure control (CONTROLLED) beside them, in the same folders.

    Read it as it is; copy it (`copy_to`) before running anything that writes. `full_before_controlled`
    and `full_after_controlled` are the hashes of reports/cohort1 around the controlled build.
    """

    def __init__(self, out: Path):
        import json

        self.out = out
        record = json.loads((out / "record.json").read_text())
        self.results = record["results"]  # cohort -> returncode, stdout, stderr
        self.raw_before, self.raw_after = record["raw_before"], record["raw_after"]
        self.full_before_controlled = record["full_before_controlled"]
        self.full_after_controlled = record["full_after_controlled"]

    def report(self, cohort: str) -> Path:
        return self.out / "reports" / cohort / "report.html"

    def copy_to(self, target: Path) -> Path:
        for tree in ("processed", "reports"):
            shutil.copytree(self.out / tree, target / tree, symlinks=True)
        return target


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Published:
    """The shared build. Under pytest-xdist every worker uses the same one: the first to get
    the lock builds it, the others wait for it."""
    import fcntl
    import json
    import os

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = root / "published"
    with open(root / "published.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "record.json").is_file():
            before = tree_hash(PROJECT_RAW)
            results = {}
            for cohort in SHARED_COHORTS:
                result = run_pipeline(cohort, PROJECT_RAW, out, "--jobs", "2")  # 02 and 03 side by side
                results[cohort] = {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
            full = out / "reports" / "cohort1"
            full_before = tree_hash(full) if full.is_dir() else {}
            result = run_pipeline("cohort1", PROJECT_RAW, out, *CONTROLS)
            results[CONTROLLED] = {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
            record = {"results": results, "raw_before": before, "raw_after": tree_hash(PROJECT_RAW),
                      "full_before_controlled": full_before,
                      "full_after_controlled": tree_hash(full) if full.is_dir() else {}}
            (out / "record.json").write_text(json.dumps(record))
    return Published(out)
