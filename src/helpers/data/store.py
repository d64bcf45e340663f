"""Reading and writing what one step hands to the next (data/processed, tables/)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class Cleaned:
    """The analysis-ready tables of one run."""

    participants: pd.DataFrame  # one row per cleaned participant
    sources: pd.DataFrame       # one row per source
    segments: pd.DataFrame      # one row per segment, code and coder (as coded)
    codebook: pd.DataFrame      # one row per code, in codebook order
    cleaning_log: pd.DataFrame  # one row per dropped row, with its reason
    role_groups: list[str]      # role groups of role_map.csv, in canonical order


PROCESSED_TABLES = ("participants", "sources", "segments", "codebook", "cleaning_log")


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
        raise FileNotFoundError(f"{folder} holds no cleaned data: run notebook 01_clean for this cohort first "
                                f"(make report does it).")
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in PROCESSED_TABLES}
    meta = json.loads((folder / "run.json").read_text())
    return Cleaned(**frames, role_groups=meta["role_groups"])


def write_table(frame: pd.DataFrame, folder: Path, name: str) -> Path:
    """A results table as CSV with Unix line ends, no index."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    frame.to_csv(target, index=False, lineterminator="\n")
    return target


def read_table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(Path(folder) / name, keep_default_na=False, na_values=[""])


def write_provenance(manifest: pd.DataFrame, out: Path) -> Path:
    """provenance.json: the SHA-256 of every input file, read by the report."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "provenance.json"
    target.write_text(json.dumps({"inputs": manifest.to_dict("records")}, indent=2) + "\n")
    return target


def write_notes(notes: list[str], tables: Path) -> Path:
    """input_notes.csv: oddities in the input that were accepted (encoding, extra columns...)."""
    return write_table(pd.DataFrame({"note": notes}, dtype=str), tables, "input_notes.csv")
