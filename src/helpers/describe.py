"""The published tables of notebooks 02 and 03, built from the cleaned data of one run.

Each function returns the table as it is written to tables/, with small-number
disclosure control applied (helpers.disclosure; off by default).
"""
from __future__ import annotations

import pandas as pd

from . import privacy, stats, tally
from .clean import Cleaned
from .disclosure import REDACTED, Disclosure, protect
from .load import SOURCE_TYPES

OFF = Disclosure()
QUOTES_PER_THEME = 3


def participants_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    table = tally.participants_by_role(cleaned.participants, cleaned.role_groups)
    return protect(table, rules, {"n": {"pct": len(cleaned.participants)}})


def sources_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    return protect(tally.sources_by_type(cleaned.sources, SOURCE_TYPES), rules, {"n": {}})


def coding_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """Per source type: sources, sources with any coding, sources coded by two or more coders."""
    coders = cleaned.segments.groupby("source_id")["coder"].nunique()
    src = cleaned.sources.assign(coders=cleaned.sources["source_id"].map(coders).fillna(0).astype(int))
    src = src.assign(coded=src["coders"] >= 1, double_coded=src["coders"] >= 2)
    grouped = src.groupby("source_type")
    out = pd.DataFrame({
        "n": grouped.size(),
        "coded": grouped["coded"].sum(),
        "double_coded": grouped["double_coded"].sum(),
    }).reindex(list(SOURCE_TYPES), fill_value=0)
    out = out.astype(int).rename_axis("source_type").reset_index()
    return protect(out, rules, {"n": {}, "coded": {}, "double_coded": {}})


def likert_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    table = stats.likert_summary(cleaned.participants)
    if not rules.active or table.empty:
        return table
    agree = table["n_4"] + table["n_5"]
    out = protect(table.assign(_agree=agree), rules,
                  {"_agree": {"pct_agree": table["n"]}, "n": {}, "missing": {},
                   **{f"n_{x}": {} for x in stats.LIKERT_LEVELS}})
    if rules.min_count > 0:
        few = table["n"] <= rules.min_count  # quartiles of a handful of answers reveal them
        for column in ("median", "q1", "q3"):
            out[column] = out[column].astype(object).where(~few, REDACTED)
    return out.drop(columns="_agree")


def references(cleaned: Cleaned) -> pd.DataFrame:
    return tally.references(cleaned.segments, cleaned.codebook, cleaned.sources, cleaned.participants)


def _protect_tallies(table: pd.DataFrame, rules: Disclosure, total: int) -> pd.DataFrame:
    return protect(table, rules, {"references": {"pct_references": total}, "sources": {}, "participants": {}})


def code_table(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    return _protect_tallies(tally.code_tallies(refs, cleaned.codebook), rules, len(refs))


def group_table(refs: pd.DataFrame, cleaned: Cleaned, level: str, rules: Disclosure = OFF) -> pd.DataFrame:
    return _protect_tallies(tally.group_tallies(refs, cleaned.codebook, level), rules, len(refs))


def _protect_crosstab(table: pd.DataFrame, column: str, rules: Disclosure) -> pd.DataFrame:
    pct = "pct_of_" + column.replace(" ", "_")
    per_category = table.groupby(column)["references"].transform("sum")
    return protect(table, rules, {"references": {pct: per_category}, "sources": {}, "participants": {}})


def theme_by_role_group(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """Theme x role group; unattributed focus-group talk is left out of the role-group shares."""
    attributed = refs[refs["role_group"] != tally.UNATTRIBUTED]
    table = tally.theme_by(attributed, cleaned.codebook, "role_group", cleaned.role_groups)
    return _protect_crosstab(table, "role_group", rules)


def theme_by_source_type(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    table = tally.theme_by(refs, cleaned.codebook, "source_type", list(SOURCE_TYPES))
    return _protect_crosstab(table, "source_type", rules)


def illustrative_quotes(refs: pd.DataFrame, cleaned: Cleaned, redact_names: list[str],
                        rules: Disclosure = OFF, per_theme: int = QUOTES_PER_THEME) -> pd.DataFrame:
    """Up to `per_theme` quotes per theme, from different participants where possible,
    in codebook order, scrubbed of contact details, NHS numbers and listed names.

    With disclosure control on, quotes carry only their source type: a role group with
    few members would otherwise point at a person.
    """
    order = {code: i for i, code in enumerate(cleaned.codebook["code"])}
    quoted = refs[refs["text"].fillna("").str.strip() != ""].copy()
    quoted["_order"] = quoted["code"].map(order)
    quoted = quoted.sort_values(["_order", "segment_id"], kind="mergesort")
    quoted = quoted.drop_duplicates(["theme", "text"])  # the same words are one quote
    # Prefer a new participant, then a code not yet quoted, then codebook order.
    quoted["_repeat_participant"] = quoted.groupby(["theme", "participant_id"]).cumcount()
    quoted["_repeat_code"] = quoted.groupby(["theme", "code"]).cumcount()
    quoted = quoted.sort_values(["_repeat_participant", "_repeat_code", "_order", "segment_id"], kind="mergesort")
    chosen = quoted.groupby("theme", sort=False).head(per_theme)
    theme_order = {t: i for i, t in enumerate(dict.fromkeys(cleaned.codebook["theme"]))}
    chosen = chosen.assign(_theme=chosen["theme"].map(theme_order)).sort_values(
        ["_theme", "_order", "segment_id"], kind="mergesort")
    out = pd.DataFrame({
        "theme": chosen["theme"].to_numpy(),
        "code": chosen["code"].to_numpy(),
        "source_type": chosen["source_type"].to_numpy(),
        "role_group": chosen["role_group"].to_numpy(),
        "participant": chosen["participant_id"].to_numpy(),
        "quote": privacy.scrub(chosen["text"], redact_names).to_numpy(),
    })
    if rules.active:
        out = out.drop(columns=["role_group", "participant"])
    return out


def log_counts_table(log: pd.DataFrame, rules: Disclosure = OFF) -> pd.DataFrame:
    from .clean import log_counts

    return protect(log_counts(log), rules, {"rows_dropped": {}})


def totals_table(cleaned: Cleaned, refs: pd.DataFrame, rules: Disclosure = OFF) -> pd.DataFrame:
    """totals.csv: the run's headline counts, read by the report's header."""
    table = pd.DataFrame({
        "measure": ["participants", "sources", "references"],
        "n": [len(cleaned.participants), len(cleaned.sources), len(refs)],
    })
    return protect(table, rules, {"n": {}})
