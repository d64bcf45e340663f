"""make report-all: every cohort and the pooled run, side by side in reports/index.html."""
import json
import os
import re
import subprocess
import sys

import pytest

from helpers.data import paths

pytestmark = pytest.mark.e2e


@pytest.mark.browser
def test_index_links_every_cohort_and_compares_them(published, tmp_path):
    # From the shared build (conftest.published): each cohort is up to date, so this checks the
    # index and the PDFs; building each cohort is what the other end-to-end tests check.
    import shutil

    published.copy_to(tmp_path)
    # A disclosure-controlled report of cohort1 published earlier beside the full one (a copy
    # stands for it here: the index reads its folder name and tables).
    (tmp_path / "reports" / "cohort1-min7-round5").unlink()  # the shared build's own (a link), replaced
    controlled = shutil.copytree(tmp_path / "reports" / "cohort1", tmp_path / "reports" / "cohort1-min7-round5")
    (controlled / "report.pdf").unlink(missing_ok=True)  # it stands for a report whose PDF was never asked for
    result = subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--all", "--raw-dir", str(paths.RAW_DIR),
         "--processed-dir", str(tmp_path / "processed"), "--reports-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})  # as the shared build
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Building 3 reports (cohort1, cohort2, all), 2 at a time; each line shows its cohort"
    for cohort in ("cohort1", "cohort2", "all"):
        assert f"== {cohort}: ok" in result.stdout
        # The analysis was up to date; each report's PDF is a step of its run, published with it.
        assert any(re.fullmatch(rf"\[{cohort}\]   \[5/6\] 05_report.ipynb +up to date", line) for line in lines)
        assert any(re.fullmatch(rf"\[{cohort}\]   \[6/6\] report.pdf +\d+\.\d s  \(asked for\)", line)
                   for line in lines), lines
        assert (tmp_path / "reports" / cohort / "report.html").is_file()
    html = (tmp_path / "reports" / "index.html").read_text()
    # Each report and its PDF, the controlled one after its cohort's full report (it has no PDF).
    assert re.findall(r'href="([^"]+)"', html) == [
        "cohort1/report.html", "cohort1/report.pdf", "cohort1-min7-round5/report.html",
        "cohort2/report.html", "cohort2/report.pdf", "all/report.html", "all/report.pdf"]
    assert all((tmp_path / "reports" / c / "report.pdf").is_file() for c in ("cohort1", "cohort2", "all"))
    # Which may be shared, then n, sources and the check's verdict per report, read from each run's tables.
    rows = re.findall(r'<tr><th scope="row"><a href="[^"]+">([\w-]+)</a></th>\s*<td class="text">(.+?)</td>\s*'
                      r'<td>(\d+)</td><td>(\d+)</td><td class="text">([^<]+)</td>', html)
    assert [(row[0],) + row[2:4] for row in rows] == [
        ("cohort1", "26", "54"), ("cohort1-min7-round5", "26", "54"), ("cohort2", "15", "34"), ("all", "41", "88")]
    assert [row[1] for row in rows] == ["off: every count as computed; for the study team, not for sharing",
                                        "<strong>on: counts of 7 or fewer redacted, others rounded to the nearest 5; "
                                        "shareable</strong>"] + ["off: every count as computed; for the study "
                                                                 "team, not for sharing"] * 2
    assert [row[4] for row in rows if row[0] != "cohort1-min7-round5"] == [
        "8 exact, 6 under an assumption, 0 differ", "no published figures to compare",
        "12 exact, 1 under an assumption, 0 differ"]
    for cell in ("13\u00a0(50.0)", "4\u00a0(26.7)", "17\u00a0(41.5)"):  # role mix per cohort
        assert cell in html
    assert "Synthetic data." in html and "<script" not in html
    assert html.count("data:image/png;base64,") == 1
    # As laid out in the browser: words and dates left-aligned, numbers right-aligned, headers
    # as their columns (before: every column but the first was right-aligned, text included).
    from cdp import Browser

    with Browser() as browser:
        browser.open(tmp_path / "reports" / "index.html", 1366)
        aligned = json.loads(browser.evaluate(
            "JSON.stringify([...document.querySelector('table.pub').rows].slice(0, 2)"
            ".map(r => [...r.cells].map(c => getComputedStyle(c).textAlign)))"))
    assert aligned == [["left", "left", "right", "right", "left", "left", "left"]] * 2, aligned


def test_a_stop_request_ends_every_cohort_s_run_and_changes_no_report(published, tmp_path):
    """SIGTERM while two cohorts build side by side: both runs stop, the pooled one never starts,
    and every report is the one before (nothing half published)."""
    import hashlib
    import signal
    import time

    published.copy_to(tmp_path)
    reports = tmp_path / "reports"

    def report_hashes() -> dict[str, str]:
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
                for cohort in ("cohort1", "cohort2", "all") for p in sorted((reports / cohort).rglob("*"))
                if p.is_file()}

    before = report_hashes()
    started = reports / ".build" / "cohort1" / "run" / "03_thematic_tallies" / "reports" / "cohort1" / "notebooks"
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.runner.pipeline", "--all", "--force", "--raw-dir", str(paths.RAW_DIR),
         "--processed-dir", str(tmp_path / "processed"), "--reports-dir", str(reports)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    deadline = time.monotonic() + 120
    while not (started / "03_thematic_tallies.ipynb").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before cohort1 reached notebook 03"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "Interrupted" in stderr
    # 03 (and 02 beside it, if still running) was interrupted, and said so with its cohort.
    assert any(re.match(r"\[cohort1\] (ERROR: )?Step 3/\d 03_thematic_tallies.ipynb was interrupted \(SIGTERM\)", line)
               for line in stdout.splitlines()), stdout
    assert "[all] Interrupted (SIGTERM)" in stdout and "[all] Building" not in stdout  # queued, never started
    assert "Index:" not in stdout
    assert report_hashes() == before
    assert not any((reports / ".build" / cohort / "run").exists() for cohort in ("cohort1", "cohort2", "all"))
