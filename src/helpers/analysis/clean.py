"""Cleaning rules of notebook 01, each a small function with a test of its own.

Order matters and is the study's: drop responses without consent, then unfinished
ones, then keep the latest submission of each participant among what is left, so a
finished response is never replaced by a later abandoned one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import paths
from helpers.data.contract import (  # noqa: F401 (the reasons are part of clean's interface)
    REASON_DUPLICATE,
    REASON_EXCLUDED_PARTICIPANT,
    REASON_NO_CONSENT,
    REASON_NOT_FINISHED,
)
from helpers.data.errors import InputError, Problem
from helpers.data.load import (
    FREE_TEXT_PREFIX,
    LIKERT_PREFIX,
    ROLE_GROUPS,
    SUBMITTED,
    RawInputs,
    codebook_clashes,
    explode_ids,
    normalise_role,
    parse_bool,
    parse_timestamp,
    role_map_lines,
    strip,
    unmapped_roles,
)
from helpers.data.store import Cleaned

from .disclosure import OFF, Disclosure, protect

LOG_COLUMNS = ["cohort", "file", "row", "participant_id", "reason"]


def _log(frame: pd.DataFrame, cohort: str, file: str, reason: str) -> pd.DataFrame:
    return pd.DataFrame({
        "cohort": cohort, "file": file, "row": frame["_row"].to_numpy(),
        "participant_id": frame["participant_id"].to_numpy(), "reason": reason,
    })


def drop_without_consent(q: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, dropped): only responses whose consent is yes are kept."""
    keep = parse_bool(q["consent"]).fillna(False).astype(bool)
    return q[keep], q[~keep]


def drop_unfinished(q: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, dropped): only finished responses are kept."""
    keep = parse_bool(q["finished"]).fillna(False).astype(bool)
    return q[keep], q[~keep]


def keep_latest_submission(q: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, dropped): for a repeated participant_id keep the latest submitted_at.

    Equal timestamps keep the row lower in the file, as the later-exported one.
    """
    # load_inputs has parsed submitted_at already; a frame built by hand has not.
    stamp = q[SUBMITTED] if SUBMITTED in q.columns else parse_timestamp(q["submitted_at"])
    order = q.assign(_stamp=stamp).sort_values(["_stamp", "_row"], kind="mergesort")
    latest = ~order.duplicated("participant_id", keep="last")
    kept = order[latest].drop(columns="_stamp").sort_values("_row")
    dropped = order[~latest].drop(columns="_stamp").sort_values("_row")
    return kept, dropped


def map_roles(q: pd.DataFrame, role_map: pd.DataFrame, questionnaire_path: Path,
              role_map_path: Path) -> pd.Series:
    """role_group of each response; InputError naming every role the map lacks.

    load.load_inputs has checked the same already (helpers.data.load.check_roles), with the
    other checks; this one guards tables built some other way.
    """
    lookup = dict(zip(normalise_role(role_map["role_as_typed"]), role_map["role_group"].str.strip()))
    groups = normalise_role(q["role"]).map(lookup)
    if groups.isna().any():
        problems = unmapped_roles(q, role_map, questionnaire_path, role_map_path)
        raise InputError("Some roles are not in the role map.", problems, advice=role_map_lines(problems,
                                                                                                role_map_path))
    return groups.astype(str)


def ordered_role_groups(role_map: pd.DataFrame) -> list[str]:
    present = set(role_map["role_group"].str.strip())
    return [g for g in ROLE_GROUPS if g in present]


def join_ids(ids: pd.Series, index: pd.Index) -> pd.Series:
    """One id per row (index = the list's row) back to `;`-joined lists on `index` ('' if none)."""
    if ids.empty:
        return pd.Series("", index=index, dtype=object)
    # A grouped sum concatenates strings in C; a join per group would call Python per source.
    joined = (ids + ";").groupby(level=0, sort=False).sum().str[:-1]
    return joined.reindex(index, fill_value="").astype(object)


def _prefixer(cohort: str, pooled: bool):
    """Pooled runs make ids unique across folders: `cohort1/P01` and `cohort2/P01` differ."""
    if not pooled:
        return lambda s: s
    return lambda s: s.where(s == "", cohort + "/" + s)


def clean(inputs: RawInputs, pooled: bool) -> Cleaned:
    """Apply every cleaning rule to every cohort of the run and pool the results."""
    participants, sources, segments, codebooks, logs = [], [], [], [], []
    problems: list[Problem] = []
    for raw in inputs.cohorts:
        q = raw.questionnaire.assign(participant_id=strip(raw.questionnaire["participant_id"]))
        qfile = str(Path(raw.name) / paths.QUESTIONNAIRE)
        q, no_consent = drop_without_consent(q)
        q, unfinished = drop_unfinished(q)
        q, duplicates = keep_latest_submission(q)
        logs += [_log(no_consent, raw.name, qfile, REASON_NO_CONSENT),
                 _log(unfinished, raw.name, qfile, REASON_NOT_FINISHED),
                 _log(duplicates, raw.name, qfile, REASON_DUPLICATE)]
        try:
            role_group = map_roles(q, inputs.role_map, raw.folder / paths.QUESTIONNAIRE, inputs.role_map_path)
        except InputError as exc:
            problems += exc.problems
            continue
        prefix = _prefixer(raw.name, pooled)
        keep_cols = [c for c in q.columns if c.startswith((LIKERT_PREFIX, FREE_TEXT_PREFIX))]
        part = pd.DataFrame({
            "cohort": raw.name,
            "participant_id": prefix(q["participant_id"]).to_numpy(),
            "submitted_at": (q[SUBMITTED] if SUBMITTED in q.columns else parse_timestamp(q["submitted_at"])).to_numpy(),
            "role": q["role"].to_numpy(),
            "role_group": role_group.to_numpy(),
        })
        for column in keep_cols:
            values = q[column].to_numpy()
            if column.startswith(LIKERT_PREFIX):
                part[column] = pd.to_numeric(pd.Series(values).str.strip().replace("", None)).astype("Int64")
            else:
                part[column] = values
        participants.append(part)

        src = raw.sources
        sources.append(pd.DataFrame({
            "cohort": raw.name,
            "source_id": prefix(strip(src["source_id"])).to_numpy(),
            "source_type": strip(src["source_type"]).to_numpy(),
            "participant_ids": join_ids(prefix(explode_ids(src["participant_ids"])), src.index).to_numpy(),
            "date": (strip(src["date"]) if "date" in src.columns
                     else pd.Series("", index=src.index)).to_numpy(),
        }))

        seg = raw.segments.assign(participant_id=strip(raw.segments["participant_id"]))
        kept_ids = set(q["participant_id"])
        excluded = (seg["participant_id"] != "") & ~seg["participant_id"].isin(kept_ids)
        logs.append(_log(seg[excluded], raw.name, str(Path(raw.name) / paths.CODED_SEGMENTS),
                         REASON_EXCLUDED_PARTICIPANT))
        seg = seg[~excluded]
        segments.append(pd.DataFrame({
            "cohort": raw.name,
            "segment_id": prefix(strip(seg["segment_id"])).to_numpy(),
            "source_id": prefix(strip(seg["source_id"])).to_numpy(),
            "participant_id": prefix(seg["participant_id"]).to_numpy(),
            "code": strip(seg["code"]).to_numpy(),
            "coder": strip(seg["coder"]).to_numpy(),
            "text": seg["text"].to_numpy(),
        }))
        codebooks.append(raw.codebook.assign(cohort=raw.name, _file=str(raw.folder / paths.CODEBOOK)))
    if problems:
        raise InputError("Some roles are not in the role map.", problems,
                         advice=role_map_lines(problems, inputs.role_map_path))
    return Cleaned(
        participants=pd.concat(participants, ignore_index=True),
        sources=pd.concat(sources, ignore_index=True),
        segments=pd.concat(segments, ignore_index=True),
        codebook=merge_codebooks(codebooks),
        cleaning_log=pd.concat(logs, ignore_index=True)[LOG_COLUMNS],
        role_groups=ordered_role_groups(inputs.role_map),
    )


def merge_codebooks(codebooks: list[pd.DataFrame]) -> pd.DataFrame:
    """One codebook for the run; a code must sit under the same theme in every cohort."""
    columns = ["code", "theme", "subtheme", "description"]
    problems = codebook_clashes(codebooks)  # load.load_inputs has checked this already, with the rest
    if problems:
        raise InputError("The cohorts' codebooks disagree.", problems)
    stacked = pd.concat(codebooks, ignore_index=True)
    for column in columns:
        stacked[column] = stacked[column].str.strip()
    return stacked.drop_duplicates("code", keep="first")[columns].reset_index(drop=True)


def log_counts(log: pd.DataFrame) -> pd.DataFrame:
    """Rows dropped per cohort, file and reason, every reason shown even at zero."""
    reasons = [REASON_NO_CONSENT, REASON_NOT_FINISHED, REASON_DUPLICATE, REASON_EXCLUDED_PARTICIPANT]
    counts = log.groupby("reason").size().reindex(reasons, fill_value=0)
    return counts.rename("rows_dropped").rename_axis("reason").reset_index()


def pseudonymise(cleaned: Cleaned, key: str) -> Cleaned:
    """The same tables with every participant id replaced by its keyed pseudonym."""
    from helpers.data.privacy import hide_embedded as embedded
    from helpers.data.privacy import hide_in_text as in_text
    from helpers.data.privacy import pseudonyms as hide

    sources = cleaned.sources.copy()
    exploded = sources["participant_ids"].str.split(";").explode().fillna("")
    # Every id of the run hidden in one call, so each distinct id is hashed once.
    columns = [cleaned.participants["participant_id"], cleaned.segments["participant_id"], exploded,
               cleaned.cleaning_log["participant_id"]]
    hidden = hide(pd.concat(columns, ignore_index=True), key).to_numpy()
    parts = np.split(hidden, np.cumsum([len(c) for c in columns])[:-1])
    hidden_ids = pd.Series(parts[2], index=exploded.index)
    sources["participant_ids"] = join_ids(hidden_ids[hidden_ids != ""], sources.index)
    # Ids built from a participant id (a questionnaire source `Q-P001`) would keep it: every
    # participant id standing in a source or segment id is replaced by its pseudonym too.
    lookups = _id_lookups(cleaned, columns, hidden)
    sources["source_id"] = embedded(sources["source_id"], sources["cohort"], lookups)
    segments = cleaned.segments.assign(
        participant_id=parts[1],
        source_id=embedded(cleaned.segments["source_id"], cleaned.segments["cohort"], lookups),
        segment_id=embedded(cleaned.segments["segment_id"], cleaned.segments["cohort"], lookups),
        text=in_text(cleaned.segments["text"], cleaned.segments["cohort"], lookups))
    # Free text names people too: a speaker label "P001: ..." or "as P002 said".
    answers = {c: in_text(cleaned.participants[c], cleaned.participants["cohort"], lookups)
               for c in cleaned.participants.columns if c.startswith(FREE_TEXT_PREFIX)}
    return Cleaned(
        participants=cleaned.participants.assign(participant_id=parts[0], **answers),
        sources=sources,
        segments=segments,
        codebook=cleaned.codebook,
        cleaning_log=cleaned.cleaning_log.assign(participant_id=parts[3]),
        role_groups=cleaned.role_groups,
    )


def _id_lookups(cleaned: Cleaned, columns: list[pd.Series], hidden: np.ndarray) -> dict[str, dict[str, str]]:
    """Per cohort, {participant id as it may appear inside another id: its pseudonym}.

    In a pooled run an id `cohort1/P001` is written `P001` inside cohort1's own source ids.
    """
    exploded_cohorts = cleaned.sources["cohort"].reindex(columns[2].index).to_numpy()
    cohorts = np.concatenate([cleaned.participants["cohort"].to_numpy(), cleaned.segments["cohort"].to_numpy(),
                              exploded_cohorts, cleaned.cleaning_log["cohort"].to_numpy()])
    ids = pd.concat(columns, ignore_index=True).astype(str).to_numpy()
    pairs = pd.DataFrame({"cohort": cohorts, "id": ids, "hidden": hidden}).drop_duplicates(["cohort", "id"])
    lookups: dict[str, dict[str, str]] = {}
    for cohort, rows in pairs[pairs["id"] != ""].groupby("cohort", sort=False):
        lookup = lookups.setdefault(str(cohort), {})
        prefix = f"{cohort}/"
        for raw, pseudonym in zip(rows["id"], rows["hidden"]):
            lookup.setdefault(raw, pseudonym)
            if raw.startswith(prefix):  # the participant's own pseudonym, not the cleaning log's
                lookup[raw[len(prefix):]] = pseudonym
    return lookups


def log_counts_table(log: pd.DataFrame, rules: Disclosure = OFF) -> pd.DataFrame:
    return protect(log_counts(log), rules, {"rows_dropped": {}})


def published_log(cleaned: Cleaned) -> pd.DataFrame:
    """cleaning_log.csv as published: every dropped row with its file, row and reason, but no
    pseudonym of a person who did not consent (on any row of theirs, their coded segments
    included). A pseudonym is stable under the run's key, so printing it would say, of someone
    who declined, that they answered. The processed folder's log keeps it, for the study team."""
    log = cleaned.cleaning_log
    declined = set(log.loc[log["reason"] == REASON_NO_CONSENT, "participant_id"])
    declined -= set(cleaned.participants["participant_id"])  # a later submission that consented is kept
    hide = (log["reason"] == REASON_NO_CONSENT) | log["participant_id"].isin(declined)
    return log.assign(participant_id=log["participant_id"].where(~hide, ""))


def prepare(inputs: RawInputs, raw_dir: Path, pooled: bool) -> Cleaned:
    """Notebook 01's rules after reading: clean, then pseudonymise with the run's key.

    The runner's in-process input check (helpers.runner.pipeline.check_inputs) calls this
    same function, so a bad input gets the same message with or without Jupyter.
    """
    from helpers.data.privacy import resolve_key

    key = resolve_key(raw_dir)  # before cleaning: real data without a key stop at once
    return pseudonymise(clean(inputs, pooled=pooled), key)
