"""Careless and hostile inputs, round two (issue 25): ids in free text, copied cohort folders,
mixed encodings, control and look-alike characters, floods of problems, slow suggestions.

Rules are tested in process on copies of the bundled cohorts; two runs of `make report` prove
the targets on what a run publishes and keeps: no raw id in the report, quotes.csv, the
notebooks or the processed data of a cohort whose transcripts carry speaker labels, and a
failed notebook of kilobytes, not megabytes, for an export of 50,000 day-first dates.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_csv

from helpers.analysis import clean
from helpers.data import errors, load, paths, privacy, suggest
from helpers.data.errors import InputError

KEY = "a-real-study-key-4f1c"


def pseudonym(raw_id: str, key: str = KEY) -> str:
    return "PT-" + hmac.new(key.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:10]


def rows_of(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def problems_of(raw: Path, cohort: str = "cohort1") -> InputError:
    with pytest.raises(InputError) as caught:
        load.load_inputs(raw, cohort)
    return caught.value


# --- 1. participant ids in free text -----------------------------------------------------

def label_transcripts(raw: Path, cohort: str = "cohort1") -> list[str]:
    """Every segment's text as a transcript writes it: the speaker's id at the line start and
    another participant named in the text ("P004: ... as P003 said."); free-text answers name
    people too. Returns the cohort's participant ids."""
    ids = [row[0] for row in rows_of(raw / cohort / paths.QUESTIONNAIRE)[1:]]
    segments = rows_of(raw / cohort / paths.CODED_SEGMENTS)
    head = segments[0]
    pid, text = head.index("participant_id"), head.index("text")
    for number, row in enumerate(segments[1:]):
        speaker = row[pid] or ids[number % len(ids)]
        other = ids[(number + 1) % len(ids)]
        row[text] = f"{speaker}: {row[text]}\n{other.lower()}: As {other} said (see {other}'s notes)."
    write_csv(raw / cohort / paths.CODED_SEGMENTS, segments)
    answers = rows_of(raw / cohort / paths.QUESTIONNAIRE)
    column = answers[0].index("text_biggest_impact")
    for row in answers[1:]:
        row[column] = f"Working with {ids[0]} on a project"
    write_csv(raw / cohort / paths.QUESTIONNAIRE, answers)
    return ids


def raw_ids_in(text: str, ids: list[str]) -> set[str]:
    return {i for i in ids if re.search(rf"(?<![0-9A-Za-z]){re.escape(i)}(?![0-9A-Za-z])", text, re.IGNORECASE)}


def test_speaker_labels_and_ids_named_in_free_text_are_pseudonymised(bundled_raw_copy):
    ids = label_transcripts(bundled_raw_copy)
    cleaned = clean.pseudonymise(clean.clean(load.load_inputs(bundled_raw_copy, "cohort1"), pooled=False), KEY)
    texts = "\n".join(cleaned.segments["text"]) + "\n".join(cleaned.participants["text_biggest_impact"].fillna(""))
    assert not raw_ids_in(texts, ids)
    first = cleaned.segments.iloc[0]
    speaker = first["text"].split(":")[0]
    assert speaker == first["participant_id"] or speaker.startswith("PT-")
    assert pseudonym(ids[0]) in set(cleaned.participants["text_biggest_impact"].str.split().str[2])
    # A published quote names nobody: the quotes table says whose words they are.
    scrubbed = privacy.scrub(cleaned.segments["text"])
    assert not scrubbed.str.contains("PT-").any() and scrubbed.str.startswith("[participant]: ").all()


def test_ids_in_text_respect_word_boundaries_and_numbers_are_only_hidden_as_speaker_labels():
    finder = privacy.TextIds({"P001": "PT-1", "7": "PT-7", "A": "PT-a", "INT-07": "PT-i"})
    assert (finder.hide("P001: as p001 said, not P0012 or QP001 (P001)")
            == "PT-1: as PT-1 said, not P0012 or QP001 (PT-1)")
    assert finder.hide("7: I worked there 7 years") == "PT-7: I worked there 7 years"
    assert finder.hide("A - a good thing. A: yes") == "PT-a - a good thing. A: yes"
    assert finder.hide("see INT-07 and INT-070") == "see PT-i and INT-070"


def test_pooled_runs_hide_ids_as_each_cohort_writes_them(bundled_raw_copy):
    ids = label_transcripts(bundled_raw_copy, "cohort2")
    cleaned = clean.pseudonymise(clean.clean(load.load_inputs(bundled_raw_copy, "all"), pooled=True), KEY)
    texts = "\n".join(cleaned.segments.loc[cleaned.segments["cohort"] == "cohort2", "text"])
    assert not raw_ids_in(texts, ids)
    assert pseudonym(f"cohort2/{ids[1]}") in texts


@pytest.fixture(scope="module")
def labelled_report(tmp_path_factory):
    """cohort1 with speaker-labelled transcripts, as real data (no SYNTHETIC marker, a key set),
    built by `make report`."""
    root = tmp_path_factory.mktemp("labelled")
    raw = root / "raw"
    shutil.copytree(paths.RAW_DIR, raw)
    (raw / paths.SYNTHETIC_MARKER).unlink()
    ids = label_transcripts(raw)
    result = subprocess.run(
        ["make", "-s", "report", "COHORT=cohort1", f"RAW_DIR={raw}", f"PSEUDONYM_KEY={KEY}",
         f"REPORTS_DIR={root / 'reports'}", f"PROCESSED_DIR={root / 'processed'}"],
        cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, "MAKEFLAGS": "", "SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stdout + result.stderr
    return root, ids


def _text_of(path: Path) -> str:
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return "\n".join(frame.astype(str).stack().tolist())
    return path.read_bytes().decode("utf-8", errors="replace")


@pytest.mark.e2e
def test_no_raw_id_from_speaker_labels_reaches_the_report_quotes_notebooks_or_processed_data(labelled_report):
    root, ids = labelled_report
    report = root / "reports" / "cohort1"
    quotes = pd.read_csv(report / "tables" / "quotes.csv", dtype=str, keep_default_na=False)
    assert quotes["quote"].str.startswith("[participant]: ").all()  # the transcripts' labels, hidden
    # Everything published (the page, every table, the SVG figures, the executed notebooks) and kept.
    published = sorted(report.rglob("*")) + sorted((root / "processed" / "cohort1").rglob("*.parquet"))
    scanned = [p for p in published if p.is_file() and p.suffix not in (".png", ".tif", ".tiff", ".pdf")]
    for path in scanned:
        assert not raw_ids_in(_text_of(path), ids), path
    names = {p.name for p in scanned}
    assert {"report.html", "quotes.csv", "01_clean.ipynb", "segments.parquet"} <= names, names


# --- 4. only cohort folders are pooled ----------------------------------------------------

def test_pooling_skips_a_copied_folder_and_names_it(bundled_raw_copy):
    shutil.copytree(bundled_raw_copy / "cohort1", bundled_raw_copy / "cohort1 - Copy")
    inputs = load.load_inputs(bundled_raw_copy, "all")
    assert [c.name for c in inputs.cohorts] == ["cohort1", "cohort2"]
    assert len(clean.clean(inputs, pooled=True).participants) == 41  # not 67
    note = next(n for n in inputs.notes if "Copy" in n)
    assert "'cohort1 - Copy'" in note and "not pooled" in note
    assert paths.list_cohorts(bundled_raw_copy) == ["cohort1", "cohort2"]  # make report-all builds these
    assert paths.skipped_folders(bundled_raw_copy) == ["cohort1 - Copy"]


# --- 5. one encoding per file, or each row its own, said ----------------------------------

def _mixed_segments(raw: Path) -> Path:
    """coded_segments.csv in UTF-8, a quote spanning two lines, and one later row saved as Windows-1252."""
    path = raw / "cohort1" / paths.CODED_SEGMENTS
    rows = rows_of(path)
    rows[1][5] = "Le café était\nvraiment très bon"  # row 2, lines 2-3
    rows[3][5] = "naïve résumé"                      # row 4, line 5
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    lines = buffer.getvalue().split("\n")
    path.write_bytes(b"\n".join(line.encode("cp1252" if number == 5 else "utf-8")
                                for number, line in enumerate(lines, 1)))
    return path


def test_a_utf8_file_with_one_windows_1252_row_is_read_row_by_row_and_the_row_named(bundled_raw_copy):
    path = _mixed_segments(bundled_raw_copy)
    inputs = load.load_inputs(bundled_raw_copy, "cohort1")
    segments = inputs.cohorts[0].segments.set_index("_row")
    assert segments.loc[2, "text"] == "Le café était\nvraiment très bon"  # not 'cafÃ©'
    assert segments.loc[4, "text"] == "naïve résumé"
    note = next(n for n in inputs.notes if str(path) in n)
    assert "row(s) 4 are Windows-1252" in note and "UTF-8, then Windows-1252" in note


def test_a_byte_in_no_encoding_tried_is_refused_naming_its_row_and_the_encodings(bundled_raw_copy):
    path = bundled_raw_copy / "cohort1" / paths.CODED_SEGMENTS
    lines = path.read_bytes().split(b"\n")
    lines[6] += b" \x81"
    path.write_bytes(b"\n".join(lines))
    message = str(problems_of(bundled_raw_copy))
    assert f"{path}, row 7: text in UTF-8 (or Windows-1252" in message
    assert "byte 0x81" in message and "tried UTF-8, then Windows-1252" in message


def test_an_importer_reading_a_mixed_file_gets_each_line_in_its_encoding_and_a_note(tmp_path):
    data = "name,quote\nA,café\n".encode() + "B,naïve\n".encode("cp1252") + "C,déjà vu\n".encode()
    notes: list[str] = []
    assert load.decode(tmp_path / "export.csv", data, notes) == "name,quote\nA,café\nB,naïve\nC,déjà vu\n"
    assert len(notes) == 1 and "line(s) 3 are Windows-1252" in notes[0]


# --- 6. control and look-alike characters --------------------------------------------------

def test_control_characters_in_codes_and_themes_are_refused_with_row_column_and_a_visible_value(bundled_raw_copy):
    codebook = bundled_raw_copy / "cohort1" / paths.CODEBOOK
    rows = rows_of(codebook)
    rows[1][0] += "\x0b"
    rows[2][1] += "\x0c"
    write_csv(codebook, rows)
    message = str(problems_of(bundled_raw_copy))
    assert (f"{codebook}, row 2, column 'code': value {rows[1][0][:-1]!r}"[:-1] + "\\x0b' (\\x0b is VERTICAL TAB)"
            in message)
    assert f"{codebook}, row 3, column 'theme'" in message and "\\x0c' (\\x0c is FORM FEED)" in message
    assert "no control characters" in message


def test_control_characters_in_quotes_become_line_breaks_with_a_note(bundled_raw_copy):
    path = bundled_raw_copy / "cohort1" / paths.CODED_SEGMENTS
    rows = rows_of(path)
    rows[2][5] = "page one\x0cpage two\x07"
    write_csv(path, rows)
    inputs = load.load_inputs(bundled_raw_copy, "cohort1")
    assert inputs.cohorts[0].segments.set_index("_row").loc[3, "text"] == "page one\npage two"
    note = next(n for n in inputs.notes if "control character" in n)
    assert f"{path}: column 'text', row(s) 3" in note and "\\x0c (FORM FEED)" in note and "\\x07" in note


@pytest.mark.parametrize("typed, shown, named", [
    ("Service\u2011user engagement", "'Service\\u2011user engagement'", "U+2011 NON-BREAKING HYPHEN"),
    ("Service-user\u00a0engagement", "'Service-user\\xa0engagement'", "U+00A0 NO-BREAK SPACE"),
    ("Service-user engagem\u0435nt", "'Service-user engagem\\u0435nt'", "U+0435 CYRILLIC SMALL LETTER IE"),
    ("Service-user\u200b engagement", "'Service-user\\u200b engagement'", "U+200B ZERO WIDTH SPACE"),
])
def test_look_alike_characters_are_shown_and_the_suggestion_says_what_differs(bundled_raw_copy, typed, shown, named):
    path = bundled_raw_copy / "cohort1" / paths.CODED_SEGMENTS
    rows = rows_of(path)
    assert "Service-user engagement" in {row[3] for row in rows}
    rows[1][3] = typed
    write_csv(path, rows)
    line = next(line for line in str(problems_of(bundled_raw_copy)).splitlines() if ", row 2, column 'code'" in line)
    assert f"value {shown}" in line
    assert "did you mean 'Service-user engagement'? They look alike but differ" in line and named in line


def test_plain_values_are_shown_exactly_as_before():
    for value in ["interview", "it's", 'a"b\'c', "café", "日本語", "", "tab\there"]:
        assert errors.visible(value) == repr(value)


# --- 7. bounded messages, fast suggestions --------------------------------------------------

def test_a_problem_on_thousands_of_rows_is_listed_once_with_the_first_ten(bundled_raw_copy):
    path = bundled_raw_copy / "cohort1" / paths.QUESTIONNAIRE
    rows = rows_of(path)
    head, body = rows[0], rows[1:]
    column = head.index("submitted_at")
    flood = [head] + [[f"R{n:05d}" if i == 0 else (f"{1 + n % 28:02d}/03/2021 09:30" if i == column else cell)
                       for i, cell in enumerate(body[n % len(body)])] for n in range(5_000)]
    write_csv(path, flood)
    error = problems_of(bundled_raw_copy)
    message = str(error)
    assert len([p for p in error.problems if p.column == "submitted_at"]) == 5_000  # each kept for programs
    assert "and 4,999 more rows with the same problem in this column; the first 10 are: row 3 ('02/03/2021 09:30')" \
        in message
    assert len(message.splitlines()) < 20 and len(message) < 10_000


def test_a_transcript_pasted_into_a_role_is_shortened_in_the_message(bundled_raw_copy):
    path = bundled_raw_copy / "cohort1" / paths.QUESTIONNAIRE
    rows = rows_of(path)
    column = rows[0].index("role")
    pasted = ("So I said to him, well, " * 13_000)[:300_000]
    for row in rows[1:]:
        row[column] = pasted
    write_csv(path, rows)
    message = str(problems_of(bundled_raw_copy))
    assert "… (300,000 characters in all)" in message
    assert len(message) < 10_000


def test_a_missing_column_among_100000_names_lists_twenty_of_them(bundled_raw_copy):
    path = bundled_raw_copy / "cohort1" / paths.QUESTIONNAIRE
    rows = rows_of(path)
    consent = rows[0].index("consent")
    wide = [[cell for i, cell in enumerate(row) if i != consent] + [""] * 100_000 for row in rows]
    wide[0][-100_000:] = [f"x_{n}" for n in range(100_000)]
    write_csv(path, wide)
    message = str(problems_of(bundled_raw_copy))
    assert "missing column(s) consent" in message and "and 99,990 more)" in message
    assert len(message) < 5_000, len(message)


def _job_titles(count: int, seed: str) -> list[str]:
    words = ["Senior", "Chief", "Clinical", "Digital", "Data", "Information", "Nursing", "Deputy", "Head", "Lead",
             "Officer", "Manager", "Analyst", "Director", "Consultant", "Specialist", "Informatics", "Programme"]
    titles = []
    for n in range(count):
        digest = hashlib.sha256(f"{seed}{n}".encode()).digest()
        titles.append(" ".join(words[b % len(words)] for b in digest[:3]) + f" {n}")
    return titles


def test_ten_thousand_unmapped_roles_against_ten_thousand_known_get_their_suggestions_in_seconds():
    known = _job_titles(10_000, "known")
    typed = [title[:-1] + "x" if n % 2 else "Unmapped " + title for n, title in enumerate(known)]
    started = time.perf_counter()
    hints = suggest.KnownValues(known).did_you_mean_many(typed, max_changes=suggest.TYPO)
    elapsed = time.perf_counter() - started
    # difflib, value by value, took 171 s for 3,000 against 3,000; this machine is shared, hence the margin.
    assert elapsed < 30, elapsed
    assert hints["Unmapped " + known[0]] == ""
    # The same answers as one value at a time.
    index = suggest.KnownValues(known)
    for value in typed[:200]:
        assert hints[value] == index.did_you_mean(value, max_changes=suggest.TYPO)
    assert sum(bool(h) for h in hints.values()) > 100


def test_a_misspelt_role_still_gets_its_suggestion_among_thousands(bundled_raw_copy):
    known = _job_titles(3_000, "map")
    write_csv(bundled_raw_copy / paths.ROLE_MAP, [["role_as_typed", "role_group"]]
              + [[title, "other"] for title in known] + [["Programme manager", "management"]])
    path = bundled_raw_copy / "cohort1" / paths.QUESTIONNAIRE
    rows = rows_of(path)
    column = rows[0].index("role")
    for row in rows[1:]:
        row[column] = "Programme Manger"
    write_csv(path, rows)
    message = str(problems_of(bundled_raw_copy))
    assert "value 'Programme Manger'" in message and "did you mean 'Programme manager'?" in message


@pytest.mark.e2e
def test_a_failed_run_on_50000_day_first_dates_prints_and_keeps_kilobytes(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(paths.RAW_DIR, raw)
    path = raw / "cohort1" / paths.QUESTIONNAIRE
    rows = rows_of(path)
    head, body = rows[0], rows[1:]
    column = head.index("submitted_at")
    write_csv(path, [head] + [[f"R{n:05d}" if i == 0 else (f"{1 + n % 28:02d}/03/2021 09:30" if i == column else cell)
                               for i, cell in enumerate(body[n % len(body)])] for n in range(50_000)])
    result = subprocess.run(
        ["make", "-s", "report", "COHORT=cohort1", f"RAW_DIR={raw}", f"REPORTS_DIR={tmp_path / 'reports'}",
         f"PROCESSED_DIR={tmp_path / 'processed'}"],
        cwd=paths.PROJECT_ROOT, capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode != 0
    printed = result.stdout + result.stderr
    assert "and 49,999 more rows with the same problem in this column" in printed
    assert len(printed) < 20_000, len(printed)  # was 8.5 MB, 50,610 lines
    # The raw files are checked before any kernel starts, so no executed notebook is kept at all
    # (before: a failed 01_clean.ipynb of 19.4 MB, the problems echoed in its output).
    assert not (tmp_path / "reports" / "_failed" / "cohort1").exists()
