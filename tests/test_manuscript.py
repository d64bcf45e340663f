"""`make manuscript`: Word tables that equal the CSVs, journal figures, the COREQ draft, numbers.json."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from conftest import EPOCH
from docx import Document
from docx.oxml.ns import qn
from PIL import Image

from helpers.data import paths
from helpers.data.store import read_table
from helpers.report import coreq, manuscript, outputs, readings
from helpers.report.tables import TEXT_COLUMNS


@pytest.fixture(scope="module")
def built(published, tmp_path_factory):
    """cohort1 and `all` through `make manuscript` on a copy of the shared build: the reports are
    up to date, so only the manuscript step runs, with the parameters they were built with."""
    out = published.copy_to(tmp_path_factory.mktemp("manuscript"))
    for cohort in ("cohort1", "all"):
        result = subprocess.run(
            ["make", "-s", "manuscript", f"COHORT={cohort}", f"REPORTS_DIR={out / 'reports'}",
             f"PROCESSED_DIR={out / 'processed'}"], cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
            env={**os.environ, "MAKEFLAGS": "", **EPOCH})
        assert result.returncode == 0, result.stdout + result.stderr
        # The report was not rebuilt: the manuscript reads what the report's steps wrote.
        assert re.search(r"05_report.ipynb +up to date", result.stdout), result.stdout
        assert re.search(r"\] manuscript +\d+\.\d s  \(asked for\)", result.stdout), result.stdout
    return out / "reports"


def _tables_by_number(document) -> dict[str, object]:
    """Each table of tables.docx by the number in the title paragraph before it."""
    body = document.element.body
    found, number = {}, None
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            text = "".join(t.text or "" for t in child.iter(qn("w:t")))
            match = re.match(r"Table (\w+)\. ", text)
            number = match.group(1) if match else number
        elif child.tag == qn("w:tbl"):
            found[number] = next(t for t in document.tables if t._tbl is child)
    return found


def _rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


N_PCT_CI = re.compile(r"^([\d,]+)\u00a0\(([\d.]+)\)(?: \[([\d.]+)\u2013([\d.]+)\])?$")


def _same(cell: str, n, pct, low=None, high=None) -> None:
    """A cell `n (pct) [low-high]` holds the CSV's values at the precision shown."""
    match = N_PCT_CI.match(cell)
    assert match, cell
    assert int(match.group(1).replace(",", "")) == int(n), (cell, n)
    assert float(match.group(2)) == round(float(pct), 1), (cell, pct)
    if low is not None:
        assert (float(match.group(3)), float(match.group(4))) == (round(float(low), 1), round(float(high), 1)), cell


@pytest.mark.e2e
@pytest.mark.parametrize("cohort", ["cohort1", "all"])
def test_every_number_in_the_word_tables_equals_the_csv(built, cohort):
    folder = built / cohort
    tables = folder / "tables"
    document = Document(folder / "manuscript" / "tables.docx")
    by_number = _tables_by_number(document)
    numbers = outputs.numbering()
    assert sorted(by_number) == sorted(numbers.values())  # every numbered table of the report

    # Table 1: every role group of every cohort column.
    characteristics = read_table(tables, "participant_characteristics.csv")
    rows = _rows(by_number[numbers["participant_characteristics"]])
    cohorts = list(dict.fromkeys(characteristics["cohort"]))
    checked = 0
    for _, row in characteristics[characteristics["section"] == "Role group"].iterrows():
        line = next(r for r in rows if r[0] == row["characteristic"].capitalize())
        cell = line[1 + cohorts.index(row["cohort"])]
        # A group of fewer than SMALL_N people carries the small-group mark after its interval.
        assert cell.endswith(outputs.SMALL_MARK) == (int(row["n"]) < outputs.SMALL_N), cell
        _same(cell.removesuffix(outputs.SMALL_MARK), row["n"], row["pct"], row["ci_low"], row["ci_high"])
        checked += 1
    analysed = characteristics[characteristics["characteristic"] == "Participants analysed"]
    for _, row in analysed.iterrows():
        assert f"{row['cohort']} (n = {row['n']})" in rows[0]
    assert checked == 4 * len(cohorts)

    # The themes table: every theme and code, references with interval, sources, participants.
    rows = {r[0]: r for r in _rows(by_number[numbers["theme_tallies"]])}
    for name in ("theme_summary", "theme_tallies"):
        frame = read_table(tables, f"{name}.csv")
        key = "theme" if name == "theme_summary" else "code"
        for _, row in frame.iterrows():
            line = rows[row[key]]
            _same(line[1], row["references"], row["pct_references"], row["ci_low"], row["ci_high"])
            assert (int(line[2]), int(line[3])) == (int(row["sources"]), int(row["participants"]))

    # By role group: n (% of the role group's references) in every cell.
    rows = {r[0]: r for r in _rows(by_number[numbers["theme_by_role_group"]])}
    by_role = read_table(tables, "theme_by_role_group.csv")
    groups = list(dict.fromkeys(by_role["role_group"]))
    for _, row in by_role.iterrows():
        _same(rows[row["theme"]][1 + groups.index(row["role_group"])], row["references"], row["pct_of_role_group"])

    # Agreement: the pooled rows, coefficients to two decimals.
    agreement = read_table(tables, "agreement.csv")
    rows = {r[0]: r for r in _rows(by_number[numbers["agreement"]])}
    pooled = agreement[agreement["code"] == "(all codes pooled)"]
    for _, row in pooled.iterrows():
        line = rows[row["coders"]]
        assert (int(line[1]), int(line[2].replace(",", ""))) == (int(row["sources"]), int(row["units"]))
        assert float(line[3]) == round(float(row["agreement_pct"]), 1)
        assert float(line[4]) == round(float(row["prevalence_pct"]), 1)
        assert line[5].startswith(f"{float(row['cohen_kappa']):.2f} [") or (
            line[5] == "\u2013" and pd.isna(row["cohen_kappa"]))
        assert line[8].startswith(f"{float(row['gwet_ac1']):.2f} [{float(row['gwet_ac1_low']):.2f} to ")
    assert len(pooled) >= 2


@pytest.mark.e2e
def test_word_tables_are_in_journal_style_with_their_footnotes(built):
    path = built / "cohort1" / "manuscript" / "tables.docx"
    document = Document(path)
    # No vertical rules anywhere: every left, right and inside-vertical border is nil.
    sides = [b for b in document.element.body.iter() if b.tag in (qn("w:left"), qn("w:right"), qn("w:insideV"))
             and b.getparent().tag in (qn("w:tblBorders"), qn("w:tcBorders"))]
    assert sides and all(b.get(qn("w:val")) == "nil" for b in sides)
    # One font: every font setting of the document and its styles is Arial, with no theme fonts.
    fonts = list(document.styles.element.iter(qn("w:rFonts"))) + list(document.element.body.iter(qn("w:rFonts")))
    assert fonts and all(f.get(qn("w:ascii")) == "Arial" and f.get(qn("w:asciiTheme")) is None for f in fonts)
    assert all(run.font.name in (None, "Arial") for p in document.paragraphs for run in p.runs)
    # Numbers aligned: every cell but the row header is right-aligned, in every table; columns of
    # words (definitions, quotes) are left-aligned.
    for table in document.tables:
        words = [i for i, c in enumerate(table.rows[0].cells) if c.text in TEXT_COLUMNS]
        for row in table.rows[1:]:
            cells = row.cells
            if len({id(c._tc) for c in cells}) == 1:
                continue  # a group heading across the row
            assert all(c.paragraphs[0].alignment == (0 if i in words else 2) for i, c in enumerate(cells) if i),\
                [c.text for c in cells]
    # Footnotes: after each table, its definitions; the files and the disclosure settings once, in the
    # data and code availability paragraph at the end, naming each table's file.
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Source: tables/" not in text and "statsmodels" not in text
    assert text.count("Small-number disclosure control: off (min_count = 0)") == 1
    last = list(outputs.numbering().values())[-1]
    assert text.index("Data and code availability") > text.index(f"Table {last}. ")
    for name, number in outputs.numbering().items():
        assert f"Table {number}: tables/{name}.csv" in text
    assert "95% CI: Wilson score interval" in text and "A reference is one distinct (segment, code) pair" in text
    # Valid table XML: no property the schema allows once is written twice (w:tblLayout was).
    for part in (document.element.body.iter(qn(f"w:{tag}")) for tag in ("tblPr", "trPr", "tcPr", "pPr", "rPr")):
        for properties in part:
            tags = [child.tag for child in properties if properties.tag != qn("w:trPr")]
            assert len(tags) == len(set(tags)), properties.tag


@pytest.mark.e2e
def test_figures_are_journal_width_tiff_and_pdf_with_embedded_fonts(built):
    folder = built / "cohort1"
    drawn = [e for e in outputs.figures() if (folder / "figures" / e.file).is_file()]
    assert len(drawn) == len(outputs.figures())
    for entry in drawn:
        tif = folder / "manuscript" / "figures" / f"{entry.name}.tif"
        with Image.open(tif) as image:
            assert image.info["compression"] == "tiff_lzw" and image.mode == "RGB"
            assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
            width_mm = image.width / 300 * 25.4
        assert abs(width_mm - manuscript.COLUMN_MM[entry.column]) < 2, (entry.name, width_mm)
        pdf = (folder / "manuscript" / "figures" / f"{entry.name}.pdf").read_bytes()
        assert b"/FontFile2" in pdf and b"/Type3" not in pdf, entry.name  # TrueType, embedded
        box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert abs(float(box.group(1)) / 72 * 25.4 - manuscript.COLUMN_MM[entry.column]) < 2, entry.name
    assert {e.column for e in drawn} == {"single", "double"}


@pytest.mark.e2e
def test_figure_legends_number_the_figures_as_the_report_does(built):
    folder = built / "cohort1"
    legends = [p.text for p in Document(folder / "manuscript" / "figure_legends.docx").paragraphs]
    report = unescape((folder / "report.html").read_text(encoding="utf-8"))
    numbers = outputs.figure_numbering()
    for entry in outputs.figures():
        heading = f"Figure {numbers[entry.name]}. {entry.title}."
        assert any(text.startswith(heading) for text in legends), heading
        assert f"Figure {numbers[entry.name]}.</span> <strong>{entry.title}.</strong>" in report


@pytest.mark.e2e
@pytest.mark.parametrize("cohort", ["cohort1", "all"])
def test_coreq_has_every_item_answered_from_a_named_table_or_left_to_the_authors(built, cohort):
    folder = built / cohort
    table = Document(folder / "manuscript" / "coreq.docx").tables[0]
    rows = [r for r in _rows(table)[1:] if len(set(r)) > 1]  # not the domain headings
    assert [int(r[0].split(".")[0]) for r in rows] == list(range(1, 33))
    answered = 0
    for item, _, answer, source, _ in rows:
        if source == "\u2013":
            assert answer.startswith(coreq.AUTHORS), item  # never answered without data
            continue
        answered += 1
        assert not answer.startswith(coreq.AUTHORS), item
        for cited in re.findall(r"tables/[\w.]+\.csv|report\.html", source):
            assert (folder / cited).is_file(), (item, cited)
    assert answered >= 9
    # Real values, as the tables hold them.
    characteristics = read_table(folder / "tables", "participant_characteristics.csv")
    run = characteristics[characteristics["cohort"] == characteristics["cohort"].iloc[-1]]
    analysed = run[run["characteristic"] == "Participants analysed"]["n"].iloc[0]
    item12 = next(r for r in rows if r[0].startswith("12."))
    assert item12[2].startswith(f"{analysed} participants were analysed")
    assert {"cohort1": 26, "all": 41}[cohort] == int(analysed)
    item22 = next(r for r in rows if r[0].startswith("22."))
    assert readings.saturation(read_table(folder / "tables", "saturation.csv")) in item22[2]
    markdown = (folder / "manuscript" / "coreq.md").read_text(encoding="utf-8")
    assert all(f"**{n}. " in markdown for n in range(1, 33))


@pytest.mark.e2e
def test_numbers_json_holds_the_values_the_report_text_prints(built):
    folder = built / "cohort1"
    numbers = json.loads((folder / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["numbers"]
    report = unescape(re.sub(r"<[^>]+>", " ", (folder / "report.html").read_text(encoding="utf-8")))
    for name, value in numbers.items():
        assert value in report, (name, value)
    totals = read_table(folder / "tables", "totals.csv").set_index("measure")["n"]
    assert numbers["totals.participants"] == str(totals["participants"]) == "26"
    assert numbers["participants.largest_group"] == "clinician" and numbers["participants.largest_group_n"] == "13"
    assert numbers["check.exact"] == "8" and numbers["check.under_an_assumption"] == "6"
    assert numbers["agreement.coders_aa_rb"] == "AA & RB"
    assert len(numbers) > 40
    # Each role group's n and %, as Table 1 prints them; every source named is a table of the report.
    by_role = read_table(folder / "tables", "participants_by_role.csv").set_index("role_group")
    for group, row in by_role.iterrows():
        assert numbers[f"participants.{readings.slug(group)}_n"] == f"{float(row['n']):,.0f}"
        assert numbers[f"participants.{readings.slug(group)}_pct"] == f"{float(row['pct']):.1f}"
    sources = json.loads((folder / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["sources"]
    assert sources["likert"] == "tables/likert_summary.csv"
    assert all((folder / path).is_file() for path in sources.values()), sources
    # The same numbers for Quarto and LaTeX, beside numbers.json.
    assert (folder / "manuscript" / "_variables.yml").read_text(encoding="utf-8").count(": \"") == len(numbers)
    assert (folder / "manuscript" / "numbers.tex").read_text(encoding="utf-8").count("\\newcommand") == len(numbers)


@pytest.mark.e2e
def test_a_failed_manuscript_step_leaves_the_published_report_and_manuscript(built, tmp_path, monkeypatch):
    from conftest import tree_hash

    from helpers.runner import pipeline

    out = tmp_path / "out"
    shutil.copytree(built.parent, out, symlinks=True)
    report = out / "reports" / "cohort1"
    (report / "manuscript" / "numbers.json").write_text("{}\n")  # changed by hand: the step must run again
    before = tree_hash(report)

    def broken(*_args):
        raise pipeline._TaskFailed("OSError", "disk full")

    monkeypatch.setattr(pipeline, "_execute_function", broken)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH["SOURCE_DATE_EPOCH"])
    with pytest.raises(pipeline.PipelineError, match=r"(?s)Step 6/6 manuscript failed .*OSError: disk full.*unchanged"):
        pipeline.run("cohort1", None, out / "processed", out / "reports")
    assert tree_hash(report) == before
    # Readable as every other folder of the report is.
    assert (report / "manuscript").stat().st_mode & 0o777 == (report / "tables").stat().st_mode & 0o777


# --- in process, no kernels ----------------------------------------------------------------------

def test_readings_record_every_value_they_print_by_name():
    table = pd.DataFrame({"role_group": ["clinician", "other"], "n": [13, 1], "pct": [92.9, 7.1],
                          "ci_low": [68.5, 1.3], "ci_high": [98.7, 31.5]})
    with readings.collect() as said:
        text = readings.participants(table)
    assert said == {"participants.largest_group": "clinician", "participants.largest_group_n": "13",
                    "participants.largest_group_pct": "92.9", "participants.largest_group_ci_low": "68.5",
                    "participants.largest_group_ci_high": "98.7"}
    assert all(value in text for value in said.values())
    assert readings.participants(table) == text  # outside a collect() block nothing is recorded, same text


def test_coreq_leaves_to_the_authors_what_the_tables_cannot_answer(tmp_path: Path):
    pd.DataFrame(columns=["order", "source_id", "date", "codes", "new_codes", "cumulative_codes"]).to_csv(
        tmp_path / "saturation.csv", index=False)
    pd.DataFrame(columns=["theme", "code", "source_type", "quote"]).to_csv(tmp_path / "quotes.csv", index=False)
    tables = coreq.Tables(tmp_path)
    drafted = {item.number: item.draft(tables) for item in coreq.ITEMS if item.number in (22, 29)}
    for entry in drafted.values():
        assert entry.status == coreq.FOR_AUTHORS and entry.sources == []
        assert entry.text.startswith(coreq.AUTHORS)
    assert len(coreq.ITEMS) == 32 and [i.number for i in coreq.ITEMS] == list(range(1, 33))
    # Every item without an answer function says what the authors must add.
    assert all(item.needed for item in coreq.ITEMS if item.answer is None)


@pytest.mark.e2e
def test_srqr_stands_beside_coreq_and_answers_what_the_data_hold_as_coreq_does(built):
    from helpers.report import srqr

    folder = built / "all" / "manuscript"
    markdown = (folder / "srqr.md").read_text(encoding="utf-8")
    assert all(f"**S{n}. " in markdown for n in range(1, 22)) and "**S22. " not in markdown
    rows = _rows(Document(folder / "srqr.docx").tables[0])
    assert [r[0].split(".")[0] for r in rows if r[0].startswith("S")] == [f"S{n}" for n in range(1, 22)]
    drafted = {d.item.label: d for d in srqr.draft(built / "all" / "tables")}
    answered = {label for label, d in drafted.items() if d.found}
    assert {"S8", "S9", "S10", "S12", "S13", "S14", "S15", "S16", "S17"} <= answered
    assert drafted["S1"].status == coreq.FOR_AUTHORS and coreq.AUTHORS in drafted["S21"].text
    # The quotations standard and COREQ item 29 are one answer, so the two checklists cannot disagree.
    coreq_29 = next(d for d in coreq.draft(built / "all" / "tables") if d.item.number == 29)
    assert drafted["S17"].found.text == coreq_29.found.text
