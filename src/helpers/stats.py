"""Descriptive statistics of the questionnaire's Likert items."""
from __future__ import annotations

import pandas as pd

from .load import LIKERT_PREFIX
from .tally import pct_half_up

LIKERT_LEVELS = (1, 2, 3, 4, 5)
LIKERT_LABELS = {1: "Strongly disagree", 2: "Disagree", 3: "Neutral", 4: "Agree", 5: "Strongly agree"}


def likert_items(participants: pd.DataFrame) -> list[str]:
    return [c for c in participants.columns if c.startswith(LIKERT_PREFIX)]


def likert_summary(participants: pd.DataFrame) -> pd.DataFrame:
    """Per item: answered, missing, median, quartiles, count per level and % agreeing (4-5).

    Missing answers are counted, never silently dropped; percentages use the answered n.
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
            "median": float(answers.median()) if n else float("nan"),
            "q1": float(answers.quantile(0.25)) if n else float("nan"),
            "q3": float(answers.quantile(0.75)) if n else float("nan"),
        }
        for level in LIKERT_LEVELS:
            row[f"n_{level}"] = int(counts[level])
        row["pct_agree"] = pct_half_up(int(counts[4] + counts[5]), n)
        rows.append(row)
    columns = ["item", "n", "missing", "median", "q1", "q3"] + [f"n_{x}" for x in LIKERT_LEVELS] + ["pct_agree"]
    return pd.DataFrame(rows, columns=columns)
