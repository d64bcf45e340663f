"""Microsoft Forms: the Excel workbook of "Open results in Excel" / "Download a copy".

One row per submitted response, columns `ID, Start time, Completion time, Email, Name`
(newer exports add `Last modified time`), then one column per question headed by the
question's title; a Likert question gives one column per statement. A multi-select
answer is its choices joined by ';' (with a trailing ';'). Times are Excel date-times
without a zone. Only submitted responses are exported, so `finished` is yes for every
row. The same layout saved as CSV is read too.
"""
from __future__ import annotations

import re
from pathlib import Path

from helpers.data.errors import InputError, Problem

from .common import GUESS, read_records, table_from_records
from .survey import Column, SurveyExport

KIND = "msforms"
METADATA = ("ID", "Start time", "Completion time", "Email", "Name", "Last modified time")


def looks_like(header: list[str]) -> bool:
    names = [h.strip() for h in header[:6]]
    return names[:3] == ["ID", "Start time", "Completion time"]


def read(path: Path) -> SurveyExport:
    """A Microsoft Forms export (.xlsx, or the same saved as .csv) as a SurveyExport."""
    path = Path(path)
    notes: list[str] = []
    records = read_records(path, notes)
    if not records or not looks_like(records[0]):
        raise InputError(None, [Problem(path, "a Microsoft Forms export whose header starts ID, Start time, "
                                        "Completion time, Email, Name", 1, None,
                                        ", ".join(records[0][:5]) if records else "")])
    header, body = table_from_records(records, 1, path)
    keys, seen = [], {}
    for name in header:
        # Forms repeats a header when two questions share a title; keep both, apart.
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    body.columns = ["_row"] + keys
    # Multi-select answers end with ';' ("A;B;"): written as "A; B".
    multi = set()
    for key in keys:
        cells = body[key].str.strip()
        if key not in METADATA and cells.str.endswith(";").any():
            body[key] = cells.str.rstrip(";").str.replace(r"\s*;\s*", "; ", regex=True)
            multi.add(key)
            notes.append(f"Multi-select question {key!r}: choices written '; '-separated.")
    columns = [Column(key=k, header=k, label=k, multiselect=k in multi) for k in keys]
    export = SurveyExport(kind=KIND, path=path, frame=body, columns=columns, notes=notes)
    export.skip = {k for k in keys if k in METADATA}
    g = {"submitted_at": "Completion time"}
    pid = next((k for k in keys if re.search(r"participant|respondent|\bid number\b|\bpid\b", k, re.I)
                and k not in METADATA), None)
    email = body["Email"].str.strip().str.casefold() if "Email" in body else None
    if pid is None and email is not None and (email.ne("") & email.ne("anonymous")).all() and len(email):
        pid = "Email"
    g["participant_id"] = pid or "ID"
    for name, pattern in (("consent", r"consent"), ("role", r"\brole\b|job|profession|position|occupation")):
        hit = next((k for k in keys if k not in METADATA and re.search(pattern, k, re.I)), None)
        if hit:
            g[name] = hit
    export.guesses = g
    export.constant_guesses["finished"] = ("yes", "Microsoft Forms exports only submitted responses")
    export.timezone, export.timezone_why = "UTC", (f"{GUESS}: Forms writes times without a zone; set the zone "
                                                   f"they are in (usually the form owner's)")
    return export
