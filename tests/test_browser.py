"""Free text is data, never markup: hostile quotes checked in headless Chromium.

Chromium comes from Debian's `chromium` package (.ci/run installs it). The page is
loaded with every host name mapped to a trap server on loopback: any request it
receives means the page reached for something outside itself (for the hostile text:
that data turned into markup).
"""
from __future__ import annotations

import csv
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers.data import paths
from helpers.report import outputs

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Trap(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Trap.hits.append(f"{self.headers.get('Host')}{self.path}")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def trap():
    Trap.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


def payloads(base: str) -> list[str]:
    return [
        f"<script>fetch('{base}/script'); document.title = 'PWNED';</script>",
        f'<img src="{base}/img" onerror="document.title=\'PWNED\'">',
        f"[a markdown link]({base}/markdown) and ![image]({base}/markdown-image)",
        "{{ 7*7 }} and {% if true %}JINJA{% endif %}",
    ]


def poison(raw: Path, base: str) -> None:
    """Put the payloads into quotes (coded_segments text) and into a theme name."""
    segments = raw / "cohort1" / "coded_segments.csv"
    rows = list(csv.reader(segments.open(newline="")))
    texts = payloads(base)
    for i, row in enumerate(rows[1:]):
        row[5] = texts[i % len(texts)]
    with segments.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    codebook = raw / "cohort1" / "codebook.csv"
    codebook.write_text(codebook.read_text().replace(",Barriers,", f",Barriers <img src={base}/theme>,"))


def dump_dom(page: Path, profile: Path, trap_port: int) -> str:
    assert CHROMIUM, "Chromium is needed for this test: apt-get install chromium (.ci/run does it)"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-features=NetworkTimeServiceQuerying",  # Chromium's own clock check, not the page
         f"--user-data-dir={profile}", f"--host-resolver-rules=MAP * 127.0.0.1:{trap_port}",
         "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def build_report(raw: Path, out: Path) -> Path:
    """cohort1's report.html built from `raw` into `out` by the real entry point."""
    result = subprocess.run(
        [sys.executable, "-m", "helpers.build.pipeline", "--cohort", "cohort1", "--raw-dir", str(raw),
         "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports")],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    return out / "reports" / "cohort1" / "report.html"


@pytest.fixture(scope="module")
def bundled_report(published) -> Path:
    return published.report("cohort1")


@pytest.mark.e2e
def test_hostile_free_text_shows_as_text_and_runs_nothing(trap, bundled_raw_copy, tmp_path):
    base = "http://trap.example"  # resolved to the trap by Chromium's host rules
    poison(bundled_raw_copy, base)
    page = build_report(bundled_raw_copy, tmp_path / "out")
    dom = dump_dom(page, tmp_path / "profile", trap)

    assert Trap.hits == [], f"the report made requests: {Trap.hits}"
    assert "PWNED" not in dom.split("</title>")[0]
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;fetch(" in dom and "&lt;img src=" in dom  # shown as literal text
    assert f"[a markdown link]({base}/markdown)" in dom and "<a href=\"http" not in dom
    assert "{{ 7*7 }}" in dom and "JINJA{% endif %}" in dom
    assert "Barriers &lt;img src=" in dom
    # Only the report's own embedded figures are images; nothing from the data became one.
    assert dom.count("<img") == dom.count('<img src="data:image/png;base64,') == len(outputs.figures())


@pytest.mark.e2e
def test_real_report_loads_nothing_from_elsewhere(trap, bundled_report, tmp_path):
    dom = dump_dom(bundled_report, tmp_path / "profile", trap)
    assert "Reproduction check" in dom and "All 12 published figures agree" in dom
    assert Trap.hits == []


def test_the_trap_sees_a_page_that_does_reach_out(trap, tmp_path):
    """Control: without it, an empty hit list could mean the trap never worked."""
    page = tmp_path / "probe.html"
    page.write_text('<html><body><img src="http://trap.example/probe"></body></html>')
    dump_dom(page, tmp_path / "profile", trap)
    assert Trap.hits == ["trap.example/probe"]


@pytest.mark.e2e
@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_report_screenshots_at_laptop_and_phone_width(width, bundled_report, tmp_path):
    """Screenshots kept in test-artefacts/ for a person to look at; here: the page draws."""
    from PIL import Image

    artefacts = paths.PROJECT_ROOT / "test-artefacts"
    artefacts.mkdir(exist_ok=True)
    shot = artefacts / f"report-cohort1-{width}px.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'p'}",
         f"--window-size={width},2400", f"--screenshot={shot}", bundled_report.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)
    with Image.open(shot) as image:
        assert image.size == (width, 2400)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, "the page looks blank"
