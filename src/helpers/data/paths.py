"""Every path the project uses, derived from one project root.

Notebooks and the pipeline runner ask this module for folders instead of building
paths by hand, so that a notebook opened in JupyterLab (cwd = notebooks/) and the
same notebook run by papermill (cwd = anywhere) read and write the same places.
"""
from __future__ import annotations

import os
from pathlib import Path

# src/helpers/data/paths.py -> the project root is three levels above this folder.
PROJECT_ROOT = Path(__file__).resolve().parents[3]

DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"

# The pooled analysis of every cohort folder in raw_dir.
POOLED_COHORT = "all"

# File names of the raw-data contract (data/README.md documents their columns).
QUESTIONNAIRE = "questionnaire.csv"
SOURCES = "sources.csv"
CODED_SEGMENTS = "coded_segments.csv"
CODEBOOK = "codebook.csv"
ROLE_MAP = "role_map.csv"
REDACT_NAMES = "redact_names.txt"  # optional, in raw_dir: names to scrub from quotes
# A file of this name in raw_dir marks generated (synthetic) data: the report shows a banner.
SYNTHETIC_MARKER = "SYNTHETIC"
COHORT_FILES = (QUESTIONNAIRE, SOURCES, CODED_SEGMENTS, CODEBOOK)

# Folder of reports/ and data/processed/ where a notebook run by hand in JupyterLab writes
# (helpers.notebook): never the published report.
LAB_DIR = "_lab"


def resolve_dir(value: str | os.PathLike | None, default: Path) -> Path:
    """A notebook parameter as an absolute folder: blank means the project default."""
    if value is None or str(value).strip() == "":
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def tables_dir(cohort_out: Path) -> Path:
    return Path(cohort_out) / "tables"


def figures_dir(cohort_out: Path) -> Path:
    return Path(cohort_out) / "figures"


def _folders_with_questionnaire(raw_dir: Path) -> list[str]:
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    return sorted(p.name for p in raw_dir.iterdir() if p.is_dir() and (p / QUESTIONNAIRE).is_file())


def _cohort_name(name: str) -> bool:
    """Whether COHORT=name would be accepted (helpers.data.params.check_cohort_name), as a folder."""
    from .params import COHORT_NAME

    return bool(COHORT_NAME.fullmatch(name)) and ".." not in name and name != POOLED_COHORT


def list_cohorts(raw_dir: Path) -> list[str]:
    """Cohort folders in raw_dir: every sub-folder holding a questionnaire.csv whose name COHORT=
    accepts, sorted. A copy made by a file manager ("cohort1 - Copy", "cohort1 (2)") is not one:
    pooled, it would count its participants twice (see skipped_folders)."""
    return [name for name in _folders_with_questionnaire(raw_dir) if _cohort_name(name)]


def skipped_folders(raw_dir: Path) -> list[str]:
    """Sub-folders of raw_dir that hold a questionnaire.csv but are not cohort folders, because
    COHORT= would refuse their names: named by the pooled run, which leaves them out."""
    return [name for name in _folders_with_questionnaire(raw_dir) if not _cohort_name(name)]


def missing_folder(folder: Path, what: str) -> str | None:
    """The message for a folder parameter that names no folder, or None if it is one.

    Names the deepest part of the path that does exist and, if a folder there is spelt nearly
    the same, suggests it (`data/raww` -> `data/raw`).
    """
    from .suggest import TYPO, closest

    folder = Path(folder)
    if folder.is_dir():
        return None
    if folder.exists():
        return f"{what} {folder} is a file, not a folder: give the folder that holds the cohort folders."
    existing = next((p for p in folder.parents if p.is_dir()), None)
    hint = ""
    if existing is not None:
        missing_part = folder.relative_to(existing).parts[0]
        try:
            siblings = [p.name for p in existing.iterdir() if p.is_dir()]
        except OSError:
            siblings = []
        match = closest(missing_part, siblings, max_changes=TYPO)
        hint = (f" {existing} exists, but holds no folder {missing_part!r}"
                + (f"; did you mean {str(existing / match)!r}?" if match else "."))
    return f"{what} folder not found: {folder} does not exist.{hint}"


def cohort_folders(raw_dir: Path, cohort: str) -> list[tuple[str, Path]]:
    """The (cohort name, folder) pairs a run reads: one, or every cohort for `all`.

    Raises InputError naming the cohorts that exist when `cohort` is unknown.
    """
    from .errors import InputError
    from .suggest import TYPO, did_you_mean

    raw_dir = Path(raw_dir)
    missing = missing_folder(raw_dir, "RAW_DIR")
    if missing:
        raise InputError(missing)
    existing = list_cohorts(raw_dir)
    if cohort == POOLED_COHORT:
        if not existing:
            raise InputError(
                f"{raw_dir}: no cohort folders found (a cohort folder holds {QUESTIONNAIRE})."
            )
        return [(name, raw_dir / name) for name in existing]
    if cohort not in existing:
        listed = ", ".join(existing + [POOLED_COHORT]) if existing else "none"
        hint = did_you_mean(cohort, existing + [POOLED_COHORT], max_changes=TYPO)
        raise InputError(
            f"Unknown cohort {cohort!r}: there is no folder {raw_dir / cohort} holding "
            f"{QUESTIONNAIRE}. Cohorts in {raw_dir}: {listed}{hint or '.'}"
        )
    return [(cohort, raw_dir / cohort)]


class RunDirs:
    """The folders of one notebook run, from its parameters (blank = project default).

    `folder` names the cohort's folder in processed_dir and out_dir (default: the cohort).
    """

    def __init__(self, cohort: str, raw_dir: str = "", processed_dir: str = "", out_dir: str = "",
                 folder: str = ""):
        self.cohort = str(cohort)  # papermill may pass a cohort such as 2018 as an int
        self.raw = resolve_dir(raw_dir, RAW_DIR)
        self.processed = resolve_dir(processed_dir, PROCESSED_DIR) / (folder or self.cohort)
        self.out = resolve_dir(out_dir, REPORTS_DIR) / (folder or self.cohort)
        self.tables = tables_dir(self.out)
        self.figures = figures_dir(self.out)

    @property
    def pooled(self) -> bool:
        return self.cohort == POOLED_COHORT

    def make(self) -> RunDirs:
        for folder in (self.processed, self.tables, self.figures):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def __repr__(self) -> str:
        return (f"RunDirs(cohort={self.cohort!r}, raw={str(self.raw)!r}, processed={str(self.processed)!r}, "
                f"out={str(self.out)!r})")
