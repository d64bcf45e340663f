"""Table 1's comparison of cohorts, as tableone computes it: standardised mean differences
(SMD) between each pair of cohorts and, only when asked for, a test of each characteristic.

- Categorical SMD (role group): Yang and Dalton's (2012) multivariate form, the Mahalanobis
  distance between the two cohorts' vectors of level proportions (the first level dropped,
  as R's and Python's tableone do), with the average of the two multinomial covariance
  matrices.
- Continuous SMD (a questionnaire item's answers): the difference of means over the root of
  the mean of the two variances (standard deviations with n - 1), second cohort minus first,
  as tableone prints it.
- Tests (scipy): chi-squared for a categorical characteristic (Fisher's exact test for a
  2 x 2 table with an expected count under 5, as tableone does; otherwise a warning that the
  chi-squared test may be invalid), Kruskal-Wallis for an ordinal one (Likert answers are
  not normal). A test is run only on request: with a few dozen participants a p-value invites
  reading a difference between cohorts as a finding, and the SMD says how large it is.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

SMALL_EXPECTED = 5
CHI_SQUARED, FISHER, KRUSKAL = "Chi-squared", "Fisher's exact", "Kruskal-Wallis"
SMALL_EXPECTED_NOTE = ("expected count < 5 in {cells} of {total} cells: the chi-squared test may be invalid with so "
                       "few participants")
COLUMNS = ["section", "characteristic", "comparison", "smd", "test", "p_value", "note"]


def categorical_smd(counts1, counts2) -> float:
    """SMD of a categorical characteristic from two cohorts' counts per level (Yang and Dalton)."""
    counts1, counts2 = np.asarray(counts1, dtype=float), np.asarray(counts2, dtype=float)
    if counts1.sum() == 0 or counts2.sum() == 0:
        return float("nan")
    p1, p2 = (counts1 / counts1.sum())[1:], (counts2 / counts2.sum())[1:]
    covariance = sum(np.diag(p) - np.outer(p, p) for p in (p1, p2)) / 2
    difference = p2 - p1
    try:
        squared = float(difference @ np.linalg.inv(covariance) @ difference)
    except np.linalg.LinAlgError:
        return float("nan")  # a level no one in either cohort has: tableone gives NaN too
    return float(np.sqrt(squared))


def continuous_smd(values1, values2) -> float:
    """SMD of a numeric characteristic: (mean2 - mean1) / sqrt((sd1^2 + sd2^2) / 2)."""
    a, b = (np.asarray(pd.Series(v).dropna(), dtype=float) for v in (values1, values2))
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    spread = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return float((b.mean() - a.mean()) / spread) if spread > 0 else float("nan")


def categorical_test(counts: np.ndarray) -> tuple[str, float, str]:
    """(test, p, note) for a cohorts x levels table of counts (levels no one has left out)."""
    from scipy import stats

    counts = np.asarray(counts, dtype=float)
    counts = counts[:, counts.sum(axis=0) > 0]
    if counts.shape[1] < 2 or (counts.sum(axis=1) == 0).any():
        return CHI_SQUARED, float("nan"), "not tested: one level only, or a cohort with no one"
    _, p, _, expected = stats.chi2_contingency(counts)
    few = int((expected < SMALL_EXPECTED).sum())
    if few or counts.min() < SMALL_EXPECTED:
        if counts.shape == (2, 2):
            return FISHER, float(stats.fisher_exact(counts)[1]), ""
        return CHI_SQUARED, float(p), SMALL_EXPECTED_NOTE.format(cells=few, total=expected.size)
    return CHI_SQUARED, float(p), ""


def ordinal_test(groups: list) -> tuple[str, float, str]:
    """(test, p, note) of Kruskal-Wallis over the cohorts' answers (missing answers left out)."""
    from scipy import stats

    values = [np.asarray(pd.Series(g).dropna(), dtype=float) for g in groups]
    if any(len(v) == 0 for v in values) or len(np.unique(np.concatenate(values))) < 2:
        return KRUSKAL, float("nan"), "not tested: a cohort with no answers, or one answer everywhere"
    return KRUSKAL, float(stats.kruskal(*values).pvalue), ""


def pairs(cohorts: list[str]) -> list[tuple[str, str]]:
    """Every pair of cohorts, in the run's order (tableone's SMD columns)."""
    return list(combinations(cohorts, 2))
