"""Print a report.html to report.pdf (A4, the page's print stylesheet) with headless Chromium.

The runner's `report.pdf` step (`make pdf`, helpers.data.plan.PRINT_PDF) calls `step`; by hand,
`python -m helpers.report.pdf some/report.html` writes some/report.pdf beside it, for a page that
is not a published report (a published one is printed by `make pdf`, under its cohort's lock and
published with it). Chromium is Debian's `chromium` package, as the browser tests use.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.data import safe_write


class PrintError(Exception):
    """The page could not be printed; the message says why and what to do."""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium() -> str:
    found = chromium_path()
    if not found:
        raise PrintError("printing the report needs Chromium: run 'make browser' "
                         "(or 'apt-get install chromium') and retry.")
    return found


# A link to another file: an <a> whose href is not a fragment of the page itself. The page's
# text from the data is escaped (a '<' in it is '&lt;'), so this matches only the template's tags.
FILE_LINK = re.compile(r'<a\b([^>]*?) href="(?!#)[^"]*"')


def for_print(page: str) -> str:
    """The page as it is printed: links to files beside it (figures/, notebooks/) become plain
    text, since a PDF link would hold the absolute path of the folder it was printed from (a
    machine path, and a staging folder that is gone once the report is published). Links within
    the page (#figure-2) stay: they become the PDF's own links."""
    return FILE_LINK.sub(r"<a\1", page)


def print_pdf(html: Path, pdf: Path | None = None) -> Path:
    """Write `pdf` (default: beside the page, as report.pdf); return its path."""
    html = Path(html).resolve()
    if not html.is_file():
        raise PrintError(f"{html} does not exist: run 'make report' for this cohort first.")
    pdf = Path(pdf).absolute() if pdf else html.with_suffix(".pdf")
    # Printed to a new file beside the target, renamed over it once whole: a reader never sees half a
    # PDF, and a link planted at the target (or at a fixed temporary name) is never written through.
    with safe_write.replacing(pdf, pdf.parent) as partial, \
            tempfile.TemporaryDirectory(prefix="nhsda-pdf-") as work:
        # The page is self-contained (figures embedded), so its printable copy reads the same
        # from a folder of its own; and a fresh profile there: no extensions or saved settings
        # change the print; no header or footer with the file's path (the page's own @page
        # footer numbers the pages).
        printable = Path(work) / html.name
        printable.write_text(for_print(html.read_text(encoding="utf-8")), encoding="utf-8")
        result = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={Path(work) / 'profile'}", "--no-pdf-header-footer",
             "--run-all-compositor-stages-before-draw", f"--print-to-pdf={partial}", printable.as_uri()],
            capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not partial.stat().st_size:
            raise PrintError(f"Chromium could not print {html}: {result.stderr[-2000:]}")
    return pdf


def published_report(html: Path) -> bool:
    """Whether a page is a published report (its real place is in a reports/.build/ folder)."""
    return ".build" in Path(html).resolve().parts


def step(folder: Path, cohort: str, rules) -> Path:
    """The plan's report.pdf step: print folder/report.html to folder/report.pdf."""
    return print_pdf(Path(folder) / "report.html")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m helpers.report.pdf some/report.html", file=sys.stderr)
        return 2
    if published_report(Path(args[0])):
        # Writing beside a published page would change a published version outside its run, and
        # unlocked: the runner prints it, under the cohort's lock, and publishes it with the page.
        print(f"ERROR: {args[0]} is a published report: print it with `make pdf COHORT=<cohort>` (with the "
              f"MIN_COUNT and ROUND_TO it was built with), which builds report.pdf beside it under the cohort's "
              f"lock. Nothing was written.", file=sys.stderr)
        return 1
    try:
        print(f"Wrote {print_pdf(Path(args[0]))}")
    except (PrintError, safe_write.LinkRefused) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
