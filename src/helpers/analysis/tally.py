"""Counts behind every table: participants, sources and thematic references.

Definitions (docs/methods.md): a *reference* is one distinct (segment_id, code)
pair, so double coding never inflates a count; for a code, `sources` is the number of
distinct source_id and `participants` the number of distinct non-blank participant_id
among its references. Percentages are rounded half-up to one decimal.
"""
from __future__ import annotations

import pandas as pd

from .rounding import pct_half_up

UNATTRIBUTED = "unattributed"


def references(segments: pd.DataFrame, codebook: pd.DataFrame, sources: pd.DataFrame,
               participants: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct (segment_id, code), with theme, source type and role group."""
    refs = segments.drop_duplicates(["segment_id", "code"])[
        ["segment_id", "code", "source_id", "participant_id", "text"]].reset_index(drop=True)
    for table, key, columns in ((codebook, "code", ["theme", "subtheme"]), (sources, "source_id", ["source_type"]),
                                (participants, "participant_id", ["role_group"])):
        if table[key].is_unique:  # a lookup: what a left merge gives, without copying every column
            found = table.set_index(key)[columns].reindex(refs[key])
            for column in columns:
                refs[column] = found[column].to_numpy()
        else:
            refs = refs.merge(table[[key] + columns], on=key, how="left")
    refs["role_group"] = refs["role_group"].fillna(UNATTRIBUTED)
    return refs.reset_index(drop=True)


def _summarise(refs: pd.DataFrame, keys: list[str], total_refs: int) -> pd.DataFrame:
    attributed = refs["participant_id"].where(refs["participant_id"] != "")
    grouped = refs.assign(_pid=attributed).groupby(keys, sort=False, dropna=False)
    out = pd.DataFrame({
        "references": grouped.size(),
        "sources": grouped["source_id"].nunique(),
        "participants": grouped["_pid"].nunique(),
    })
    out["pct_references"] = pct_half_up(out["references"], total_refs)
    return out


def code_tallies(refs: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """theme_tallies.csv: one row per codebook code (zeros included), codebook order."""
    book = codebook[["theme", "subtheme", "code"]].copy()
    summary = _summarise(refs, ["code"], len(refs)).reset_index()
    out = book.merge(summary, on="code", how="left")
    for column in ("references", "sources", "participants"):
        out[column] = out[column].fillna(0).astype(int)
    out["pct_references"] = out["pct_references"].fillna(0.0)
    return out[["theme", "subtheme", "code", "references", "pct_references", "sources", "participants"]]


def group_tallies(refs: pd.DataFrame, codebook: pd.DataFrame, level: str) -> pd.DataFrame:
    """Tallies per theme (level='theme') or per theme and subtheme (level='subtheme').

    Distinct sources and participants are counted across the group's codes, so a
    participant who spoke to three codes of a theme counts once for that theme.
    """
    keys = ["theme"] if level == "theme" else ["theme", "subtheme"]
    book = codebook[keys].drop_duplicates()
    summary = _summarise(refs, keys, len(refs)).reset_index()
    out = book.merge(summary, on=keys, how="left")
    for column in ("references", "sources", "participants"):
        out[column] = out[column].fillna(0).astype(int)
    out["pct_references"] = out["pct_references"].fillna(0.0)
    return out[keys + ["references", "pct_references", "sources", "participants"]]


def theme_by(refs: pd.DataFrame, codebook: pd.DataFrame, column: str, categories: list[str],
             level: str = "theme") -> pd.DataFrame:
    """Long table theme (or code, with level="code") x category (role group or source type):
    references, participants, and each cell's share of the category's references. Every pair
    appears, zeros included."""
    themes = codebook[level].drop_duplicates().tolist()
    grid = pd.MultiIndex.from_product([themes, categories], names=[level, column])
    summary = _summarise(refs, [level, column], len(refs)).reindex(grid)
    summary = summary.fillna({"references": 0, "sources": 0, "participants": 0}).astype(
        {"references": int, "sources": int, "participants": int})
    per_category = summary.groupby(level=column)["references"].transform("sum")
    summary["pct_of_" + column.replace(" ", "_")] = pct_half_up(summary["references"], per_category)
    summary = summary.drop(columns="pct_references").reset_index()
    return summary


def participants_by_role(participants: pd.DataFrame, role_groups: list[str]) -> pd.DataFrame:
    """participants_by_role.csv: n and pct of cleaned participants per role group."""
    counts = participants["role_group"].value_counts().reindex(role_groups, fill_value=0)
    return pd.DataFrame({
        "role_group": role_groups,
        "n": counts.to_numpy().astype(int),
        "pct": pct_half_up(counts.to_numpy(), len(participants)),
    })


def sources_by_type(sources: pd.DataFrame, source_types) -> pd.DataFrame:
    """sources_by_type.csv: number of sources of each type, zeros included."""
    counts = sources["source_type"].value_counts().reindex(list(source_types), fill_value=0)
    return pd.DataFrame({"source_type": list(source_types), "n": counts.to_numpy().astype(int)})
