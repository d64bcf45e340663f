"""Reading and writing what one step hands to the next (data/processed, tables/)."""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import plan


@dataclass
class Cleaned:
    """The analysis-ready tables of one run."""

    participants: pd.DataFrame  # one row per cleaned participant
    sources: pd.DataFrame       # one row per source
    segments: pd.DataFrame      # one row per segment, code and coder (as coded)
    codebook: pd.DataFrame      # one row per code, in codebook order
    cleaning_log: pd.DataFrame  # one row per dropped row, with its reason
    role_groups: list[str]      # role groups of role_map.csv, in canonical order


# The cleaned data's files are those the plan declares (helpers.data.plan.CLEANED).
PROCESSED_TABLES = tuple(name.removesuffix(".parquet") for name in plan.CLEANED.files if name.endswith(".parquet"))


def write_cleaned(cleaned: Cleaned, folder: Path) -> list[Path]:
    """Write the cleaned tables as Parquet plus run.json (role groups); return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in PROCESSED_TABLES:
        target = folder / f"{name}.parquet"
        getattr(cleaned, name).to_parquet(target, index=False)
        written.append(target)
    meta = folder / "run.json"
    meta.write_text(json.dumps({"role_groups": cleaned.role_groups}, indent=2) + "\n")
    return written + [meta]


def read_cleaned(folder: Path) -> Cleaned:
    """The cleaned tables written by notebook 01; a clear error if it has not run."""
    folder = Path(folder)
    if not (folder / "run.json").is_file():
        raise FileNotFoundError(f"{folder} holds no cleaned data: run the cleaning notebook for this cohort first "
                                f"(make report does it).")
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in PROCESSED_TABLES}
    meta = json.loads((folder / "run.json").read_text())
    return Cleaned(**frames, role_groups=meta["role_groups"])


# Spreadsheets run a cell that starts with one of these as a formula (OWASP, "CSV injection").
# Such a text cell is written with a leading apostrophe, which Excel, LibreOffice and Google
# Sheets show as text; so is a cell already of the form '=..., so that the rule can be undone
# exactly: read_table removes one apostrophe from every cell matching ESCAPED.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def neutralise_cell(value):
    """A text cell as written to CSV: with "'" in front when a spreadsheet would run it."""
    if isinstance(value, str) and NEEDS_ESCAPE.match(value):
        return "'" + value
    return value


def restore_cell(value):
    """The inverse of neutralise_cell, for a cell read back from a CSV the project wrote."""
    if isinstance(value, str) and ESCAPED.match(value):
        return value[1:]
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every formula-leading text cell neutralised; numbers are never touched
    (a negative kappa stays -0.12), and a frame with nothing to change is returned as is."""
    out = frame
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue  # numeric, boolean or date columns: written as numbers
        text = values.to_numpy(dtype=object)
        escape = np.fromiter((isinstance(v, str) and NEEDS_ESCAPE.match(v) is not None for v in text),
                             dtype=bool, count=len(text))
        if escape.any():
            if out is frame:
                out = frame.copy()
            out.iloc[:, position] = values.astype(object).where(~escape, "'" + values[escape].astype(str))
    if any(isinstance(c, str) and NEEDS_ESCAPE.match(c) for c in frame.columns):
        out = out.rename(columns=neutralise_cell) if out is not frame else frame.rename(columns=neutralise_cell)
    return out


def write_table(frame: pd.DataFrame, folder: Path, name: str) -> Path:
    """A results table as CSV with Unix line ends, no index, formula-leading cells neutralised."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    # Python's csv writer quotes a cell with a line feed but not one with a lone carriage
    # return, which every reader then takes for the end of the row: such a table is written
    # with every cell quoted (it reads back the same).
    quoting = csv.QUOTE_ALL if _holds_carriage_return(frame) else csv.QUOTE_MINIMAL
    neutralise(frame).to_csv(target, index=False, lineterminator="\n", quoting=quoting)
    return target


def _holds_carriage_return(frame: pd.DataFrame) -> bool:
    texts = [frame.iloc[:, i] for i in range(frame.shape[1]) if pd.api.types.is_object_dtype(frame.dtypes.iloc[i])]
    return any(isinstance(c, str) and "\r" in c for c in frame.columns) or any(
        column.map(lambda v: isinstance(v, str) and "\r" in v).any() for column in texts)


def read_table(folder: Path, name: str) -> pd.DataFrame:
    """A table written by write_table, with the text of every neutralised cell as it was."""
    frame = pd.read_csv(Path(folder) / name, keep_default_na=False, na_values=[""])
    for position in range(frame.shape[1]):
        if pd.api.types.is_object_dtype(frame.dtypes.iloc[position]):
            values = frame.iloc[:, position]
            escaped = values.map(lambda v: isinstance(v, str) and ESCAPED.match(v) is not None).astype(bool)
            if escaped.any():
                frame.iloc[:, position] = values.where(~escaped, values.str[1:])
    return frame.rename(columns=restore_cell)


def write_provenance(manifest: pd.DataFrame, out: Path, about: dict | None = None) -> Path:
    """provenance.json: the SHA-256 of every input file, read by the report, and what the run ran
    with (`about`: parameters, Python, commit, the lock's hash, packages imported)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "provenance.json"
    target.write_text(json.dumps({"inputs": manifest.to_dict("records"), **(about or {})}, indent=2) + "\n")
    return target


def notes_table(notes: list[str]) -> pd.DataFrame:
    """The input notes as a table: oddities in the input that were accepted (encoding, extra columns...)."""
    return pd.DataFrame({"note": notes}, dtype=str)
