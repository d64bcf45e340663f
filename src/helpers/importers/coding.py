"""Qualitative-coding exports (REFI-QDA, Taguette, QualCoder) into sources, coded_segments, codebook.

Each format module reads its export into a CodingExport: the code tree, the sources
with the cases (participants) linked to them, and one Coding per code applied to a
stretch of text. This module writes the starting mapping (how the tree becomes theme /
subtheme / code, each source's type and participants) and turns a confirmed mapping
into the three contract tables.

A segment is one stretch of one source. Exports that record two coders' codings of the
same stretch separately are merged onto one segment id, so that the pipeline counts the
(segment, code) pair once, as the definition of a reference (docs/methods.md) asks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.data.errors import InputError, Problem
from helpers.data.load import SOURCE_TYPES

from .common import GUESS, Outcome, fold, toml_key, toml_str, toml_value, unknown_keys

MAPPING_SECTIONS = {"confirmed", "kind", "export", "default_coder", "codebook", "codes", "sources",
                    "participants", "coders"}
# Neutral source ids by type (as the bundled data use): export names often hold a person's name.
ID_PREFIX = {"interview": "INT", "focus_group": "FG", "dissertation": "DIS", "questionnaire": "QST"}
TYPE_HINTS = (("focus_group", ("focus group", "focus-group", "focusgroup", "fg")),
              ("dissertation", ("dissertation", "thesis", "diss")),
              ("questionnaire", ("questionnaire", "survey")),
              ("interview", ("interview", "int")))


@dataclass
class Code:
    """One node of the code tree: its name, its ancestors' names (top first), its memo."""

    key: str
    name: str
    path: tuple[str, ...] = ()
    description: str = ""
    codable: bool = True
    has_children: bool = False


@dataclass
class Source:
    key: str
    name: str
    cases: list[str] = field(default_factory=list)   # case names linked to the whole source


@dataclass
class Coding:
    """One code applied by one coder to one stretch (segment) of one source."""

    segment: str
    source: str        # Source.key
    code: str          # Code.key
    coder: str = ""
    text: str = ""
    case: str = ""     # a case linked to this very stretch (e.g. one speaker of a focus group)
    row: int | None = None


@dataclass
class CodingExport:
    kind: str
    path: Path
    codes: dict[str, Code] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    codings: list[Coding] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    says_coder: bool = True
    dropped: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    codebook_only: bool = False
    # Taguette keeps sub-tags in the tag's name ("barriers.time"): the separator that splits
    # a name into a path, as guessed; the mapping's [codebook] separator may change it.
    separator: str | None = None


def guess_type(name: str) -> tuple[str, str]:
    """(source type, why) from a source's name; interview when the name says nothing."""
    words = fold(name).replace("_", " ")
    for kind, hints in TYPE_HINTS:
        for hint in hints:
            if hint in words.split() or (len(hint) > 4 and hint in words):
                return kind, f"{GUESS} from the name ({hint!r})"
    return "interview", f"{GUESS}: the name does not say; interview assumed"


def tree_depth(export: CodingExport) -> int:
    return max((len(c.path) + 1 for c in export.codes.values() if c.codable), default=1)


def used_codes(export: CodingExport) -> set[str]:
    return {c.code for c in export.codings}


def codebook_codes(export: CodingExport) -> list[Code]:
    """The codes that become rows of codebook.csv: leaves and any code actually applied.

    A code with children that nobody applied is a category (a theme or subtheme), not a code.
    """
    used = used_codes(export)
    return [c for c in export.codes.values() if c.key in used or (c.codable and not c.has_children)]


def starting_mapping(export: CodingExport, cohort: str) -> str:
    """The first mapping file for this export, every guess marked."""
    depth = tree_depth(export)
    flat = depth == 1
    lines = [
        f"# Import mapping for cohort {cohort!r}: how {export.path.name} ({export.kind}) becomes "
        + ("codebook.csv." if export.codebook_only else "sources.csv, coded_segments.csv and codebook.csv."),
        "# Written by `python -m helpers.importers`; lines marked GUESS are the importer's best guesses.",
        "# Check them all, edit what is wrong, then set `confirmed = true` and run the same import again.",
        "confirmed = false",
        f"kind = {toml_str(export.kind)}",
        f"export = {toml_str(export.path.name)}",
    ]
    if not export.says_coder:
        lines += ["# This export does not say who coded: the coder column gets this value.",
                  'default_coder = ""']
    lines += ["", "[codebook]",
              "# Which level of the code tree names the theme and which the subtheme (1 = top level;",
              "# subtheme_level = 0: no subthemes). A code's own name is always the code. Deeper levels",
              "# in between are not kept. Per-code exceptions go in [codes].",
              "# A code is known by its path in the tree, so one name may appear in several branches: in",
              "# codebook.csv a name shared by several codes is followed by its nearest ancestors, as many",
              "# as tell them apart, e.g. \"citizenship (Rights > Law)\" (same whole path: numbered [2], [3])."]
    if export.separator is not None:
        shown = {".": "a dot", "\\": "a backslash", "": "none"}.get(export.separator, repr(export.separator))
        lines += ["# Taguette writes sub-tags inside the tag's name (barriers.time): the character that",
                  "# separates the levels (\".\", \"\\\\\" or \"\" for none). Changing it redraws the tree below.",
                  f"separator = {toml_str(export.separator)}  # {GUESS}: {shown}, as the tag names use"]
    if flat:
        lines += ["theme_level = 1", "subtheme_level = 0  # the export has no code tree: set each theme in [codes]"]
    else:
        lines += ["theme_level = 1  # " + GUESS,
                  f"subtheme_level = {2 if depth >= 3 else 0}  # {GUESS}: the code tree is {depth} levels deep"]
    lines += ["", "[codes]",
              '# "code" = { theme = "...", subtheme = "...", description = "..." } overrides the tree for one code.']
    chosen = codebook_codes(export)
    written = unique_names(chosen)
    theme_level, sub_level = 1, (2 if depth >= 3 else 0)
    for code in chosen:
        full = code.path + (code.name,)
        if flat:
            lines.append(f"{toml_key(written[code.key])} = {{ theme = \"\", subtheme = \"\" }}  # FILL IN: theme "
                         f"required")
        else:
            sub = full[sub_level - 1] if sub_level and len(full) > sub_level else ""
            lines.append(f"# {written[code.key]}: tree {' > '.join(full)} -> theme {full[theme_level - 1]!r}"
                         + (f", subtheme {sub!r}" if sub else ""))
    if export.codebook_only:
        return "\n".join(lines) + "\n"
    lines += ["", "[sources]",
              f"# One line per source: its type ({', '.join(SOURCE_TYPES)}) and its participants"]
    lines.append("# (case names; [participants] turns them into questionnaire.csv's participant_id)." if export.cases
                 else "# (participant_id as in questionnaire.csv; this export does not link people to sources).")
    lines.append("# id: the source_id written (and shown in reports): keep names of people out of it.")
    numbers: dict[str, int] = {}
    for source in export.sources.values():
        kind, why = guess_type(source.name)
        numbers[kind] = numbers.get(kind, 0) + 1
        cases = list(dict.fromkeys(source.cases))
        note = why + ("; participants from the export's cases" if cases else "; no case linked: add participants")
        entry = {"id": f"{ID_PREFIX[kind]}{numbers[kind]:02d}", "type": kind, "participants": cases}
        lines.append(f"{toml_key(source.name)} = {toml_value(entry)}  # {note}")
    if export.cases:
        lines += ["", "[participants]",
                  "# case name in the export = participant_id in questionnaire.csv (change the right side if they "
                  "differ)."]
        lines += [f"{toml_key(case)} = {toml_str(case)}" for case in export.cases]
    coders = sorted({c.coder for c in export.codings if c.coder}, key=fold)
    if coders:
        lines += ["", "[coders]", "# coder as exported = coder written (e.g. initials)."]
        lines += [f"{toml_key(c)} = {toml_str(c)}" for c in coders]
    return "\n".join(lines) + "\n"


def build_codebook(export: CodingExport, mapping: dict, mapping_file: Path, problems: list[Problem]) -> dict[str, dict]:
    """code key -> {code, theme, subtheme, description} for every code of codebook.csv."""
    book = mapping.get("codebook", {})
    problems += unknown_keys(book, {"theme_level", "subtheme_level"} | ({"separator"} if export.separator is not None
                                                                       else set()), mapping_file, "codebook")
    if export.separator is not None:
        sep = book.get("separator", export.separator)
        if not isinstance(sep, str):
            problems.append(Problem(mapping_file, 'a separator in quotes, e.g. "." or "\\\\" ("" = none)', None,
                                    "[codebook] separator", sep))
        else:
            split_names(export, sep)
    theme_level, sub_level = book.get("theme_level", 1), book.get("subtheme_level", 0)
    for name, value in (("theme_level", theme_level), ("subtheme_level", sub_level)):
        if not isinstance(value, int) or isinstance(value, bool) or value < (1 if name == "theme_level" else 0):
            problems.append(Problem(mapping_file, "a whole number (tree level, 1 = top)", None,
                                    f"[codebook] {name}", value))
            return {}
    overrides = mapping.get("codes", {})
    chosen = codebook_codes(export)
    written = unique_names(chosen)
    by_ref = {}
    for code in chosen:  # a [codes] line names a code by its written name or by its path
        by_ref[written[code.key]] = code.key
        by_ref[" > ".join(code.path + (code.name,))] = code.key
    for ref, value in overrides.items():
        if ref not in by_ref:
            problems.append(Problem(mapping_file, f"a code of {export.path.name}, by its name in codebook.csv or its "
                                    f"path in the tree (\"Parent > Child\")", None, "[codes]", ref))
        elif not isinstance(value, dict):
            problems.append(Problem(mapping_file, '{ theme = "...", subtheme = "..." }', None, f"[codes] {ref}",
                                    value))
    override_of = {by_ref[ref]: (ref, value) for ref, value in overrides.items()
                   if ref in by_ref and isinstance(value, dict)}
    out = {}
    for code in chosen:
        full = code.path + (code.name,)
        depth = len(full)
        row = {
            "code": written[code.key],
            "theme": full[min(theme_level, depth) - 1],
            "subtheme": full[sub_level - 1] if sub_level and depth > sub_level else "",
            "description": code.description,
        }
        if code.key in override_of:
            ref, override = override_of[code.key]
            problems += unknown_keys(override, {"theme", "subtheme", "description"}, mapping_file, f"codes.{ref}")
            row.update({k: str(v).strip() for k, v in override.items() if k in row and k != "code"})
        if not row["theme"]:
            problems.append(Problem(mapping_file, "a theme for every code (codebook.csv requires one)", None,
                                    f"[codes] {written[code.key]}", ""))
        out[code.key] = row
    renamed = [r["code"] for k, r in out.items() if r["code"] != export.codes[k].name]
    if renamed:
        export.notes.append(f"{len(renamed)} code name(s) shared by codes in different places of the tree are "
                            f"written with their nearest distinguishing ancestors: {', '.join(renamed[:10])}"
                            + (" ..." if len(renamed) > 10 else "") + ".")
    return out


def split_names(export: CodingExport, separator: str) -> None:
    """Taguette: each tag's path from its name ("barriers.time" -> barriers > time); "" keeps names whole."""
    export.separator = separator
    names = {c.key for c in export.codes.values()}
    for code in export.codes.values():
        parts = [p.strip() for p in code.key.split(separator)] if separator else [code.key]
        parts = [p for p in parts if p] or [code.key]
        code.path, code.name = tuple(parts[:-1]), parts[-1]
    prefixes = {code.path[:i] for code in export.codes.values() for i in range(1, len(code.path) + 1)}
    for code in export.codes.values():
        code.has_children = (code.path + (code.name,)) in prefixes
    del names


def unique_names(codes: list[Code]) -> dict[str, str]:
    """code key -> the name written in codebook.csv, unique across the codebook.

    The rule: a code keeps its own name when no other code of the codebook has it. Codes
    sharing a name get, in brackets, their nearest ancestors joined by " > ", as many as it
    takes to tell them apart ("citizenship (Rights > Law)"). Codes whose whole paths are the
    same (two siblings of one name) keep the name in tree order, the second and later numbered:
    "Other", "Other [2]".
    """
    groups: dict[str, list[Code]] = {}
    for code in codes:
        groups.setdefault(code.name, []).append(code)
    out = {}
    for name, group in groups.items():
        if len(group) == 1:
            out[group[0].key] = name
            continue
        deepest = max(len(c.path) for c in group)
        best = len({c.path for c in group})   # what the whole paths can tell apart
        k = next(k for k in range(deepest + 1) if len({c.path[-k:] if k else () for c in group}) == best)
        tails = [c.path[-k:] if k else () for c in group]
        seen: dict[tuple[str, ...], int] = {}
        for code, tail in zip(group, tails):
            seen[tail] = seen.get(tail, 0) + 1
            label = f"{name} ({' > '.join(tail)})" if tail else name
            out[code.key] = label if seen[tail] == 1 else f"{label} [{seen[tail]}]"
    # A bracketed name may itself be another code's plain name: number it apart too.
    counts: dict[str, int] = {}
    for key in out:
        counts[out[key]] = counts.get(out[key], 0) + 1
        if counts[out[key]] > 1:
            out[key] = f"{out[key]} [{counts[out[key]]}]"
    return out


def build_coding_tables(export: CodingExport, mapping: dict, mapping_file: Path,
                        outcome: Outcome) -> dict[str, pd.DataFrame]:
    """{file name: table} for codebook.csv and, unless the export is a codebook alone, the other two."""
    problems: list[Problem] = unknown_keys(mapping, MAPPING_SECTIONS, mapping_file)
    codebook = build_codebook(export, mapping, mapping_file, problems)
    tables = {"codebook.csv": pd.DataFrame(list(codebook.values()),
                                           columns=["code", "theme", "subtheme", "description"])}
    outcome.mapped.append(f"codebook.csv: {len(codebook)} codes under "
                          f"{tables['codebook.csv']['theme'].nunique()} themes")
    if export.codebook_only:
        if problems:
            raise InputError(f"{export.path} cannot be imported with the mapping {mapping_file}.", problems)
        return tables
    renames = {str(k): str(v).strip() for k, v in mapping.get("participants", {}).items()}
    coders = {str(k): str(v).strip() for k, v in mapping.get("coders", {}).items()}
    listed = mapping.get("sources", {})
    source_rows, participants_of, ids_of = [], {}, {}
    by_name = {s.name: s for s in export.sources.values()}
    for name in listed:
        if name not in by_name:
            problems.append(Problem(mapping_file, f"a source of {export.path.name}", None, "[sources]", name))
    for source in export.sources.values():
        entry = listed.get(source.name)
        if not isinstance(entry, dict):
            problems.append(Problem(mapping_file, f"a line for this source: {toml_key(source.name)} = "
                                    f"{{ id = \"INT01\", type = \"interview\", participants = [...] }}", None,
                                    "[sources]", source.name))
            continue
        problems += unknown_keys(entry, {"id", "type", "participants"}, mapping_file, f"sources.{source.name}")
        source_id = str(entry.get("id", "")).strip()
        if not source_id:
            problems.append(Problem(mapping_file, "an id for this source (the source_id written, e.g. INT01)", None,
                                    f"[sources] {source.name} id", ""))
        kind = str(entry.get("type", "")).strip()
        if kind not in SOURCE_TYPES:
            problems.append(Problem(mapping_file, f"one of {', '.join(SOURCE_TYPES)}", None,
                                    f"[sources] {source.name} type", kind))
        people = entry.get("participants", [])
        people = [people] if isinstance(people, str) else list(people)
        ids = list(dict.fromkeys(renames.get(str(p), str(p)).strip() for p in people if str(p).strip()))
        participants_of[source.key] = ids
        ids_of[source.key] = source_id
        source_rows.append({"source_id": source_id, "source_type": kind, "participant_ids": ";".join(ids)})
    default_coder = str(mapping.get("default_coder", "")).strip()
    rows = pd.DataFrame([c.__dict__ for c in export.codings],
                        columns=["segment", "source", "code", "coder", "text", "case", "row"])
    known = rows["code"].isin(codebook.keys())
    if (~known).any():
        outcome.dropped.append(("codings of a code missing from the code tree", int((~known).sum())))
    rows = rows[known & rows["source"].isin(participants_of.keys())]
    sole = {k: (v[0] if len(v) == 1 else "") for k, v in participants_of.items()}
    # A stretch linked to a case is that person's; otherwise a source with one participant is theirs.
    case_ids = rows["case"].map(renames).fillna(rows["case"])
    rows = rows.assign(participant_id=case_ids.where(case_ids != "", rows["source"].map(sole)).fillna(""))
    rows["coder"] = rows["coder"].where(rows["coder"] != "", default_coder)
    rows["coder"] = rows["coder"].map(coders).fillna(rows["coder"])
    segments = pd.DataFrame({
        "segment_id": rows["segment"], "source_id": rows["source"].map(ids_of),
        "participant_id": rows["participant_id"], "code": rows["code"].map({k: r["code"] for k, r in
                                                                             codebook.items()}),
        "coder": rows["coder"], "text": rows["text"],
    })
    twice = segments.duplicated(["segment_id", "code", "coder"])
    if twice.any():
        outcome.dropped.append(("repeated codings (same segment, code and coder)", int(twice.sum())))
    segments = segments[~twice]
    # Every row of a segment must name one participant (the pipeline checks it): a stretch
    # linked to a case in one coding and not in another takes the case.
    segments["participant_id"] = segments.groupby("segment_id")["participant_id"].transform("max")
    repeated = pd.Series(list(ids_of.values())).value_counts()
    for source_id in repeated[repeated > 1].index:
        problems.append(Problem(mapping_file, "a different id for each source", None, "[sources] id", source_id))
    if problems:
        raise InputError(f"{export.path} cannot be imported with the mapping {mapping_file}.", problems)
    tables["sources.csv"] = pd.DataFrame(source_rows, columns=["source_id", "source_type", "participant_ids"])
    tables["coded_segments.csv"] = segments.reset_index(drop=True)
    outcome.mapped.append(f"sources.csv: {len(source_rows)} sources")
    outcome.mapped.append(f"coded_segments.csv: {len(segments)} rows, {segments['segment_id'].nunique()} segments, "
                          f"{segments.drop_duplicates(['segment_id', 'code']).shape[0]} references")
    no_people = [r["source_id"] for r in source_rows if not r["participant_ids"]]
    if no_people:
        outcome.notes.append(f"Sources with no participant (their segments count for no participant): "
                             f"{', '.join(no_people)}. Add participants in [sources] if that is wrong.")
    outcome.left_out += [f"code tree category {c.name!r} (not applied to any text)" for c in export.codes.values()
                         if c.key not in codebook and c.has_children]
    return tables

