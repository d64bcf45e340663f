"""The reviewer's statistics, against values computed by hand or published with the libraries."""
import numpy as np
import pandas as pd
import pytest

from helpers.analysis import agreement, cooccurrence, saturation, stats
from helpers.analysis.disclosure import REDACTED
from helpers.report import readings


def test_wilson_interval_matches_the_published_formula():
    # Wilson (1927) by hand for 13 of 26: centre 0.5, half-width 1.96*sqrt(.25/26 + 1.96^2/(4*26^2))/(1+1.96^2/26)
    z = 1.959963984540054
    half = z * np.sqrt(0.25 / 26 + z**2 / (4 * 26**2)) / (1 + z**2 / 26)
    low, high = stats.wilson_ci([13], [26])
    assert low[0] == round((0.5 - half) * 100, 1) == 32.1 and high[0] == round((0.5 + half) * 100, 1) == 67.9


def test_wilson_interval_of_zero_and_all():
    low, high = stats.wilson_ci([0, 5], [5, 5])
    assert low[0] == 0.0 and high[0] == 43.4 and low[1] == 56.6 and high[1] == 100.0


def test_interval_of_a_redacted_count_is_redacted():
    table = pd.DataFrame({"n": [13, REDACTED], "pct": [50.0, REDACTED]})
    out = stats.add_ci(table, "n", 26)
    assert out["ci_low"].tolist() == [32.1, REDACTED] and out["ci_high"].tolist() == [67.9, REDACTED]


def test_cohens_kappa_of_the_textbook_example():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> kappa 0.4 (Cohen 1960, as in most textbooks)
    a = np.array([1] * 25 + [0] * 25)
    b = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15)
    assert agreement.kappa(a, b) == pytest.approx(0.4)


def test_krippendorff_alpha_of_the_documented_example():
    # The krippendorff package's documented example (Krippendorff 2011): nominal alpha 0.691.
    nan = np.nan
    data = np.array([[nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
                     [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
                     [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4]])
    assert agreement.alpha(data) == pytest.approx(0.691, abs=5e-4)


def _double_coded():
    """Two coders on one source, four segments, codes X and Y.

    X: both apply on S1 and S2, only c1 on S3, nobody on S4 -> 3 of 4 units agree.
    Y: only c2 on S4.
    """
    rows = [("S1", "X", "c1"), ("S1", "X", "c2"), ("S2", "X", "c1"), ("S2", "X", "c2"),
            ("S3", "X", "c1"), ("S4", "Y", "c2"), ("S4", "Z", "c1"), ("S4", "Z", "c2")]
    seg = pd.DataFrame(rows, columns=["segment_id", "code", "coder"]).assign(source_id="D1")
    book = pd.DataFrame({"code": ["X", "Y", "Z"]})
    return seg, book


def test_agreement_per_code_counts_segments_as_units():
    seg, book = _double_coded()
    table = agreement.agreement_table(seg, book)
    row = table[(table["code"] == "X") & (table["coders"] == "c1 & c2")].iloc[0]
    # X decisions: c1 = [1,1,1,0], c2 = [1,1,0,0] -> po 0.75, pe 0.75*0.5+0.25*0.5 = 0.5, kappa 0.5
    assert row["units"] == 4 and row["agreement_pct"] == 75.0 and row["cohen_kappa"] == pytest.approx(0.5)


def test_single_coded_sources_give_no_agreement_rows():
    seg, book = _double_coded()
    assert agreement.agreement_table(seg[seg["coder"] == "c1"], book).empty


def test_kappa_words_follow_landis_and_koch():
    assert [readings.strength(v) for v in (-0.1, 0.1, 0.3, 0.5, 0.7, 0.9)] == [
        "poor", "slight", "fair", "moderate", "substantial", "almost perfect"]


def test_cooccurrence_counts_segments_and_participants():
    refs = pd.DataFrame({"segment_id": ["S1", "S1", "S2", "S3", "S3"],
                         "code": ["A", "B", "A", "B", "C"],
                         "participant_id": ["p", "p", "q", "q", ""]})
    book = pd.DataFrame({"code": ["A", "B", "C"]})
    table = cooccurrence.cooccurrence_table(refs, book).set_index(["code_a", "code_b"])
    assert table.loc[("A", "B")].tolist() == [1, 2]  # one shared segment; p and q each raised both
    assert table.loc[("B", "C")].tolist() == [1, 0]  # S3's C is unattributed


def test_saturation_orders_interviews_by_date_and_counts_new_codes():
    sources = pd.DataFrame({"source_id": ["I1", "I2", "I3", "F1"],
                            "source_type": ["interview", "interview", "interview", "focus_group"],
                            "date": ["2021-03-10", "2021-03-01", "", "2021-01-01"]})
    refs = pd.DataFrame({"source_id": ["I1", "I1", "I2", "I3", "F1"], "code": ["A", "B", "A", "C", "D"]})
    table = saturation.saturation_table(refs, sources)
    assert table["source_id"].tolist() == ["I2", "I1", "I3"]  # dated first, undated last
    assert table["new_codes"].tolist() == [1, 1, 1] and table["cumulative_codes"].tolist() == [1, 2, 3]
    assert table["pct_of_codes_found"].tolist() == [33.3, 66.7, 100.0]


def test_likert_by_role_includes_every_role_group():
    part = pd.DataFrame({"role_group": ["a", "a", "b"], "q_x": pd.array([4, 5, None], dtype="Int64")})
    table = stats.likert_by_role(part, ["a", "b", "c"])
    assert table["role_group"].tolist() == ["a", "b", "c"]
    assert table["n"].tolist() == [2, 0, 0] and table["missing"].tolist() == [0, 1, 0]
