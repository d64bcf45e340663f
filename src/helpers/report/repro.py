"""Reproduction check: each published figure beside the value this run computed.

Published values are kept once, in published_figures.csv next to this module. The
computed value is read from the tables the pipeline wrote, then rounded half-up to the
precision the paper printed; the two agree when those are equal. A row agrees exactly,
or only under an assumption the row states (a derived figure, an unpublished
denominator, a percentage that matches only after being rounded twice), or differs.

Besides numbers, two kinds of qualitative headline are checked: `largest` (the rows of a
table with the largest values are the named ones) and `named` (the rows of a table with
any references are exactly the named ones, each matching one published word).

The figures describe the bundled synthetic cohorts (marked by the text of their
SYNTHETIC file), not any cohort that happens to share a name: a user's own `cohort1`
gets no check, and the report says why.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from helpers.analysis.disclosure import REDACTED
from helpers.analysis.rounding import half_up
from helpers.data import paths
from helpers.data.contract import SYNTHETIC_NOTES

PUBLISHED_FIGURES = Path(__file__).with_name("published_figures.csv")
COLUMNS = ["paper", "figure", "published", "computed", "computed_at_paper_precision", "agrees", "status",
           "assumption", "note"]
# status values, in the order the report's headline counts them.
EXACT, ASSUMED, DIFFERS, REDACTED_STATUS = "exact", "under an assumption", "differs", "redacted"
DOUBLE_ROUNDING = ("Agrees only after rounding twice: the exact share {exact} rounds to {direct}, while the "
                   "table's one-decimal {table} rounds to the published {published}.")


def reproduces_the_papers(raw_dir: Path) -> bool:
    """Whether raw_dir holds the bundled cohorts (built to agree with the published figures),
    told by their marker's text, rather than other generated or real data."""
    marker = Path(raw_dir) / paths.SYNTHETIC_MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8", errors="replace") in SYNTHETIC_NOTES


def published_figures(cohort: str) -> pd.DataFrame:
    """The published figures the bundled cohort of this name is built to reproduce (may be none)."""
    table = pd.read_csv(PUBLISHED_FIGURES, dtype=str, keep_default_na=False)
    return table[table["cohort"] == cohort].reset_index(drop=True)


def why_no_check(cohort: str, raw_dir: Path) -> str:
    """Why this run has no reproduction check ("" when it has one)."""
    if not reproduces_the_papers(raw_dir):
        if len(published_figures(cohort)):
            return (f"The published figures describe the bundled synthetic cohort '{cohort}'; this run's data "
                    f"folder is not that bundle (its SYNTHETIC marker is missing or differs), so a cohort that "
                    f"only shares the name is not compared with them.")
        return "These data are not the bundled synthetic cohorts, so there are no published figures to compare."
    if not len(published_figures(cohort)):
        return f"No published figures are recorded for cohort '{cohort}'; nothing to compare."
    return ""


def _select(table: pd.DataFrame, where: str, source: str) -> pd.DataFrame:
    """Rows matching `where`: `column=value` or `column!=value` conditions joined by ';'."""
    for condition in filter(None, where.split(";")):
        negate = "!=" in condition
        column, value = condition.split("!=" if negate else "=", 1)
        if column not in table.columns:
            raise ValueError(f"{source}: no column {column!r} (published_figures.csv asks for {condition!r})")
        hit = table[column].astype(str) == value
        table = table[~hit if negate else hit]
    return table


def _read(tables_dir: Path, fig: pd.Series) -> pd.DataFrame:
    return pd.read_csv(Path(tables_dir) / fig["table"], keep_default_na=False, dtype=str)


def computed_value(tables_dir: Path, fig: pd.Series) -> float | None:
    """The value from the run's table; None where disclosure control redacted it."""
    table = _read(tables_dir, fig)
    match = _select(table, fig["where"], fig["table"])
    column = match[fig["value_column"]]
    if fig["where"] == "":
        return None if (column == REDACTED).any() else float(pd.to_numeric(column).sum())  # a total
    if len(match) != 1:
        raise ValueError(f"{fig['table']}: expected one row where {fig['where']}, found {len(match)}")
    value = column.iloc[0]
    return None if value == REDACTED else float(value)


def exact_share(tables_dir: Path, fig: pd.Series) -> Decimal | None:
    """For a percentage of a table with counts `n`, the share computed from the counts
    (before the table rounded it to one decimal); None when that cannot be done."""
    table = _read(tables_dir, fig)
    if fig["value_column"] != "pct" or "n" not in table.columns or (table["n"] == REDACTED).any():
        return None
    counts = pd.to_numeric(table["n"])
    row = _select(table, fig["where"], fig["table"])
    return Decimal(int(counts[row.index[0]]) * 100) / Decimal(int(counts.sum())) if len(row) == 1 else None


def _terms(text: str) -> list[str]:
    return [t.strip() for t in text.split(";") if t.strip()]


def qualitative(tables_dir: Path, fig: pd.Series) -> tuple[str, bool | str]:
    """(what the run shows, agrees) for a `largest` or `named` headline."""
    table = _select(_read(tables_dir, fig), fig["where"], fig["table"])
    values = table[fig["value_column"]]
    if (values == REDACTED).any():
        return REDACTED, "redacted"
    values = pd.to_numeric(values)
    wanted = _terms(fig["published"])
    if fig["kind"] == "largest":
        ranked = table.assign(_v=values).sort_values("_v", ascending=False, kind="mergesort")
        shown = ranked[fig["label_column"]].head(len(wanted)).tolist()
        return "; ".join(shown), sorted(shown) == sorted(wanted)
    present = table.loc[values > 0, fig["label_column"]].tolist()
    matched = all(sum(term.casefold() in name.casefold() for name in present) == 1 for term in wanted)
    return "; ".join(present), matched and len(present) == len(wanted)


def reproduction_check(tables_dir: Path, cohort: str, raw_dir: Path) -> pd.DataFrame:
    """One row per published figure for this cohort, with the computed value and agreement;
    no rows when the run's data are not the bundled cohort (see why_no_check)."""
    rows = []
    figures = published_figures(cohort) if reproduces_the_papers(raw_dir) else published_figures("")
    for _, fig in figures.iterrows():
        row = {"paper": fig["paper"], "figure": fig["figure"], "published": fig["published"],
               "assumption": fig["assumption"], "note": fig["note"]}
        if fig["kind"] in ("largest", "named"):
            shown, agrees = qualitative(tables_dir, fig)
            row.update(computed=shown, computed_at_paper_precision=shown, agrees=agrees)
        else:
            computed = computed_value(tables_dir, fig)
            if computed is None:
                row.update(computed=REDACTED, computed_at_paper_precision=REDACTED, agrees="redacted")
            else:
                decimals = int(fig["decimals"])
                at_precision = half_up(computed, decimals)
                agrees = at_precision == Decimal(fig["published"])
                exact = exact_share(tables_dir, fig)
                if agrees and exact is not None and half_up(exact, decimals) != at_precision:
                    row["assumption"] = " ".join(filter(None, [row["assumption"], DOUBLE_ROUNDING.format(
                        exact=f"{exact:.2f}", direct=half_up(exact, decimals), table=format(computed, "g"),
                        published=fig["published"])]))
                row.update(computed=format(computed, "g"), computed_at_paper_precision=str(at_precision),
                           agrees=agrees)
        row["status"] = (REDACTED_STATUS if row["agrees"] == "redacted" else DIFFERS if not row["agrees"]
                         else ASSUMED if row["assumption"] else EXACT)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def verdict(check: pd.DataFrame) -> dict[str, int]:
    """Counts of the check's rows by status (the report's and the index's headline)."""
    counts = check["status"].value_counts() if len(check) else pd.Series(dtype=int)
    return {status: int(counts.get(status, 0)) for status in (EXACT, ASSUMED, DIFFERS, REDACTED_STATUS)}
