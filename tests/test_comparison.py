"""Table 1 as tableone gives it: SMD between cohorts, missing answers, and a test only on
request with its name and a warning for small expected counts, checked against tableone's
own values on the bundled cohorts."""
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import clean, comparison, participants, stats
from helpers.analysis.disclosure import REDACTED, Disclosure
from helpers.data import load, paths
from helpers.report import tables


@pytest.fixture(scope="module")
def pooled():
    return clean.clean(load.load_inputs(paths.RAW_DIR, "all"), pooled=True)


@pytest.fixture(scope="module")
def tableone(pooled):
    """tableone's Table 1 of the pooled run: role group (categorical) and the questionnaire items
    (non-normal), by cohort, with SMD, tests, their names and the missing counts."""
    from tableone import TableOne

    people = pooled.participants
    items = stats.likert_items(people)
    data = people[["cohort", "role_group", *items]].copy()
    data["role_group"] = pd.Categorical(data["role_group"], categories=pooled.role_groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = TableOne(data, columns=["role_group", *items], categorical=["role_group"], nonnormal=items,
                         groupby="cohort", pval=True, smd=True, htest_name=True, missing=True)
    return table


def _row(frame: pd.DataFrame, variable: str) -> pd.Series:
    return frame.loc[frame.index.get_level_values(0).str.startswith(variable)].iloc[0]


def test_smd_and_tests_match_tableone_on_the_bundled_cohorts(pooled, tableone):
    ours = participants.comparison_table(pooled, test=True).set_index("characteristic")
    theirs = tableone.tableone["Grouped by cohort"]
    names = {"Role group": "role_group"} | {participants.answer_label(i): i for i in stats.likert_items(
        pooled.participants)}
    for characteristic, variable in names.items():
        row = _row(theirs, variable)
        assert ours.at[characteristic, "smd"] == pytest.approx(float(row["SMD (cohort1,cohort2)"]), abs=0.0015)
        assert ours.at[characteristic, "p_value"] == pytest.approx(float(row["P-Value"]), abs=0.0015)
        assert str(row["Test"]).startswith(ours.at[characteristic, "test"])
    # Exactly, from tableone's own functions: the role group's SMD is 0.531.
    assert ours.at["Role group", "smd"] == 0.531


def test_small_expected_counts_are_warned_of_as_tableone_does(pooled, tableone):
    ours = participants.comparison_table(pooled, test=True).set_index("characteristic")
    theirs = _row(tableone.tableone["Grouped by cohort"], "role_group")
    assert "expected count < 5" in str(theirs["Test"])  # role groups of 26 and 15 people: 3 cells under 5
    assert ours.at["Role group", "note"].startswith("expected count < 5 in 3 of 8 cells")


def test_missing_answers_per_cohort_add_up_to_tableones_missing(pooled, tableone):
    table = participants.characteristics_table(pooled)
    missing = table[table["characteristic"].str.endswith(tables.MISSING_SUFFIX)]
    theirs = tableone.tableone["Grouped by cohort"]
    for item in stats.likert_items(pooled.participants):
        rows = missing[missing["characteristic"] == participants.answer_label(item) + tables.MISSING_SUFFIX]
        per_cohort = rows.set_index("cohort")["n"]
        assert per_cohort["all cohorts"] == per_cohort["cohort1"] + per_cohort["cohort2"]
        assert per_cohort["all cohorts"] == int(_row(theirs, item)["Missing"])


def test_counts_per_role_group_match_tableone(pooled, tableone):
    table = participants.characteristics_table(pooled)
    roles = table[table["section"] == "Role group"].pivot(index="characteristic", columns="cohort", values="n")
    theirs = tableone.tableone["Grouped by cohort"].loc["role_group, n (%)"]
    for group in pooled.role_groups:
        for cohort in ("cohort1", "cohort2"):
            assert str(theirs.loc[group, cohort]).startswith(f"{roles.at[group, cohort]} (")


def test_a_test_is_run_only_when_asked_for(pooled):
    table = participants.comparison_table(pooled)
    assert (table["test"] == "").all() and (table["p_value"] == "").all()
    assert table["smd"].notna().all()


def test_a_single_cohort_has_nothing_to_compare():
    single = clean.clean(load.load_inputs(paths.RAW_DIR, "cohort1"), pooled=False)
    assert participants.comparison_table(single, test=True).empty


def test_smd_and_test_are_withheld_where_counts_are_redacted(pooled):
    table = participants.comparison_table(pooled, Disclosure(min_count=7), test=True).set_index("characteristic")
    assert table.at["Role group", "smd"] == REDACTED and table.at["Role group", "p_value"] == ""


def test_binary_smd_is_the_difference_over_the_pooled_binomial_sd():
    # Two levels: Yang and Dalton's SMD is |p2 - p1| / sqrt((p1 q1 + p2 q2) / 2).
    p1, p2 = 0.3, 0.6
    expected = abs(p2 - p1) / np.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    assert comparison.categorical_smd([70, 30], [40, 60]) == pytest.approx(expected)


def test_a_two_by_two_table_with_small_counts_gets_fishers_exact_test():
    test, p, note = comparison.categorical_test(np.array([[3, 1], [1, 3]]))
    assert test == comparison.FISHER and p == pytest.approx(0.4857, abs=1e-4) and note == ""


def test_quartiles_are_points_of_the_scale_not_interpolated():
    answers = pd.Series([3, 3, 4, 4, 4, 5])
    assert [stats.observed_quantile(answers, q) for q in (0.25, 0.5, 0.75)] == [3.0, 4.0, 4.0]
    assert stats.observed_quantile(pd.Series([3, 4]), 0.5) == 3.0  # not 3.5
    assert np.isnan(stats.observed_quantile(pd.Series([], dtype=float), 0.5))


def test_table_one_marks_small_role_groups(pooled):
    table = participants.characteristics_table(pooled)
    columns, rows, flagged = tables.characteristics(table, participants.comparison_table(pooled))
    other = next(r for r in rows if not isinstance(r, str) and r.cells[0] == "Other")
    assert flagged and all(cell.endswith(tables.SMALL_MARK) for cell in other.cells[1:4])
    assert columns[-1] == "SMD"
