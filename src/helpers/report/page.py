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
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from helpers.analysis.disclosure import REDACTED, Disclosure
from helpers.data import memo, paths, plan, provenance
from helpers.data.contract import ALL_CODERS, POOLED
from helpers.data.environment import DATE_ENV
from helpers.data.hashing import sha256_file
from helpers.data.store import read_table

from . import crate, outputs, readings, repro
from . import tables as pub


def run_time() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now, in UTC."""
    epoch = os.environ.get(DATE_ENV)
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC).replace(microsecond=0)


def declared_dependencies() -> set[str]:
    """The packages the project declares it needs (pyproject.toml's dependencies, as installed),
    by their canonical names; empty if the project is not installed as a distribution."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    try:
        required = metadata.requires("nhsda-eval") or []
    except metadata.PackageNotFoundError:
        return set()
    return {canonicalize_name(Requirement(r).name) for r in required if "extra ==" not in r}


def software(out: Path) -> tuple[dict[str, str], list[str], str]:
    """({package: version (steps that imported it)} of the packages the project declares, the
    other packages the kernels loaded as 'name version', the commit), from the records each
    notebook step wrote of what its kernel imported: the page lists what the run used, not a
    hand list, with the analysis libraries first and the rest (their dependencies, Jupyter's
    kernel) in one line."""
    from packaging.utils import canonicalize_name

    records = crate.step_records(out)
    packages = {"python": ", ".join(sorted({r["python"] for r in records.values()})) or platform.python_version()}
    declared, also = declared_dependencies(), []
    for name, about in crate.packages_used(records).items():
        if not declared or canonicalize_name(name) in declared:
            packages[name] = f"{about['version']} (steps {', '.join(about['steps'])})"
        else:
            also.append(f"{name} {about['version']}")
    commits = {provenance.describe_commit(r) for r in records.values()}
    commit = provenance.describe_commit(records.get(plan.REPORT.name) or provenance.git_state())
    if len(commits) > 1:  # a step kept from an earlier build ran at another commit: say so
        commit += " (steps kept from earlier builds ran at: " + ", ".join(sorted(commits - {commit})) + ")"
    return packages, also, commit


def is_synthetic(raw_dir: Path) -> bool:
    return (Path(raw_dir) / paths.SYNTHETIC_MARKER).is_file()


reproduces_the_papers = repro.reproduces_the_papers


def public_notes(notes: list[str], raw_dir: Path, raw_source: Path | None = None) -> list[str]:
    """The notes on the input files, naming files by their place in the raw folder as the page
    shows it (public_path), not by the machine path the loader reported.

    raw_dir is the folder the notes were read from; raw_source, the folder the analyst named,
    when raw_dir is a copy of it (a pipeline run reads a snapshot); None: raw_dir itself.
    """
    real = Path(raw_source if raw_source is not None else raw_dir)
    shown = public_path(real)
    shown = real.name if shown.endswith("(outside the project)") else shown  # a file path reads "raw/study/..."
    return [note.replace(str(raw_dir), shown) for note in notes]


def public_path(folder: Path) -> str:
    """A folder as the report may show it: relative to the project when inside it, otherwise
    only its name (a page meant to be e-mailed carries no machine paths)."""
    folder = Path(folder).resolve()
    try:
        return folder.relative_to(paths.PROJECT_ROOT.resolve()).as_posix()
    except ValueError:
        return f"{folder.name} (outside the project)"


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


# A figure is shown at its natural size, its width in inches at 96 CSS px an inch (the size at
# which its text has the point size it was drawn with), or the column's width when that is
# narrower (a phone). The embedded image keeps up to 2.25 image pixels per CSS pixel (216 dpi):
# sharp on a 2x screen. The 200 dpi files of figures/ are embedded as they are (unscaled, they
# also compress better than a resized copy: 0.58 MB for cohort1's nine against 0.95 MB scaled
# to 2x); only a file of a higher resolution is scaled down.
CSS_PX_PER_INCH = 96
EMBED_DENSITY = 2.25


def natural_size(path: Path) -> tuple[int, int]:
    """(width, height) in CSS px at which a saved PNG shows its text at the size it was drawn
    with: its pixels over its resolution (the pHYs dpi matplotlib writes), times 96."""
    from PIL import Image

    with Image.open(path) as image:
        dpi = image.info.get("dpi")
        if not dpi or not dpi[0]:
            raise ValueError(f"{path}: the PNG records no resolution (dpi), so its size on the page is unknown; "
                             f"expected a figure saved by helpers.report.figures.save (which writes it).")
        inches = image.width / float(dpi[0])
        return round(inches * CSS_PX_PER_INCH), round(image.height / float(dpi[1] or dpi[0]) * CSS_PX_PER_INCH)


def embed_png(path: Path, max_width: int | None = None) -> str:
    """A figure as a data: URI, scaled down to `max_width` image pixels when it is wider (None:
    to EMBED_DENSITY pixels per CSS pixel of its natural width), to keep the page light to e-mail.
    Run by the pipeline, a PNG embedded before with the same bytes, width, code and packages is
    taken from the build's memo (helpers.data.memo): the same text, without encoding it again."""
    from PIL import Image

    if max_width is None:
        max_width = round(natural_size(path)[0] * EMBED_DENSITY)

    def encoded() -> bytes:
        with Image.open(path) as image:
            if image.width > max_width:
                height = round(image.height * max_width / image.width)
                image = image.resize((max_width, height), Image.Resampling.LANCZOS)
            # Charts use few colours: a 256-colour palette keeps them sharp at a third of the size.
            image = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    png = memo.remembered(memo.EMBEDDED, (sha256_file(path), max_width), encoded, what=Path(path).name)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def reading_source(tables: Path, name: str) -> pd.DataFrame:
    """The table a reading is written from, as written; theme_by_role_group with each group's size
    (from participants_by_role), so that its reading, under the table or in a figure's alt text,
    never headlines a group of fewer than SMALL_N people."""
    frame = read_table(tables, f"{name}.csv")
    if name == "theme_by_role_group":
        sizes = read_table(tables, "participants_by_role.csv").set_index("role_group")["n"].astype(str)
        frame = frame.assign(role_group_n=frame["role_group"].map(sizes))
    return frame


def figure_blocks(figures: Path, tables: Path, rules: Disclosure = Disclosure()) -> dict[str, list[dict]]:
    """Each figure drawn by step 04, numbered, embedded at its natural size, captioned and
    described (its alt text states the finding: the reading of the table it is drawn from), with
    links to its files (relative to the page, which is published beside figures/), by the table
    it sits beside."""
    from concurrent.futures import ThreadPoolExecutor

    numbers = outputs.figure_numbering()
    shown = [entry for entry in outputs.figures() if (figures / entry.file).is_file()]
    with ThreadPoolExecutor() as pool:  # Pillow releases the GIL while it scales and encodes
        sources = list(pool.map(embed_png, [figures / entry.file for entry in shown]))
    folder = figures.name  # figures/ beside report.html (paths.figures_dir)
    blocks: dict[str, list[dict]] = {}
    for entry, src in zip(shown, sources):
        # The alt text states the finding: the reading of the table drawn, else of the table beside.
        described = next(e for e in (outputs.get(entry.source), outputs.get(entry.beside)) if e.reading or
                         e.name == entry.beside)
        finding = readings.read(described.reading, reading_source(tables, described.name), rules) \
            if described.reading else ""
        width, height = natural_size(figures / entry.file)
        svg = Path(entry.file).with_suffix(".svg").name
        blocks.setdefault(entry.beside, []).append({
            "number": numbers[entry.name], "src": src, "caption": Markup(entry.caption), "stem": entry.name,
            "title": entry.title, "alt": f"{entry.title}. {finding}".strip(), "width": width, "height": height,
            "png": f"{folder}/{entry.file}", "svg": f"{folder}/{svg}" if (figures / svg).is_file() else ""})
    return blocks


def _block(entry: outputs.Output, number: str, columns_rows, reading: str = "", note: str = "",
           footnote: str = "") -> dict:
    columns, rows = columns_rows[:2]
    table = pub.Table(number, entry.title, entry.caption, columns, rows, footnote=footnote)
    # Whether its figures sit beside it or under it is the page's to decide, from the widths
    # both really take (the template's .pair), not from a count of columns.
    return {"html": Markup(table.html()), "table": table, "reading": reading, "note": note, "number": number,
            "title": entry.title, "anchor": f"table-{number}"}


# Tables with a layout of their own above (shown, or left out on purpose, e.g. Likert tables
# of a questionnaire without Likert items); any other numbered table of the list is "further".
LAID_OUT = {"participant_characteristics", "likert_summary", "likert_by_role", "theme_tallies", "theme_by_role_group",
            "theme_by_source_type", "theme_participants", "agreement", "cooccurrence", "saturation"}


# Further tables with a layout of their own (shown under "Further tables", in list order; the
# others: pub.generic), and their footnotes.
LAYOUTS = {"project_focus": pub.project_focus, "codebook": pub.codebook, "joint_display": pub.joint_display}
FOOTNOTES = {
    "project_focus": pub.CLUSTER_CI_FOOTNOTE,
    "joint_display": f"Role groups of fewer than {pub.SMALL_N} people are not shown on their own (they are counted "
                     "in all participants). \u2013: the item is paired with no theme.",
}


def table_blocks(tables: Path, rules: Disclosure = Disclosure()) -> dict:
    """Each numbered table of the list in the publication style, with its reading, by name
    (`rules`: the disclosure control the tables were written with)."""
    number = outputs.numbering()
    read = lambda name: read_table(tables, f"{name}.csv")  # noqa: E731
    blocks: dict[str, dict] = {}

    def add(name: str, columns_rows, reading_table: pd.DataFrame | None = None, **more):
        entry = outputs.get(name)
        source = read(name) if reading_table is None else reading_table
        reading = readings.read(entry.reading, source, rules) if entry.reading else ""
        blocks[name] = _block(entry, number[name], columns_rows, reading, **more)

    characteristics, compared = read("participant_characteristics"), read("characteristics_comparison")
    columns, rows, flagged = pub.characteristics(characteristics, compared)
    add("participant_characteristics", (columns, rows), read("participants_by_role"),
        footnote=pub.characteristics_footnote(compared, flagged))
    blocks["participant_characteristics"]["reading"] += " " + readings.sources(read("coding_by_source_type"))
    likert = read("likert_summary")
    blocks["has_likert"] = bool(len(likert))
    if len(likert):
        add("likert_summary", pub.likert(likert))
        by_role = read("likert_by_role")
        flagged = by_role["n"].map(pub.small).any()
        add("likert_by_role", pub.likert_by_role(by_role), footnote=pub.SMALL_FOOTNOTE if flagged else "")
    add("theme_tallies", pub.themes(read("theme_summary"), read("subtheme_tallies"), read("theme_tallies")),
        read("theme_summary"), footnote=pub.CLUSTER_CI_FOOTNOTE)
    sizes = read("participants_by_role").set_index("role_group")["n"].astype(str).to_dict()
    add("theme_by_role_group", pub.crosstab(read("theme_by_role_group"), "role_group", "pct_of_role_group", sizes),
        reading_source(tables, "theme_by_role_group"),  # with the groups' sizes: no small group headlined
        footnote=pub.SMALL_FOOTNOTE if any(pub.small(n) for n in sizes.values()) else "")
    add("theme_by_source_type", pub.crosstab(read("theme_by_source_type"), "source_type", "pct_of_source_type"))
    columns, rows, flagged = pub.theme_participants(read("theme_participants"))
    add("theme_participants", (columns, rows), footnote=pub.SMALL_FOOTNOTE if flagged else "")
    agreement = read("agreement")
    # Pooled rows, and the codes whose coefficients the reading explains (high raw agreement,
    # low alpha: the prevalence effect); every row is in tables/agreement.csv.
    # Beside kappa and alpha, PABAK and AC1 show the paradox by the numbers (every coder pair's codes).
    per_code = agreement[agreement["code"] != POOLED]
    low = lambda column: ~(pd.to_numeric(per_code[column], errors="coerce") >= 0.4)  # noqa: E731
    kappa_low = low("cohen_kappa") & (per_code["coders"] != ALL_CODERS)
    odd = per_code[(pd.to_numeric(per_code["agreement_pct"], errors="coerce") >= 90)
                   & (low("krippendorff_alpha") | kappa_low)]
    shown = pd.concat([agreement[agreement["code"] == POOLED], odd])
    add("agreement", pub.agreement(shown), agreement, footnote=pub.AGREEMENT_FOOTNOTE)
    pairs = read("cooccurrence")
    together = pd.to_numeric(pairs["segments"].where(pairs["segments"].astype(str) != REDACTED), errors="coerce")
    listed = pairs.assign(_n=together)[together > 0].sort_values("_n", ascending=False, kind="mergesort")
    add("cooccurrence", pub.cooccurrence(listed.drop(columns="_n").head(outputs.COOCCURRENCE_ROWS)), pairs,
        note="" if len(listed) else "No two codes were applied to the same segment.")
    saturation, saturation_note = saturation_shown(read("saturation"))
    add("saturation", pub.saturation(saturation), read("saturation"), note=saturation_note)
    # A table added to the list without a layout of its own (README, "Adding a table or a
    # figure"): shown in the generic style under "Further tables", in list order.
    blocks["further"] = [entry.name for entry in outputs.tables() if entry.numbered and entry.name not in LAID_OUT]
    for name in blocks["further"]:
        add(name, LAYOUTS.get(name, pub.generic)(read(name)), footnote=FOOTNOTES.get(name, ""))
    return blocks


def totals(tables: Path) -> dict[str, str]:
    """Participants, sources and references of the run, as the page's header prints them."""
    return read_table(tables, "totals.csv").set_index("measure")["n"].astype(str).to_dict()


def shown_in(cohort: str, figure: str) -> tuple[str, str]:
    """("Table 12, Clinician engagement", its anchor) for a published figure whose computed value is
    a cell of a numbered table of the report; ("", "") for one that is not."""
    figures = repro.published_figures(cohort)
    row = figures[figures["figure"] == figure]
    if row.empty:
        return "", ""
    name = row["table"].iloc[0].removesuffix(".csv")
    number = outputs.numbering().get(name)
    if not number:
        return "", ""
    where = [part.partition("=")[2] for part in row["where"].iloc[0].split(";") if "=" in part and "!=" not in part]
    return f"Table {number}" + (f", {where[-1]}" if where else ""), f"table-{number}"


def check_block(tables: Path, cohort: str, raw_dir: Path) -> dict:
    """The reproduction check: its headline counts, rows by paper, and why there is none."""
    check = pd.read_csv(tables / "reproduction_check.csv", dtype=str, keep_default_na=False)
    check["shown_in"], check["anchor"] = zip(*[shown_in(cohort, figure) for figure in check["figure"]]) \
        if len(check) else ((), ())
    return {"rows": {paper: rows.to_dict("records") for paper, rows in check.groupby("paper", sort=False)},
            "total": len(check), "verdict": repro.verdict(check), "why_none": repro.why_no_check(cohort, raw_dir)}


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string, safe inside the page's <style> (where HTML escapes are not
    decoded): every character but letters, digits, spaces and a few marks as a CSS escape."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()")
    return Markup('"' + "".join(c if c in safe else f"\\{ord(c):x} " for c in text) + '"')


def notebook_links() -> list[dict]:
    """The executed notebooks rendered for reading, notebooks/<step>.html beside the page (the
    runner writes each as its step finishes; this step's own is written after the page)."""
    return [{"name": Path(name).stem, "href": f"notebooks/{Path(name).stem}.html"} for name in plan.NOTEBOOKS]


def build_context(cohort: str, raw_dir: Path, out: Path, parameters: dict, rules: Disclosure,
                  raw_source: Path | None = None) -> dict:
    tables, figures = paths.tables_dir(out), paths.figures_dir(out)
    inputs = json.loads((out / plan.PROVENANCE.files[0]).read_text())["inputs"]
    packages, also_loaded, commit = software(out)
    return {
        "cohort": cohort,
        # The printed page's running footer (the template's @page rule): which report this is.
        "print_footer": css_string(f"NHS Digital Academy evaluation \u00b7 {cohort}"
                                   + (" \u00b7 disclosure control on" if rules.active else "")),
        "synthetic": is_synthetic(raw_dir),
        "reproduces_the_papers": reproduces_the_papers(raw_dir),
        "generated": run_time().strftime("%Y-%m-%d %H:%M UTC"),
        "totals": totals(tables),
        "check": check_block(tables, cohort, raw_dir),
        "disclosure": rules.describe(),
        "disclosure_active": rules.active,
        "small_n": pub.SMALL_N,
        "notes": public_notes(read_table(tables, "input_notes.csv")["note"].tolist(), raw_dir, raw_source),
        "quotes": {theme: rows.to_dict("records")
                   for theme, rows in read_table(tables, "quotes.csv").fillna("").groupby("theme", sort=False)},
        "cleaning_log": Markup(pub.Table("", "Cleaning log", "Rows dropped by each cleaning rule.",
                                         *pub.counts(read_table(tables, "cleaning_log_counts.csv"), "Reason",
                                                     "reason", {"rows_dropped": "Rows dropped"}),
                                         anchor="cleaning-log").html()),
        "tables": table_blocks(tables, rules),
        "figures": figure_blocks(figures, tables, rules),
        "parameters": parameters,
        "inputs": inputs,
        "packages": packages,
        "also_loaded": also_loaded,
        "commit": commit,
        "notebooks": notebook_links(),
    }


def html(cohort: str, raw_dir: Path, out: Path, parameters: dict, rules: Disclosure = Disclosure(),
         raw_source: Path | None = None) -> str:
    """The report page, from the tables, figures and provenance in `out` (the report's folder).
    raw_source: the raw folder as the analyst named it, when raw_dir is a copy of it (None: raw_dir
    itself)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("helpers.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    context = build_context(cohort, Path(raw_dir), Path(out), parameters, rules, raw_source)
    return env.get_template("report.html.j2").render(**context)


def render(cohort: str, raw_dir: Path, out: Path, parameters: dict, rules: Disclosure = Disclosure(),
           raw_source: Path | None = None) -> Path:
    """Write out/report.html; return its path."""
    target = Path(out) / plan.PAGE.files[0]
    target.write_text(html(cohort, raw_dir, out, parameters, rules, raw_source), encoding="utf-8")
    return target
