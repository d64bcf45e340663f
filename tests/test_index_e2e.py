"""make report-all: every cohort and the pooled run, side by side in reports/index.html."""
import os
import re
import subprocess
import sys

import pytest

from helpers.data import paths

pytestmark = pytest.mark.e2e


def test_index_links_every_cohort_and_compares_them(published, tmp_path):
    # From the shared build (conftest.published): each cohort is up to date, so this checks the
    # index; building each cohort is what the other end-to-end tests check.
    published.copy_to(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--all", "--raw-dir", str(paths.RAW_DIR),
         "--processed-dir", str(tmp_path / "processed"), "--reports-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})  # as the shared build
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Building 3 reports (cohort1, cohort2, all), 2 at a time; each line shows its cohort"
    for cohort in ("cohort1", "cohort2", "all"):
        assert f"== {cohort}: ok" in result.stdout
        assert f"[{cohort}] Up to date: {tmp_path / 'reports' / cohort / 'report.html'}" in lines  # each run's lines
        assert (tmp_path / "reports" / cohort / "report.html").is_file()
    html = (tmp_path / "reports" / "index.html").read_text()
    # Each report and its PDF (printed by the index when Chromium is installed, as make test ensures).
    assert re.findall(r'href="([^"]+)"', html) == [f"{c}/{f}" for c in ("cohort1", "cohort2", "all")
                                                   for f in ("report.html", "report.pdf")]
    assert all((tmp_path / "reports" / c / "report.pdf").is_file() for c in ("cohort1", "cohort2", "all"))
    # n, sources and the check's verdict per cohort, read from each run's tables.
    rows = re.findall(r'<tr><th scope="row"><a href="[^"]+">(\w+)</a></th>\s*<td>(\d+)</td><td>(\d+)</td>'
                      r'<td class="text">([^<]+)</td>', html)
    assert [row[:3] for row in rows] == [("cohort1", "26", "54"), ("cohort2", "15", "34"), ("all", "41", "88")]
    assert [row[3] for row in rows] == ["8 exact, 6 under an assumption, 0 differ",
                                        "no published figures to compare", "12 exact, 1 under an assumption, 0 differ"]
    for cell in ("13\u00a0(50.0)", "4\u00a0(26.7)", "17\u00a0(41.5)"):  # role mix per cohort
        assert cell in html
    assert "Synthetic data." in html and "<script" not in html
    assert html.count("data:image/png;base64,") == 1
