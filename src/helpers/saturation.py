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
    ordered = interview_order(sources)
    codes_in = refs.groupby("source_id")["code"].agg(set)
    seen: set[str] = set()
    rows = []
    for i, (source_id, date) in enumerate(ordered[["source_id", "date"]].itertuples(index=False), 1):
        codes = codes_in.get(source_id, set())
        new = codes - seen
        seen |= codes
        rows.append({"order": i, "source_id": source_id, "date": date, "codes": len(codes),
                     "new_codes": len(new), "cumulative_codes": len(seen)})
    table = pd.DataFrame(rows, columns=COLUMNS[:-1])
    total = len(seen)
    from .tally import pct_half_up

    table["pct_of_codes_found"] = pct_half_up(table["cumulative_codes"], total) if len(table) else []
    return table[COLUMNS]
