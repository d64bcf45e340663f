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


def test_counts_read_as_n_pct_with_the_interval_in_the_same_cell():
    from helpers.report import tables

    assert tables.n_pct(13, 50.0, 32.1, 67.9) == "13\u00a0(50.0) [32.1\u201367.9]"
    assert tables.n_pct("[REDACTED]", "[REDACTED]") == "[REDACTED]"
    assert tables.cell_html("13\u00a0(50.0) [32.1\u201367.9]") == (
        '<span class="nw">13\u00a0(50.0)</span> <span class="nw">[32.1\u201367.9]</span>')


def test_agreement_coefficients_have_two_decimals_and_no_negative_zero():
    from helpers.report import tables

    assert [tables.coefficient(v) for v in (0.8123, 1, 0, -0.001, float("nan"))] == [
        "0.81", "1.00", "0.00", "0.00", "\u2013"]


def test_table_one_has_a_column_per_cohort_and_one_for_the_pooled_run():
    from helpers.analysis import clean, participants
    from helpers.data import load, paths

    cleaned = clean.clean(load.load_inputs(paths.RAW_DIR, "all"), pooled=True)
    table = participants.characteristics_table(cleaned)
    assert list(dict.fromkeys(table["cohort"])) == ["cohort1", "cohort2", "all cohorts"]
    roles = table[table["section"] == "Role group"].pivot(index="characteristic", columns="cohort", values="n")
    assert roles.loc[["clinician", "management", "data science", "other"], "all cohorts"].tolist() == [17, 14, 8, 2]
    assert roles.loc[["clinician", "management", "data science", "other"], "cohort2"].tolist() == [4, 7, 3, 1]
    analysed = table[table["characteristic"] == "Participants analysed"].set_index("cohort")["n"]
    assert analysed.to_dict() == {"cohort1": 26, "cohort2": 15, "all cohorts": 41}
    sources = table[(table["section"] == "Sources") & (table["cohort"] == "all cohorts")].set_index("characteristic")
    assert sources.loc[["interview", "focus_group", "dissertation"], "n"].tolist() == [14, 3, 30]
    # Shares only where they are shares: role groups, and the missing answers of each questionnaire item.
    shares = (table["section"] == "Role group") | table["characteristic"].str.endswith(": missing")
    assert (table.loc[~shares, "pct"] == "").all() and (table.loc[shares, "pct"] != "").all()


def test_codes_without_subthemes_sit_under_their_theme():
    """A codebook's subtheme column is optional (imported codebooks often have none)."""
    from helpers.report import tables

    themes = pd.DataFrame({"theme": ["Growth"], "references": [3], "pct_references": [100.0], "ci_low": [43.9],
                           "ci_high": [100.0], "sources": [2], "participants": [2]})
    subthemes = themes.assign(subtheme=[float("nan")])
    codes = pd.concat([subthemes.assign(code="Leading change", references=2),
                       subthemes.assign(code="Speaking up", references=1)], ignore_index=True)
    _, rows = tables.themes(themes, subthemes, codes)
    assert [(row.cells[0], row.level) for row in rows] == [("Growth", 0), ("Leading change", 1), ("Speaking up", 1)]
    html = tables.Table("3", "Themes", "", ["Theme"] + ["n"] * 3, rows).html()
    assert "nan" not in html


def test_a_table_without_a_layout_of_its_own_reads_as_words_and_numbers():
    from helpers.report import tables as pub

    frame = pd.DataFrame({"subtheme": ["Cultural barriers", "resource barriers"], "participants": [15, "[REDACTED]"],
                          "pct": [57.7, "[REDACTED]"], "pct_of_role_group": [12.3, 3.0]})
    columns, rows = pub.generic(frame)
    assert columns == ["Subtheme", "Participants", "%", "% of role group"]
    assert [r.cells for r in rows] == [["Cultural barriers", "15", "57.7", "12.3"],
                                       ["Resource barriers", "[REDACTED]", "[REDACTED]", "3.0"]]


def test_notes_name_input_files_without_machine_paths(tmp_path):
    outside = tmp_path / "raw"
    assert report.public_notes([f"{outside}/study/questionnaire.csv: 3 extra columns"], outside) == [
        "raw/study/questionnaire.csv: 3 extra columns"]


def test_the_agreement_reading_prints_no_negative_zero_either():
    """The sentence quotes the table's coefficients as the table shows them: -0.004 reads 0.00."""
    import pandas as pd

    from helpers.data.contract import POOLED
    from helpers.report import readings

    table = pd.DataFrame({
        "code": [POOLED, POOLED, "Goal orientation"],
        "coders": ["AA & AS", "all coders", "all coders"],
        "cohen_kappa": [-0.003, None, None], "krippendorff_alpha": [None, -0.004, -0.004],
        "units": [120, 120, 40], "sources": [6, 6, 6], "agreement_pct": [80.0, 80.0, 97.5]})
    text = readings.agreement(table)
    assert "-0.00" not in text
    assert "Cohen's kappa 0.00 (" in text and "across all coders 0.00" in text and "alpha 0.00)" in text
