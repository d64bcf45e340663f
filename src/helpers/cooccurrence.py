"""Which codes travel together: pairs applied to the same segment or the same participant."""
from __future__ import annotations

import pandas as pd

COLUMNS = ["code_a", "code_b", "segments", "participants"]


def _pairs(frame: pd.DataFrame, key: str, order: dict[str, int]) -> pd.Series:
    """Count of distinct `key` values on which each ordered code pair (a before b) occurs."""
    distinct = frame[[key, "code"]].drop_duplicates()
    joined = distinct.merge(distinct, on=key, suffixes=("_a", "_b"))
    joined = joined[joined["code_a"].map(order) < joined["code_b"].map(order)]
    return joined.groupby(["code_a", "code_b"]).size()


def cooccurrence_table(refs: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """cooccurrence.csv: every pair of codes that co-occur at least once, codebook order.

    `segments` counts segments coded with both codes; `participants` counts named
    participants with at least one reference to each code (anywhere in their material).
    """
    order = {code: i for i, code in enumerate(codebook["code"])}
    by_segment = _pairs(refs, "segment_id", order)
    named = refs[refs["participant_id"] != ""]
    by_participant = _pairs(named, "participant_id", order)
    table = pd.concat({"segments": by_segment, "participants": by_participant}, axis=1).fillna(0).astype(int)
    table = table.reset_index().rename(columns={"level_0": "code_a", "level_1": "code_b"})
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    table = table.sort_values(["code_a", "code_b"], key=lambda s: s.map(order), kind="mergesort")
    return table[COLUMNS].reset_index(drop=True)
