"""Small-number disclosure control for published tables (`min_count`, `round_to`).

With min_count = 0 (the default) nothing changes, so the paper's numbers reproduce.
When set, every count at or below min_count, and every percentage built on such a
count, is replaced by REDACTED; the remaining counts may then be rounded to the
nearest round_to (OpenSAFELY publishes with min_count 7 and round_to 5; ONS-style
settings use 10). The same settings apply to every cohort of a run.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REDACTED = "[REDACTED]"
# Groups smaller than this are marked in tables and figures, never headlined by a reading,
# and never named on a quote (a quote from the one "other" member names that person).
# The analysis labels quotes by it, so it lives here, below the report that marks groups.
SMALL_N = 5


@dataclass(frozen=True)
class Disclosure:
    min_count: int = 0
    round_to: int = 0

    def __post_init__(self):
        for name in ("min_count", "round_to"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a whole number of 0 or more, not {value!r}")

    @property
    def active(self) -> bool:
        return self.min_count > 0 or self.round_to > 1

    def describe(self) -> str:
        if not self.active:
            return "off (min_count = 0): every count is shown as computed"
        parts = []
        if self.min_count > 0:
            parts.append(f"counts of {self.min_count} or fewer, and percentages built on them, are shown as {REDACTED}")
        if self.round_to > 1:
            parts.append(f"other counts are rounded to the nearest {self.round_to}")
        return "; ".join(parts)


# No disclosure control: the default of every table function, as in the papers.
OFF = Disclosure()


def round_counts(values: pd.Series | np.ndarray, round_to: int) -> np.ndarray:
    """Counts rounded half-up to the nearest round_to (0 or 1: unchanged)."""
    values = np.asarray(values, dtype=np.int64)
    if round_to <= 1:
        return values
    return (values + round_to // 2) // round_to * round_to


def protect(table: pd.DataFrame, rules: Disclosure,
            counts: dict[str, dict[str, object]]) -> pd.DataFrame:
    """Apply the rules to a table.

    `counts` maps each count column to the percentage columns built on it and each one's
    denominator (a number or a per-row Series): {"n": {"pct": 26}}. A redacted count takes
    its percentages with it; with rounding, percentages are recomputed from the rounded
    count and the rounded denominator, so they cannot be used to undo the rounding.
    """
    from .rounding import pct_half_up

    if not rules.active:
        return table
    out = table.copy()
    for count, pcts in counts.items():
        values = pd.to_numeric(table[count]).to_numpy()
        small = values <= rules.min_count if rules.min_count > 0 else np.zeros(len(values), dtype=bool)
        rounded = round_counts(values, rules.round_to)
        out[count] = pd.Series(rounded, index=table.index, dtype=object).where(~small, REDACTED)
        for pct, denominator in pcts.items():
            if rules.round_to > 1:
                den = round_counts(np.broadcast_to(np.asarray(denominator), values.shape), rules.round_to)
                shown = pd.Series(pct_half_up(rounded, den), index=table.index, dtype=object)
            else:
                shown = table[pct].astype(object)
            out[pct] = shown.where(~small, REDACTED)
    return out


def shown_denominator(value, rules: Disclosure):
    """The denominator a protected table's percentages and intervals are built on."""
    return round_counts(value, rules.round_to) if rules.round_to > 1 else value


def shown_count(value: int, rules: Disclosure):
    """One count as a protected table would show it (for a notebook's printed lines)."""
    if rules.min_count > 0 and value <= rules.min_count:
        return REDACTED
    return int(round_counts([value], rules.round_to)[0])
