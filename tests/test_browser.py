"""The report in headless Chromium: free text is data, never markup (hostile quotes); the page
is accessible (axe-core, WCAG 2.2 AA), clips nothing at laptop and phone widths, and prints
to A4 with every column of every table.

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
from cdp import audit

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
        [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", "cohort1", "--raw-dir", str(raw),
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
    assert "Reproduction check" in dom and "8 agree exactly" in dom and "0 differ" in dom
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


# Measured on the report before its publication layout (commit 7b2dc60): 18,967 px at 1366 px.
HEIGHT_BEFORE = 18_967


@pytest.fixture(scope="module")
def audited(bundled_report) -> dict[int, dict]:
    return audit(bundled_report, widths=(1366, 390))


@pytest.mark.parametrize("width", [1366, 390], ids=["laptop", "phone"])
def test_report_has_no_serious_or_critical_accessibility_violation(audited, width):
    """axe-core's WCAG 2.2 A/AA rules and best practices, run in the page through DevTools."""
    result = audited[width]
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    assert result["console_errors"] == [] and result["requests"] == []


@pytest.mark.parametrize("width", [1366, 390], ids=["laptop", "phone"])
def test_no_table_is_clipped(audited, width):
    """On a laptop every table shows whole; on a phone a wide one scrolls in a region the
    keyboard can reach and a screen reader can name. The page itself never scrolls sideways."""
    result = audited[width]
    assert result["width"] <= result["viewport"], "the page is wider than the screen"
    scrolling = [w for w in result["wraps"] if w["scroll"] > w["visible"] + 1]
    if width == 1366:
        assert scrolling == [], scrolling
    assert all(w["focusable"] and w["named"] for w in result["wraps"])


def test_report_is_about_half_as_long_as_before_on_a_laptop(audited):
    assert audited[1366]["height"] <= 0.6 * HEIGHT_BEFORE, audited[1366]["height"]


def test_every_figure_says_its_finding_and_is_shown_large_enough_on_a_phone(audited, bundled_report):
    """Alt text starts with the figure's title and states a finding; on a phone each figure
    spans the column, and its smallest text (read from the SVG) is at least 9 px there."""
    import re

    images = audited[390]["images"]
    assert len(images) == len(outputs.figures())
    for image, entry in zip(images, sorted(outputs.figures(), key=lambda f: outputs.figure_numbering()[f.name])):
        assert image["alt"].startswith(entry.title + ".") and len(image["alt"]) > len(entry.title) + 20
        svg = (bundled_report.parent / "figures" / f"{entry.name}.svg").read_text()
        width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))
        smallest = min(float(size) for size in re.findall(r"font-size:\s*([\d.]+)px", svg))
        assert smallest * image["shown"] / width_pt >= 9, (entry.name, smallest * image["shown"] / width_pt)


def test_pdf_prints_every_column_of_every_table_on_a4(bundled_report, tmp_path):
    """make pdf's printer: A4 pages whose right margin is blank (nothing runs off the page),
    and the last column header of every table in the text."""
    import re

    from PIL import Image

    from helpers.report import pdf

    printed = pdf.print_pdf(bundled_report, tmp_path / "report.pdf")  # not into the shared build
    info = subprocess.run(["pdfinfo", str(printed)], capture_output=True, text=True, check=True).stdout
    assert "pts (A4)" in info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages <= 14
    text = subprocess.run(["pdftotext", "-layout", str(printed), "-"], capture_output=True, text=True,
                          check=True).stdout
    html = bundled_report.read_text()
    last_headers = re.findall(r'<th scope="col">([^<]+)</th></tr></thead>', html)
    assert len(last_headers) >= 12
    for header in last_headers:
        words = header.replace("&#39;", "'").split()
        assert words[-1] in text, header
    artefacts = paths.PROJECT_ROOT / "test-artefacts"
    artefacts.mkdir(exist_ok=True)
    for old in artefacts.glob("report-cohort1-pdf-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(printed), str(artefacts / "report-cohort1-pdf")], check=True)
    shots = sorted(artefacts.glob("report-cohort1-pdf-*.png"))
    assert len(shots) == pages
    for shot in shots:  # the 10 mm right margin (about 15 px at 40 dpi) holds nothing
        with Image.open(shot) as page_image:
            grey = page_image.convert("L")
            margin = grey.crop((grey.width - 12, 0, grey.width, grey.height))
            assert margin.getextrema()[0] > 245, f"{shot.name}: something runs into the right margin"


def test_executed_notebooks_read_on_a_phone_without_serious_violations(bundled_report):
    notebook = bundled_report.parent / "notebooks" / "03_thematic_tallies.html"
    result = audit(notebook, widths=(390,))[390]
    assert [v for v in result["violations"] if v["impact"] in ("serious", "critical")] == []
    assert result["width"] <= result["viewport"] and result["requests"] == [] and result["console_errors"] == []
