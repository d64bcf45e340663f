"""The tally definitions, checked against counts worked out by hand (conftest.tiny_raw)."""
import numpy as np
import pytest

from helpers.analysis import clean, participants, tally, themes
from helpers.data import load


@pytest.fixture
def cleaned(tiny_raw):
    return clean.clean(load.load_inputs(tiny_raw, "tiny"), pooled=False)


@pytest.fixture
def refs(cleaned):
    return themes.references(cleaned)


def test_a_reference_is_a_distinct_segment_code_pair(refs):
    # S1 Alpha is coded by c1 and c2 but counts once; S4 (no consent) is gone.
    assert sorted(zip(refs["segment_id"], refs["code"])) == [
        ("S1", "Alpha"), ("S1", "Beta"), ("S2", "Alpha"), ("S3", "Gamma")]


def test_code_tallies_count_references_sources_participants(refs, cleaned):
    table = tally.code_tallies(refs, cleaned.codebook).set_index("code")
    assert table.loc["Alpha", ["references", "sources", "participants"]].tolist() == [2, 2, 2]
    assert table.loc["Gamma", ["references", "sources", "participants"]].tolist() == [1, 1, 0]  # unattributed
    assert table.loc["Alpha", "pct_references"] == 50.0
    assert table.loc["Beta", "pct_references"] == 25.0


def test_every_codebook_code_appears_with_zeros(refs, cleaned):
    table = tally.code_tallies(refs, cleaned.codebook)
    assert table["code"].tolist() == ["Alpha", "Beta", "Gamma", "Delta"]
    assert table.set_index("code").loc["Delta"].drop(["theme", "subtheme"]).tolist() == [0, 0.0, 0, 0]


def test_theme_counts_distinct_participants_across_its_codes(refs, cleaned):
    themes = tally.group_tallies(refs, cleaned.codebook, "theme").set_index("theme")
    # Theme one: S1xAlpha, S1xBeta, S2xAlpha -> 3 references, 2 sources, 2 participants (A once).
    assert themes.loc["Theme one", ["references", "sources", "participants"]].tolist() == [3, 2, 2]
    assert themes.loc["Theme one", "pct_references"] == 75.0


def test_participants_by_role_includes_every_role_group_with_zeros(cleaned):
    table = participants.participants_table(cleaned)
    assert table["role_group"].tolist() == ["clinician", "management", "data science", "other"]
    assert table["n"].tolist() == [2, 1, 0, 0]
    assert table["pct"].tolist() == [66.7, 33.3, 0.0, 0.0]


def test_sources_by_type_in_contract_order_with_zeros(cleaned):
    table = participants.sources_table(cleaned)
    assert table.set_index("source_type")["n"].to_dict() == {
        "interview": 2, "focus_group": 1, "questionnaire": 0, "dissertation": 1}


def test_double_coded_sources_are_counted(cleaned):
    table = participants.coding_table(cleaned).set_index("source_type")
    assert table.loc["interview", ["n", "coded", "double_coded"]].tolist() == [2, 2, 1]


def test_theme_by_role_group_shares_sum_to_100_per_group(refs, cleaned):
    long = themes.theme_by_role_group(refs, cleaned)
    clin = long[long["role_group"] == "clinician"].set_index("theme")
    assert clin.loc["Theme one", "references"] == 2 and clin.loc["Theme one", "pct_of_role_group"] == 100.0
    assert set(long["role_group"]) == {"clinician", "management", "data science", "other"}


@pytest.mark.parametrize("num,den,expected", [
    (1, 8, 12.5), (1, 3, 33.3), (2, 3, 66.7), (1, 26, 3.8), (7, 26, 26.9), (25, 213, 11.7),
    (17, 41, 41.5), (1, 16, 6.3),  # 6.25 -> 6.3: half-up, where round() gives 6.2
    (0, 0, 0.0),
])
def test_percentages_round_half_up_to_one_decimal(num, den, expected):
    assert tally.pct_half_up(num, den) == expected


def test_percentages_vectorised():
    assert np.array_equal(tally.pct_half_up([1, 5], [8, 8]), np.array([12.5, 62.5]))


def test_illustrative_quotes_prefer_new_participants_and_are_scrubbed(tiny_raw):
    segments = tiny_raw / "tiny" / "coded_segments.csv"
    segments.write_text(segments.read_text().replace("S2,I2,B,Alpha,c1,", "S2,I2,B,Alpha,c1,mail me: b@trust.nhs.uk"))
    cleaned = clean.clean(load.load_inputs(tiny_raw, "tiny"), pooled=False)
    quotes = themes.illustrative_quotes(themes.references(cleaned), cleaned, [], per_theme=2)
    theme_one = quotes[quotes["theme"] == "Theme one"]
    assert theme_one["participant"].tolist() == ["P01", "P02"]  # A and B, not A twice (S1 has Alpha and Beta)
    assert theme_one["quote"].tolist() == ["quote one", "mail me: [email]"]
