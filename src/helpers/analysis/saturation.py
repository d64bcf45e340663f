"""Thematic saturation: new codes found with each additional interview."""
from __future__ import annotations

import pandas as pd

COLUMNS = ["order", "source_id", "date", "codes", "new_codes", "cumulative_codes", "pct_of_codes_found"]


def interview_order(sources: pd.DataFrame) -> pd.DataFrame:
    """Interviews by date (optional `date` column of sources.csv), then by their order in the file."""
    interviews = sources[sources["source_type"] == "interview"].copy()
    interviews["_position"] = range(len(interviews))
    if "date" not in interviews.columns:
        interviews["date"] = ""
    interviews["_date"] = pd.to_datetime(interviews["date"].replace("", None), errors="coerce")
    return interviews.sort_values(["_date", "_position"], na_position="last", kind="mergesort")


def saturation_table(refs: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """saturation.csv: per interview in order, its codes, the codes new so far, the running total."""
    from .rounding import pct_half_up

    ordered = interview_order(sources)
    position = pd.Series(range(1, len(ordered) + 1), index=ordered["source_id"].to_numpy())
    coded = refs.loc[refs["source_id"].isin(position.index), ["source_id", "code"]].drop_duplicates()
    coded = coded.assign(order=coded["source_id"].map(position).to_numpy())
    steps = pd.RangeIndex(1, len(ordered) + 1)
    # A code is new in the first interview (in order) that holds it.
    found = coded.groupby("code")["order"].min().value_counts().reindex(steps, fill_value=0)
    table = pd.DataFrame({
        "order": steps,
        "source_id": ordered["source_id"].to_numpy(),
        "date": ordered["date"].to_numpy(),
        "codes": coded["order"].value_counts().reindex(steps, fill_value=0).to_numpy(),
        "new_codes": found.to_numpy(),
        "cumulative_codes": found.cumsum().to_numpy(),
    })
    total = int(table["cumulative_codes"].iloc[-1]) if len(table) else 0
    table["pct_of_codes_found"] = pct_half_up(table["cumulative_codes"], total) if len(table) else []
    return table[COLUMNS]
