"""Likert summaries against values worked out by hand."""
import pandas as pd

from helpers.analysis import stats


def test_likert_summary_counts_missing_and_levels():
    part = pd.DataFrame({"q_useful": pd.array([5, 4, 4, 2, None, 1], dtype="Int64")})
    row = stats.likert_summary(part).iloc[0]
    assert row["item"] == "useful" and row["n"] == 5 and row["missing"] == 1
    assert row["median"] == 4.0 and row["q1"] == 2.0 and row["q3"] == 4.0
    assert [row[f"n_{x}"] for x in range(1, 6)] == [1, 1, 0, 2, 1]
    assert row["pct_agree"] == 60.0
