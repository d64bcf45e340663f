"""The published tables of notebook 02: participants by role group, sources by type and
how they were coded, and the questionnaire's Likert items, from the cleaned data of one run.

Each function returns the table as it is written to tables/, with small-number
disclosure control applied (helpers.analysis.disclosure; off by default).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.contract import LIKERT_LEVELS, SOURCE_TYPES
from helpers.data.store import Cleaned

from . import comparison, stats, tally
from .disclosure import OFF, REDACTED, Disclosure, protect, round_counts, shown_denominator


def participants_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    table = tally.participants_by_role(cleaned.participants, cleaned.role_groups)
    total = len(cleaned.participants)
    table = protect(table, rules, {"n": {"pct": total}})
    return stats.add_ci(table, "n", shown_denominator(total, rules), after="pct")


def sources_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    return protect(tally.sources_by_type(cleaned.sources, SOURCE_TYPES), rules, {"n": {}})


def coding_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """Per source type: sources, sources with any coding, sources coded by two or more coders."""
    coders = cleaned.segments.groupby("source_id")["coder"].nunique()
    src = cleaned.sources.assign(coders=cleaned.sources["source_id"].map(coders).fillna(0).astype(int))
    src = src.assign(coded=src["coders"] >= 1, double_coded=src["coders"] >= 2)
    grouped = src.groupby("source_type")
    out = pd.DataFrame({
        "n": grouped.size(),
        "coded": grouped["coded"].sum(),
        "double_coded": grouped["double_coded"].sum(),
    }).reindex(list(SOURCE_TYPES), fill_value=0)
    out = out.astype(int).rename_axis("source_type").reset_index()
    return protect(out, rules, {"n": {}, "coded": {}, "double_coded": {}})


def likert_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    return _protect_likert(stats.likert_summary(cleaned.participants), rules)


def likert_by_role_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """Likert summaries per role group (likert_by_role.csv)."""
    return _protect_likert(stats.likert_by_role(cleaned.participants, cleaned.role_groups), rules)


def _protect_likert(table: pd.DataFrame, rules: Disclosure) -> pd.DataFrame:
    if table.empty:
        return table.assign(ci_low=pd.Series(dtype=float), ci_high=pd.Series(dtype=float))
    # % agreeing is built on the count answering 4 or 5; its interval on the count as shown.
    out = protect(table.assign(_agree=table["n_4"] + table["n_5"]), rules,
                  {"_agree": {"pct_agree": table["n"]}, "n": {}, "missing": {},
                   **{f"n_{x}": {} for x in LIKERT_LEVELS}})
    if rules.min_count > 0:
        few = table["n"] <= rules.min_count  # quartiles of a handful of answers reveal them
        for column in ("median", "q1", "q3"):
            out[column] = out[column].astype(object).where(~few, REDACTED)
    answered = pd.to_numeric(out["n"], errors="coerce").fillna(0)
    return stats.add_ci(out, "_agree", answered, after="pct_agree").drop(columns="_agree")


ALL_COHORTS = "all cohorts"
# Table 1's sections, in order; each row is (section, characteristic).
FLOW = "Questionnaire responses"
ROLE = "Role group"
SOURCES = "Sources"
RESPONSES, ANALYSED, DOUBLE_CODED = "Responses received", "Participants analysed", "Coded by two or more coders"


def characteristics_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """participant_characteristics.csv (the report's Table 1), long and tidy: one row per
    characteristic and cohort, with a column `cohort` per cohort of the run and, when it
    pools several, the run as a whole (`all cohorts`). Role groups carry the share of the
    participants analysed with its 95% Wilson interval; the flow and source rows are counts."""
    from helpers.data.contract import REASON_DUPLICATE, REASON_NO_CONSENT, REASON_NOT_FINISHED

    cohorts = list(dict.fromkeys(cleaned.participants["cohort"]))
    coders = cleaned.segments.groupby("source_id")["coder"].nunique()
    log = cleaned.cleaning_log
    rows = []
    for cohort in cohorts + ([ALL_COHORTS] if len(cohorts) > 1 else []):
        people, sources, dropped = (frame if cohort == ALL_COHORTS else frame[frame["cohort"] == cohort]
                                    for frame in (cleaned.participants, cleaned.sources, log))
        reasons = dropped["reason"].value_counts()
        flow = [(REASON_NO_CONSENT, int(reasons.get(REASON_NO_CONSENT, 0))),
                (REASON_NOT_FINISHED, int(reasons.get(REASON_NOT_FINISHED, 0))),
                (REASON_DUPLICATE, int(reasons.get(REASON_DUPLICATE, 0)))]
        rows.append((FLOW, RESPONSES, cohort, len(people) + sum(n for _, n in flow), None))
        rows += [(FLOW, f"Excluded: {reason}", cohort, n, None) for reason, n in flow]
        rows.append((FLOW, ANALYSED, cohort, len(people), None))
        counts = people["role_group"].value_counts()
        rows += [(ROLE, group, cohort, int(counts.get(group, 0)), len(people)) for group in cleaned.role_groups]
        rows += _answer_rows(people, cohort)
        kinds = sources["source_type"].value_counts()
        rows += [(SOURCES, kind, cohort, int(kinds.get(kind, 0)), None) for kind in SOURCE_TYPES]
        double = int((sources["source_id"].map(coders).fillna(0) >= 2).sum())
        rows.append((SOURCES, DOUBLE_CODED, cohort, double, None))
    table = pd.DataFrame([row[:5] for row in rows], columns=["section", "characteristic", "cohort", "n", "_of"])
    quartiles = pd.DataFrame([row[5] if len(row) > 5 else (np.nan,) * 3 for row in rows],
                             columns=["median", "q1", "q3"])
    share = table["_of"].notna()
    of = table["_of"].fillna(0).astype(int)
    table["pct"] = pd.Series(stats.pct_half_up(table["n"], of), index=table.index).where(share)
    table = protect(table, rules, {"n": {"pct": of}})
    # Rows that are not shares get a stand-in denominator (blanked below), not a 0/0 warning.
    stand_in = pd.to_numeric(table["n"], errors="coerce").fillna(0).clip(lower=1).astype(int)
    table = stats.add_ci(table, "n", shown_denominator(of.where(share, stand_in).to_numpy(), rules), after="pct")
    for column in ("pct", "ci_low", "ci_high"):  # a share only where the row is one
        table[column] = table[column].where(share, "")
    # Medians and quartiles of an item's answers (levels of the scale), after the first columns so
    # that those keep their positions; blank on every other row; hidden where few answered.
    few = quartiles["median"].notna() & (pd.to_numeric(table["n"], errors="coerce").fillna(0) <= rules.min_count) \
        if rules.min_count > 0 else pd.Series(False, index=table.index)
    for column in quartiles.columns:
        table[column] = quartiles[column].astype(object).where(quartiles[column].notna(), "").where(~few, REDACTED)
    return table.drop(columns="_of")


ANSWERS = "Questionnaire answers"
MISSING = "missing"


def answer_label(item: str) -> str:
    """A Likert column as Table 1 names it: q_network_value -> Network value."""
    return item.removeprefix(stats.LIKERT_PREFIX).replace("_", " ").strip().capitalize()


def _answer_rows(people: pd.DataFrame, cohort: str) -> list[tuple]:
    """Per Likert item: answered n with the median and quartiles (levels of the scale), then its
    missing answers as n of the participants analysed: Table 1's Missing row."""
    rows = []
    for item in stats.likert_items(people):
        answers = people[item].dropna()
        quartiles = tuple(stats.observed_quantile(answers, q) for q in (0.5, 0.25, 0.75))
        rows.append((ANSWERS, answer_label(item), cohort, int(len(answers)), None, quartiles))
        rows.append((ANSWERS, f"{answer_label(item)}: {MISSING}", cohort, int(people[item].isna().sum()),
                     len(people)))
    return rows


def comparison_table(cleaned: Cleaned, rules: Disclosure = OFF, test: bool = False) -> pd.DataFrame:
    """characteristics_comparison.csv: Table 1's SMD between each pair of cohorts for each
    characteristic (role group; each questionnaire item), and, when `test` is asked for, a test
    across the cohorts, named, with its p-value and any warning. No rows for a single cohort.

    Under disclosure control a characteristic whose counts are redacted in any cohort gets no
    SMD or test (they would be computed from what is hidden); the role-group SMD and test are
    computed from the counts as shown (rounded), so they do not undo the rounding.
    """
    cohorts = list(dict.fromkeys(cleaned.participants["cohort"]))
    rows = []
    if len(cohorts) < 2:
        return pd.DataFrame(columns=comparison.COLUMNS)
    people = cleaned.participants
    counts = pd.crosstab(people["cohort"], people["role_group"]).reindex(
        index=cohorts, columns=cleaned.role_groups, fill_value=0).to_numpy()
    hidden = rules.min_count > 0 and (counts <= rules.min_count).any()
    shown = round_counts(counts, rules.round_to)
    test_of = comparison.categorical_test(shown) if test and not hidden else ("", float("nan"), "")
    for first, second in comparison.pairs(cohorts):
        smd = comparison.categorical_smd(shown[cohorts.index(first)], shown[cohorts.index(second)])
        rows.append((ROLE, ROLE, f"{first} vs {second}", REDACTED if hidden else smd, *test_of))
    for item in stats.likert_items(people):
        groups = [people.loc[people["cohort"] == c, item] for c in cohorts]
        answered = np.array([g.notna().sum() for g in groups])
        hidden = rules.min_count > 0 and (answered <= rules.min_count).any()
        test_of = comparison.ordinal_test(groups) if test and not hidden else ("", float("nan"), "")
        for first, second in comparison.pairs(cohorts):
            smd = comparison.continuous_smd(groups[cohorts.index(first)], groups[cohorts.index(second)])
            rows.append((ANSWERS, answer_label(item), f"{first} vs {second}", REDACTED if hidden else smd, *test_of))
    table = pd.DataFrame(rows, columns=comparison.COLUMNS)
    table["smd"] = table["smd"].map(lambda v: v if v == REDACTED else round(float(v), 3))
    table["p_value"] = table["p_value"].map(lambda v: "" if v != v else float(f"{v:.4g}"))
    return table
