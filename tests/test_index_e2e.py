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
        [sys.executable, "-m", "helpers.report.index", "--raw-dir", str(paths.RAW_DIR),
         "--processed-dir", str(tmp_path / "processed"), "--reports-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})  # as the shared build
    assert result.returncode == 0, result.stdout + result.stderr
    for cohort in ("cohort1", "cohort2", "all"):
        assert f"== {cohort}: ok" in result.stdout
        assert (tmp_path / "reports" / cohort / "report.html").is_file()
    html = (tmp_path / "reports" / "index.html").read_text()
    assert re.findall(r'href="([^"]+)"', html) == ["cohort1/report.html", "cohort2/report.html", "all/report.html"]
    assert "13 (50.0%)" in html and "4 (26.7%)" in html and "17 (41.5%)" in html  # role mix per cohort
    assert "Synthetic data." in html and "<script" not in html
    assert html.count("data:image/png;base64,") == 1
