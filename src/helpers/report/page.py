"""Render reports/<cohort>/report.html from the tables and figures the pipeline wrote.

The page is one self-contained file: figures are embedded as base64 PNG, the style
sheet is inline, and nothing is loaded from another host. Every value shown is read
from reports/<cohort>/tables or figures; none is computed or typed here. Text from the
data is escaped (Jinja2 autoescape, pandas to_html escape) so it shows as text.
"""
from __future__ import annotations

import base64
import io
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from helpers.analysis.disclosure import Disclosure
from helpers.data import paths
from helpers.data.contract import ALL_CODERS, POOLED
from helpers.data.environment import DATE_ENV
from helpers.data.store import read_table

from . import outputs, readings

PACKAGES = ("pandas", "numpy", "matplotlib", "seaborn", "papermill", "nbconvert", "pyarrow", "jinja2")

def run_time() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now, in UTC."""
    epoch = os.environ.get(DATE_ENV)
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.PROJECT_ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.PROJECT_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" (with uncommitted changes)" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def is_synthetic(raw_dir: Path) -> bool:
    return (Path(raw_dir) / paths.SYNTHETIC_MARKER).is_file()


def reproduces_the_papers(raw_dir: Path) -> bool:
    """Whether raw_dir holds the bundled cohorts (built to agree with the published figures),
    told by their marker's text, rather than other generated data such as benchmark cohorts."""
    from helpers.data.contract import SYNTHETIC_NOTE

    marker = Path(raw_dir) / paths.SYNTHETIC_MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8", errors="replace") == SYNTHETIC_NOTE


def html_table(frame: pd.DataFrame, percent_columns: tuple[str, ...] = ()) -> str:
    """A table as escaped HTML: percentages to one decimal, counts as integers."""
    def one_decimal(value):
        try:
            return f"{float(value):.1f}"
        except (TypeError, ValueError):
            return str(value)  # e.g. [REDACTED]

    formatters = {c: one_decimal for c in frame.columns if c in percent_columns}
    return frame.to_html(index=False, escape=True, border=0, classes="data", formatters=formatters,
                         na_rep="", float_format=lambda v: f"{v:g}")


# Tables that grow with the number of interviews are cut to this many rows in the page
# (which says so); the full tables stay in tables/.
SATURATION_ROWS = 30


def saturation_shown(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """(rows the report shows, note saying what was left out): with more than SATURATION_ROWS
    interviews, those that found a new code (the first SATURATION_ROWS of them) and the last."""
    if len(table) <= SATURATION_ROWS:
        return table, ""
    found = pd.to_numeric(table["new_codes"], errors="coerce") > 0  # [REDACTED] under disclosure control
    keep = found & (found.cumsum() <= SATURATION_ROWS)
    keep.iloc[-1] = True
    note = (f"With {len(table):,} interviews, the table shows only those that found a new code"
            f"{f' (the first {SATURATION_ROWS})' if found.sum() > SATURATION_ROWS else ''} and the last "
            f"interview; every interview is in tables/saturation.csv.")
    return table[keep], note


EMBED_WIDTH_PX = 1000  # enough for a laptop screen; the 200 dpi files stay in figures/


def publication_table(frame: pd.DataFrame, table_id: str, columns: dict[str, str], percent: str) -> str:
    """A publication-style table (great_tables): renamed columns, one-decimal percentages and
    the 95% interval merged into one 'lo to hi' column. Cells are escaped by great_tables;
    the fixed id keeps the HTML identical between runs."""
    from great_tables import GT

    from helpers.analysis.disclosure import REDACTED

    def one_decimal(value) -> str:
        return value if str(value) == REDACTED else f"{float(value):.1f}"

    shown = pd.DataFrame({label: frame[column].astype(str) for column, label in columns.items()})
    shown[columns[percent]] = frame[percent].map(one_decimal)
    shown["95% CI"] = [
        REDACTED if REDACTED in (str(lo), str(hi)) else f"{float(lo):.1f} to {float(hi):.1f}"
        for lo, hi in zip(frame["ci_low"], frame["ci_high"])
    ]
    numeric = [label for column, label in columns.items() if column != next(iter(columns))] + ["95% CI"]
    table = GT(shown, id=table_id).cols_align(align="right", columns=numeric)
    return table.tab_options(table_margin_left="0", table_font_size="14px").as_raw_html()


def embed_png(path: Path) -> str:
    """A figure as a data: URI, scaled down to screen size to keep the page light to e-mail."""
    from PIL import Image

    with Image.open(path) as image:
        if image.width > EMBED_WIDTH_PX:
            height = round(image.height * EMBED_WIDTH_PX / image.width)
            image = image.resize((EMBED_WIDTH_PX, height), Image.Resampling.LANCZOS)
        # Charts use few colours: a 256-colour palette keeps them sharp at a third of the size.
        image = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_blocks(figures: Path) -> list[dict]:
    """Each figure drawn by step 04, numbered, embedded and captioned, in the order of the list."""
    from concurrent.futures import ThreadPoolExecutor

    shown = [(i, entry.name, entry.caption) for i, entry in enumerate(outputs.figures(), 1)
             if (figures / entry.file).is_file()]
    with ThreadPoolExecutor() as pool:  # Pillow releases the GIL while it scales and encodes
        sources = list(pool.map(embed_png, [figures / f"{stem}.png" for _, stem, _ in shown]))
    return [{"number": i, "src": src, "caption": caption, "stem": stem}
            for (i, stem, caption), src in zip(shown, sources)]


def table_blocks(tables: Path, pct: tuple[str, ...]) -> dict:
    """Each numbered table of the list as escaped HTML with its one-line reading, by name."""
    agreement = read_table(tables, "agreement.csv")
    pairs = read_table(tables, "cooccurrence.csv")
    saturation, saturation_note = saturation_shown(read_table(tables, "saturation.csv"))
    # What the page shows of tables that are long in full (the full tables stay in tables/).
    shown = {
        "agreement": agreement[(agreement["code"] == POOLED) | (agreement["coders"] == ALL_CODERS)],
        "cooccurrence": pairs.assign(_n=pd.to_numeric(pairs["segments"], errors="coerce")).sort_values(
            "_n", ascending=False, kind="mergesort").drop(columns="_n").head(15),
        "saturation": saturation,
    }
    # Two tables in the great-tables style of a paper's table.
    styled = {
        "participants_by_role": ("participants-table", {"role_group": "Role group", "n": "n", "pct": "%"}, "pct"),
        "theme_summary": ("themes-table", {"theme": "Theme", "references": "References",
                                           "pct_references": "% of references", "sources": "Sources",
                                           "participants": "Participants"}, "pct_references"),
    }
    blocks = {}
    for entry in outputs.tables():
        if not entry.numbered or entry.name in ("reproduction_check", "cleaning_log_counts"):
            continue
        full = read_table(tables, entry.file)
        html = (publication_table(full, *styled[entry.name]) if entry.name in styled
                else html_table(shown.get(entry.name, full), pct))
        blocks[entry.name] = {"html": html, "reading": getattr(readings, entry.reading)(full) if entry.reading else "",
                              "note": saturation_note if entry.name == "saturation" else ""}
    return blocks


def build_context(cohort: str, raw_dir: Path, out: Path, parameters: dict, rules: Disclosure) -> dict:
    tables, figures = paths.tables_dir(out), paths.figures_dir(out)
    pct = ("pct", "pct_references", "pct_of_role_group", "pct_of_source_type", "pct_agree", "ci_low", "ci_high",
           "agreement_pct", "pct_of_codes_found")
    check = pd.read_csv(tables / "reproduction_check.csv", dtype=str, keep_default_na=False)
    provenance = json.loads((out / "provenance.json").read_text())
    context = {
        "cohort": cohort,
        "synthetic": is_synthetic(raw_dir),
        "reproduces_the_papers": reproduces_the_papers(raw_dir),
        "generated": run_time().strftime("%Y-%m-%d %H:%M UTC"),
        "totals": read_table(tables, "totals.csv").set_index("measure")["n"].astype(str).to_dict(),
        "check": {paper: rows.to_dict("records") for paper, rows in check.groupby("paper", sort=False)},
        "check_agree": int(check["agrees"].eq("True").sum()),
        "check_redacted": int(check["agrees"].eq("redacted").sum()),
        "disclosure": rules.describe(),
        "disclosure_active": rules.active,
        "notes": read_table(tables, "input_notes.csv")["note"].tolist(),
        "quotes": {theme: rows.to_dict("records")
                   for theme, rows in read_table(tables, "quotes.csv").fillna("").groupby("theme", sort=False)},
        "check_total": len(check),
        "cleaning_log": html_table(read_table(tables, "cleaning_log_counts.csv")),
        **table_blocks(tables, pct),
        "figures": figure_blocks(figures),
        "number": outputs.numbering(),
        "caption": {entry.name: Markup(entry.caption) for entry in outputs.tables()},
        "parameters": parameters,
        "inputs": provenance["inputs"],
        "packages": package_versions(),
        "commit": git_commit(),
    }
    return context


def render(cohort: str, raw_dir: Path, out: Path, parameters: dict, rules: Disclosure = Disclosure()) -> Path:
    """Write out/report.html; return its path."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("helpers.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    context = build_context(cohort, Path(raw_dir), Path(out), parameters, rules)
    html = env.get_template("report.html.j2").render(**context)
    target = Path(out) / "report.html"
    target.write_text(html, encoding="utf-8")
    return target
