"""Bring your own data: survey and qualitative-coding exports into the raw-data contract.

    python -m helpers.importers EXPORT --cohort NAME [--kind KIND] [--raw-dir DIR] [--force]
    make import SRC=EXPORT COHORT=NAME [KIND=...] RAW_DIR=DIR

A survey export (Qualtrics, REDCap, Microsoft Forms) becomes `<raw_dir>/<cohort>/
questionnaire.csv`; a coding export (REFI-QDA .qdpx / .qdc from NVivo, ATLAS.ti, MAXQDA or
QualCoder; Taguette highlights; QualCoder's coding report) becomes `sources.csv`,
`coded_segments.csv` and `codebook.csv`. Which export column feeds which contract column
is a small TOML mapping in the cohort folder: the first run writes it with its guesses
marked and stops; the import runs once the analyst has checked it and set
`confirmed = true`. Existing raw files are never replaced without --force.

One module per format reads the export; survey.py and coding.py hold what the formats
share; docs/bring-your-own-data.md is the analyst's guide.
"""
from __future__ import annotations

from pathlib import Path

from helpers.data.errors import InputError, Problem

from .common import CODING, SURVEY, read_records

# kind -> (family, what it is)
KINDS = {
    "qualtrics": (SURVEY, "Qualtrics CSV export (current three-header-row or legacy V1..V10 layout)"),
    "redcap": (SURVEY, "REDCap records CSV (raw data) with its data dictionary"),
    "msforms": (SURVEY, "Microsoft Forms Excel export"),
    "refi_qda": (CODING, "REFI-QDA project .qdpx (NVivo, ATLAS.ti, MAXQDA, QualCoder)"),
    "qdc": (CODING, "REFI-QDA codebook .qdc (writes codebook.csv only)"),
    "taguette": (CODING, "Taguette highlights export (id, document, tag, content)"),
    "qualcoder": (CODING, "QualCoder coding report CSV (File, Coder, Coded, Id, Codename, ...)"),
}


def detect_kind(path: Path) -> str:
    """The kind of an export, from its name and first rows; InputError when it cannot tell."""
    from . import msforms, qualcoder, qualtrics, redcap, taguette

    path = Path(path)
    if not path.is_file():
        raise InputError(None, [Problem(path, "an export file; there is no file here")])
    suffix = path.suffix.lower()
    if suffix == ".qdpx":
        return "refi_qda"
    if suffix == ".qdc":
        return "qdc"
    records = read_records(path)
    header = records[0] if records else []
    if qualtrics.looks_like(records):
        return "qualtrics"
    for kind, module in (("msforms", msforms), ("taguette", taguette), ("qualcoder", qualcoder)):
        if module.looks_like(header):
            return kind
    if redcap.is_dictionary(header):
        raise InputError(None, [Problem(path, "the REDCap records export as SRC; this is the data dictionary, "
                                        "which goes with --dictionary (DICTIONARY= with make)", 1)])
    if redcap.looks_like(header):
        return "redcap"
    raise InputError(None, [Problem(path, "an export whose kind can be told from its header; pass --kind, one of "
                                    + ", ".join(KINDS), 1, None, ", ".join(h for h in header[:6]))])
