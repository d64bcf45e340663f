"""Intervals that fit the unit: shares of references get a seeded cluster bootstrap over
sources (not Wilson), and paper 1's project-focus shares sit in a numbered table that the
reproduction check points to."""
import numpy as np
import pandas as pd
import pytest

from helpers.analysis import bootstrap, clean, stats, themes
from helpers.analysis.disclosure import REDACTED, Disclosure
from helpers.data import load, paths
from helpers.report import outputs, page


@pytest.fixture(scope="module")
def cohort1():
    cleaned = clean.clean(load.load_inputs(paths.RAW_DIR, "cohort1"), pooled=False)
    return cleaned, themes.references(cleaned)


def clustered_refs() -> pd.DataFrame:
    """40 references in 8 sources: code A fills two sources (10 each), the rest spread evenly."""
    rows = [("S1", "A")] * 10 + [("S2", "A")] * 10
    rows += [(f"S{i}", "B") for i in range(3, 9) for _ in range(3)] + [("S3", "B"), ("S4", "B")]
    return pd.DataFrame(rows, columns=["source_id", "code"])


def test_the_bootstrap_is_reproducible_and_ignores_row_order():
    refs = clustered_refs()
    first = bootstrap.share_intervals(refs, ["code"])
    again = bootstrap.share_intervals(refs.sample(frac=1, random_state=3), ["code"]).reindex(first.index)
    assert first.equals(again)


def test_the_bootstrap_does_not_depend_on_the_sources_names():
    refs = clustered_refs()
    renamed = refs.assign(source_id=refs["source_id"].map(lambda s: f"PT-{9 - int(s[1:])}"))
    assert bootstrap.share_intervals(refs, ["code"]).equals(bootstrap.share_intervals(renamed, ["code"]))


def test_clustered_references_get_a_wider_interval_than_wilson():
    refs = clustered_refs()
    interval = bootstrap.share_intervals(refs, ["code"]).loc["A"]
    low, high = stats.wilson_ci([20], [40])
    assert interval["ci_high"] - interval["ci_low"] > 1.5 * (high[0] - low[0])
    assert interval["ci_low"] < 50 < interval["ci_high"]


def test_shares_within_a_category_are_of_that_categorys_references():
    refs = pd.DataFrame({"source_id": ["S1", "S1", "S2", "S3", "S3", "S3"],
                         "theme": ["T", "U", "T", "T", "T", "U"], "kind": ["a", "a", "a", "b", "b", "b"]})
    intervals = bootstrap.share_intervals(refs, ["theme", "kind"], within="kind")
    assert intervals.loc[("T", "b")].tolist() == pytest.approx([66.7, 66.7])  # one source of kind b


def test_theme_tallies_carry_the_cluster_interval(cohort1):
    cleaned, refs = cohort1
    table = themes.code_table(refs, cleaned).set_index("code")
    expected = bootstrap.share_intervals(refs, ["code"]).loc["Clinician engagement"]
    shown = table.loc["Clinician engagement", ["ci_low", "ci_high"]].tolist()
    assert shown == expected.tolist() and shown[0] < table.loc["Clinician engagement", "pct_references"] < shown[1]


def test_a_redacted_count_keeps_its_interval_redacted(cohort1):
    cleaned, refs = cohort1
    table = themes.code_table(refs, cleaned, Disclosure(min_count=10))
    small = table[table["references"] == REDACTED]
    assert len(small) and (small[["ci_low", "ci_high"]] == REDACTED).all().all()


def test_project_focus_gives_the_papers_three_shares(cohort1):
    cleaned, refs = cohort1
    table = themes.project_focus_table(refs, cleaned).set_index("code")
    shares = table.loc[["Clinician engagement", "Service-user engagement", "De novo digital processes"]]
    assert shares["references"].tolist() == [25, 22, 20]
    assert shares["pct_of_dissertation_references"].tolist() == [11.7, 10.3, 9.4]
    assert (table["dissertation_references"] == 213).all()
    assert (shares["ci_low"] < shares["pct_of_dissertation_references"]).all()


def test_project_focus_counts_are_controlled(cohort1):
    cleaned, refs = cohort1
    table = themes.project_focus_table(refs, cleaned, Disclosure(min_count=7, round_to=5))
    assert table["dissertation_references"].tolist() == [215] * 4
    assert set(table["references"]) <= {REDACTED} | {v for v in range(0, 300, 5)}


def test_a_codebook_without_the_subtheme_gives_an_empty_table(cohort1):
    cleaned, refs = cohort1
    renamed = cleaned.codebook.assign(subtheme=cleaned.codebook["subtheme"].str.replace("project focus", "aims"))
    table = themes.project_focus_table(refs, type(cleaned)(**{**cleaned.__dict__, "codebook": renamed}))
    assert table.empty


def test_each_project_focus_share_of_the_check_points_to_its_table_cell():
    number = outputs.numbering()["project_focus"]
    where, anchor = page.shown_in("cohort1", "Dissertation focus: clinician engagement (% of coded dissertation "
                                             "material)")
    assert where == f"Table {number}, Clinician engagement" and anchor == f"table-{number}"
    assert page.shown_in("cohort1", "Participants") == ("", "")  # read from a table the report does not number


def test_zero_references_get_a_zero_interval():
    refs = pd.DataFrame({"source_id": ["S1", "S2"], "code": ["A", "A"]})
    table = pd.DataFrame({"code": ["A", "B"], "references": [2, 0]})
    out = bootstrap.add_share_ci(table, refs, ["code"], "references")
    assert out["ci_low"].tolist() == [100.0, 0.0] and np.allclose(out["ci_high"], [100.0, 0.0])
