"""What every importer shares: reading exports as text, the mapping file, writing contract files.

Exports are read as text first, exactly as the pipeline reads the contract (helpers.data.load),
so that an id such as `007` keeps its zeros and nothing is coerced behind the analyst's back.
Problems are collected as helpers.data.errors.Problem (file, spreadsheet row, column, value,
expectation) and raised together, so a bad export gets the same kind of message as a bad
contract file.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.data import paths
from helpers.data.errors import InputError, Problem
from helpers.data.load import decode, sniff_delimiter

# Exit status of the command line: 3 tells a script "nothing wrong, but a person must act".
EXIT_OK, EXIT_REFUSED, EXIT_CONFIRM = 0, 1, 3

SURVEY, CODING = "survey", "coding"
MAPPING_FILES = {SURVEY: "import_survey.toml", CODING: "import_coding.toml"}
GUESS = "GUESS"


class MappingNeeded(Exception):
    """The mapping file was just written, or is not yet confirmed: a person must check it."""

    def __init__(self, path: Path, message: str):
        self.path = path
        super().__init__(message)


@dataclass
class Outcome:
    """What one import did, for the summary printed to the analyst (and for tests)."""

    kind: str
    written: list[Path] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)      # "contract column <- export column"
    left_out: list[str] = field(default_factory=list)    # export columns / items not imported
    dropped: list[tuple[str, int]] = field(default_factory=list)  # (reason, rows)
    notes: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)       # distinct roles written (survey)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# --- reading --------------------------------------------------------------------------

def read_csv_records(path: Path, notes: list[str] | None = None) -> list[list[str]]:
    """Every record of a CSV export as lists of text cells (any encoding helpers.data.load accepts).

    Raises InputError naming the file when it cannot be read as a CSV table.
    """
    path = Path(path)
    notes = [] if notes is None else notes
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(None, [Problem(path, f"a file that can be read ({exc.strerror or exc})")]) from None
    try:
        text = decode(path, data, notes)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(None, [Problem(path, f"cannot be read as text: {exc}")]) from None
    if not text.strip():
        raise InputError(None, [Problem(path, "file is empty; expected an export with a header row")])
    sep = sniff_delimiter(path, text.splitlines()[0], notes)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(None, [Problem(path, f"cells of at most {csv.field_size_limit():,} characters; one is "
                                            f"longer, or a quote opens and never closes")]) from None
        raise InputError(None, [Problem(path, f"is not a well-formed CSV table ({exc}); check for a stray quote")]) \
            from None


def cell_text(value) -> str:
    """An Excel cell as the text a person sees: dates as ISO 8601, 4.0 as 4, empty as ''."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx_records(path: Path) -> list[list[str]]:
    """The first worksheet of an .xlsx file as lists of text cells (openpyxl, values not formulas)."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError(f"Reading {path} needs openpyxl, which is not installed in this environment: "
                         "run `make venv`, which installs every package requirements.lock pins.") from None
    from .archive import Archive
    with Archive(path, "an Excel .xlsx workbook, which is a zip archive") as archive:
        archive.check_all()  # openpyxl inflates the members itself: refuse a bomb before it does
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors for broken files
        raise InputError(None, [Problem(Path(path), f"cannot be read as an Excel .xlsx workbook "
                                        f"({type(exc).__name__}: {exc})")]) from None
    records: list[list[str]] = []
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong sheet size; read what is there
        for row in sheet.iter_rows(values_only=True):
            records.append([cell_text(v) for v in row])
    except Exception as exc:  # a truncated or damaged sheet fails only as its rows are read (ParseError, zlib...)
        raise InputError(None, [Problem(Path(path), f"an Excel .xlsx workbook whose first sheet can be read to the "
                                        f"end; it breaks after row {len(records)} ({type(exc).__name__}: {exc}). "
                                        f"Open it in Excel and save it again")]) from None
    finally:
        book.close()
    # read_only mode pads rows to the sheet's width; trailing empty rows are Excel noise.
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
    return records


def read_records(path: Path, notes: list[str] | None = None) -> list[list[str]]:
    """CSV or .xlsx export as text records."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx_records(path)
    return read_csv_records(path, notes)


def table_from_records(records: list[list[str]], header_rows: int, path: Path) -> tuple[list[str], pd.DataFrame]:
    """(header, body) with the body as text cells and `_row` the spreadsheet row of each record.

    Short records are padded (Excel and some exporters drop trailing empty cells); blank
    records are dropped, keeping the row numbers of the others.
    """
    if len(records) < header_rows:
        raise InputError(None, [Problem(path, f"at least {header_rows} header row(s); the file has {len(records)}")])
    header = [h.strip() for h in records[header_rows - 1]]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in records[header_rows:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=str)
    frame.insert(0, "_row", range(header_rows + 1, header_rows + 1 + len(body)))
    blank = (frame.drop(columns="_row").apply(lambda col: col.str.strip()) == "").all(axis=1)
    return header, frame[~blank].reset_index(drop=True)


# --- small text helpers ---------------------------------------------------------------

def slug(text: str, fallback: str = "item") -> str:
    """A contract column suffix from a header: lower case letters, digits and underscores."""
    out = re.sub(r"[^0-9a-z]+", "_", str(text).casefold()).strip("_")
    if len(out) > 32:  # a question's whole title makes an unwieldy column name: keep its first words
        out = out[:33].rsplit("_", 1)[0]
    return out or fallback


def fold(text: str) -> str:
    """Text compared loosely: case-folded, spaces collapsed (as role_map.csv matching does)."""
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def vfold(texts: pd.Series) -> pd.Series:
    """fold() for a whole column at once."""
    return texts.astype(str).str.replace(r"\s+", " ", regex=True).str.strip().str.casefold()


def toml_str(value: str) -> str:
    """A TOML basic string (JSON escaping is valid TOML for these)."""
    import json
    return json.dumps(str(value), ensure_ascii=False)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_str(key)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return toml_str(value)


def comment(text: str) -> str:
    """A comment that stays one line whatever the export's question text holds."""
    return re.sub(r"\s+", " ", str(text)).strip()


# --- the mapping file -----------------------------------------------------------------

def mapping_path(cohort_dir: Path, family: str) -> Path:
    return Path(cohort_dir) / MAPPING_FILES[family]


def load_mapping(path: Path, kind: str) -> dict:
    """The analyst's confirmed mapping; MappingNeeded until `confirmed = true` is set."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(None, [Problem(Path(path), f"a valid TOML mapping file ({exc})")]) from None
    if data.get("confirmed") is not True:
        raise MappingNeeded(path, (
            f"The mapping {path} is not confirmed yet. Check every line marked {GUESS}, edit what is wrong, "
            f"set `confirmed = true` near the top, then run the same import again."))
    if data.get("kind") not in (None, kind):
        raise InputError(None, [Problem(Path(path), f"a mapping for a {kind} export; this one is for "
                                        f"{data.get('kind')!r}. Move it away or pass --mapping to use another file",
                                        None, "kind", data.get("kind"))])
    return data


def write_new_mapping(path: Path, text: str) -> None:
    """Write a first mapping; never replaces one (the analyst may have edited it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(text)


def unknown_keys(data: dict, allowed: set[str], path: Path, where: str = "") -> list[Problem]:
    """A mistyped section name would be ignored silently; name it instead."""
    return [Problem(Path(path), f"one of {', '.join(sorted(allowed))}"
                    + (f" in [{where}]" if where else " at the top level")
                    + " (an unknown name here is ignored, which is rarely what was meant)", None, key, None)
            for key in data if key not in allowed]


# --- writing contract files -----------------------------------------------------------

def check_targets(targets: list[Path], force: bool) -> None:
    """Refuse before writing anything when a contract file already exists and --force is off."""
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise InputError(
            "Refusing to overwrite existing raw files (pass --force, or FORCE=1 with make, to replace them):\n"
            + "\n".join(f"  - {p}" for p in existing))


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """A contract CSV: UTF-8, comma, header row, every cell as text; replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(frame.columns))
        writer.writerows(frame.astype(str).itertuples(index=False, name=None))
    os.replace(tmp, path)
    return path


def refuse_synthetic_raw_dir(raw_dir: Path) -> None:
    """Real exports must not land beside the SYNTHETIC marker: they would get the public key."""
    if (Path(raw_dir) / paths.SYNTHETIC_MARKER).exists():
        raise InputError(
            f"{raw_dir} holds the bundled synthetic data (it has a {paths.SYNTHETIC_MARKER} file). Imported exports "
            f"are real data: in this folder they would be pseudonymised with the public synthetic key and "
            f"reported under a 'synthetic data' banner. Import into a folder of your own instead, e.g. "
            f"--raw-dir ~/nhsda-raw (make import ... RAW_DIR=~/nhsda-raw).")
