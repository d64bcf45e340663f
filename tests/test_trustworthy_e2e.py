"""Reruns give the same bytes; a killed run keeps the previous report; parameters are safe."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import CONTROLLED

from helpers.data import paths

pytestmark = pytest.mark.e2e
EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def pipeline_cmd(cohort: str, raw: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", cohort, "--raw-dir", str(raw),
            "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports"), *extra]


def run(cohort: str, raw: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(pipeline_cmd(cohort, raw, out, *extra), capture_output=True, text=True,
                          env={**os.environ, **EPOCH})


def hashes(*folders: Path, root: Path | None = None) -> dict[str, str]:
    """SHA-256 of each file by its path (relative to `root` when given). With `root`, the folder's
    own name is taken out of the bytes first: executed notebooks name the folder they ran in."""
    def digest(path: Path) -> str:
        data = path.read_bytes()
        return hashlib.sha256(data.replace(str(root).encode(), b"<out>") if root else data).hexdigest()

    return {str(p.relative_to(root) if root else p): digest(p)
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_give_identical_bytes(published, tmp_path):
    # The shared build, and every step of it run again on a copy elsewhere.
    out = published.copy_to(tmp_path / "out")
    first = hashes(published.out / "reports" / "cohort1", published.out / "processed" / "cohort1", root=published.out)
    result = run("cohort1", paths.RAW_DIR, out, "--force")  # rerun every step
    assert result.returncode == 0 and "5/5] 05_report.ipynb" in result.stdout, result.stdout + result.stderr
    second = hashes(out / "reports" / "cohort1", out / "processed" / "cohort1", root=out)
    assert len(first) > 30
    differing = sorted(k for k in first if first[k] != second.get(k))
    assert not differing and first.keys() == second.keys(), differing


def test_killed_run_keeps_previous_report_and_the_partial_notebook(published, tmp_path):
    out = published.copy_to(tmp_path / "out")
    report = out / "reports" / "cohort1" / "report.html"
    before = hashes(out / "reports" / "cohort1")

    stage = out / "reports" / ".build" / "cohort1" / "run" / "03_thematic_tallies"
    target = stage / "reports" / "cohort1" / "notebooks" / "03_thematic_tallies.ipynb"
    proc = subprocess.Popen(pipeline_cmd("cohort1", paths.RAW_DIR, out, "--force"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **EPOCH})
    deadline = time.monotonic() + 120
    while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert target.exists(), "the run never reached notebook 03"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode != 0
    kept = out / "reports" / "_failed" / "cohort1" / "03_thematic_tallies.ipynb"
    assert "03_thematic_tallies.ipynb was interrupted" in stderr and str(kept) in stderr, stderr
    assert kept.is_file()
    assert hashes(out / "reports" / "cohort1") == before and report.is_file()
    assert not (out / "reports" / ".build" / "cohort1" / "run").exists()  # the half-built run is gone
    # The kept outputs still match the report: the next run has nothing to do.
    again = run("cohort1", paths.RAW_DIR, out)
    assert again.returncode == 0 and "Up to date" in again.stdout, again.stdout + again.stderr


def test_disclosure_control_redacts_tables_figures_and_report(published):
    out = published.out  # cohort1 built with --min-count 7 --round-to 5 (conftest.CONTROLS)
    result = published.results[CONTROLLED]
    assert result["returncode"] == 0, result["stderr"]
    tables = out / "reports" / "cohort1-min7-round5" / "tables"
    roles = pd.read_csv(tables / "participants_by_role.csv", dtype=str)
    assert roles["n"].tolist() == ["15", "[REDACTED]", "[REDACTED]", "[REDACTED]"]
    codes = pd.read_csv(tables / "theme_tallies.csv", dtype=str)
    counts = pd.to_numeric(codes["references"], errors="coerce").dropna()
    assert (counts % 5 == 0).all()
    by_source = pd.read_csv(tables / "code_by_source_type.csv", dtype=str)
    assert (by_source["references"] == "[REDACTED]").any()  # every code has 8 or more references in all
    characteristics = pd.read_csv(tables / "participant_characteristics.csv", dtype=str, keep_default_na=False)
    other = characteristics[characteristics["characteristic"] == "other"].iloc[0]
    assert (other["n"], other["pct"], other["ci_low"]) == ("[REDACTED]", "[REDACTED]", "[REDACTED]")
    html = (out / "reports" / "cohort1-min7-round5" / "report.html").read_text()
    assert "counts of 7 or fewer" in html and "rounded to the nearest 5" in html
    assert ">redacted</td>" in html and "Disclosure control is on" in html
    svg = (out / "reports" / "cohort1-min7-round5" / "figures" / "role_groups.svg").read_text()
    assert "[REDACTED]" in svg
    quotes = pd.read_csv(tables / "quotes.csv")
    assert "participant" not in quotes.columns and "role_group" not in quotes.columns


def test_outputs_hold_pseudonyms_only(published):
    out = published.out
    assert published.results["cohort1"]["returncode"] == 0
    raw_ids = set(pd.read_csv(paths.RAW_DIR / "cohort1" / "questionnaire.csv", dtype=str)["participant_id"])
    for path in list((out / "reports" / "cohort1").rglob("*")) + list((out / "processed" / "cohort1").rglob("*")):
        if path.suffix in {".csv", ".html", ".ipynb", ".json"}:
            text = path.read_text()
            leaked = [pid for pid in raw_ids if f"{pid}," in text or f"'{pid}'" in text or f">{pid}<" in text]
            assert not leaked, f"{path} shows raw ids {leaked[:3]}"
    processed = pd.read_parquet(out / "processed" / "cohort1" / "participants.parquet")
    assert processed["participant_id"].str.match(r"^PT-[0-9a-f]{10}$").all()
