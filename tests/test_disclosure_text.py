"""Sentences under disclosure control quote the counts the tables show: a redacted count is never
read as zero, and a count of interviews is the rounded one, in the report's readings, the COREQ
draft and numbers.json alike (their shared writer, helpers.report.readings). The published files
of a whole controlled build are checked in tests/test_hostile.py."""
from __future__ import annotations

import re

import pytest

from helpers.analysis import clean, themes
from helpers.analysis.disclosure import REDACTED, Disclosure, shown_count
from helpers.data import load, paths, privacy, store
from helpers.report import coreq, readings

RULES = Disclosure(7, 5)


@pytest.fixture(scope="module")
def cohort1():
    """cohort1's references and cleaned data, as the tallies step has them."""
    cleaned = clean.pseudonymise(clean.clean(load.load_inputs(paths.RAW_DIR, "cohort1"), pooled=False),
                                 privacy.SYNTHETIC_KEY)
    return themes.references(cleaned), cleaned


@pytest.fixture(scope="module")
def saturation_tables(cohort1):
    """cohort1's saturation table as the tallies step writes it: plain, and with MIN_COUNT=7 ROUND_TO=5."""
    return themes.saturation_table(*cohort1), themes.saturation_table(*cohort1, RULES)


def protected(value: str, rules: Disclosure = RULES) -> bool:
    return value == REDACTED or (int(value) > rules.min_count and int(value) % rules.round_to == 0)


def test_the_saturation_sentence_under_control_names_no_interview_from_redacted_cells(saturation_tables):
    """The known case: 8 interviews, new codes after the first all redacted. The sentence said
    "The last new code appeared in interview 1 of 8; the 7 interviews after it added none": redacted
    cells read as none, and 8 and 7 are counts the tables show as 10 and [REDACTED]."""
    plain, shown = saturation_tables
    assert len(plain) == 8 and (plain["new_codes"].iloc[1:] > 0).any()  # later interviews did add codes
    assert (shown["new_codes"].iloc[1:] == REDACTED).all()
    with readings.collect() as said:
        text = readings.saturation(shown, RULES)
    assert "interview 1 of 8" not in text and "added none" not in text and not re.search(r"\b[1-7] interviews?", text)
    interviews = shown_count(len(plain), RULES)
    assert interviews == 10  # what Table 1 and coding_by_source_type.csv show for cohort1's 8 interviews
    assert "10 interviews" in text and "redacted or rounded" in text
    assert said == {"saturation.interviews": "10", "saturation.codes_found": str(shown["cumulative_codes"].iloc[-1])}
    assert all(protected(value) for value in said.values())


def test_rounding_alone_is_control_too(saturation_tables, cohort1):
    """ROUND_TO=5 with no MIN_COUNT: a new-code count of 2 is shown as 0, so "added none" would be
    false as well."""
    plain, _ = saturation_tables
    rounding = Disclosure(0, 5)
    shown = themes.saturation_table(*cohort1, rounding)
    assert (shown["new_codes"] == 0).sum() > (plain["new_codes"] == 0).sum()  # rounding made zeros
    text = readings.saturation(shown, rounding)
    assert "added none" not in text and "10 interviews" in text


def test_without_control_the_sentence_is_as_before(saturation_tables):
    plain, _ = saturation_tables
    last = int(plain.loc[plain["new_codes"] > 0, "order"].iloc[-1])
    assert f"The last new code appeared in interview {last} of 8" in readings.saturation(plain)


def test_the_coreq_saturation_answer_is_the_controlled_sentence(saturation_tables, tmp_path):
    _, shown = saturation_tables
    store.write_table(shown, tmp_path, "saturation.csv")
    answer = coreq.saturation(coreq.Tables(tmp_path, RULES))
    assert answer.text.endswith(readings.saturation(shown, RULES)) and "interview 1 of 8" not in answer.text
    assert len(answer.sources) == 1 and answer.sources[0].endswith("(tables/saturation.csv)")
