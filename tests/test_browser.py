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


def test_report_is_shorter_on_a_laptop_than_on_a_phone(audited):
    """The laptop's width is used: figures sit beside the tables they fit beside. (The page was
    18,967 px at 1366 px before its publication layout, 10,883 px with figures squeezed to
    320-345 px beside their tables, 15,494 px with every figure at its natural size.)"""
    assert audited[1366]["height"] < audited[390]["height"], (audited[1366]["height"], audited[390]["height"])


def test_figures_on_a_laptop_are_at_their_natural_size_and_never_smaller_than_on_a_phone(audited):
    """Each figure shows at its natural width (inches x 96 px, the img's width) or the column's
    width, whichever is smaller: at 1366 px none is narrower than 480 px or than at 390 px
    (before: Figures 3-8 were 320-345 px at 1366 px and 366 px at 390 px)."""
    laptop, phone = audited[1366]["images"], audited[390]["images"]
    assert len(laptop) == len(phone) == len(outputs.figures())
    for wide, narrow in zip(laptop, phone):
        assert wide["shown"] >= 480 and wide["shown"] >= narrow["shown"], (wide["alt"][:40], wide, narrow)
        for image in (wide, narrow):
            assert abs(image["shown"] - min(image["width"], image["column"])) <= 1, image
    assert all(image["shown"] < image["width"] for image in phone)  # a phone's column is the limit


def test_every_figure_opens_its_svg_and_its_caption_links_its_files(audited, bundled_report):
    """Clicking a figure opens figures/<name>.svg at full size; the caption's file names are
    links to figures/<name>.png and .svg; every link reaches a file published beside the page."""
    from urllib.parse import unquote, urlparse

    folder = bundled_report.resolve().parent  # the published folder is a link to the build's
    as_file = lambda url: Path(unquote(urlparse(url).path))  # noqa: E731
    images = audited[1366]["images"]
    for image, entry in zip(images, sorted(outputs.figures(), key=lambda f: outputs.figure_numbering()[f.name])):
        assert as_file(image["opens"]) == folder / "figures" / f"{entry.name}.svg", image["opens"]
        assert [as_file(url) for url in image["files"]] == [folder / "figures" / f"{entry.name}.png",
                                                            folder / "figures" / f"{entry.name}.svg"]
        assert all(as_file(url).is_file() for url in [image["opens"], *image["files"]])


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


@pytest.fixture(scope="module")
def printed(bundled_report, tmp_path_factory) -> Path:
    """cohort1's report printed by make pdf's printer (not into the shared build)."""
    from helpers.report import pdf

    return pdf.print_pdf(bundled_report, tmp_path_factory.mktemp("pdf") / "report.pdf")


def pdf_pages(printed: Path) -> list[str]:
    """The text of each page (ligatures such as 'fi' spelt out)."""
    import unicodedata

    text = subprocess.run(["pdftotext", str(printed), "-"], capture_output=True, text=True, check=True).stdout
    return [unicodedata.normalize("NFKC", page) for page in text.split("\f")[:-1]]


def font_sizes_pt(printed: Path) -> dict[str, float]:
    """Each text run of the PDF -> its font size in pt, as poppler reads it (to 1/3 pt: pdftohtml
    reports whole pixels at its zoom of 3)."""
    import re
    import unicodedata

    xml = subprocess.run(["pdftohtml", "-xml", "-stdout", "-i", "-zoom", "3", str(printed)], capture_output=True,
                         text=True, check=True).stdout
    sizes = {m[0]: float(m[1]) / 3 for m in re.findall(r'<fontspec id="(\d+)" size="([\d.]+)"', xml)}
    return {unicodedata.normalize("NFKC", re.sub(r"<[^>]+>", "", m[1])): sizes[m[0]]
            for m in re.findall(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>', xml)}


def test_pdf_prints_every_column_of_every_table_on_a4(printed, bundled_report):
    """make pdf's printer: A4 pages whose right margin is blank (nothing runs off the page),
    and the last column header of every table in the text."""
    import re

    from PIL import Image

    info = subprocess.run(["pdfinfo", str(printed)], capture_output=True, text=True, check=True).stdout
    assert "pts (A4)" in info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    # 20 at full size with the codebook, joint display and project focus (16 before them; 10 when
    # every page was shrunk to 72%): a shrink, or a page left almost empty by each table, would show.
    assert pages <= 22, pages
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


def test_pdf_prints_at_full_size_with_a_numbered_footer_on_every_page(printed):
    """No page is shrunk to fit a wide table: body text at the print stylesheet's 9.5 pt and
    table text at its 7.5 pt (before: 6.9 pt and 5.4 pt, every page printed at about 72%); every
    page's footer names the report and numbers the page."""
    sizes = font_sizes_pt(printed)
    body = next(size for text, size in sizes.items() if text.startswith("Only consenting, finished"))
    table = next(size for text, size in sizes.items() if text == "agrees exactly")
    assert abs(body - 9.5) <= 0.34 and abs(table - 7.5) <= 0.34, (body, table)
    pages = pdf_pages(printed)
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in page and "NHS Digital Academy evaluation · cohort1" in page, number


def test_pdf_keeps_captions_with_their_tables_and_figures_whole(printed, bundled_report):
    """Each table's caption is on the page where the table starts (its first column's header
    follows it there); each figure is one image on one page (a split figure would be drawn on
    two), printed no larger than its natural size, on the page of its caption."""
    import html as markup
    import re
    import unicodedata

    pages = [" ".join(page.split()) for page in pdf_pages(printed)]
    page_html = bundled_report.read_text()
    tables = re.findall(r'<p class="caption" id="([\w-]+)-caption">(.*?)</p>\s*<div class="table-wrap"[^>]*>\s*'
                        r'<table class="pub" id="\1"[^>]*>\s*<thead><tr><th scope="col">([^<]+)</th>', page_html)
    assert len(tables) >= 12
    for anchor, caption, header in tables:
        caption = " ".join(unicodedata.normalize("NFKC", markup.unescape(re.sub(r"<[^>]+>", "", caption))).split())
        start = caption[:40]
        holding = [i for i, page in enumerate(pages) if start in page]
        assert len(holding) == 1, (anchor, start)
        page = pages[holding[0]]
        # The header follows its caption on that page (a header that wraps comes out as its lines
        # interleaved with the other columns' text, so each of its words is looked for in turn).
        after = page[page.index(start) + len(start):]
        assert all(word in after for word in markup.unescape(header).split()), (anchor, header, holding[0] + 1)
    listed = subprocess.run(["pdfimages", "-list", str(printed)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    images = [(int(row.split()[0]), float(row.split()[12])) for row in listed]  # (page, ppi)
    assert len(images) == len(outputs.figures())
    for number, (page, ppi) in enumerate(images, 1):
        assert f"Figure {number}." in pages[page - 1], (number, page)
        assert ppi >= 199, (number, ppi)  # the figures are 200 dpi: never enlarged on paper


def test_pdf_has_no_almost_empty_last_page_and_no_links_to_files(printed):
    """The last page holds more than a line or two (before: page 10 held two lines), and the PDF
    links to no file: a link would hold the absolute path of the folder it was printed from."""
    import re

    last = subprocess.run(["pdfinfo", str(printed)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", last).group(1))
    bbox = subprocess.run(["pdftotext", "-bbox", "-f", str(count), "-l", str(count), str(printed), "-"],
                          capture_output=True, text=True, check=True).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', bbox).group(1))
    words = [float(y) for y, word in re.findall(r'yMax="([\d.]+)">([^<]*)</word>', bbox)]
    content = [y for y in words if y < height - 15 / 25.4 * 72]  # above the footer's margin
    assert len(content) >= 40 and max(content) >= 0.25 * height, (len(content), max(content) / height)
    urls = subprocess.run(["pdfinfo", "-url", str(printed)], capture_output=True, text=True, check=True).stdout
    assert urls.splitlines()[1:] == [], urls


def test_executed_notebooks_read_on_a_phone_without_serious_violations(bundled_report):
    notebook = bundled_report.parent / "notebooks" / "03_thematic_tallies.html"
    result = audit(notebook, widths=(390,))[390]
    assert [v for v in result["violations"] if v["impact"] in ("serious", "critical")] == []
    assert result["width"] <= result["viewport"] and result["requests"] == [] and result["console_errors"] == []
