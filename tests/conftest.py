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
