"""Read the raw-data contract (data/README.md) and check it, collecting every problem.

Everything is read as text first, so that identifiers such as `007` keep their
leading zeros and a stray word in a number column is reported, not coerced.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import paths
from .errors import InputError, Problem

SOURCE_TYPES = ("interview", "focus_group", "questionnaire", "dissertation")
ROLE_GROUPS = ("clinician", "management", "data science", "other")
TRUE_WORDS = frozenset({"yes", "true", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "0", "n"})
LIKERT_PREFIX = "q_"
FREE_TEXT_PREFIX = "text_"

REQUIRED_COLUMNS = {
    paths.QUESTIONNAIRE: ("participant_id", "submitted_at", "consent", "finished", "role"),
    paths.SOURCES: ("source_id", "source_type", "participant_ids"),
    paths.CODED_SEGMENTS: ("segment_id", "source_id", "participant_id", "code", "coder", "text"),
    paths.CODEBOOK: ("code", "theme", "subtheme", "description"),
    paths.ROLE_MAP: ("role_as_typed", "role_group"),
}

# Spreadsheet row of the first record: the header is row 1.
FIRST_DATA_ROW = 2


@dataclass
class RawCohort:
    """One cohort folder's files, as text, each with a `_row` column (spreadsheet row)."""

    name: str
    folder: Path
    questionnaire: pd.DataFrame
    sources: pd.DataFrame
    segments: pd.DataFrame
    codebook: pd.DataFrame


@dataclass
class RawInputs:
    """Everything a run reads: one or more cohorts and the shared role map."""

    cohorts: list[RawCohort]
    role_map: pd.DataFrame
    role_map_path: Path
    files: list[Path] = field(default_factory=list)


def normalise_role(text: pd.Series) -> pd.Series:
    """Role text as matched against role_map.csv: case-folded, whitespace collapsed."""
    return text.astype("string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def read_table(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """A contract CSV as text cells with a `_row` column; None (and a problem) if unreadable."""
    path = Path(path)
    if not path.is_file():
        problems.append(Problem(path, "file is missing; see data/README.md for the files a cohort needs"))
        return None
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        problems.append(Problem(path, "file is empty; expected a header row naming the columns"))
        return None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        problems.append(Problem(path, f"could not be read as a UTF-8 comma-separated file ({exc})"))
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.insert(0, "_row", range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame)))
    required = REQUIRED_COLUMNS[path.name]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        problems.append(Problem(
            path, f"missing column(s) {', '.join(missing)}; the header must include {', '.join(required)}",
        ))
        return None
    return frame


def parse_bool(values: pd.Series) -> pd.Series:
    """yes/no, true/false, 1/0 (any case) as booleans; anything else as <NA>."""
    folded = values.astype("string").str.strip().str.casefold()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[folded.isin(TRUE_WORDS)] = True
    out[folded.isin(FALSE_WORDS)] = False
    return out


def parse_timestamp(values: pd.Series) -> pd.Series:
    """ISO 8601 text as UTC timestamps (no zone given = UTC); unparseable as NaT."""
    def one(text: str):
        try:
            stamp = pd.Timestamp(text.strip())
        except (ValueError, TypeError):
            return pd.NaT
        if stamp is pd.NaT:
            return pd.NaT
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")

    # Parsed once per distinct value: exports repeat few distinct timestamps per second.
    uniques = pd.Series(values.unique())
    lookup = dict(zip(uniques, uniques.map(one)))
    return pd.to_datetime(values.map(lookup), utc=True)


def check_questionnaire(frame: pd.DataFrame, path: Path, problems: list[Problem]) -> None:
    for column in ("participant_id",):
        for row in frame.loc[frame[column].str.strip() == "", "_row"]:
            problems.append(Problem(path, "a participant_id is required", row, column, ""))
    stamps = parse_timestamp(frame["submitted_at"])
    for row, value in frame.loc[stamps.isna(), ["_row", "submitted_at"]].itertuples(index=False):
        problems.append(Problem(path, "an ISO 8601 date-time such as 2021-03-04T09:30:00Z", row, "submitted_at", value))
    for column in ("consent", "finished"):
        bad = parse_bool(frame[column]).isna()
        for row, value in frame.loc[bad, ["_row", column]].itertuples(index=False):
            problems.append(Problem(path, "yes or no (true/false and 1/0 also accepted)", row, column, value))
    for column in likert_columns(frame):
        text = frame[column].str.strip()
        ok = (text == "") | text.isin({"1", "2", "3", "4", "5"})
        for row, value in frame.loc[~ok, ["_row", column]].itertuples(index=False):
            problems.append(Problem(path, "a whole number from 1 to 5, or blank for no answer", row, column, value))


def likert_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(LIKERT_PREFIX)]


def check_codebook(frame: pd.DataFrame, path: Path, problems: list[Problem]) -> None:
    for column in ("code", "theme"):
        for row in frame.loc[frame[column].str.strip() == "", "_row"]:
            problems.append(Problem(path, f"a {column} is required", row, column, ""))
    dup = frame["code"].duplicated(keep="first") & (frame["code"] != "")
    for row, value in frame.loc[dup, ["_row", "code"]].itertuples(index=False):
        problems.append(Problem(path, "each code once (this code is listed on an earlier row)", row, "code", value))


def check_sources(frame: pd.DataFrame, path: Path, known_participants: set[str],
                  problems: list[Problem]) -> None:
    for row in frame.loc[frame["source_id"].str.strip() == "", "_row"]:
        problems.append(Problem(path, "a source_id is required", row, "source_id", ""))
    dup = frame["source_id"].duplicated(keep="first")
    for row, value in frame.loc[dup, ["_row", "source_id"]].itertuples(index=False):
        problems.append(Problem(path, "each source_id once (listed on an earlier row)", row, "source_id", value))
    bad_type = ~frame["source_type"].str.strip().isin(SOURCE_TYPES)
    for row, value in frame.loc[bad_type, ["_row", "source_type"]].itertuples(index=False):
        problems.append(Problem(path, f"one of {', '.join(SOURCE_TYPES)}", row, "source_type", value))
    ids = split_ids(frame["participant_ids"])
    exploded = pd.DataFrame({"_row": frame["_row"], "pid": ids}).explode("pid").dropna()
    unknown = exploded[~exploded["pid"].isin(known_participants)]
    for row, value in unknown.itertuples(index=False):
        problems.append(Problem(path, "a participant_id that appears in questionnaire.csv", row, "participant_ids", value))


def split_ids(values: pd.Series) -> pd.Series:
    """`;`-separated id lists as Python lists of stripped, non-blank ids."""
    return values.map(lambda text: [p.strip() for p in str(text).split(";") if p.strip()])


def check_segments(frame: pd.DataFrame, path: Path, known_sources: set[str], known_codes: set[str],
                   known_participants: set[str], problems: list[Problem]) -> None:
    for column in ("segment_id", "code", "source_id"):
        for row in frame.loc[frame[column].str.strip() == "", "_row"]:
            problems.append(Problem(path, f"a {column} is required", row, column, ""))
    bad_source = ~frame["source_id"].isin(known_sources) & (frame["source_id"] != "")
    for row, value in frame.loc[bad_source, ["_row", "source_id"]].itertuples(index=False):
        problems.append(Problem(path, "a source_id listed in sources.csv", row, "source_id", value))
    bad_code = ~frame["code"].isin(known_codes) & (frame["code"] != "")
    for row, value in frame.loc[bad_code, ["_row", "code"]].itertuples(index=False):
        problems.append(Problem(path, "a code listed in codebook.csv", row, "code", value))
    pid = frame["participant_id"].str.strip()
    bad_pid = (pid != "") & ~pid.isin(known_participants)
    for row, value in frame.loc[bad_pid, ["_row", "participant_id"]].itertuples(index=False):
        problems.append(Problem(path, "blank or a participant_id that appears in questionnaire.csv", row, "participant_id", value))
    # A segment is one stretch of one source said by one person: every coder's row must agree.
    for column in ("source_id", "participant_id"):
        spread = frame.groupby("segment_id")[column].transform("nunique")
        first = frame.loc[spread > 1].drop_duplicates("segment_id")
        for row, seg in first[["_row", "segment_id"]].itertuples(index=False):
            problems.append(Problem(path, f"every row of a segment to name the same {column}", row, "segment_id", seg))


def check_role_map(frame: pd.DataFrame, path: Path, problems: list[Problem]) -> None:
    bad = ~frame["role_group"].str.strip().isin(ROLE_GROUPS)
    for row, value in frame.loc[bad, ["_row", "role_group"]].itertuples(index=False):
        problems.append(Problem(path, f"one of {', '.join(ROLE_GROUPS)}", row, "role_group", value))
    key = normalise_role(frame["role_as_typed"])
    groups = frame["role_group"].str.strip()
    conflict = key.duplicated(keep=False) & (groups.groupby(key).transform("nunique") > 1)
    for row, value in frame.loc[conflict, ["_row", "role_as_typed"]].itertuples(index=False):
        problems.append(Problem(path, "one role_group per role (ignoring case and spacing); this role is mapped twice", row, "role_as_typed", value))


def load_inputs(raw_dir: Path, cohort: str) -> RawInputs:
    """Read and check every file a run needs; raise InputError listing all problems."""
    raw_dir = Path(raw_dir)
    folders = paths.cohort_folders(raw_dir, cohort)
    problems: list[Problem] = []
    role_map_path = raw_dir / paths.ROLE_MAP
    role_map = read_table(role_map_path, problems)
    if role_map is not None:
        check_role_map(role_map, role_map_path, problems)
    cohorts: list[RawCohort] = []
    files = [role_map_path]
    for name, folder in folders:
        tables = {}
        for filename in paths.COHORT_FILES:
            files.append(folder / filename)
            tables[filename] = read_table(folder / filename, problems)
        q, src, seg, cb = (tables[f] for f in paths.COHORT_FILES)
        if q is not None:
            check_questionnaire(q, folder / paths.QUESTIONNAIRE, problems)
        participants = set(q["participant_id"].str.strip()) if q is not None else set()
        if cb is not None:
            check_codebook(cb, folder / paths.CODEBOOK, problems)
        if src is not None:
            check_sources(src, folder / paths.SOURCES, participants, problems)
        if seg is not None and src is not None and cb is not None:
            check_segments(seg, folder / paths.CODED_SEGMENTS, set(src["source_id"]), set(cb["code"]),
                           participants, problems)
        if all(t is not None for t in (q, src, seg, cb)):
            cohorts.append(RawCohort(name, folder, q, src, seg, cb))
    if problems:
        raise InputError(f"The input in {raw_dir} for cohort {cohort!r} cannot be analysed.", problems)
    return RawInputs(cohorts, role_map, role_map_path, files)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_manifest(inputs: RawInputs, raw_dir: Path) -> pd.DataFrame:
    """SHA-256 and size of every input file, paths relative to raw_dir, for provenance."""
    rows = [
        {"file": str(Path(p).relative_to(raw_dir)), "bytes": Path(p).stat().st_size, "sha256": sha256_file(p)}
        for p in inputs.files
    ]
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"])
