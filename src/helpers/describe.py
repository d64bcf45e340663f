"""The tables of notebooks 02 and 03, built from the cleaned data of one run."""
from __future__ import annotations

import pandas as pd

from . import stats, tally
from .clean import Cleaned
from .load import SOURCE_TYPES


def participants_table(cleaned: Cleaned) -> pd.DataFrame:
    return tally.participants_by_role(cleaned.participants, cleaned.role_groups)


def sources_table(cleaned: Cleaned) -> pd.DataFrame:
    return tally.sources_by_type(cleaned.sources, SOURCE_TYPES)


def coding_table(cleaned: Cleaned) -> pd.DataFrame:
    """Per source type: sources, sources with any coding, sources coded by two or more coders."""
    coders = cleaned.segments.groupby("source_id")["coder"].nunique()
    src = cleaned.sources.assign(coders=cleaned.sources["source_id"].map(coders).fillna(0).astype(int))
    grouped = src.groupby("source_type")
    out = pd.DataFrame({
        "n": grouped.size(),
        "coded": grouped["coders"].apply(lambda c: int((c >= 1).sum())),
        "double_coded": grouped["coders"].apply(lambda c: int((c >= 2).sum())),
    }).reindex(list(SOURCE_TYPES), fill_value=0)
    return out.astype(int).rename_axis("source_type").reset_index()


def likert_table(cleaned: Cleaned) -> pd.DataFrame:
    return stats.likert_summary(cleaned.participants)


def references(cleaned: Cleaned) -> pd.DataFrame:
    return tally.references(cleaned.segments, cleaned.codebook, cleaned.sources, cleaned.participants)


def theme_by_role_group(refs: pd.DataFrame, cleaned: Cleaned) -> pd.DataFrame:
    """Theme x role group; unattributed focus-group talk is left out of the role-group shares."""
    attributed = refs[refs["role_group"] != tally.UNATTRIBUTED]
    return tally.theme_by(attributed, cleaned.codebook, "role_group", cleaned.role_groups)


def theme_by_source_type(refs: pd.DataFrame, cleaned: Cleaned) -> pd.DataFrame:
    return tally.theme_by(refs, cleaned.codebook, "source_type", list(SOURCE_TYPES))
