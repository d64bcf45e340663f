"""Reproduction check: each published figure beside the value this run computed.

Published values are kept once, in published_figures.csv next to this module. The
computed value is read from the tables the pipeline wrote, then rounded half-up to the
precision the paper printed; the two agree when those are equal.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from helpers.analysis.disclosure import REDACTED
from helpers.analysis.rounding import half_up

PUBLISHED_FIGURES = Path(__file__).with_name("published_figures.csv")
COLUMNS = ["paper", "figure", "published", "computed", "computed_at_paper_precision", "agrees", "note"]


def published_figures(cohort: str) -> pd.DataFrame:
    """The published figures this cohort's run is meant to reproduce (may be none)."""
    table = pd.read_csv(PUBLISHED_FIGURES, dtype=str, keep_default_na=False)
    return table[table["cohort"] == cohort].reset_index(drop=True)


def computed_value(tables_dir: Path, row: pd.Series) -> float | None:
    """The value from the run's table; None where disclosure control redacted it."""
    table = pd.read_csv(Path(tables_dir) / row["table"], keep_default_na=False, dtype=str)
    column = table[row["value_column"]]
    if (column == REDACTED).any() and row["row_column"] == "":
        return None
    if row["row_column"] == "":
        return float(pd.to_numeric(column).sum())  # a total over the table's rows
    match = table[table[row["row_column"]].astype(str) == row["row_value"]]
    if len(match) != 1:
        raise ValueError(f"{row['table']}: expected one row with {row['row_column']} = "
                         f"{row['row_value']!r}, found {len(match)}")
    value = match[row["value_column"]].iloc[0]
    return None if value == REDACTED else float(value)


def reproduction_check(tables_dir: Path, cohort: str) -> pd.DataFrame:
    """One row per published figure for this cohort, with the computed value and agreement."""
    rows = []
    for _, fig in published_figures(cohort).iterrows():
        decimals = int(fig["decimals"])
        computed = computed_value(tables_dir, fig)
        if computed is None:
            rows.append({"paper": fig["paper"], "figure": fig["figure"], "published": fig["published"],
                         "computed": REDACTED, "computed_at_paper_precision": REDACTED,
                         "agrees": "redacted", "note": fig["note"]})
            continue
        at_precision = half_up(computed, decimals)
        rows.append({
            "paper": fig["paper"], "figure": fig["figure"], "published": fig["published"],
            "computed": format(computed, "g"), "computed_at_paper_precision": str(at_precision),
            "agrees": at_precision == Decimal(fig["published"]), "note": fig["note"],
        })
    return pd.DataFrame(rows, columns=COLUMNS)
