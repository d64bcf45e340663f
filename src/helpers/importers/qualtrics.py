"""Qualtrics CSV exports: the current three-header-row layout and the legacy two-row one.

Current layout (Data & Analysis > Export > CSV):

    row 1  export tags       StartDate,EndDate,Status,...,ResponseId,...,Q1,Q2_1,Q2_2,Q3
    row 2  question text     Start Date,End Date,Response Type,...   (in the survey's language)
    row 3  import ids (JSON) {"ImportId":"startDate","timeZone":"Europe/London"},...,{"ImportId":"QID2_1"}
    row 4+ one response per row

Export tags may repeat (two questions with one tag), so columns are keyed on their
ImportId, which does not. Row 2 is translated with the survey, so nothing here relies on
it except as the question text shown to the analyst.

2016 "Insights" layout: the same three rows, but row 3 is written as a Python dict,
`{'ImportId': 'QID2-1'}` (single quotes, dashes where the current layout has underscores),
and row 1 starts `ResponseID,ResponseSet,...`. It is read as the current layout; a
`timeZone` in that row is honoured the same way.

Legacy layout (before 2017): row 1 `V1..V10,Q1,...` (often a trailing empty column), row 2
`ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,
EndDate,Finished,<question text>...`, responses from row 3.

`Status` 1 (survey preview) and 2 (survey test) are not responses: their rows are dropped
and counted, unless the mapping's [qualtrics] keep_status lists them (a pilot run on test
responses, as the 2016 sample holds).

Columns that are not questions are never guessed as Likert items: Qualtrics' own metadata,
and embedded data (fields such as gender or region set by the panel or the survey flow),
which the current layouts mark by an ImportId that is not a QID and the legacy layout by a
question text equal to the column's name. Both "choice text" and "numeric values" exports are read; a numeric export's
role codes must be labelled in the mapping, since the CSV does not carry the choice text.
"""
from __future__ import annotations

import ast
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
    if len(records) >= 3 and any(re.match(r"""\{\s*["']ImportId["']""", c.strip()) for c in records[2][:5]):
        return "current"
    if len(records) >= 2 and [c.strip() for c in records[0][:10]] == LEGACY_V \
            and records[1][:1] and records[1][0].strip() == "ResponseID":
        return "legacy"
    return None


def _import_info(cell: str) -> dict:
    """The ImportId cell as a dict: JSON (current layout) or a Python dict literal (2016 Insights)."""
    cell = cell.strip()
    if not cell:
        return {}
    try:
        info = json.loads(cell)
    except json.JSONDecodeError:
        try:
            info = ast.literal_eval(cell) if len(cell) < 2000 else {}
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            info = {}
    return info if isinstance(info, dict) else {}


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
            info = _import_info(cell)
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
    for col in columns:
        # Embedded data: current layouts give it an ImportId that is no question's (QID...);
        # the legacy layout heads it with its own name where a question has its text.
        if layout == "current":
            col.embedded = not re.match(r"QID\d", col.key)
            col.free_text = bool(re.fullmatch(r"QID\d+([_-]\d+)*[_-]TEXT", col.key))
        else:
            col.embedded = col.label == col.header and not re.fullmatch(r"Q\d+(_\d+)*", col.header)
    # The legacy layout ends every row with an empty column: not a question.
    empty = [c for i, c in enumerate(columns) if not tags[i].strip() and (body[c.key].str.strip() == "").all()]
    columns = [c for c in columns if c not in empty]
    body = body.drop(columns=[c.key for c in empty])
    export = SurveyExport(kind=KIND, path=path, frame=body, columns=columns, notes=notes)
    _setup_status(export)
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


def _setup_status(export: SurveyExport) -> None:
    """Preview and test responses left out, unless the mapping's [qualtrics] keep_status keeps them."""
    status = _find(export, "status")
    if status is None:
        export.notes.append("No Status column: preview and test responses cannot be told apart from real ones.")
        return
    all_rows = export.frame
    reason = all_rows[status].str.strip().str.casefold().map(NOT_RESPONSES)
    found = reason.value_counts().sort_index()
    export.extra_section = "qualtrics"
    export.extra_lines = [
        '# Rows whose Status says they are not real responses are left out: "1" survey preview,',
        '# "2" survey test. List a status here to keep its rows (e.g. to try the import on test runs).',
        "keep_status = []" + (f"  # in this export: {', '.join(f'{w}: {n} row(s)' for w, n in found.items())}"
                              if len(found) else ""),
    ]

    def select(mapping: dict, mapping_file: Path | None) -> list[Problem]:
        keep = mapping.get("qualtrics", {}).get("keep_status", [])
        keep = [keep] if isinstance(keep, (str, int)) else keep
        if not isinstance(keep, list) or any(str(k).strip().casefold() not in NOT_RESPONSES for k in keep):
            return [Problem(mapping_file, 'a list of statuses such as ["2"] ("1" survey preview, "2" survey test)',
                            None, "[qualtrics] keep_status", keep)]
        kept = {NOT_RESPONSES[str(k).strip().casefold()] for k in keep}
        drop = reason.notna() & ~reason.isin(kept)
        export.dropped = [(why, int(n)) for why, n in found.items() if why not in kept]
        if kept:
            export.notes.append(f"Kept as responses although Qualtrics marks them so: {', '.join(sorted(kept))}.")
        export.frame = all_rows[~drop].reset_index(drop=True)
        return []

    export.select = select
    # The starting mapping is guessed from every row: a pilot export may hold test runs only.


def _mark_split_multiselect(export: SurveyExport) -> None:
    """Columns QIDn_1, QIDn_2... each holding its own choice's text (or 1): one multi-select question.

    A matrix (Likert grid) has the same column names but scale answers in its cells, so the
    cells decide: every answer must be the column's choice text or 1.
    """
    groups: dict[str, list[Column]] = {}
    for col in export.columns:
        match = re.fullmatch(r"(QID\d+)[_-](\d+)", col.key) or re.fullmatch(r"(Q\d+)_(\d+)", col.key)
        if match:
            groups.setdefault(match.group(1), []).append(col)
    for cols in groups.values():
        if len(cols) < 2:
            continue
        choices, texts = {}, False
        for col in cols:
            # Qualtrics labels a choice column "<question> - <choice>" (legacy: "<question>-<choice>").
            sep = " - " if " - " in col.label else "-"
            text = col.label.rsplit(sep, 1)[-1].strip() if sep in col.label else ""
            answers = set(export.frame[col.key].str.strip()) - {""}
            if not text or not answers <= {text, "1"}:
                break
            choices[col.key] = text
            texts = texts or text in answers
        else:
            # Cells of only 1 could be a rating grid everyone answered 1: a multi-select shows
            # itself by a respondent who ticked one choice and left another blank.
            cells = export.frame[[c.key for c in cols]].apply(lambda c: c.str.strip())
            ticked = cells.ne("") & cells.ne("0")
            if texts or (ticked.any(axis=1) & ~ticked.all(axis=1)).any():
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
