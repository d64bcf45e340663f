"""Qualtrics CSV exports: the current three-header-row layout and the legacy two-row one.

Current layout (Data & Analysis > Export > CSV):

    row 1  export tags       StartDate,EndDate,Status,...,ResponseId,...,Q1,Q2_1,Q2_2,Q3
    row 2  question text     Start Date,End Date,Response Type,...   (in the survey's language)
    row 3  import ids (JSON) {"ImportId":"startDate","timeZone":"Europe/London"},...,{"ImportId":"QID2_1"}
    row 4+ one response per row

Export tags may repeat (two questions with one tag), so columns are keyed on their
ImportId, which does not. Row 2 is translated with the survey, so nothing here relies on
it except as the question text shown to the analyst.

Legacy layout (before 2017): row 1 `V1..V10,Q1,...` (often a trailing empty column), row 2
`ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,
EndDate,Finished,<question text>...`, responses from row 3.

`Status` 1 (survey preview) and 2 (survey test) are not responses: their rows are dropped
and counted. Both "choice text" and "numeric values" exports are read; a numeric export's
role codes must be labelled in the mapping, since the CSV does not carry the choice text.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from helpers.data.errors import InputError, Problem

from .common import GUESS, read_csv_records, table_from_records
from .survey import Column, SurveyExport

KIND = "qualtrics"
LEGACY_V = [f"V{i}" for i in range(1, 11)]
# ImportIds of Qualtrics' own metadata columns: never guessed as questionnaire items.
METADATA = {"startdate", "enddate", "status", "ipaddress", "progress", "duration", "finished", "recordeddate",
            "_recordid", "responseid", "recipientlastname", "recipientfirstname", "recipientemail",
            "externaldatareference", "externalreference", "locationlatitude", "locationlongitude",
            "locationaccuracy", "distributionchannel", "userlanguage", "responseset", "name", "emailaddress"}
# Status codes (numeric export) and their choice-text labels that are not real responses.
NOT_RESPONSES = {"1": "survey preview (Status 1)", "survey preview": "survey preview (Status 1)",
                 "2": "survey test (Status 2)", "survey test": "survey test (Status 2)"}


def looks_like(records: list[list[str]]) -> str | None:
    """'current' or 'legacy' when these records are a Qualtrics export, else None."""
    if len(records) >= 3 and any(c.strip().startswith('{"ImportId"') for c in records[2][:5]):
        return "current"
    if len(records) >= 2 and [c.strip() for c in records[0][:10]] == LEGACY_V \
            and records[1][:1] and records[1][0].strip() == "ResponseID":
        return "legacy"
    return None


def _unique(keys: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return out


def read(path: Path) -> SurveyExport:
    """A Qualtrics CSV export (current or legacy layout) as a SurveyExport."""
    path = Path(path)
    notes: list[str] = []
    records = read_csv_records(path, notes)
    layout = looks_like(records)
    if layout is None:
        raise InputError(None, [Problem(path, "a Qualtrics CSV export: three header rows (export tags, question "
                                        "text, {\"ImportId\": ...}) or the legacy two (V1..V10, ResponseID...)",
                                        1, None, ", ".join(records[0][:6]) if records else "")])
    if layout == "current":
        tags = [t.strip() for t in records[0]]
        texts = [(records[1] + [""] * len(tags))[:len(tags)]]
        import_ids, zones = [], {}
        for i, cell in enumerate((records[2] + [""] * len(tags))[:len(tags)]):
            try:
                info = json.loads(cell) if cell.strip() else {}
            except json.JSONDecodeError:
                info = {}
            import_ids.append(str(info.get("ImportId") or tags[i] or f"column{i + 1}"))
            if info.get("timeZone"):
                zones[import_ids[-1].casefold()] = str(info["timeZone"])
        keys = _unique(import_ids)
        header, body = table_from_records(records, 3, path)
        labels = texts[0]
    else:
        row1 = [t.strip() for t in records[0]]
        row2 = [t.strip() for t in (records[1] + [""] * len(row1))[:len(row1)]]
        tags = [row2[i] if i < 10 else row1[i] for i in range(len(row1))]
        keys = _unique([t or f"column{i + 1}" for i, t in enumerate(tags)])
        labels, zones = row2, {}
        header, body = table_from_records(records, 2, path)
        notes.append("Legacy Qualtrics layout (V1..V10 header): dates carry no time zone.")
    body.columns = ["_row"] + keys
    columns = [Column(key=k, header=tags[i] or k, label=labels[i].strip()) for i, k in enumerate(keys)]
    # The legacy layout ends every row with an empty column: not a question.
    empty = [c for i, c in enumerate(columns) if not tags[i].strip() and (body[c.key].str.strip() == "").all()]
    columns = [c for c in columns if c not in empty]
    body = body.drop(columns=[c.key for c in empty])
    export = SurveyExport(kind=KIND, path=path, frame=body, columns=columns, notes=notes)
    _drop_non_responses(export)
    _mark_split_multiselect(export)
    _guess(export, zones)
    return export


def _find(export: SurveyExport, *names: str) -> str | None:
    """The column whose key or header is one of `names` (case-insensitive)."""
    wanted = {n.casefold() for n in names}
    for col in export.columns:
        if col.key.casefold() in wanted or col.header.casefold() in wanted:
            return col.key
    return None


def _drop_non_responses(export: SurveyExport) -> None:
    status = _find(export, "status")
    if status is None:
        export.notes.append("No Status column: preview and test responses cannot be told apart from real ones.")
        return
    reason = export.frame[status].str.strip().str.casefold().map(NOT_RESPONSES)
    for why, count in reason.value_counts().sort_index().items():
        export.dropped.append((why, int(count)))
    export.frame = export.frame[reason.isna()].reset_index(drop=True)


def _mark_split_multiselect(export: SurveyExport) -> None:
    """Columns QIDn_1, QIDn_2... each holding its own choice's text (or 1): one multi-select question.

    A matrix (Likert grid) has the same column names but scale answers in its cells, so the
    cells decide: every answer must be the column's choice text or 1.
    """
    groups: dict[str, list[Column]] = {}
    for col in export.columns:
        match = re.fullmatch(r"(QID\d+)_(\d+)", col.key) or re.fullmatch(r"(Q\d+)_(\d+)", col.key)
        if match:
            groups.setdefault(match.group(1), []).append(col)
    for cols in groups.values():
        if len(cols) < 2:
            continue
        choices = {}
        for col in cols:
            # Qualtrics labels a choice column "<question> - <choice>" (legacy: "<question>-<choice>").
            sep = " - " if " - " in col.label else "-"
            text = col.label.rsplit(sep, 1)[-1].strip() if sep in col.label else ""
            answers = set(export.frame[col.key].str.strip()) - {""}
            if not text or not answers <= {text, "1"}:
                break
            choices[col.key] = text
        else:
            for col in cols:
                col.choice = choices[col.key]


def _guess(export: SurveyExport, zones: dict[str, str]) -> None:
    g = export.guesses
    meta = {c.key for c in export.columns if c.key.casefold() in METADATA or c.header.casefold() in METADATA}
    export.skip = meta
    pid = next((c.key for c in export.columns if c.key not in meta and re.fullmatch(
        r"(participant|respondent)[ _-]*(id|number|code)|pid|participant", c.header.strip(), re.I)), None)
    external = _find(export, "externalDataReference", "ExternalReference")
    if pid is None and external and (export.frame[external].str.strip() != "").mean() > 0.5:
        pid = external
    g["participant_id"] = pid or _find(export, "_recordId", "ResponseId", "ResponseID")
    g["submitted_at"] = _find(export, "recordedDate", "RecordedDate") or _find(export, "endDate", "EndDate")
    g["finished"] = _find(export, "finished", "Finished")
    for name, pattern in (("consent", r"consent"), ("role", r"\brole\b|job|profession|position|occupation")):
        key = next((c.key for c in export.columns if c.key not in meta
                    and (re.search(pattern, c.header, re.I) or re.search(pattern, c.label, re.I))), None)
        if key:
            g[name] = key
    export.guesses = {k: v for k, v in g.items() if v}
    stamp = export.guesses.get("submitted_at", "")
    zone = zones.get(stamp.casefold()) or next(iter(zones.values()), "")
    if zone in ("Z", "UTC", "GMT"):
        zone = "UTC"
    if zone:
        export.timezone, export.timezone_why = zone, "from the export's ImportId row (timeZone)"
    else:
        export.timezone, export.timezone_why = "UTC", f"{GUESS}: the export does not say; Qualtrics writes the " \
                                                      f"account's time zone"
    if pd.Series([c.header for c in export.columns]).duplicated().any():
        export.notes.append("Some export tags repeat; those columns are named by their ImportId in the mapping.")
