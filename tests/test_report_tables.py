"""The report stays small at any cohort size: tables that grow with it are cut, and say so."""
import pandas as pd

from helpers.report import page as report


def _saturation(interviews: int, new_at: dict[int, int]) -> pd.DataFrame:
    new = [new_at.get(i, 0) for i in range(1, interviews + 1)]
    return pd.DataFrame({"order": range(1, interviews + 1), "source_id": [f"I{i}" for i in range(interviews)],
                         "new_codes": new, "cumulative_codes": pd.Series(new).cumsum()})


def test_saturation_table_of_a_few_interviews_is_shown_whole():
    table = _saturation(report.SATURATION_ROWS, {1: 3, 2: 1})
    shown, note = report.saturation_shown(table)
    assert len(shown) == len(table) and note == ""


def test_saturation_table_of_many_interviews_shows_those_that_found_codes_and_the_last():
    table = _saturation(10_000, {1: 3, 2: 1, 7: 2})
    shown, note = report.saturation_shown(table)
    assert shown["order"].tolist() == [1, 2, 7, 10_000]
    assert "10,000 interviews" in note and "tables/saturation.csv" in note


def test_saturation_table_is_cut_even_when_every_interview_finds_a_code():
    table = _saturation(5_000, {i: 1 for i in range(1, 5_001)})
    shown, note = report.saturation_shown(table)
    assert len(shown) == report.SATURATION_ROWS + 1 and f"the first {report.SATURATION_ROWS}" in note


def test_only_the_bundled_cohorts_are_said_to_reproduce_the_papers(tmp_path):
    from helpers.data import paths
    from helpers.tools import synthetic

    assert report.reproduces_the_papers(paths.RAW_DIR)
    synthetic.write_scaled(tmp_path / "bench", 20)
    assert report.is_synthetic(tmp_path / "bench") and not report.reproduces_the_papers(tmp_path / "bench")
    (tmp_path / "real").mkdir()
    assert not report.reproduces_the_papers(tmp_path / "real")
