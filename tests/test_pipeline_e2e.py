"""The real pipeline, end to end, through the same entry point as `make report`."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.data import paths, plan
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


@pytest.mark.parametrize("cohort, exact, assumed", [("cohort1", 8, 6), ("all", 12, 1)])
def test_report_reproduces_every_published_figure_and_says_which_need_an_assumption(built, cohort, exact, assumed):
    out, results, _ = built
    assert results[cohort]["returncode"] == 0, results[cohort]["stderr"]
    check = pd.read_csv(out / "reports" / cohort / "tables" / "reproduction_check.csv", dtype=str,
                        keep_default_na=False)
    assert len(check) == exact + assumed
    disagreeing = check[check["agrees"] != "True"]
    assert disagreeing.empty, disagreeing.to_string()
    assert check["status"].value_counts().to_dict() == {"exact": exact, "under an assumption": assumed}
    assert (check["assumption"] != "").sum() == assumed  # every assumption is stated
    html = (out / "reports" / cohort / "report.html").read_text()
    assert f"{exact} agree exactly" in html and f"{assumed} agree under a stated assumption" in html
    assert "0 differ" in html


def test_paper_two_clinicians_agree_only_after_double_rounding(built):
    check = pd.read_csv(built[0] / "reports" / "all" / "tables" / "reproduction_check.csv", dtype=str,
                        keep_default_na=False).set_index("figure")
    row = check.loc["Clinical (%)"]
    assert (row["computed"], row["computed_at_paper_precision"], row["status"]) == ("41.5", "42", "under an assumption")
    assert "exact share 41.46 rounds to 41" in row["assumption"]


def test_cohort1_qualitative_headlines_of_paper_one_hold(built):
    check = pd.read_csv(built[0] / "reports" / "cohort1" / "tables" / "reproduction_check.csv", dtype=str,
                        keep_default_na=False).set_index("figure")
    assert check.loc["Two key areas of impact", "computed"] == "Loco-regional digitisation; Network of change agents"
    assert check.loc["Barriers that mediate the impact", "computed"] == "Resource barriers; Cultural barriers"
    assert check.loc["Barriers that mediate the impact", "status"] == "exact"


def test_cohort1_tables_hold_paper_one(built):
    out = built[0] / "reports" / "cohort1" / "tables"
    roles = pd.read_csv(out / "participants_by_role.csv")[["role_group", "n", "pct"]]
    assert roles.to_dict("list") == {"role_group": ["clinician", "management", "data science", "other"],
                                     "n": [13, 7, 5, 1], "pct": [50.0, 26.9, 19.2, 3.8]}
    # Paper 1's project focus is a share of coded dissertation material: 25, 22 and 20 of the
    # 213 references in the cohort's dissertations.
    by_source = pd.read_csv(out / "code_by_source_type.csv")
    dissertations = by_source[by_source["source_type"] == "dissertation"].set_index("code")
    assert dissertations["references"].sum() == 213
    focus = ["Clinician engagement", "Service-user engagement", "De novo digital processes"]
    assert dissertations.loc[focus, "references"].tolist() == [25, 22, 20]
    assert dissertations.loc[focus, "pct_of_source_type"].tolist() == [11.7, 10.3, 9.4]
    assert dissertations.drop(focus)["references"].max() < 20  # the three lead the dissertations
    codes = pd.read_csv(out / "theme_tallies.csv").set_index("code")
    assert codes["references"].sum() == 394  # every source type


def test_project_focus_is_a_numbered_table_and_the_disagreements_stay_unpublished(built):
    out = built[0]
    focus = pd.read_csv(out / "reports" / "cohort1" / "tables" / "project_focus.csv").set_index("code")
    assert focus.loc[["Clinician engagement", "Service-user engagement", "De novo digital processes"],
                     "pct_of_dissertation_references"].tolist() == [11.7, 10.3, 9.4]
    html = (out / "reports" / "cohort1" / "report.html").read_text()
    from helpers.report import outputs

    number = outputs.numbering()["project_focus"]
    assert f"(Table {number}, Clinician engagement)</a>" in html and f'id="table-{number}"' in html
    listed = pd.read_csv(out / "processed" / "cohort1" / "disagreements.csv")
    assert len(listed) > 0 and set(listed.columns) >= {"segment_id", "code", "applied_by", "not_applied_by"}
    assert not list((out / "reports" / "cohort1").rglob("disagreements*"))


def test_pooled_table_one_compares_the_cohorts(built):
    compared = pd.read_csv(built[0] / "reports" / "all" / "tables" / "characteristics_comparison.csv",
                           keep_default_na=False).set_index("characteristic")
    assert float(compared.at["Role group", "smd"]) == 0.531
    assert (compared["test"] == "").all()  # no test unless asked for (COMPARE_TEST=1)
    html = (built[0] / "reports" / "all" / "report.html").read_text()
    assert ">SMD</th>" in html and "No test was run" in html


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
    for heading in ("Reproduction check", "Participants and sources", "Questionnaire items", "Themes",
                    "Methods a reviewer expects", "Data and cleaning", "Provenance"):
        assert f">{heading}</h2>" in html
    for entry in outputs.figures():
        assert all((report / "figures" / name).is_file() for name in entry.files)
    # Numbered in the order they appear, each figure beside the table it is drawn from.
    assert re.findall(r'<span class="num">Figure (\d+)\.', html) == [str(i) for i in range(1, 10)]
    # Every numbered table of the outputs list, in the order numbered (1, 2, 2b, 3, ...).
    assert re.findall(r'<span class="num">Table (\w+)\.', html) == list(outputs.numbering().values())
    assert list(outputs.numbering().values()) == ["1", "2", "2b"] + [str(n) for n in range(3, 13)]
    assert "(Figures <a href=\"#figure-4\">4</a>, <a href=\"#figure-5\">5</a>)" in html
    # Provenance: no machine path, every analysis package, the executed notebooks for reading.
    assert str(paths.PROJECT_ROOT) not in html and "<code>data/raw</code>" in html
    # The packages are those the steps' kernels imported: the analysis libraries, never an unused one.
    for package in ("pandas", "statsmodels", "krippendorff", "pandera", "matplotlib"):
        assert f"<dt>{package}</dt>" in html
    # seaborn's theme is written out in figures.THEME: no step imports seaborn, so none lists it.
    assert "<dt>great-tables</dt>" not in html and "<dt>nhsda-eval</dt>" not in html and "<dt>seaborn</dt>" not in html
    for step in plan.NOTEBOOKS:
        page = report / "notebooks" / (Path(step).stem + ".html")
        assert f'href="notebooks/{page.name}"' in html and page.is_file()
        text = page.read_text()
        assert "<script" not in text.lower() and "Content-Security-Policy" in text
        assert str(paths.PROJECT_ROOT) not in text
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
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
        assert f"Table {number}." in html, name


def test_own_cohort1_without_likert_items_runs_with_no_check_and_says_why(bundled_raw_copy, tmp_path):
    """A user's own data named cohort1 (no SYNTHETIC marker, its own key) with a questionnaire
    without Likert items (a REDCap survey, say): the run passes, is not compared with the
    papers, and says there are no Likert items instead of drawing empty figures."""
    (bundled_raw_copy / "SYNTHETIC").unlink()
    questionnaire = bundled_raw_copy / "cohort1" / "questionnaire.csv"
    frame = pd.read_csv(questionnaire, dtype=str, keep_default_na=False)
    frame.drop(columns=[c for c in frame.columns if c.startswith("q_")]).to_csv(questionnaire, index=False)
    result = subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", "cohort1", "--raw-dir", str(bundled_raw_copy),
         "--processed-dir", str(tmp_path / "processed"), "--reports-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, env={**os.environ, "NHSDA_PSEUDONYM_KEY": "a key of the study's own"})
    assert result.returncode == 0, result.stderr
    report = tmp_path / "reports" / "cohort1"
    check = pd.read_csv(report / "tables" / "reproduction_check.csv")
    assert check.empty
    html = (report / "report.html").read_text()
    assert "this run&#39;s data folder is not that bundle" in html and "agree exactly" not in html
    assert "has no Likert items" in html and "Questionnaire items by role group" not in html
    assert pd.read_csv(report / "tables" / "likert_summary.csv").empty
    assert not (report / "figures" / "likert.png").exists() and not (report / "figures" / "likert_by_role.png").exists()
    assert html.count("data:image/png;base64,") == len(outputs.figures()) - 2


@pytest.mark.parametrize("cohort", ["cohort1", "all"])
def test_provenance_records_versions_commit_parameters_and_the_lock(built, cohort):
    import json

    report = built[0] / "reports" / cohort
    provenance = json.loads((report / "provenance.json").read_text())
    lock = hashlib.sha256((paths.PROJECT_ROOT / "requirements.lock").read_bytes()).hexdigest()
    assert provenance["lock_sha256"] == lock and provenance["parameters"]["cohort"] == cohort
    assert provenance["packages"]["pandera"] and "dirty" in provenance and "commit" in provenance
    for step in plan.NOTEBOOKS:
        record = json.loads((report / "provenance" / f"{Path(step).stem}.json").read_text())
        assert record["step"] == step and record["packages"]["pandas"]
    crate = json.loads((report / "ro-crate-metadata.json").read_text())
    graph = {entity["@id"]: entity for entity in crate["@graph"]}
    assert graph["ro-crate-metadata.json"]["conformsTo"]["@id"] == "https://w3id.org/ro/crate/1.1"
    parts = {p["@id"] for p in graph["./"]["hasPart"]}
    assert {"report.html", "datapackage.json", "provenance.json", "tables/theme_tallies.csv"} <= parts
    assert all((report / part).is_file() for part in parts)
    text = "\n".join(p.read_text() for p in [report / "provenance.json", report / "ro-crate-metadata.json",
                                              report / "datapackage.json", *(report / "provenance").iterdir()])
    assert str(paths.PROJECT_ROOT) not in text and str(built[0]) not in text


@pytest.mark.parametrize("cohort", ["cohort1", "all"])
def test_the_data_dictionary_describes_every_column_of_every_published_table(built, cohort):
    import json

    report = built[0] / "reports" / cohort
    package = json.loads((report / "datapackage.json").read_text())
    described = {r["path"]: [f["name"] for f in r["schema"]["fields"]] for r in package["resources"]}
    published = {f"tables/{p.name}": list(pd.read_csv(p, nrows=0).columns) for p in (report / "tables").glob("*.csv")}
    assert described == published
