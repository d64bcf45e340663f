"""The real pipeline, end to end, through the same entry point as `make report`."""
from __future__ import annotations

import hashlib
import re
import subprocess

import pandas as pd
import pytest

from helpers.data import paths
from helpers.report import outputs

pytestmark = pytest.mark.e2e

REQUIRED_TABLES = {
    "participants_by_role.csv": ["role_group", "n", "pct"],
    "theme_tallies.csv": ["theme", "subtheme", "code", "references", "pct_references", "sources", "participants"],
    "sources_by_type.csv": ["source_type", "n"],
}


@pytest.fixture(scope="module")
def built(published):
    """cohort1, cohort2 and all built once for the whole test run (conftest.published)."""
    return published.out, published.results, published


@pytest.mark.parametrize("cohort, n_checks", [("cohort1", 12), ("all", 13)])
def test_report_reproduces_every_published_figure(built, cohort, n_checks):
    out, results, _ = built
    assert results[cohort]["returncode"] == 0, results[cohort]["stderr"]
    check = pd.read_csv(out / "reports" / cohort / "tables" / "reproduction_check.csv", dtype=str)
    assert len(check) == n_checks
    disagreeing = check[check["agrees"] != "True"]
    assert disagreeing.empty, disagreeing.to_string()
    html = (out / "reports" / cohort / "report.html").read_text()
    assert f"All {n_checks} published figures agree" in html


def test_cohort1_tables_hold_paper_one(built):
    out = built[0] / "reports" / "cohort1" / "tables"
    roles = pd.read_csv(out / "participants_by_role.csv")[["role_group", "n", "pct"]]
    assert roles.to_dict("list") == {"role_group": ["clinician", "management", "data science", "other"],
                                     "n": [13, 7, 5, 1], "pct": [50.0, 26.9, 19.2, 3.8]}
    codes = pd.read_csv(out / "theme_tallies.csv").set_index("code")
    assert codes["references"].sum() == 213
    assert codes.loc[["Clinician engagement", "Service-user engagement", "De novo digital processes"],
                     "pct_references"].tolist() == [11.7, 10.3, 9.4]


def test_pooled_tables_hold_paper_two(built):
    out = built[0] / "reports" / "all" / "tables"
    roles = pd.read_csv(out / "participants_by_role.csv")
    assert roles["n"].tolist() == [17, 14, 8, 2]
    sources = pd.read_csv(out / "sources_by_type.csv").set_index("source_type")["n"]
    assert (sources["interview"], sources["focus_group"], sources["dissertation"]) == (14, 3, 30)


@pytest.mark.parametrize("cohort", ["cohort1", "all"])
def test_result_tables_have_the_contract_columns(built, cohort):
    tables = built[0] / "reports" / cohort / "tables"
    for name, columns in REQUIRED_TABLES.items():
        found = pd.read_csv(tables / name).columns.tolist()
        assert found[: len(columns)] == columns, name  # the contract's columns first, in order
        assert set(found[len(columns):]) <= {"ci_low", "ci_high"}, name
    codebook = pd.read_csv(paths.RAW_DIR / "cohort1" / "codebook.csv")
    assert pd.read_csv(tables / "theme_tallies.csv")["code"].tolist() == codebook["code"].tolist()


@pytest.mark.parametrize("cohort", ["cohort1", "all"])
def test_report_is_self_contained_and_says_data_are_synthetic(built, cohort):
    report = built[0] / "reports" / cohort
    html = (report / "report.html").read_text()
    assert "Synthetic data." in html and "to agree with" in html and "not built to agree" not in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the report loads from another host"
    assert html.count("data:image/png;base64,") == len(outputs.figures())
    for heading in ("Reproduction check", "Cleaning log", "Participants and sources", "Thematic tallies",
                    "Figures", "Provenance"):
        assert heading in html
    for stem in (entry.name for entry in outputs.figures()):
        assert (report / "figures" / f"{stem}.png").is_file() and (report / "figures" / f"{stem}.svg").is_file()
    questionnaire = paths.RAW_DIR / "cohort1" / "questionnaire.csv"
    assert hashlib.sha256(questionnaire.read_bytes()).hexdigest() in html


def test_processed_data_are_parquet_per_cohort(built):
    processed = built[0] / "processed"
    assert sorted(p.name for p in (processed / "cohort1").glob("*.parquet")) == [
        "cleaning_log.parquet", "codebook.parquet", "participants.parquet", "segments.parquet", "sources.parquet"]
    assert (processed / "all" / "participants.parquet").is_file()


def test_raw_data_are_not_modified_by_a_run(built):
    assert built[2].raw_after == built[2].raw_before


def test_make_report_builds_a_cohort_with_a_numeric_name(bundled_raw_copy, tmp_path):
    (bundled_raw_copy / "cohort2").rename(bundled_raw_copy / "2018")
    result = subprocess.run(["make", "--no-print-directory", "report", "COHORT=2018", f"RAW_DIR={bundled_raw_copy}",
                             f"PROCESSED_DIR={tmp_path / 'processed'}", f"REPORTS_DIR={tmp_path / 'reports'}"],
                            cwd=paths.PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Done in" in result.stdout + result.stderr
    roles = pd.read_csv(tmp_path / "reports" / "2018" / "tables" / "participants_by_role.csv")
    assert roles["n"].tolist() == [4, 7, 3, 1]


@pytest.mark.parametrize("cohort", ["cohort1", "all"])
def test_the_run_writes_exactly_the_listed_outputs(built, cohort):
    report = built[0] / "reports" / cohort
    written = {p.name for p in (report / "tables").glob("*.csv")}
    assert written == {entry.file for entry in outputs.tables()}
    drawn = {p.name for p in (report / "figures").iterdir()}
    assert drawn == {name for entry in outputs.figures() for name in entry.files}
    html = (report / "report.html").read_text()
    for name, number in outputs.numbering().items():
        assert f"Table {number}. " in html, name
