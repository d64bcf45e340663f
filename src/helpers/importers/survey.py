"""Survey exports (Qualtrics, REDCap, Microsoft Forms) into questionnaire.csv.

Each format module reads its export into a SurveyExport: the responses as text cells,
one column per export column, plus what the format itself tells about them (question
text, choice labels, its usual id and date columns). This module then does the part
every survey shares: it writes the starting mapping with its guesses marked, and turns
a confirmed mapping into questionnaire.csv, collecting every value it cannot convert.
"""
from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.data.errors import InputError, Problem
from helpers.data.load import FALSE_WORDS, TRUE_WORDS

from .common import GUESS, Outcome, comment, fold, slug, toml_key, toml_str, toml_value, unknown_keys

KEY_FIELDS = ("participant_id", "submitted_at", "consent", "finished", "role")
VALUE_FIELDS = ("consent", "finished", "role")  # fields whose export values may be relabelled
# What a fixed value in [constants] looks like, per field (named in the message when one is missing).
CONSTANT_EXAMPLES = {"consent": 'consent = "yes" when consent was recorded outside the survey',
                     "finished": 'finished = "yes" when the export holds only submitted responses',
                     "role": 'role = "GP" when every respondent has the same role',
                     "submitted_at": 'submitted_at = "2021-03-04T09:30:00Z" when the export has no time'}
MAPPING_SECTIONS = {"confirmed", "kind", "export", "timezone", "columns", "constants", "values",
                    "likert", "likert_scale", "text", "multiselect"}

# Five-point scales as survey tools label them, lowest first: used to guess Likert items.
KNOWN_SCALES = [
    ["strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"],
    ["strongly disagree", "somewhat disagree", "neither agree nor disagree", "somewhat agree", "strongly agree"],
    ["very dissatisfied", "dissatisfied", "neither satisfied nor dissatisfied", "satisfied", "very satisfied"],
    ["not at all", "slightly", "moderately", "very", "extremely"],
    ["very poor", "poor", "fair", "good", "excellent"],
    ["very unlikely", "unlikely", "neither likely nor unlikely", "likely", "very likely"],
    ["extremely unlikely", "somewhat unlikely", "neither likely nor unlikely", "somewhat likely", "extremely likely"],
]
LIKERT_NUMBERS = {"1", "2", "3", "4", "5"}
# Headers of fields that describe the respondent: coded 1..5 as they often are, still not Likert items.
DEMOGRAPHIC = re.compile(r"^(gender|sex|region|age|age[ _]?group|ethnicity|ethnic[ _]group|country|county|"
                         r"site|location|department|trust|organisation|organization|postcode|zip|language|"
                         r"education|income|band|grade)\b", re.I)
YES_WORDS = {"yes", "agree", "consent", "accept", "true", "complete", "completed", "give"}
NO_WORDS = {"no", "not", "disagree", "decline", "don't", "false", "refuse", "incomplete", "unverified", "withdraw"}


@dataclass
class Column:
    """One export column: a unique key, the header as shown, and what the export says about it."""

    key: str
    header: str
    label: str = ""                     # question text, shown as a comment in the mapping
    choice: str = ""                    # for one column of a split multi-select: its choice text
    labels: dict[str, str] | None = None  # code -> label, when the export defines the choices
    multiselect: bool = False           # answers are several choices joined in one cell
    embedded: bool = False              # not a question: data set beside the survey (panel, flow)
    free_text: bool = False             # the export says this is a text-entry answer


@dataclass
class SurveyExport:
    """A survey export read as text, ready to be mapped onto questionnaire.csv."""

    kind: str
    path: Path
    frame: pd.DataFrame                 # text cells; columns are Column.key, plus `_row`
    columns: list[Column]
    guesses: dict[str, str] = field(default_factory=dict)          # field -> column key
    constant_guesses: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (value, why)
    value_guesses: dict[str, dict[str, str]] = field(default_factory=dict)      # field -> {export: contract}
    skip: set[str] = field(default_factory=set)   # metadata columns never guessed as items
    timezone: str = ""                  # the zone of date-times written without one
    timezone_why: str = ""
    dropped: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Format-specific mapping: extra lines for the starting mapping, its section name, and a
    # function choosing the rows that are submissions (REDCap events, repeating instruments).
    extra_section: str = ""
    extra_lines: list[str] = field(default_factory=list)
    select: Callable[[dict, Path], list[Problem]] | None = None

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def shown(self, key: str) -> pd.Series:
        """A column's answers as a person reads them: choice codes replaced by their labels."""
        cells = self.frame[key].str.strip()
        labels = self.column(key).labels
        return cells.map(lambda v: labels.get(v, v)) if labels else cells

    def display(self, key: str) -> str:
        """A column as the summary names it: its header, with its key when the header repeats."""
        ref = self.ref(key)
        return ref if ref == self.column(key).header else f"{self.column(key).header} [{key}]"

    def ref(self, key: str) -> str:
        """How the mapping names a column: its header when no other column shares it, else its key."""
        header = self.column(key).header
        return header if sum(c.header == header for c in self.columns) == 1 else key


# --- guessing -------------------------------------------------------------------------

def _values(export: SurveyExport, key: str) -> pd.Series:
    col = export.frame[key].str.strip()
    return col[col != ""]


def guess_scale(values: pd.Series) -> list[str] | None:
    """The known five-point scale whose labels cover every distinct answer, if any."""
    seen = {fold(v) for v in values.unique()}
    if not seen:
        return None
    for scale in KNOWN_SCALES:
        if seen <= set(scale):
            return scale
    return None


def guess_items(export: SurveyExport) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str], list[str]]:
    """(likert item -> columns, text item -> columns, scale labels, columns left out)."""
    used = set(export.guesses.values()) | export.skip
    likert, text, left_out, scale = {}, {}, [], None

    def name_for(col: Column) -> str:
        # Two questions may share an export tag: fall back on the column's unique key.
        name = slug(col.header)
        return name if name not in likert and name not in text else slug(col.key)

    multis: dict[str, list[Column]] = {}
    for col in export.columns:
        if col.key in used:
            continue
        values = export.shown(col.key)
        values = values[values != ""]
        if col.choice:  # one column of a split multi-select: grouped into one text item
            multis.setdefault(col.header.rsplit("_", 1)[0], []).append(col)
            continue
        if values.empty:
            left_out.append(col.key)
            continue
        if col.multiselect or col.free_text:
            text[name_for(col)] = [col.key]
            continue
        if col.embedded or DEMOGRAPHIC.search(col.header) or DEMOGRAPHIC.search(col.label or ""):
            # Embedded data and demographics (gender coded 1/2, region 1-5) are not questionnaire items.
            left_out.append(col.key)
            continue
        found = guess_scale(values)
        raw = set(_values(export, col.key).unique())
        # Answers coded 1-5 (a numeric export, or choices coded 1..5) are Likert items as they are.
        numeric_1_5 = raw <= LIKERT_NUMBERS and (not col.labels or set(col.labels) == LIKERT_NUMBERS)
        if found or numeric_1_5:
            scale = scale or found
            likert[name_for(col)] = [col.key]
        elif values.str.len().mean() > 15 or values.nunique() > max(5, len(values) // 2):
            text[name_for(col)] = [col.key]
        else:
            left_out.append(col.key)
    for stem, cols in multis.items():
        text[slug(stem)] = [c.key for c in cols]
    return likert, text, scale or [], left_out


def _bool_guess(values: pd.Series) -> dict[str, str]:
    """Export answer -> yes/no for a consent-like column, by its wording ('' where it cannot tell).

    Answers that already are yes/no words need no entry, so the table is empty for them.
    """
    out, plain = {}, {}
    for value in sorted(values.unique()):
        word = fold(value)
        if word in TRUE_WORDS or word in FALSE_WORDS:
            plain[value] = "yes" if word in TRUE_WORDS else "no"
            continue
        words = set(re.findall(r"[a-z']+", word))
        if words & NO_WORDS:       # negations first: "I do not agree" holds "agree" too
            out[value] = "no"
        elif words & YES_WORDS:
            out[value] = "yes"
        else:
            out[value] = ""
    # Once a table is needed, it must list every answer, the plain yes/no ones included.
    return {**plain, **out} if out else {}


def starting_mapping(export: SurveyExport, cohort: str) -> str:
    """The first mapping file for this export: every guess marked, every column accounted for."""
    likert, text, scale, left_out = guess_items(export)
    lines = [
        f"# Import mapping for cohort {cohort!r}: how {export.path.name} ({export.kind}) becomes questionnaire.csv.",
        "# Written by `python -m helpers.importers` from what the export holds; lines marked GUESS are",
        "# the importer's best guesses. Check them all, edit what is wrong, then set `confirmed = true`",
        "# and run the same import again. Nothing is imported until then.",
        "confirmed = false",
        f"kind = {toml_str(export.kind)}",
        f"export = {toml_str(export.path.name)}",
        "# Time zone of date-times the export writes without one (IANA name, e.g. Europe/London).",
        f"timezone = {toml_str(export.timezone or 'UTC')}  # "
        + (export.timezone_why or f"{GUESS}: the export does not say; UTC assumed"),
        *([""] + [f"[{export.extra_section}]"] + export.extra_lines if export.extra_lines else []),
        "",
        "[columns]",
        "# Which export column feeds each required column of questionnaire.csv: a column's header (its",
        '# key, e.g. a Qualtrics ImportId, when headers repeat). "" = not in this export: see [constants].',
    ]
    for name in KEY_FIELDS:
        key = export.guesses.get(name, "")
        if key:
            col = export.column(key)
            lines.append(f"{name} = {toml_str(export.ref(key))}  # {GUESS}: {comment(col.label or col.header)}")
        else:
            lines.append(f'{name} = ""  # NOT FOUND: name the column, or set a constant below')
    lines += ["", "[constants]",
              "# A fixed value for a required column the export lacks, used only when [columns] names none."]
    for name, (value, why) in export.constant_guesses.items():
        lines.append(f"{name} = {toml_str(value)}  # {GUESS}: {why}")
    if not export.constant_guesses:
        lines.append('# consent = "yes"   # e.g. when consent was recorded outside the survey')
    lines += ["", "# [values.<column>]: export answer -> value written, for consent, finished (yes/no) and role.",
              "# Every answer found must be listed once a table exists; a blank consent or finished means no."]
    for name in VALUE_FIELDS:
        key = export.guesses.get(name)
        table = dict(export.value_guesses.get(name, {}))
        if key and name in ("consent", "finished") and not table:
            shown = export.shown(key)
            table = _bool_guess(shown[shown != ""])
        if table:
            lines.append(f"[values.{name}]")
            for value, target in table.items():
                note = GUESS if target else "UNKNOWN: write yes or no"
                lines.append(f"{toml_str(value)} = {toml_str(target)}  # {note}")
    lines += ["", "[likert]",
              "# q_<item> = export column: answers become whole numbers 1-5 through [likert_scale]",
              "# (or are kept when they already are 1-5). The name on the left is the item's name."]
    for item, cols in likert.items():
        col = export.column(cols[0])
        lines.append(f"{toml_key(item)} = {toml_str(export.ref(cols[0]))}  # {GUESS}: "
                     f"{comment(col.label or col.header)}")
    lines += ["", "[likert_scale]", "# answer text -> 1..5 (case and spacing ignored)."]
    if scale:
        lines += [f"{toml_str(label)} = {i}  # {GUESS}" for i, label in enumerate(scale, 1)]
    lines += ["", "[text]", "# text_<item> = export column, or a list of columns (a split multi-select,",
              "# written as its chosen answers joined by '; ')."]
    for item, cols in text.items():
        col = export.column(cols[0])
        value = toml_str(export.ref(cols[0])) if len(cols) == 1 else toml_value([export.ref(c) for c in cols])
        label = col.label or col.header
        if col.choice and label.endswith(col.choice):  # the question, not its first choice
            label = label[:-len(col.choice)].rstrip(" -")
        lines.append(f"{toml_key(item)} = {value}  # {GUESS}: {comment(label)}")
    lines += ["", "# Columns left out (not imported). Move one into [likert] or [text] to import it:"]
    skipped = [export.ref(c.key) for c in export.columns if c.key in export.skip
               and c.key not in export.guesses.values()]
    if skipped:
        lines.append(f"#   ({export.kind} metadata: {comment(', '.join(skipped))})")
    for key in left_out:
        col = export.column(key)
        lines.append(f"#   {export.ref(key)}: {comment(col.label or col.header)}")
    return "\n".join(lines) + "\n"


# --- applying a confirmed mapping -----------------------------------------------------

def resolve(export: SurveyExport, ref: str) -> str | None:
    """The column key a mapping names: a key, else a unique header, else a unique loose match."""
    keys = {c.key for c in export.columns}
    if ref in keys:
        return ref
    for match in (lambda c: c.header == ref, lambda c: fold(c.header) == fold(ref)):
        found = [c.key for c in export.columns if match(c)]
        if len(found) == 1:
            return found[0]
    return None


def _missing_column(export: SurveyExport, mapping_file: Path, where: str, ref: str) -> Problem:
    same = [c.key for c in export.columns if fold(c.header) == fold(ref)]
    if len(same) > 1:
        return Problem(mapping_file, f"one column; {len(same)} columns of {export.path.name} have this header: name "
                       f"one by its key ({', '.join(same)})", None, where, ref)
    shown = ", ".join(c.header if c.header == c.key else f"{c.header} [{c.key}]" for c in export.columns[:60])
    return Problem(mapping_file, f"a column of {export.path.name}; it has: {shown}", None, where, ref)


def to_iso_utc(values: pd.Series, zone: str) -> pd.Series:
    """Date-time text as ISO 8601 UTC (`2021-03-04T09:30:00Z`); NaN where it cannot be read.

    Times written without a zone are taken in `zone` (the export's or the mapping's).
    """
    tz = zoneinfo.ZoneInfo(zone)

    def one(text: str):
        text = str(text).strip()
        if not text:
            return None
        try:
            stamp = pd.Timestamp(text)
        except (ValueError, TypeError):
            return None
        if stamp is pd.NaT:
            return None
        stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp
        return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")

    uniques = pd.unique(values)
    lookup = {v: one(v) for v in uniques}  # once per distinct value: exports repeat few
    return values.map(lookup)


def build_questionnaire(export: SurveyExport, mapping: dict, mapping_file: Path,
                        outcome: Outcome) -> pd.DataFrame:
    """questionnaire.csv from the export and a confirmed mapping; InputError listing every problem."""
    allowed = MAPPING_SECTIONS | ({export.extra_section} if export.extra_section else set())
    problems: list[Problem] = unknown_keys(mapping, allowed, mapping_file)
    if export.select is not None:
        problems += export.select(mapping, mapping_file)
    frame, src = export.frame, export.path
    if not problems and frame.empty:
        left = "; ".join(f"{n} {why}" for why, n in export.dropped)
        raise InputError(None, [Problem(src, "at least one response to import; none is left"
                                        + (f" once these are left out: {left}" if left else "")
                                        + (f". Keep them with [{export.extra_section}] in {mapping_file.name}"
                                           if export.extra_section and left else ""))])
    columns, constants = mapping.get("columns", {}), mapping.get("constants", {})
    values = mapping.get("values", {})
    problems += unknown_keys(columns, set(KEY_FIELDS), mapping_file, "columns")
    problems += unknown_keys(constants, set(KEY_FIELDS), mapping_file, "constants")
    problems += unknown_keys(values, set(VALUE_FIELDS), mapping_file, "values")
    zone = str(mapping.get("timezone") or "UTC")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(mapping_file, "an IANA time zone name such as Europe/London or UTC", None,
                                "timezone", zone))
        zone = "UTC"

    def where(name: str) -> str:
        return export.column(source_of[name]).header if name in source_of else f"(constant {name})"

    def bad_cells(mask: pd.Series, cells: pd.Series, name: str, expected: str) -> None:
        for row, value in zip(frame.loc[mask, "_row"], cells[mask]):
            problems.append(Problem(src, expected, int(row), where(name), value))

    # Columns are gathered in a dict and made a frame once: inserting them one by one into a
    # frame fragments it (pandas warns once per column past 100, 82 times on a wide survey).
    out: dict[str, pd.Series] = {}
    source_of: dict[str, str] = {}
    for name in KEY_FIELDS:
        ref = str(columns.get(name, "") or "").strip()
        if ref:
            key = resolve(export, ref)
            if key is None:
                problems.append(_missing_column(export, mapping_file, f"[columns] {name}", ref))
                continue
            source_of[name] = key
            out[name] = frame[key].str.strip()
            outcome.mapped.append(f"{name} <- {export.display(key)}")
        elif str(constants.get(name, "")).strip():
            out[name] = pd.Series(str(constants[name]).strip(), index=frame.index, dtype=object)
            outcome.mapped.append(f"{name} <- constant {constants[name]!r}")
        elif name == "participant_id":
            problems.append(Problem(mapping_file, "an export column for participant_id in [columns] (one id per "
                                    "respondent; a fixed value cannot tell them apart)", None, "[columns] "
                                    "participant_id", ""))
        else:
            problems.append(Problem(mapping_file, f"an export column for {name} in [columns], or a fixed value in "
                                    f"[constants] (e.g. {CONSTANT_EXAMPLES[name]}); the importer does not guess it",
                                    None, f"[columns] {name}", ""))

    for name in VALUE_FIELDS:
        if name not in out:
            continue
        cells = out[name]
        labels = export.column(source_of[name]).labels if name in source_of else None
        table = {fold(k): str(v).strip() for k, v in values.get(name, {}).items()}
        if table and name in source_of:  # a constant is written as typed, not looked up
            # An answer may be listed as exported (a code) or as its label.
            mapped = cells.map(lambda v, table=table, labels=labels: "" if v == "" else table.get(
                fold(v), table.get(fold((labels or {}).get(v, "\0")))))
            bad_cells(mapped.isna(), cells, name, f"an answer listed in [values.{name}] of {mapping_file.name}")
            cells = mapped.fillna("")
        elif labels:
            cells = cells.map(lambda v, labels=labels: labels.get(v, v))
        if name in ("consent", "finished"):
            blank = cells == ""
            if blank.any():
                outcome.notes.append(f"{int(blank.sum())} response(s) with a blank {name} written as 'no'.")
            cells = cells.where(~blank, "no")
            folded = cells.str.casefold()
            bad_cells(~folded.isin(TRUE_WORDS | FALSE_WORDS), cells, name,
                      f"yes or no (or true/false, 1/0); map this answer in [values.{name}] of {mapping_file.name}")
            cells = folded.map(lambda v: "yes" if v in TRUE_WORDS else "no")
        out[name] = cells
    if "role" in source_of and not values.get("role") and not export.column(source_of["role"]).labels \
            and len(frame) and out["role"].str.fullmatch(r"\d*").all():
        problems.append(Problem(src, "roles as text: this column holds numeric choice codes (a 'numeric values' "
                                "export). Export with choice text, or list each code in [values.role] of "
                                f"{mapping_file.name}", None, where("role"), out["role"].iloc[0]))
    if "participant_id" in out:
        blank = out["participant_id"] == ""
        bad_cells(blank, out["participant_id"], "participant_id", "a participant id (the cell is blank)")
    if "submitted_at" in out:
        iso = to_iso_utc(out["submitted_at"], zone)
        unsent = iso.isna() & (out.get("finished", pd.Series("yes", index=frame.index)) == "no")
        if unsent.any():
            # A response never submitted has no time (REDCap writes "[not completed]"); it is
            # unfinished, so the pipeline would drop it anyway: leave it out and say so.
            outcome.dropped.append(("not submitted: no submission time and not finished", int(unsent.sum())))
        bad_cells(iso.isna() & ~unsent, out["submitted_at"], "submitted_at", "a date-time such as 2021-03-04 09:30:00")
        out["submitted_at"] = iso.fillna("")
    else:
        unsent = pd.Series(False, index=frame.index)

    scale_map = mapping.get("likert_scale", {})
    for label, number in scale_map.items():
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 5:
            problems.append(Problem(mapping_file, "a whole number from 1 to 5", None, f"[likert_scale] {label}",
                                    number))
    scale = {fold(k): str(v) for k, v in scale_map.items()}
    used = set(source_of.values())
    for item, ref in mapping.get("likert", {}).items():
        key = resolve(export, str(ref))
        if key is None:
            problems.append(_missing_column(export, mapping_file, f"[likert] {item}", str(ref)))
            continue
        used.add(key)
        cells, shown = frame[key].str.strip(), export.shown(key)
        # Worked out once per distinct (answer, label): a survey of 500 responses x 150 items
        # repeats five answers, and Series operations per item would cost seconds.
        pairs = list(zip(cells, shown))
        memo = {pair: _likert_number(*pair, scale) for pair in set(pairs)}
        numbers = pd.Series([memo[pair] for pair in pairs], index=frame.index, dtype=object)
        for row, value in zip(frame.loc[numbers.isna(), "_row"], shown[numbers.isna()]):
            problems.append(Problem(src, f"an answer 1-5, or one listed in [likert_scale] of {mapping_file.name}",
                                    int(row), export.column(key).header, value))
        out[f"q_{slug(item)}"] = numbers.fillna("").astype(str)
        outcome.mapped.append(f"q_{slug(item)} <- {export.display(key)}")
    for item, ref in mapping.get("text", {}).items():
        refs = ref if isinstance(ref, list) else [ref]
        keys = [resolve(export, str(r)) for r in refs]
        for r, key in zip(refs, keys):
            if key is None:
                problems.append(_missing_column(export, mapping_file, f"[text] {item}", str(r)))
        if None in keys:
            continue
        used |= set(keys)
        out[f"text_{slug(item)}"] = _join_answers(export, keys)
        outcome.mapped.append(f"text_{slug(item)} <- {', '.join(export.display(k) for k in keys)}")
    if problems:
        raise InputError(f"{src} cannot be imported with the mapping {mapping_file}.", problems)
    outcome.left_out += [export.display(c.key) for c in export.columns if c.key not in used]
    out = pd.DataFrame(out, index=frame.index)[~unsent]
    outcome.roles = sorted(set(out["role"]) - {""}, key=fold)
    ordered = list(KEY_FIELDS) + [c for c in out.columns if c not in KEY_FIELDS]
    return out[ordered].reset_index(drop=True)


def _likert_number(cell: str, shown: str, scale: dict[str, str]) -> str | None:
    """An answer as 1-5 text ("" when blank), by the scale (as exported or as labelled) or as already 1-5."""
    if cell == "":
        return ""
    number = scale.get(fold(cell)) or scale.get(fold(shown))
    return number or (cell if cell in LIKERT_NUMBERS else None)


def _join_answers(export: SurveyExport, keys: list[str]) -> pd.Series:
    """One text answer from one column, or from the columns of a split multi-select."""
    if len(keys) == 1:
        return export.shown(keys[0])
    parts = []
    for key in keys:
        col = export.column(key)
        cells = export.shown(key)
        # A numeric export marks a chosen option with 1 (unchosen 0 or blank): write the choice's text.
        chosen = cells.where(~cells.isin(["1"]), col.choice or col.header).where(~cells.isin(["0"]), "")
        parts.append(chosen)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "; " + part
    # Unchosen options left empty pieces: "; B; " -> "B".
    return joined.str.replace(r"(; ){2,}", "; ", regex=True).str.replace(r"^; |; $", "", regex=True)
