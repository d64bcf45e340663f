"""From a report's tables and figures to a manuscript folder (`make manuscript`).

A step of the plan (helpers.data.plan.WRITE_MANUSCRIPT), run by the runner beside the report
it belongs to and published with it: it reads the report's tables/*.csv and figures, and
writes reports/<cohort>/manuscript/:

- tables.docx: every numbered table of the report, with the report's number, title, caption
  and footnotes, built by the same builders (helpers.report.page.table_blocks) from the same
  CSVs, so a cell reads exactly as in report.html; journal style: one font, no vertical rules,
  horizontal rules only above and below the header and at the foot, numbers right-aligned.
- figures/: each figure redrawn (helpers.report.figures) at a journal column width, 84 mm or
  174 mm (`column` in helpers.report.outputs), as a 300 dpi LZW TIFF and a PDF with its fonts
  embedded (TrueType), and figure_legends.docx.
- coreq.docx and coreq.md: the COREQ checklist drafted from the tables (helpers.report.coreq).
- numbers.json: every value the report's text quotes, by name, as printed.

Nothing is recomputed: the analysis ran in the earlier steps, and disclosure control was
applied to the tables they wrote; the runner passes the same settings, so the footnotes state
them truly. Once asked for, the manuscript is rebuilt by every later run whose tables or
figures changed, so it never describes an older report.
"""
from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from helpers.analysis.disclosure import Disclosure
from helpers.data import paths
from helpers.data.store import read_table

from . import coreq, figures, outputs, page, readings, repro, srqr
from .tables import TEXT_COLUMNS, Row

FOLDER = "manuscript"
FONT = "Arial"          # the one font of every document (Word's default sans; LibreOffice maps it)
FONT_PT = 9             # tables and footnotes
MM_PER_IN = 25.4
COLUMN_MM = {"single": 84, "double": 174}   # widths most journals give (BMJ Open: 84 and 174 mm)
TIFF_DPI = 300
# Figure text at a journal's size: every text 7.5 pt (at least 7 pt, as journals ask), lines in
# proportion (helpers.report.figures.Size); fonts that are the same on every machine and embed.
JOURNAL_FONT_PT = 7.5
JOURNAL_RC = {
    "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"],  # bundled with matplotlib: same on every machine
    "pdf.fonttype": 42, "ps.fonttype": 42,  # TrueType fonts embedded, as journals ask (not Type 3)
}

# What every table's footnotes define, by what the table shows.
CI_NOTE = "95% CI: Wilson score interval, in percentage points."
PCT_NOTE = "Percentages are rounded half-up to one decimal."
REFERENCE_NOTE = ("A reference is one distinct (segment, code) pair: a segment coded the same way by two coders "
                  "counts once. Sources and participants count the distinct sources and named participants among "
                  "the references.")
NOTES = {
    "participant_characteristics": [PCT_NOTE, CI_NOTE],
    "likert_summary": ["Agree: an answer of 4 or 5, of those who answered. IQR: interquartile range.", PCT_NOTE,
                       CI_NOTE],
    "likert_by_role": ["Agree: an answer of 4 or 5, of those who answered. IQR: interquartile range.", PCT_NOTE,
                       CI_NOTE],
    "theme_tallies": [REFERENCE_NOTE, PCT_NOTE],  # its interval (cluster bootstrap) is in its own footnote
    "theme_by_role_group": [REFERENCE_NOTE, PCT_NOTE],
    "theme_by_source_type": [REFERENCE_NOTE, PCT_NOTE],
    "theme_participants": [PCT_NOTE, CI_NOTE],
    "agreement": ["Agreement, kappa and alpha to two decimals; \u2013: undefined (no variation in the decisions)."],
    "cooccurrence": [REFERENCE_NOTE],
    "codebook": [REFERENCE_NOTE, "Exemplar: one quote coded with the code and shown in no other table, scrubbed of "
                 "contact details, NHS numbers and listed names, followed by its kind of source, the speaker's role "
                 "group (not given for a group of fewer than 5 people) and participant label."],
    "joint_display": ["Agree: an answer of 4 or 5, of those who answered the item. Raised: participants with at least "
                      "one reference to a code of the theme, of the group's participants.", PCT_NOTE, CI_NOTE],
}
# Where the report's readings (numbers.json) were read from: the table each is written from.
READING_SOURCES = {"participants": "participants_by_role", "sources": "coding_by_source_type",
                   "themes": "theme_summary", "totals": "totals", "check": "reproduction_check"}


class ManuscriptError(Exception):
    """The manuscript cannot be built from what is published; the message says what to do."""


def plain(caption: str) -> str:
    """A caption of helpers.report.outputs (trusted HTML) as text."""
    return html.unescape(re.sub(r"<[^>]+>", "", caption))


# --- Word documents in the journal style ---------------------------------------------------

def _document(landscape: bool = False) -> Document:
    document = Document()
    # One font everywhere: every font setting of the template (defaults, styles, the parts of
    # table styles) is Arial, for Latin, East Asian and complex scripts alike; no theme fonts.
    styles = document.styles.element
    for style in document.styles:
        if style.type in (1, 2, 3):  # paragraph, character and table styles (not list numbering)
            style.element.get_or_add_rPr().get_or_add_rFonts()
    for fonts in styles.iter(qn("w:rFonts")):
        for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attribute), None)
        for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attribute), FONT)
    document.styles["Normal"].font.size = Pt(10)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    if landscape:
        _orient(section, True)
    return document


def _orient(section, landscape: bool) -> None:
    wide, narrow = max(section.page_width, section.page_height), min(section.page_width, section.page_height)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (wide, narrow) if landscape else (narrow, wide)


def _text_width(section) -> int:
    return section.page_width - section.left_margin - section.right_margin


def _borders(element, tag: str, sides: dict[str, str | None]) -> None:
    """Set the borders of a table (`w:tblBorders`) or cell (`w:tcBorders`): a side is a width in
    eighths of a point for a single rule, or None for no rule (written as nil, not inherited)."""
    table = tag == "w:tblBorders"
    properties = element.tblPr if table else element.get_or_add_tcPr()
    old = properties.find(qn(tag))
    if old is not None:
        properties.remove(old)
    borders = OxmlElement(tag)
    for side, size in sides.items():
        rule = OxmlElement(f"w:{side}")
        rule.set(qn("w:val"), "single" if size else "nil")
        if size:
            rule.set(qn("w:sz"), size)
            rule.set(qn("w:space"), "0")
            rule.set(qn("w:color"), "000000")
        borders.append(rule)
    # Word reads properties in the schema's order: the borders go before the elements that follow them.
    after = _AFTER_TABLE_BORDERS if table else _AFTER_CELL_BORDERS
    later = next((child for child in properties if child.tag in after), None)
    if later is None:
        properties.append(borders)
    else:
        later.addprevious(borders)


_AFTER_TABLE_BORDERS = {qn(f"w:{t}") for t in ("shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption",
                                                "tblDescription")}
_AFTER_CELL_BORDERS = {qn(f"w:{t}") for t in ("shd", "noWrap", "tcMar", "textDirection", "tcFitText", "vAlign",
                                               "hideMark")}


NO_VERTICAL = {"left": None, "right": None, "insideV": None}


def _paragraph(cell_or_doc, text: str = "", bold: bool = False, italic: bool = False, size: float = FONT_PT,
               align=None, indent_cm: float = 0.0, space_after: float = 0.0):
    paragraph = cell_or_doc.add_paragraph() if hasattr(cell_or_doc, "add_paragraph") else cell_or_doc
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.font.size = bold or None, italic or None, Pt(size)
    format_ = paragraph.paragraph_format
    format_.space_before, format_.space_after = Pt(0), Pt(space_after)
    if align is not None:
        paragraph.alignment = align
    if indent_cm:
        format_.left_indent = Cm(indent_cm)
    return paragraph


# A hyphen-minus before a digit, not inside a word or a number ("Service-user", "2021-03"), is
# a minus sign: journals set it as U+2212, which also keeps "-0.16" from breaking after the hyphen.
MINUS = re.compile(r"(?<![\w.\u2013-])-(?=\d)")


def true_minus(text: str) -> str:
    """Negative numbers with the minus sign (U+2212) rather than a hyphen."""
    return MINUS.sub("\u2212", text)


def _cell_text(cell, text: str, **style) -> None:
    paragraph = cell.paragraphs[0]
    _paragraph(paragraph, true_minus(text), **style)


FIRST_CHARS = 36
CHAR_CM = 0.19  # the width of an average character of 9 pt Arial, for sizing columns to their content


def column_widths(columns: list[str], rows: list[Row | str], total: int) -> list[int]:
    """Each column as wide as its longest cell (a header may wrap between words), scaled to the
    page's text width: a long code name gets room, a column of counts stays narrow."""
    need = [max((len(word) for word in name.split()), default=1) for name in columns]
    for row in rows:
        if isinstance(row, str):
            continue
        for i, value in enumerate(row.cells):
            extra = 2 * row.level + len(row.note) if i == 0 else 0
            need[i] = max(need[i], len(str(value)) + extra)
    # A long row header (or a definition, a quote) may wrap; a number with its interval should not:
    # the first column and columns of words get at most FIRST_CHARS of room before the others do.
    need = [min(n, FIRST_CHARS) if i == 0 or columns[i] in TEXT_COLUMNS else n for i, n in enumerate(need)]
    need = [n + 2 for n in need]  # the cell's own padding
    natural = sum(need) * CHAR_CM
    scale = total / Cm(natural) if natural else 1
    return [int(Cm(n * CHAR_CM) * scale) for n in need]


def word_table(document, columns: list[str], rows: list[Row | str], widths: list[float] | None = None):
    """A table in the journal style: a rule above and below the header and at the foot, none
    between rows, no vertical rules; group headings in italics across the row; row headers
    indented by level; every other cell right-aligned, so numbers line up."""
    table = document.add_table(rows=1, cols=len(columns))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    _borders(table._tbl, "w:tblBorders", {"top": "8", "bottom": "8", "insideH": None, **NO_VERTICAL})
    width = _text_width(document.sections[-1])
    widths = ([int(width * share) for share in widths] if widths else column_widths(columns, rows, width))
    header = table.rows[0]
    header_properties = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header repeats on every page of a long table
    repeat.set(qn("w:val"), "true")
    header_properties.append(repeat)
    for i, (cell, name) in enumerate(zip(header.cells, columns)):
        _cell_text(cell, name, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.RIGHT)
        _borders(cell._tc, "w:tcBorders", {"bottom": "4", **NO_VERTICAL})
    for row in rows:
        cells = table.add_row().cells
        if isinstance(row, str):  # a group heading across the row
            merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
            _cell_text(merged, row, italic=True)
            continue
        header_text = ("" if str(row.cells[0]) in ("nan", "None") else str(row.cells[0])) + row.note
        _cell_text(cells[0], header_text, bold=row.bold, indent_cm=0.35 * row.level)
        for cell, value, name in zip(cells[1:], row.cells[1:], columns[1:]):
            _cell_text(cell, str(value), bold=row.bold,
                       align=WD_ALIGN_PARAGRAPH.LEFT if name in TEXT_COLUMNS else WD_ALIGN_PARAGRAPH.RIGHT)
    # Word reads the cells' widths, LibreOffice the grid's: both are set, and the layout is fixed.
    for column, w in zip(table.columns, widths):
        column.width = w
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = w
    # The fixed layout is `table.autofit = False` above: python-docx writes its one w:tblLayout in
    # the schema's place (a second one, as once added here, makes the table's XML invalid).
    return table


def _footnotes(document, notes: list[str]) -> None:
    for i, note in enumerate(n for n in notes if n):
        _paragraph(document, note, size=FONT_PT - 1, space_after=0, ).paragraph_format.space_before = Pt(3 if i == 0
                                                                                                          else 0)


def _new_page(document, landscape: bool, first: bool) -> None:
    """Each table on a page of its own, landscape when it is wide."""
    from docx.enum.section import WD_SECTION

    if first:
        _orient(document.sections[0], landscape)
        return
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _orient(section, landscape)


WIDE = 6  # tables of more columns are set on a landscape page


def tables_docx(tables: Path, target: Path, disclosure: str) -> list[str]:
    """tables.docx: the report's numbered tables; returns their numbers in order."""
    blocks = page.table_blocks(tables)
    document = _document()
    done: list[str] = []
    for name, number in outputs.numbering().items():
        if name not in blocks:  # not in this run's report (no Likert items)
            continue
        block, entry = blocks[name], outputs.get(name)
        table = block["table"]
        _new_page(document, len(table.columns) > WIDE, first=not done)
        title = _paragraph(document, space_after=4)
        title.add_run(f"Table {number}. {entry.title}.").bold = True
        title.add_run(f" {plain(entry.caption)}")
        for run in title.runs:
            run.font.size = Pt(10)
        word_table(document, table.columns, table.rows)
        # What a reader needs under the table: its marks, definitions and intervals. Where its
        # numbers are kept, and the disclosure settings, go once to the availability paragraph.
        _footnotes(document, [table.footnote, block["note"]] + NOTES.get(name, []))
        done.append((number, entry))
    availability(document, [f"Table {number}: tables/{entry.file}" for number, entry in done], disclosure)
    document.save(target)
    return [number for number, _ in done]


def availability(document, files: list[str], disclosure: str) -> None:
    """The one "Data and code availability" paragraph: which file holds each table's or figure's
    numbers, the codebook for coding tools, the disclosure settings and where the code is."""
    _paragraph(document, "Data and code availability", bold=True, size=10, space_after=2).paragraph_format \
        .space_before = Pt(12)
    _paragraph(document, "The values of each table and figure are written by the analysis pipeline as CSV files "
               "in the report folder (" + "; ".join(files) + "); the codebook is also given as codebook.qdc "
               "(REFI-QDA codebook exchange format) for NVivo, ATLAS.ti, MAXQDA or QualCoder, and every number "
               "quoted in the text is listed in numbers.json. The analysis code, its locked environment and the "
               "synthetic data it was run on are in the project's repository (CITATION.cff). Small-number "
               f"disclosure control: {disclosure}.", size=FONT_PT)


# --- figures ----------------------------------------------------------------------------------

def journal_size(column: str) -> figures.Size:
    """A figure's size in print: its journal column's width (helpers.report.outputs), 7.5 pt text."""
    return figures.Size(COLUMN_MM[column] / MM_PER_IN, JOURNAL_FONT_PT)


def journal_draw(name: str, tables) -> plt.Figure | None:
    """One figure laid out for its journal column by the code that draws the report's (None: nothing
    to draw). Call it inside plt.rc_context(JOURNAL_RC), which journal_figure does."""
    entry = outputs.get(name, "figure")
    return figures.figure_of(name, tables, journal_size(entry.column))


def journal_figure(name: str, tables: Path, folder: Path) -> dict | None:
    """Draw one figure of the list at its journal width; write <name>.tif (300 dpi, LZW, RGB) and
    <name>.pdf (fonts embedded). Returns what was written, or None when the run has nothing to draw."""
    from PIL import Image

    entry = outputs.get(name, "figure")
    figures.style()
    with plt.rc_context(JOURNAL_RC):
        fig = journal_draw(name, tables)
        if fig is None:
            return None
        width_in, height_in = fig.get_size_inches()
        pdf, tif = folder / f"{name}.pdf", folder / f"{name}.tif"
        fig.savefig(pdf, format="pdf", metadata={"CreationDate": None, "Creator": None})
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=TIFF_DPI, metadata={"Software": None})
        plt.close(fig)
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").save(tif, format="TIFF", compression="tiff_lzw", dpi=(TIFF_DPI, TIFF_DPI))
    return {"name": name, "files": [tif.name, pdf.name], "width_mm": round(width_in * MM_PER_IN, 1),
            "height_mm": round(height_in * MM_PER_IN, 1), "column": entry.column}


def legends_docx(drawn: list[dict], target: Path, disclosure: str) -> None:
    """figure_legends.docx: each figure's number, title and legend, as the report captions it."""
    numbers, table_numbers = outputs.figure_numbering(), outputs.numbering()
    document = _document()
    _paragraph(document, "Figure legends", bold=True, size=12, space_after=8)
    for figure in drawn:
        entry = outputs.get(figure["name"], "figure")
        paragraph = _paragraph(document, space_after=8)
        paragraph.add_run(f"Figure {numbers[entry.name]}. {entry.title}.").bold = True
        beside = table_numbers.get(entry.beside)
        paragraph.add_run(f" {plain(entry.caption)}" + (f" Drawn from Table {beside}." if beside else ""))
        for run in paragraph.runs:
            run.font.size = Pt(10)
    availability(document, [f"Figure {numbers[f['name']]}: figures/{f['files'][0]}, figures/{f['files'][1]} "
                            f"({f['column']} column, {f['width_mm']:.0f} mm wide)" for f in drawn], disclosure)
    document.save(target)


# --- COREQ and numbers -------------------------------------------------------------------------

def coreq_docx(drafted: list[coreq.Drafted], target: Path, cohort: str, disclosure: str,
               name: str = coreq.TITLE, about: str = coreq.ABOUT) -> None:
    """coreq.docx (or, with SRQR's name and reference, srqr.docx): the drafted checklist as a table."""
    document = _document(landscape=True)
    title = _paragraph(document, space_after=4)
    title.add_run(f"{name}, drafted from the data ({cohort}).").bold = True
    title.add_run(f" {about} Items the data answer cite the table each answer came from; the "
                  f"rest say \u201c{coreq.AUTHORS}\u201d and what is needed. Fill in the page numbers of the "
                  "manuscript where each item is reported.")
    rows: list[Row | str] = []
    domain = None
    for entry in drafted:
        if entry.item.domain != domain:
            domain = entry.item.domain
            rows.append(domain)
        rows.append(Row([f"{entry.item.label}. {entry.item.topic}", entry.item.question, entry.text,
                         "; ".join(entry.sources) or "\u2013", ""], level=0))
    table = word_table(document, ["Item", "Guide question", "Answer", "Source", "Page"], rows,
                       widths=[0.14, 0.21, 0.43, 0.16, 0.06])
    for row in table.rows:
        for paragraph in (p for cell in row.cells for p in cell.paragraphs):
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT  # text, not numbers
            _mark_for_authors(paragraph)
    _footnotes(document, [f"Disclosure control: {disclosure}."])
    document.save(target)


def _mark_for_authors(paragraph) -> None:
    """"For the authors to complete:" in bold, so what is left to write stands out."""
    text = paragraph.text
    if coreq.AUTHORS not in text or len(paragraph.runs) != 1:
        return
    run = paragraph.runs[0]
    before, _, after = text.partition(coreq.AUTHORS)
    run.text = before
    for part, bold in ((coreq.AUTHORS, True), (after, False)):
        new = paragraph.add_run(part)
        new.bold, new.font.size = bold or None, run.font.size


def report_numbers(tables: Path, rules: Disclosure = Disclosure()) -> dict[str, str]:
    """Every value the report's text quotes, by name, as printed: the header's totals, the
    reproduction check's counts and each reading's values, collected while the same functions
    the page calls write the same sentences (under the same disclosure `rules`)."""
    numbers = {f"totals.{k}": v for k, v in page.totals(tables).items()}
    check = read_table(tables, "reproduction_check.csv")
    if len(check):
        numbers["check.total"] = str(len(check))
        numbers.update({f"check.{readings.slug(k)}": str(v) for k, v in repro.verdict(check).items()})
    with readings.collect() as said:
        page.table_blocks(tables, rules)
    numbers.update(said)
    return numbers


def group_numbers(tables: Path) -> dict[str, str]:
    """Each role group's n, % and 95% interval, as Table 1's cells print them: the numbers a
    manuscript's text quotes group by group (`participants.<group>_n`, `_pct`, `_ci_low`, `_ci_high`)."""
    from .tables import decimal1, number

    numbers = {}
    for row in read_table(tables, "participants_by_role.csv").itertuples():
        group = readings.slug(row.role_group)
        numbers.update({f"participants.{group}_n": number(row.n), f"participants.{group}_pct": decimal1(row.pct),
                        f"participants.{group}_ci_low": decimal1(row.ci_low),
                        f"participants.{group}_ci_high": decimal1(row.ci_high)})
    return numbers


def reading_source(prefix: str) -> str:
    """The table a reading's values are read from: READING_SOURCES's exceptions, else the table of
    the list that names that reading (likert -> likert_summary), else the reading's own name."""
    if prefix in READING_SOURCES:
        return READING_SOURCES[prefix]
    return next((entry.name for entry in outputs.tables() if entry.reading == prefix), prefix)


def numbers_json(tables: Path, cohort: str, disclosure: str, rules: Disclosure = Disclosure()) -> dict:
    numbers = report_numbers(tables, rules)
    numbers.update(group_numbers(tables))
    sources = {}
    for name in numbers:
        prefix = name.split(".")[0]
        sources[prefix] = f"tables/{reading_source(prefix)}.csv"
        if not (tables / sources[prefix].removeprefix("tables/")).is_file():  # a pointer must point somewhere
            raise ManuscriptError(f"numbers.json would name {sources[prefix]} as the source of the {prefix}.* "
                                  f"values, and the report has no such table: add {prefix!r} to READING_SOURCES "
                                  f"in helpers/report/manuscript.py")
    return {"cohort": cohort, "disclosure_control": disclosure,
            "about": "Every value quoted in the text of report.html, by name, exactly as printed there "
                     "([REDACTED] where disclosure control hides it); 'sources' names the table each group of "
                     "values is read from.",
            "numbers": numbers, "sources": sources}


def quarto_variables(numbers: dict[str, str]) -> str:
    """The numbers as Quarto's _variables.yml: `{{< var participants.largest_group_n >}}` in a .qmd
    prints the value. Nested by the name's dots; each value a double-quoted YAML string (JSON's
    escapes are YAML's), so a value is never read as a number or a date; negatives with U+2212."""
    tree: dict[str, dict[str, str]] = {}
    for name, value in numbers.items():
        group, _, key = name.partition(".")
        tree.setdefault(group, {})[key] = value
    lines = ["# Every number the report's text quotes (numbers.json), for Quarto: {{< var group.name >}}"]
    for group, values in tree.items():
        lines.append(f"{group}:")
        lines += [f"  {key}: {json.dumps(true_minus(value), ensure_ascii=False)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


DIGITS = "Zero One Two Three Four Five Six Seven Eight Nine".split()
LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_name(name: str) -> str:
    """A macro name for a number: letters only, as TeX requires (participants.largest_group_n ->
    \\nhsdaParticipantsLargestGroupN; digits spelled: kappa_aa_rb1 -> ...RbOne)."""
    words = re.split(r"[^0-9A-Za-z]+", name)
    spelled = "".join(re.sub(r"\d", lambda m: DIGITS[int(m.group())], w[:1].upper() + w[1:]) for w in words if w)
    return "nhsda" + spelled


def latex_macros(numbers: dict[str, str]) -> str:
    """The numbers as LaTeX macros (\\newcommand), one per value, text escaped: \\input{numbers.tex}
    and write \\nhsdaParticipantsLargestGroupN where the number goes."""
    lines = ["% Every number the report's text quotes (numbers.json), as LaTeX macros: \\input{numbers.tex}"]
    seen: dict[str, str] = {}
    for name, value in numbers.items():
        macro = latex_name(name)
        if macro in seen:
            raise ManuscriptError(f"numbers {seen[macro]!r} and {name!r} give the same LaTeX macro \\{macro}")
        seen[macro] = name
        text = MINUS.sub("$-$", "".join(LATEX_SPECIAL.get(ch, ch) for ch in value))  # a minus, not a hyphen
        lines.append(f"\\newcommand{{\\{macro}}}{{{text}}}  % {name}")
    return "\n".join(lines) + "\n"


# --- the whole folder -----------------------------------------------------------------------------

def write(folder: Path, cohort: str, rules: Disclosure = Disclosure()) -> Path:
    """Write folder/manuscript/ from the tables and figures in folder (a report's folder); its path."""
    folder = Path(folder)
    tables = paths.tables_dir(folder)
    if not tables.is_dir():
        raise ManuscriptError(f"No tables in {folder}: the manuscript is built from a report's tables.")
    disclosure = rules.describe()
    target = folder / FOLDER
    target.mkdir(exist_ok=True)
    tables_docx(tables, target / "tables.docx", disclosure)
    (target / "figures").mkdir(exist_ok=True)
    drawn = [d for d in (journal_figure(e.name, tables, target / "figures") for e in outputs.figures()
                         if (paths.figures_dir(folder) / e.file).is_file()) if d]
    legends_docx(drawn, target / "figure_legends.docx", disclosure)
    drafted = coreq.draft(tables, rules)
    (target / "coreq.md").write_text(coreq.markdown(drafted, cohort, disclosure), encoding="utf-8")
    coreq_docx(drafted, target / "coreq.docx", cohort, disclosure)
    # SRQR beside COREQ, answered by the same functions where the data answer it.
    standards = srqr.draft(tables, rules)
    (target / "srqr.md").write_text(coreq.markdown(standards, cohort, disclosure, srqr.TITLE, srqr.ABOUT),
                                    encoding="utf-8")
    coreq_docx(standards, target / "srqr.docx", cohort, disclosure, srqr.TITLE, srqr.ABOUT)
    numbers = numbers_json(tables, cohort, disclosure, rules)
    (target / "numbers.json").write_text(json.dumps(numbers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    # The same numbers for a manuscript written in Quarto or in LaTeX.
    (target / "_variables.yml").write_text(quarto_variables(numbers["numbers"]), encoding="utf-8")
    (target / "numbers.tex").write_text(latex_macros(numbers["numbers"]), encoding="utf-8")
    return target


def step(folder: Path, cohort: str, rules: Disclosure) -> Path:
    """The plan's manuscript step (`make manuscript`): the runner gives it a copy of the report's
    tables and figures, and publishes what it writes with the report."""
    return write(folder, cohort, rules)
