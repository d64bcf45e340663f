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

from helpers.data import paths
from helpers.report import page as report_module

pytestmark = pytest.mark.e2e

REQUIRED_TABLES = {
    "participants_by_role.csv": ["role_group", "n", "pct"],
    "theme_tallies.csv": ["theme", "subtheme", "code", "references", "pct_references", "sources", "participants"],
    "sources_by_type.csv": ["source_type", "n"],
}


def run_pipeline(cohort: str, raw: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers.build.pipeline", "--cohort", cohort, "--raw-dir", str(raw),
         "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports")],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )


def tree_hash(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """cohort1 and all built once from the bundled data; raw hashes before and after."""
    out = tmp_path_factory.mktemp("build")
    before = tree_hash(paths.RAW_DIR)
    results = {c: run_pipeline(c, paths.RAW_DIR, out) for c in ("cohort1", "all")}
    return out, results, before


@pytest.mark.parametrize("cohort, n_checks", [("cohort1", 12), ("all", 13)])
def test_report_reproduces_every_published_figure(built, cohort, n_checks):
    out, results, _ = built
    assert results[cohort].returncode == 0, results[cohort].stderr
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
    assert html.count("data:image/png;base64,") == len(report_module.FIGURES)
    for heading in ("Reproduction check", "Cleaning log", "Participants and sources", "Thematic tallies",
                    "Figures", "Provenance"):
        assert heading in html
    for stem, _ in report_module.FIGURES:
        assert (report / "figures" / f"{stem}.png").is_file() and (report / "figures" / f"{stem}.svg").is_file()
    questionnaire = paths.RAW_DIR / "cohort1" / "questionnaire.csv"
    assert hashlib.sha256(questionnaire.read_bytes()).hexdigest() in html


def test_processed_data_are_parquet_per_cohort(built):
    processed = built[0] / "processed"
    assert sorted(p.name for p in (processed / "cohort1").glob("*.parquet")) == [
        "cleaning_log.parquet", "codebook.parquet", "participants.parquet", "segments.parquet", "sources.parquet"]
    assert (processed / "all" / "participants.parquet").is_file()


def test_raw_data_are_not_modified_by_a_run(built):
    assert tree_hash(paths.RAW_DIR) == built[2]


def test_bad_input_fails_clearly_and_keeps_the_previous_report(built, bundled_raw_copy, tmp_path):
    out = tmp_path / "out"
    assert run_pipeline("cohort1", bundled_raw_copy, out).returncode == 0
    report = out / "reports" / "cohort1" / "report.html"
    previous = report.read_bytes()

    segments = bundled_raw_copy / "cohort1" / "coded_segments.csv"
    lines = segments.read_text().splitlines(keepends=True)
    lines[4] = lines[4].replace(lines[4].split(",")[3], "A code nobody defined", 1)
    segments.write_text("".join(lines))
    raw_before = tree_hash(bundled_raw_copy)

    result = run_pipeline("cohort1", bundled_raw_copy, out)
    assert result.returncode == 1
    assert "coded_segments.csv, row 5, column 'code': value 'A code nobody defined'" in result.stderr
    assert "a code listed in codebook.csv" in result.stderr
    assert "01_clean.ipynb failed" in result.stderr
    kept = out / "reports" / "_failed" / "cohort1" / "01_clean.ipynb"
    assert kept.is_file() and str(kept) in result.stderr
    assert report.read_bytes() == previous
    assert tree_hash(bundled_raw_copy) == raw_before
    assert not (out / "reports" / ".build" / "cohort1" / "run").exists()  # the half-built run is gone


def test_numeric_cohort_name_stays_a_string(bundled_raw_copy, tmp_path):
    (bundled_raw_copy / "cohort2").rename(bundled_raw_copy / "2018")
    result = run_pipeline("2018", bundled_raw_copy, tmp_path)
    assert result.returncode == 0, result.stderr
    roles = pd.read_csv(tmp_path / "reports" / "2018" / "tables" / "participants_by_role.csv")
    assert roles["n"].tolist() == [4, 7, 3, 1]
