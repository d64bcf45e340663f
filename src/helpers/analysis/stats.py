"""Descriptive statistics of the questionnaire's Likert items."""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.contract import LIKERT_LABELS, LIKERT_LEVELS, LIKERT_PREFIX  # noqa: F401

from .rounding import half_up_array, pct_half_up


def likert_items(participants: pd.DataFrame) -> list[str]:
    return [c for c in participants.columns if c.startswith(LIKERT_PREFIX)]


def observed_quantile(answers, q: float) -> float:
    """The q-quantile as a point of the scale that was answered: the smallest answer with at
    least a share q of the answers at or below it (the inverse of the empirical distribution,
    Hyndman and Fan's definition 1), never a value between two levels such as 3.5 or 3.25.
    NaN when nobody answered."""
    values = np.asarray(answers, dtype=float)
    return float(np.quantile(values, q, method="inverted_cdf")) if values.size else float("nan")


def likert_summary(participants: pd.DataFrame) -> pd.DataFrame:
    """Per item: answered, missing, median, quartiles, count per level and % agreeing (4-5).

    Missing answers are counted, never silently dropped; percentages use the answered n. The
    median and quartiles are levels of the scale (observed_quantile), not interpolated.
    """
    rows = []
    for item in likert_items(participants):
        answers = participants[item].dropna().astype(int)
        counts = answers.value_counts().reindex(LIKERT_LEVELS, fill_value=0)
        n = int(len(answers))
        row = {
            "item": item.removeprefix(LIKERT_PREFIX),
            "n": n,
            "missing": int(participants[item].isna().sum()),
            "median": observed_quantile(answers, 0.5),
            "q1": observed_quantile(answers, 0.25),
            "q3": observed_quantile(answers, 0.75),
        }
        for level in LIKERT_LEVELS:
            row[f"n_{level}"] = int(counts[level])
        row["pct_agree"] = pct_half_up(int(counts[4] + counts[5]), n)
        rows.append(row)
    columns = ["item", "n", "missing", "median", "q1", "q3"] + [f"n_{x}" for x in LIKERT_LEVELS] + ["pct_agree"]
    return pd.DataFrame(rows, columns=columns)


def wilson_ci(count, nobs) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of count/nobs, in percent (statsmodels); NaN where nobs is 0."""
    from statsmodels.stats.proportion import proportion_confint

    count = np.asarray(count, dtype=float)
    nobs = np.asarray(nobs, dtype=float)
    safe = np.where(nobs > 0, nobs, 1)
    low, high = proportion_confint(count, safe, alpha=0.05, method="wilson")
    low = np.where(nobs > 0, low, np.nan)
    high = np.where(nobs > 0, high, np.nan)
    return half_up_array(np.atleast_1d(low) * 100), half_up_array(np.atleast_1d(high) * 100)


def add_ci(table: pd.DataFrame, count: str, denominator, after: str | None = None) -> pd.DataFrame:
    """Add ci_low and ci_high (95% Wilson, percent) after column `after`, or at the end.

    The interval is built from the count shown in the table, so a redacted count
    (disclosure control) gives a redacted interval and a rounded one a rounded basis.
    """
    from .disclosure import REDACTED

    shown = table[count]
    redacted = shown.astype(str) == REDACTED
    numbers = pd.to_numeric(shown.where(~redacted, 0)).to_numpy()
    den = np.broadcast_to(np.asarray(pd.to_numeric(pd.Series(np.broadcast_to(denominator, len(table))))), len(table))
    low, high = wilson_ci(numbers, den)
    out = table.copy()
    at = out.columns.get_loc(after) + 1 if after else len(out.columns)
    out.insert(at, "ci_low", pd.Series(low, index=out.index, dtype=object).where(~redacted, REDACTED))
    out.insert(at + 1, "ci_high", pd.Series(high, index=out.index, dtype=object).where(~redacted, REDACTED))
    if not redacted.any():
        out["ci_low"] = out["ci_low"].astype(float)
        out["ci_high"] = out["ci_high"].astype(float)
    return out


def likert_by_role(participants: pd.DataFrame, role_groups: list[str]) -> pd.DataFrame:
    """likert_summary per role group (every role group, even with no answers), long format."""
    frames = []
    for group in role_groups:
        summary = likert_summary(participants[participants["role_group"] == group])
        summary.insert(1, "role_group", group)
        frames.append(summary)
    return pd.concat(frames, ignore_index=True) if frames else likert_summary(participants)
