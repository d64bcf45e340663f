"""REDCap: the records CSV ("CSV / Microsoft Excel (raw data)") plus the project's data dictionary.

The records file has one column per field, choice fields as their codes, checkbox fields
as one column per choice (`field___code`, 1 = ticked), one `<form>_complete` column per
instrument (0 Incomplete, 1 Unverified, 2 Complete) and, when exported with survey
fields, `<form>_timestamp` (the submission time, or "[not completed]"). Longitudinal
projects add `redcap_event_name` (one row per record and event); repeating instruments
add `redcap_repeat_instrument` and `redcap_repeat_instance` (one row per instance).

The data dictionary (Project Setup > Data Dictionary > Download, or the API's metadata
export) gives each field's form, type, label and choices ("1, Yes | 2, No"): choice codes
are shown and imported as their labels, and checkbox columns are joined into one answer
per field ("; "-separated labels of the ticked choices). Field names never contain three
underscores in a row, so a checkbox column splits on the last `___`.

Which rows are submissions is the mapping's [redcap] section: the events to read and,
optionally, a repeating instrument whose instances are the submissions. A longitudinal
project has one row per record and event, and with several arms a record is enrolled in
one arm's events only (REDCap names events `<event>_arm_<n>`): so several events may be
listed, by default the first event of each arm in which the survey's questions are
answered. Each record is then taken once, from the first listed event it has a row in,
and the summary says which event each participant's answers came from.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from helpers.data.errors import InputError, Problem

from .common import GUESS, comment, read_csv_records, table_from_records, toml_value
from .survey import Column, SurveyExport

KIND = "redcap"
EVENT, REPEAT_FORM, REPEAT_INSTANCE = "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"
# Data dictionary columns as downloaded from the web page, and as the API names them.
DICT_COLUMNS = {
    "field": ("Variable / Field Name", "field_name"),
    "form": ("Form Name", "form_name"),
    "type": ("Field Type", "field_type"),
    "label": ("Field Label", "field_label"),
    "choices": ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
}
FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
COMPLETE = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
CHOICE_TYPES = {"radio", "dropdown", "checkbox"}


def looks_like(header: list[str]) -> bool:
    """A REDCap records export: REDCap's own columns, or a `<form>_complete` column."""
    names = [h.strip() for h in header]
    return any(n.startswith("redcap_") for n in names) or any(n.endswith("_complete") for n in names)


def is_dictionary(header: list[str]) -> bool:
    return any(h.strip() in DICT_COLUMNS["field"] for h in header)


def find_dictionary(records_path: Path) -> Path | None:
    """The data dictionary beside the records file, when exactly one is there."""
    found = [p for p in Path(records_path).parent.glob("*.csv")
             if re.search(r"data_?dictionary|datadictionary|metadata", p.name, re.I) and p != Path(records_path)]
    return found[0] if len(found) == 1 else None


def parse_choices(text: str) -> dict[str, str]:
    """'1, Yes | 2, No' -> {'1': 'Yes', '2': 'No'} (a label may itself hold commas)."""
    out = {}
    for part in str(text).split("|"):
        code, sep, label = part.partition(",")
        if sep and code.strip():
            out[code.strip()] = label.strip()
    return out


def strip_html(text: str) -> str:
    return re.sub(r"<[^>]+>", " ", str(text)).strip()


def read_dictionary(path: Path) -> pd.DataFrame:
    """The data dictionary as columns field, form, type, label, choices."""
    records = read_csv_records(path)
    header, body = table_from_records(records, 1, path)
    picked = {}
    for name, options in DICT_COLUMNS.items():
        index = next((i for i, h in enumerate(header) if h in options), None)
        if index is None:
            raise InputError(None, [Problem(path, f"a REDCap data dictionary with a column {options[0]!r} "
                                            f"(or {options[1]!r}); found: {', '.join(header[:8])}", 1)])
        picked[name] = body[index].str.strip()
    return pd.DataFrame(picked)


def _code_key(code: str) -> str:
    # REDCap writes a choice code into a column name lower-cased, with '-' and '.' as '_'.
    return re.sub(r"[^0-9a-z_]", "_", code.casefold())


def read(path: Path, dictionary: Path | None = None) -> SurveyExport:
    """A REDCap records export and its data dictionary as a SurveyExport."""
    path = Path(path)
    notes: list[str] = []
    if dictionary is None:
        dictionary = find_dictionary(path)
        if dictionary is None:
            raise InputError(None, [Problem(path, "its REDCap data dictionary too: pass --dictionary FILE "
                                            "(make import ... DICTIONARY=FILE); none, or more than one, was "
                                            "found beside the records file")])
        notes.append(f"Data dictionary: {dictionary} (found beside the records file).")
    fields = read_dictionary(Path(dictionary))
    records = read_csv_records(path, notes)
    header, body = table_from_records(records, 1, path)
    if is_dictionary(header):
        raise InputError(None, [Problem(path, "the records export, not the data dictionary; pass the dictionary "
                                        "with --dictionary", 1)])
    known = set(fields["field"])
    if header and header[0] not in known and not any(h in known for h in header):
        raise InputError(None, [Problem(path, "a 'raw data' export whose columns are field names such as "
                                        f"{', '.join(list(known)[:3])}; this looks like a 'labels' export. In REDCap "
                                        "choose Data Exports > CSV / Microsoft Excel (raw data)", 1, None,
                                        header[0])])
    body.columns = ["_row"] + [f"__c{i}" for i in range(len(header))]
    by_field = fields.set_index("field")
    forms = list(dict.fromkeys(fields["form"]))
    # Columns are gathered and made one frame at the end: inserted one by one, a wide
    # project fragments the frame (pandas warns for each column past the 100th).
    frame: dict[str, pd.Series] = {"_row": body["_row"]}
    columns: list[Column] = []
    checkbox_parts: dict[str, list[tuple[str, str]]] = {}
    for i, name in enumerate(header):
        cells = body[f"__c{i}"]
        stem, sep, code = name.rpartition("___")
        if sep and stem in known and by_field.loc[stem, "type"] == "checkbox":
            checkbox_parts.setdefault(stem, []).append((code, f"__c{i}"))
            continue
        key = name if name not in frame else f"{name}#{i}"
        frame[key] = cells
        labels = None
        label = name
        if name in known:
            info = by_field.loc[name]
            label = strip_html(info["label"])
            labels = FIXED_CHOICES.get(info["type"]) or (parse_choices(info["choices"])
                                                         if info["type"] in CHOICE_TYPES else None)
        elif name.endswith("_complete") and name[:-9] in forms:
            labels, label = COMPLETE, f"form {name[:-9]} complete?"
        elif name.endswith("_timestamp") and name[:-10] in forms:
            label = f"form {name[:-10]}: survey submitted at"
        columns.append(Column(key=key, header=name, label=label, labels=labels))
    for stem, parts in checkbox_parts.items():
        choices = {_code_key(c): label for c, label in parse_choices(by_field.loc[stem, "choices"]).items()}
        ticked = []
        for code, col in parts:
            # Raw exports write 1/0; "Checked" appears when labels were exported for checkboxes.
            mark = body[col].str.strip().str.casefold().isin(["1", "checked"])
            ticked.append(mark.map({True: choices.get(_code_key(code), code), False: ""}))
        joined = ticked[0]
        for part in ticked[1:]:
            joined = joined + "; " + part
        frame[stem] = joined.str.replace(r"(; ){2,}", "; ", regex=True).str.replace(r"^; |; $", "", regex=True)
        columns.append(Column(key=stem, header=stem, label=strip_html(by_field.loc[stem, "label"])))
        notes.append(f"Checkbox field {stem}: {len(parts)} columns ({stem}___...) joined into one answer.")
    export = SurveyExport(kind=KIND, path=path, frame=pd.DataFrame(frame), columns=columns, notes=notes)
    export.skip = {c.key for c in columns if c.key.startswith("redcap_") or c.key.endswith(("_complete", "_timestamp"))}
    record_id = fields["field"].iloc[0] if len(fields) else header[0]
    _guess(export, fields, record_id, forms)
    _setup_selection(export, record_id)
    return export


def _guess(export: SurveyExport, fields: pd.DataFrame, record_id: str, forms: list[str]) -> None:
    g: dict[str, str] = {}
    keys = {c.key for c in export.columns}
    if record_id in keys:
        g["participant_id"] = record_id
        export.skip.add(record_id)
    for name, pattern in (("consent", r"consent"), ("role", r"\brole|job|profession|position|occupation")):
        hit = fields[(fields["field"].str.contains(pattern, case=False, regex=True)
                      | fields["label"].str.contains(pattern, case=False, regex=True)) & fields["field"].isin(keys)]
        if name == "consent":  # a consent is a choice; "Date subject signed consent" is a date
            hit = hit[hit["type"].isin(CHOICE_TYPES | set(FIXED_CHOICES))]
        if len(hit):
            g[name] = hit["field"].iloc[0]
    home = fields.set_index("field")["form"].get(g.get("role") or g.get("consent"), forms[0] if forms else "")
    if f"{home}_complete" in keys:
        g["finished"] = f"{home}_complete"
        export.value_guesses["finished"] = {"Complete": "yes", "Unverified": "no", "Incomplete": "no"}
    stamps = [k for k in keys if k.endswith("_timestamp")]
    if f"{home}_timestamp" in keys:
        g["submitted_at"] = f"{home}_timestamp"
    elif stamps:
        g["submitted_at"] = stamps[0]
    else:
        export.notes.append("No <form>_timestamp column: export with 'survey identifier and timestamp' fields, or "
                            "name a date field for submitted_at in the mapping.")
    export.guesses = g
    export.timezone, export.timezone_why = "UTC", f"{GUESS}: REDCap writes the server's local time without a zone"


def _arm(event: str) -> str:
    match = re.search(r"_arm_(\d+)$", event)
    return match.group(1) if match else ""


def _setup_selection(export: SurveyExport, record_id: str) -> None:
    """Events and repeating instruments: which rows are submissions, chosen in the mapping."""
    frame = export.frame
    events = list(dict.fromkeys(frame[EVENT].str.strip())) if EVENT in frame else []
    forms = sorted(set(frame[REPEAT_FORM].str.strip()) - {""}) if REPEAT_FORM in frame else []
    guess: list[str] = []
    if len(events) > 1:
        # Per arm, the event where the guessed role or consent question is answered most often;
        # without one, the arm's first event (where REDCap projects put enrolment and consent).
        probe = export.guesses.get("role") or export.guesses.get("consent")
        answered = (frame[frame[probe].str.strip() != ""].groupby(EVENT, sort=False).size()
                    if probe else pd.Series(dtype=int))
        for arm in dict.fromkeys(_arm(e) for e in events):
            in_arm = [e for e in events if _arm(e) == arm]
            counts = answered.reindex(in_arm).fillna(0)
            guess.append(counts.idxmax() if counts.max() > 0 else in_arm[0])
    elif events:
        guess = events
    arms = len({_arm(e) for e in events})
    why = (f"{GUESS}: the first event of each of the {arms} arms (a record is enrolled in one arm)" if arms > 1
           else f"{GUESS}: events in the export: {comment(', '.join(events))}")
    export.extra_section = "redcap"
    export.extra_lines = [
        "# Which rows are submissions. event: the redcap_event_name to read, or a list of them (\"\" = every",
        "# row). With a list, each record is read once, from the first listed event it has a row in.",
        "# repeat_instrument: a repeating instrument whose instances are the submissions (\"\" = none).",
        (f"event = {toml_value(guess if len(guess) > 1 else (guess[0] if guess else ''))}"
         + (f"  # {why}" if len(events) > 1 else "")),
        (f"# events in the export: {comment(', '.join(events))}" if len(events) > 1 else "#"),
        'repeat_instrument = ""' + (f"  # repeating instruments in the export: {', '.join(forms)}" if forms else ""),
    ]
    all_rows = export.frame
    export.select = lambda mapping, mapping_file: _select(export, all_rows, mapping, mapping_file, record_id,
                                                          events, forms)
    # Until a mapping exists, the export shows the rows the guessed selection keeps.
    _select(export, all_rows, {"redcap": {"event": guess, "repeat_instrument": ""}}, None, record_id,
            events, forms)


def _select(export: SurveyExport, frame: pd.DataFrame, mapping: dict, mapping_file: Path | None, record_id: str,
            events: list[str], forms: list[str]) -> list[Problem]:
    """Keep the submission rows the mapping's [redcap] section names; count the others."""
    section = mapping.get("redcap", {})
    event = section.get("event", "")
    wanted = [str(e).strip() for e in (event if isinstance(event, list) else [event])]
    wanted = [e for e in wanted if e]
    repeat = str(section.get("repeat_instrument", ""))
    problems = []
    for name in wanted:
        if events and name not in events:
            problems.append(Problem(mapping_file, f"one of the export's events: {', '.join(events)}", None,
                                    "[redcap] event", name))
    if repeat and repeat not in forms:
        problems.append(Problem(mapping_file, "one of the export's repeating instruments: "
                                f"{', '.join(forms) or 'none'}", None, "[redcap] repeat_instrument", repeat))
    if problems:
        return problems
    dropped = []
    keep = pd.Series(True, index=frame.index)
    if wanted and EVENT in frame:
        other = ~frame[EVENT].str.strip().isin(wanted)
        if other.any():
            dropped.append((f"rows of other events ({', '.join(e for e in events if e not in wanted)})",
                            int(other.sum())))
        keep &= ~other
    repeating = frame[REPEAT_FORM].str.strip() if REPEAT_FORM in frame else pd.Series("", index=frame.index)
    if repeat:
        base = frame[keep & (repeating == "")].drop_duplicates(record_id).set_index(record_id)
        inst = frame[keep & (repeating == repeat)].copy()
        # An instance row holds only its own form's fields: fill the rest from the record's main row.
        for col in inst.columns:
            if col in ("_row", record_id, EVENT, REPEAT_FORM, REPEAT_INSTANCE):
                continue
            filler = inst[record_id].map(base[col]) if col in base else None
            if filler is not None:
                inst[col] = inst[col].where(inst[col].str.strip() != "", filler.fillna(""))
        others = keep & (repeating != repeat) & (repeating != "")
        if others.any():
            dropped.append(("rows of other repeating instruments", int(others.sum())))
        main_rows = int((keep & (repeating == "")).sum())
        if main_rows and mapping_file is not None:
            export.notes.append(f"{main_rows} non-repeating row(s) used only to fill the instances' other fields.")
        selected = inst
    else:
        rep = keep & (repeating != "")
        if rep.any():
            dropped.append((f"repeating-instrument rows ({', '.join(forms)}); set [redcap] repeat_instrument to use "
                            f"them", int(rep.sum())))
        selected = frame[keep & (repeating == "")]
        if len(wanted) > 1 and record_id in selected:
            # Several events: each record once, from the first listed event it has a row in.
            rank = selected[EVENT].str.strip().map({e: i for i, e in enumerate(wanted)})
            selected = selected.assign(_rank=rank).sort_values(["_rank", "_row"], kind="stable")
            again = selected[record_id].str.strip().duplicated()
            if again.any():
                dropped.append(("rows of a record already read from an event listed earlier", int(again.sum())))
            selected = selected[~again].sort_values("_row", kind="stable").drop(columns="_rank")
    if EVENT in selected and len(wanted) > 1 and mapping_file is not None and record_id in selected:
        for name in wanted:
            ids = selected.loc[selected[EVENT].str.strip() == name, record_id].str.strip().tolist()
            shown = ", ".join(ids[:50]) + (f" and {len(ids) - 50} more" if len(ids) > 50 else "")
            export.notes.append(f"Answers from event {name}: {len(ids)} record(s)" + (f" ({shown})." if ids else "."))
    export.frame = selected.reset_index(drop=True)
    export.dropped = dropped
    return []
