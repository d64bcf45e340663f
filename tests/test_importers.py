"""Importers of real exports (helpers.importers): every format, the mapping, the refusals, round trips.

The fixtures in tests/fixtures/ all describe one small study (tests/fixtures/README.md):
participants P01-P06, four sources, six coded stretches. Each survey fixture, once
imported and cleaned, gives the same four participants; each coding fixture the same
references. The round trips run the real pipeline on an imported cohort and check the
tallies the fixtures were built to give.
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from helpers.data import paths
from helpers.data.errors import InputError
from helpers.data.load import load_inputs
from helpers.importers import KINDS, detect_kind
from helpers.importers.__main__ import cohort_status, main, run_import
from helpers.importers.common import EXIT_CONFIRM, EXIT_OK, EXIT_REFUSED, MappingNeeded

FIX = Path(__file__).resolve().parent / "fixtures"
ROLE_MAP = "role_as_typed,role_group\nGP,clinician\nHead of IM&T,management\nData scientist,data science\n" \
           "Nurse consultant,clinician\n"
QUOTES = {  # segment text the REFI offsets must cut out, whatever precedes it in the source
    "Leading change": "I lead change in my trust now — it’s real.",
    "Speaking up": "I speak up at board and lean on my peers.",
}


# --- helpers ----------------------------------------------------------------------------

def edit(path: Path, *subs: tuple[str, str]) -> None:
    """Confirm a mapping as an analyst would, with some regex edits of their own."""
    text = path.read_text(encoding="utf-8").replace("confirmed = false", "confirmed = true")
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text, flags=re.M)
        assert n, f"{pattern!r} not found in {path}"
    path.write_text(text, encoding="utf-8")


def first_then_confirm(src: Path, cohort: str, raw: Path, *subs, **kwargs):
    """Run an import twice: the first writes the mapping and stops; edit it; the second imports."""
    before = sorted(raw.rglob("*"))
    with pytest.raises(MappingNeeded) as stop:
        run_import(src, cohort, raw, **kwargs)
    assert sorted(raw.rglob("*")) == sorted(set(before) | {stop.value.path, stop.value.path.parent})  # nothing else
    edit(stop.value.path, *subs)
    return run_import(src, cohort, raw, **kwargs)


def build_qdpx(target: Path, bom: bool = True, folder: str = "sources") -> Path:
    """The REFI fixture zipped as a .qdpx (optionally with a BOM and lower-case sources/, as some tools do)."""
    src = FIX / "refi_qda"
    with zipfile.ZipFile(target, "w") as archive:
        qde = (src / "project.qde").read_bytes()
        archive.writestr("project.qde", (b"\xef\xbb\xbf\n" if bom else b"") + qde)
        for text in sorted((src / "Sources").iterdir()):
            archive.write(text, f"{folder}/{text.name}")
    return target


SOURCE_PEOPLE = (  # what an analyst adds for exports that do not link people to sources
    (r'^("Interview (P0\d)" = \{ id = "INT0\d", type = "interview", participants = )\[\]', r'\1["\2"]'),
    (r'^("Focus group 1" = \{ id = "FG01", type = "focus_group", participants = )\[\]', r'\1["P01", "P03", "P04"]'),
)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    return folder


def import_qualtrics(raw: Path, cohort: str = "study"):
    return first_then_confirm(FIX / "qualtrics_choice_text.csv", cohort, raw,
                              (r"^q3_1 = ", "confidence = "), (r"^q3_2 = ", "network = "),
                              (r"^q5 = ", "best = "), (r"^qid9_text = ", "comments = "), (r"^q4 = ", "modules = "))


def import_redcap(raw: Path, cohort: str = "study", *subs):
    return first_then_confirm(FIX / "redcap_records.csv", cohort, raw,
                              (r'^timezone = "UTC"', 'timezone = "Europe/London"'), *subs)


def import_msforms(raw: Path, cohort: str = "study"):
    return first_then_confirm(FIX / "msforms_responses.xlsx", cohort, raw,
                              (r'^timezone = "UTC"', 'timezone = "Europe/London"'),
                              (r"^i_feel_confident_leading_digital = ", "confidence = "),
                              (r"^rate_the_value_of_the_alumni = ", "network = "),
                              (r"^what_was_the_best_thing_about = ", "best = "))


def import_refi(raw: Path, tmp_path: Path, cohort: str = "study", **build):
    return first_then_confirm(build_qdpx(tmp_path / "study.qdpx", **build), cohort, raw)


def import_taguette(raw: Path, cohort: str = "study"):
    return first_then_confirm(FIX / "taguette_highlights.csv", cohort, raw, *SOURCE_PEOPLE,
                              (r'^default_coder = ""', 'default_coder = "TG"'),
                              codebook=FIX / "taguette_codebook.csv")


def import_qualcoder(raw: Path, cohort: str = "study"):
    return first_then_confirm(FIX / "qualcoder_coding_report.csv", cohort, raw, *SOURCE_PEOPLE)


def read(raw: Path, cohort: str, name: str) -> pd.DataFrame:
    return pd.read_csv(raw / cohort / name, dtype=str, keep_default_na=False)


# --- detection and the command line ------------------------------------------------------

@pytest.mark.parametrize("name, kind", [
    ("qualtrics_choice_text.csv", "qualtrics"), ("qualtrics_numeric.csv", "qualtrics"),
    ("qualtrics_legacy.csv", "qualtrics"), ("redcap_records.csv", "redcap"),
    ("msforms_responses.xlsx", "msforms"), ("refi_codebook.qdc", "qdc"),
    ("taguette_highlights.csv", "taguette"), ("qualcoder_coding_report.csv", "qualcoder"),
])
def test_detects_each_fixture_kind(name, kind):
    assert detect_kind(FIX / name) == kind


def test_detects_qdpx_and_names_what_it_cannot_tell(tmp_path):
    assert detect_kind(build_qdpx(tmp_path / "p.qdpx")) == "refi_qda"
    odd = tmp_path / "odd.csv"
    odd.write_text("alpha,beta\n1,2\n")
    with pytest.raises(InputError) as err:
        detect_kind(odd)
    assert f"{odd}, row 1: value 'alpha, beta': an export whose kind can be told from its header; pass --kind" \
        in str(err.value)
    with pytest.raises(InputError, match="this is the data dictionary, which goes with --dictionary"):
        detect_kind(FIX / "redcap_DataDictionary.csv")


def test_help_lists_every_kind():
    result = subprocess.run([sys.executable, "-m", "helpers.importers", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for kind in KINDS:
        assert kind in result.stdout
    assert "--force" in result.stdout and "--raw-dir" in result.stdout


def test_cli_exit_status_for_mapping_import_and_overwrite(raw, capsys):
    argv = [str(FIX / "taguette_highlights.csv"), "--cohort", "c1", "--raw-dir", str(raw)]
    assert main(argv) == EXIT_CONFIRM
    assert "Wrote a starting mapping" in capsys.readouterr().err
    assert main(argv) == EXIT_CONFIRM  # still unconfirmed: still refuses
    assert "is not confirmed yet" in capsys.readouterr().err
    edit(raw / "c1" / "import_coding.toml", *SOURCE_PEOPLE,
         *[(rf'^"{c}" = \{{ theme = "", subtheme = "" \}}', f'"{c}" = {{ theme = "T" }}')
           for c in ("Leading change", "Speaking up", "Peer support", "Time pressure")])
    assert main(argv) == EXIT_OK
    out = capsys.readouterr().out
    assert "wrote" in out and "highlights without a tag" in out and "Still missing" in out
    assert "questionnaire.csv" in out
    assert main(argv) == EXIT_REFUSED
    assert "Refusing to overwrite existing raw files" in capsys.readouterr().err
    assert main(argv + ["--force"]) == EXIT_OK


def test_refuses_the_synthetic_raw_dir(tmp_path):
    fake = tmp_path / "raw"
    fake.mkdir()
    (fake / paths.SYNTHETIC_MARKER).write_text("")
    with pytest.raises(InputError, match="holds the bundled synthetic data"):
        run_import(FIX / "qualtrics_choice_text.csv", "c1", fake)
    assert not (fake / "c1").exists()


def test_refuses_unsafe_cohort_names(raw):
    with pytest.raises(InputError, match="is not a folder name"):
        run_import(FIX / "qualtrics_choice_text.csv", "../escape", raw)


def test_make_import_target(raw):
    """`make import` runs the importer with the quoted variables (the venv is taken as built)."""
    result = subprocess.run(["make", "-s", "-o", ".venv/.installed", "import", f"SRC={FIX / 'qualtrics_legacy.csv'}",
                             "COHORT=legacy", f"RAW_DIR={raw}"], cwd=paths.PROJECT_ROOT, capture_output=True,
                            text=True)
    assert result.returncode != 0 and "Wrote a starting mapping" in result.stderr, result.stdout + result.stderr
    assert (raw / "legacy" / "import_survey.toml").is_file()
    # COHORT must be given: the Makefile's default (cohort1) is the bundled data's name.
    result = subprocess.run(["make", "-s", "-o", ".venv/.installed", "import", f"SRC={FIX / 'qualtrics_legacy.csv'}",
                             f"RAW_DIR={raw}"], cwd=paths.PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode != 0 and "Usage: make import SRC=<export file> COHORT=<name>" in result.stderr


# --- Qualtrics ----------------------------------------------------------------------------

def test_qualtrics_first_run_writes_guesses_and_nothing_else(raw):
    with pytest.raises(MappingNeeded) as stop:
        run_import(FIX / "qualtrics_choice_text.csv", "study", raw)
    text = stop.value.path.read_text()
    assert stop.value.path == raw / "study" / "import_survey.toml"
    assert 'participant_id = "pid"  # GUESS' in text
    assert 'timezone = "Europe/London"  # from the export\'s ImportId row' in text
    assert '"I do not agree" = "no"  # GUESS' in text
    # The two questions exported with the same tag Q5 are named by their ImportId.
    assert 'q5 = "QID5_TEXT"' in text and 'qid9_text = "QID9_TEXT"' in text
    assert 'q4 = ["Q4_1", "Q4_2", "Q4_3"]' in text
    assert sorted(p.name for p in (raw / "study").iterdir()) == ["import_survey.toml"]


def test_qualtrics_choice_text_export(raw):
    outcome = import_qualtrics(raw)
    q = read(raw, "study", "questionnaire.csv")
    assert dict(outcome.dropped) == {"survey preview (Status 1)": 1, "survey test (Status 2)": 1}
    assert q["participant_id"].tolist() == ["P01", "P02", "P03", "P02", "P04", "P05", "P06"]
    assert q.columns.tolist() == ["participant_id", "submitted_at", "consent", "finished", "role", "q_confidence",
                                  "q_network", "text_best", "text_comments", "text_modules"]
    p04 = q.set_index("participant_id").loc["P04"]
    assert p04["submitted_at"] == "2021-06-10T13:00:00Z"  # 14:00 British Summer Time
    assert p04["text_modules"] == "Leadership; Strategy; Data"
    assert q["consent"].tolist() == ["yes"] * 5 + ["no", "yes"]
    assert q["finished"].tolist() == ["yes"] * 6 + ["no"]
    assert q["q_confidence"].tolist() == ["4", "2", "5", "3", "4", "", ""]
    p01 = q.iloc[0]
    assert p01["text_comments"] == "More, please.\nAnd sooner." and p01["text_modules"] == "Leadership; Data"
    assert "text_best <- Q5 [QID5_TEXT]" in outcome.mapped
    assert "ResponseId" in outcome.left_out and outcome.roles == ["Data scientist", "GP", "Head of IM&T",
                                                                  "Nurse consultant"]


def test_qualtrics_numeric_export_needs_role_labels(raw):
    with pytest.raises(MappingNeeded) as stop:
        run_import(FIX / "qualtrics_numeric.csv", "num", raw)
    text = stop.value.path.read_text()
    assert '"1" = "yes"  # GUESS' in text and '"2" = ""  # UNKNOWN: write yes or no' in text  # consent codes
    edit(stop.value.path, (r"^\[text\]", '[text]\nmodules = "Q4"'), (r'^"2" = ""', '"2" = "no"'))
    with pytest.raises(InputError) as err:
        run_import(FIX / "qualtrics_numeric.csv", "num", raw)
    message = str(err.value)
    assert "qualtrics_numeric.csv, column 'Q2': value '1': roles as text: this column holds numeric choice codes" \
        in message and "[values.role]" in message
    edit(stop.value.path, (r"^\[likert\]", '[values.role]\n"1" = "GP"\n"2" = "Data scientist"\n"3" = "Librarian"\n\n'
                                            "[likert]"))
    outcome = run_import(FIX / "qualtrics_numeric.csv", "num", raw)
    q = read(raw, "num", "questionnaire.csv")
    assert dict(outcome.dropped) == {"survey preview (Status 1)": 1}
    assert q[["participant_id", "consent", "finished", "role"]].values.tolist() == [
        ["R_01", "yes", "yes", "GP"], ["R_02", "yes", "yes", "Data scientist"], ["R_03", "no", "no", "Librarian"]]
    assert q["text_modules"].tolist() == ["1,3", "", ""]  # the comma-joined multi-select, kept as exported
    assert q.filter(like="q_").iloc[:, 0].tolist() == ["4", "2", ""]


def test_qualtrics_legacy_layout(raw):
    outcome = first_then_confirm(FIX / "qualtrics_legacy.csv", "legacy", raw)
    q = read(raw, "legacy", "questionnaire.csv")
    assert dict(outcome.dropped) == {"survey preview (Status 1)": 1}
    assert q["participant_id"].tolist() == ["P01", "P02"]  # ExternalDataReference, filled for every response
    assert q["submitted_at"].tolist() == ["2016-05-03T09:10:00Z", "2016-05-04T09:10:00Z"]
    assert q["text_q4"].tolist() == ["Leadership", "Leadership; Data"]
    text = (raw / "legacy" / "import_survey.toml").read_text()
    assert 'consent = "Q1"  # GUESS: Do you consent to take part?' in text
    assert "column19" not in text and "column19" not in outcome.left_out  # the trailing empty column is gone
    assert 'q4 = ["Q4_1", "Q4_2"]  # GUESS: Which modules were most useful?\n' in text


def test_ambiguous_and_unknown_columns_are_named(raw):
    with pytest.raises(MappingNeeded) as stop:
        run_import(FIX / "qualtrics_choice_text.csv", "study", raw)
    edit(stop.value.path, (r'^q5 = "QID5_TEXT"', 'q5 = "Q5"'), (r'^role = "Q2"', 'role = "Job"'),
         (r"^\[columns\]", "[colums]\n[columns]"), (r'^"agree" = 4', '"agree" = 7'))
    with pytest.raises(InputError) as err:
        run_import(FIX / "qualtrics_choice_text.csv", "study", raw)
    message = str(err.value)
    mapping = raw / "study" / "import_survey.toml"
    assert f"{mapping}, column '[text] q5': value 'Q5': one column; 2 columns of qualtrics_choice_text.csv have this " \
           f"header: name one by its key (QID5_TEXT, QID9_TEXT)" in message
    assert f"{mapping}, column '[columns] role': value 'Job': a column of qualtrics_choice_text.csv" in message
    assert f"{mapping}, column 'colums': one of" in message
    assert f"{mapping}, column '[likert_scale] agree': value 7: a whole number from 1 to 5" in message
    assert not (raw / "study" / "questionnaire.csv").exists()


def test_bad_answers_are_listed_with_their_spreadsheet_rows(raw):
    with pytest.raises(MappingNeeded) as stop:
        run_import(FIX / "qualtrics_choice_text.csv", "study", raw)
    edit(stop.value.path, (r'^"I agree" = "yes"  # GUESS\n', ""), (r'^"disagree" = 2  # GUESS\n', ""))
    with pytest.raises(InputError) as err:
        run_import(FIX / "qualtrics_choice_text.csv", "study", raw)
    message = str(err.value)
    src = FIX / "qualtrics_choice_text.csv"
    # Row 5 of the file is P01's response: three header rows, then the dropped preview on row 4.
    assert f"{src}, row 5, column 'Q1': value 'I agree': an answer listed in [values.consent] of " \
           f"import_survey.toml" in message
    assert f"{src}, row 6, column 'Q3_1': value 'Disagree': an answer 1-5, or one listed in [likert_scale]" in message


# --- REDCap -------------------------------------------------------------------------------

def test_redcap_export_with_events_repeats_checkboxes_and_labels(raw):
    outcome = import_redcap(raw)
    q = read(raw, "study", "questionnaire.csv")
    assert dict(outcome.dropped) == {
        "rows of other events (followup_arm_1)": 2,
        "repeating-instrument rows (contact_log); set [redcap] repeat_instrument to use them": 2,
        "not submitted: no submission time and not finished": 1}
    assert q["participant_id"].tolist() == ["P01", "P02", "P03", "P04", "P05"]
    assert q["role"].tolist() == ["GP", "Head of IM&T", "Data scientist", "Nurse consultant", "GP"]  # codes -> labels
    assert q["consent"].tolist() == ["yes"] * 4 + ["no"]
    assert q["text_modules"].tolist() == ["Leadership; Data", "Strategy", "", "Leadership; Strategy; Data", ""]
    assert q["q_confidence"].tolist() == ["4", "3", "5", "4", ""]
    assert q.loc[3, "submitted_at"] == "2021-06-10T13:00:00Z"
    assert any("redcap_DataDictionary.csv (found beside" in n for n in outcome.notes)


def test_redcap_repeating_instrument_as_submissions(raw):
    outcome = import_redcap(raw, "rep", (r'^repeat_instrument = ""', 'repeat_instrument = "contact_log"'))
    q = read(raw, "rep", "questionnaire.csv")
    # The two contact_log instances of P01, with the record's other fields filled in from its main row.
    assert q[["participant_id", "role", "consent"]].values.tolist() == [["P01", "GP", "yes"]] * 2
    assert dict(outcome.dropped)["rows of other events (followup_arm_1)"] == 2


def test_redcap_needs_its_dictionary_and_a_raw_export(tmp_path, raw):
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    shutil.copy(FIX / "redcap_records.csv", alone / "records.csv")
    with pytest.raises(InputError, match=r"its REDCap data dictionary too: pass --dictionary FILE"):
        run_import(alone / "records.csv", "study", raw)
    labels = alone / "labels.csv"
    labels.write_text("Participant ID,Event Name,Complete?\nP01,Baseline,Complete\n")
    with pytest.raises(InputError, match=r"this looks like a 'labels' export"):
        run_import(labels, "study", raw, kind="redcap", dictionary=FIX / "redcap_DataDictionary.csv")


# --- Microsoft Forms ----------------------------------------------------------------------

def test_msforms_workbook(raw):
    outcome = import_msforms(raw)
    q = read(raw, "study", "questionnaire.csv")
    assert q["participant_id"].tolist() == ["P01", "P02", "P03", "P05", "P02", "P04"]
    assert q["finished"].unique().tolist() == ["yes"]
    assert "finished <- constant 'yes'" in outcome.mapped
    assert q["submitted_at"].tolist()[-1] == "2021-06-10T13:00:00Z"
    assert q["q_confidence"].tolist() == ["4", "2", "5", "", "3", "4"]  # Likert text -> 1-5
    assert q["q_network"].tolist() == ["5", "4", "", "", "4", "4"]      # a rating, already 1-5
    assert q["text_which_modules_were_most_useful"].tolist()[-1] == "Leadership; Strategy; Data"


# --- REFI-QDA -----------------------------------------------------------------------------

@pytest.mark.parametrize("bom, folder", [(True, "sources"), (False, "Sources")])
def test_refi_project_segments_cut_by_code_points(raw, tmp_path, bom, folder):
    outcome = import_refi(raw, tmp_path, bom=bom, folder=folder)
    seg = read(raw, "study", "coded_segments.csv")
    assert dict(outcome.dropped) == {"text selections without a coding": 1}
    first = seg[seg["code"] == "Leading change"].iloc[0]
    assert first["text"] == QUOTES["Leading change"] and first["participant_id"] == "P01"
    # Two coders' codings of one selection are one segment: the pipeline counts the reference once.
    assert seg[seg["text"] == QUOTES["Leading change"]]["coder"].tolist() == ["AA", "BB"]
    assert seg[seg["text"] == QUOTES["Leading change"]]["segment_id"].nunique() == 1
    assert seg[seg["code"] == "Speaking up"]["text"].tolist() == [QUOTES["Speaking up"]]
    focus = seg[seg["source_id"] == "FG01"].set_index("code")["participant_id"]
    assert focus.to_dict() == {"Peer support": "P03", "Time pressure": ""}  # SelectionRef, then unattributed
    book = read(raw, "study", "codebook.csv")
    assert book.values.tolist() == [
        ["Leading change", "Leadership", "Confidence", "Leading digital change at work"],
        ["Speaking up", "Leadership", "Confidence", "Speaking up for digital work"],
        ["Peer support", "Leadership", "Networks", "Support from the alumni network"],
        ["Time pressure", "Barriers", "", "No time for digital work"],
        ["Unused code", "Barriers", "", "A code nobody applied"]]
    # Sources get neutral ids (their names often hold a person's name); the mapping keeps the names.
    src = read(raw, "study", "sources.csv")
    assert src.values.tolist() == [["INT01", "interview", "P01"], ["INT02", "interview", "P02"],
                                   ["FG01", "focus_group", "P01;P03;P04"], ["INT03", "interview", "P05"]]
    assert '"Focus group 1" = { id = "FG01", type = "focus_group", participants = ["P01", "P03", "P04"] }' \
        in (raw / "study" / "import_coding.toml").read_text()


def test_refi_codebook_levels_and_renames_from_the_mapping(raw, tmp_path):
    first_then_confirm(build_qdpx(tmp_path / "p.qdpx"), "flat", raw,
                       (r"^subtheme_level = 2", "subtheme_level = 0"),
                       (r'^P03 = "P03"', 'P03 = "P003"'), (r'^BB = "BB"', 'BB = "Coder B"'),
                       (r"^\[codes\]", '[codes]\n"Unused code" = { theme = "Leadership", subtheme = "Spare" }'))
    book = read(raw, "flat", "codebook.csv").set_index("code")
    assert book.loc["Leading change", "subtheme"] == "" and book.loc["Unused code", "subtheme"] == "Spare"
    seg = read(raw, "flat", "coded_segments.csv")
    assert "P003" in seg["participant_id"].tolist() and "Coder B" in seg["coder"].tolist()


def test_qdc_codebook_alone(raw):
    outcome = first_then_confirm(FIX / "refi_codebook.qdc", "books", raw)
    assert [p.name for p in outcome.written] == ["codebook.csv"]
    assert read(raw, "books", "codebook.csv")["code"].tolist() == ["Leading change", "Speaking up", "Peer support",
                                                                  "Time pressure", "Unused code"]


def test_refi_broken_exports_are_named(tmp_path, raw):
    empty = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("Sources/a.txt", "text")
    with pytest.raises(InputError, match=r"a \.qde project file inside the \.qdpx zip; it holds: Sources/a\.txt"):
        run_import(empty, "x", raw)
    not_zip = tmp_path / "not.qdpx"
    not_zip.write_text("<Project/>")
    with pytest.raises(InputError, match=r"a \.qdpx file, which is a zip archive; this file cannot be opened as one"):
        run_import(not_zip, "x", raw)


# --- Taguette and QualCoder ---------------------------------------------------------------

def test_taguette_highlights_with_its_codebook(raw):
    outcome = import_taguette(raw)
    seg = read(raw, "study", "coded_segments.csv")
    assert dict(outcome.dropped) == {"highlights without a tag": 1}
    assert seg[seg["segment_id"] == "H2"]["code"].tolist() == ["Speaking up", "Peer support"]
    assert seg["coder"].unique().tolist() == ["TG"]
    assert read(raw, "study", "codebook.csv")["subtheme"].tolist() == ["Confidence", "Confidence", "Networks", "",
                                                                       ""]


def test_taguette_without_a_tree_refuses_until_each_theme_is_set(raw):
    with pytest.raises(MappingNeeded) as stop:
        run_import(FIX / "taguette_highlights.csv", "flat", raw)
    edit(stop.value.path, *SOURCE_PEOPLE)
    with pytest.raises(InputError) as err:
        run_import(FIX / "taguette_highlights.csv", "flat", raw)
    assert f"{stop.value.path}, column '[codes] Leading change': value '': a theme for every code" in str(err.value)


def test_qualcoder_report(raw, tmp_path):
    outcome = import_qualcoder(raw)
    seg = read(raw, "study", "coded_segments.csv")
    assert dict(outcome.dropped) == {"image and audio/video codings (only text is imported)": 1}
    # ctid:1 (AA) and ctid:7 (BB) coded the same words: one segment.
    assert seg[seg["code"] == "Leading change"]["segment_id"].tolist() == ["ctid:1", "ctid:1", "ctid:4"]
    assert "Nobody has time for this,\nhonestly." in seg["text"].tolist()
    book = read(raw, "study", "codebook.csv").set_index("code")
    assert book.loc["Peer support", ["theme", "subtheme"]].tolist() == ["Leadership", "Networks"]
    assert book.loc["Time pressure", ["theme", "subtheme"]].tolist() == ["Barriers", ""]
    newer = tmp_path / "newer.csv"  # recent QualCoder heads the first column File/case
    newer.write_bytes((FIX / "qualcoder_coding_report.csv").read_bytes().replace(b'"File",', b'"File/case",', 1))
    assert detect_kind(newer) == "qualcoder"


# --- what the analyst is told after an import ----------------------------------------------

def test_status_says_what_is_missing_and_what_the_pipeline_would_refuse(raw, tmp_path):
    import_qualtrics(raw)
    lines = "\n".join(cohort_status(raw, "study"))
    assert "Still missing" in lines and "sources.csv, coded_segments.csv, codebook.csv" in lines
    assert f"Create {raw / 'role_map.csv'} the roles below" in lines and "    Head of IM&T,<group>" in lines
    assert "    role_as_typed,role_group" in lines
    assert not (raw / "role_map.csv").exists()  # the importer never guesses role groups
    import_refi(raw, tmp_path)
    (raw / "role_map.csv").write_text(ROLE_MAP)
    assert cohort_status(raw, "study") == [
        f"Ready: make report COHORT=study RAW_DIR={raw} PSEUDONYM_KEY=<your secret key>"]
    load_inputs(raw, "study")  # every file passes the pipeline's own validator
    (raw / "role_map.csv").write_text(ROLE_MAP.replace("Nurse consultant,clinician\n", ""))
    assert "    Nurse consultant,<group>" in "\n".join(cohort_status(raw, "study"))


def test_status_relays_the_pipelines_own_refusal(raw, tmp_path):
    first_then_confirm(FIX / "qualtrics_legacy.csv", "mixed", raw)  # a survey of P01 and P02 only
    import_refi(raw, tmp_path, "mixed")
    (raw / "role_map.csv").write_text(ROLE_MAP)
    lines = "\n".join(cohort_status(raw, "mixed"))
    assert "The pipeline would refuse this cohort as it stands:" in lines
    assert f"{raw / 'mixed' / 'sources.csv'}, row 4, column 'participant_ids': value 'P03': a participant_id that " \
           f"appears in questionnaire.csv" in lines


# --- round trips: import, run the real pipeline, check the tallies -------------------------

def run_pipeline(cohort: str, raw: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", cohort, "--raw-dir", str(raw),
         "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports")],
        capture_output=True, text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "NHSDA_PSEUDONYM_KEY": "test-key"})


def tallies(out: Path, cohort: str) -> dict:
    tables = out / "reports" / cohort / "tables"
    codes = pd.read_csv(tables / "theme_tallies.csv")
    return {
        "roles": pd.read_csv(tables / "participants_by_role.csv")[["role_group", "n"]].values.tolist(),
        "codes": codes[["code", "references", "sources", "participants"]].values.tolist(),
        "sources": pd.read_csv(tables / "sources_by_type.csv").set_index("source_type")["n"].to_dict(),
        "dropped": pd.read_csv(tables / "cleaning_log_counts.csv").set_index("reason")["rows_dropped"].to_dict(),
        "confidence": pd.read_csv(tables / "likert_summary.csv").set_index("item")
        .loc["confidence", ["n", "n_3", "n_4", "n_5"]].tolist(),
    }


ROLES = [["clinician", 2], ["management", 1], ["data science", 1]]
SOURCES = {"interview": 3, "focus_group": 1, "questionnaire": 0, "dissertation": 0}


def round_trip(raw: Path, out: Path) -> dict:
    (raw / "role_map.csv").write_text(ROLE_MAP)
    result = run_pipeline("study", raw, out)
    assert result.returncode == 0, result.stdout + result.stderr
    html = (out / "reports" / "study" / "report.html").read_text()
    html = re.sub(r"base64,[A-Za-z0-9+/=]+", "", html)  # embedded figures could hold any letters
    assert "Synthetic data." not in html and "P01" not in html  # real data: pseudonyms only
    assert "Interview P0" not in html  # source names stay in the mapping; the report shows neutral ids
    return tallies(out, "study")


@pytest.mark.e2e
def test_round_trip_qualtrics_and_refi_qda(raw, tmp_path):
    import_qualtrics(raw)
    import_refi(raw, tmp_path)
    got = round_trip(raw, tmp_path / "out")
    assert got["roles"] == ROLES and got["sources"] == SOURCES
    assert got["codes"] == [["Leading change", 2, 2, 2], ["Speaking up", 1, 1, 1], ["Peer support", 2, 2, 2],
                            ["Time pressure", 1, 1, 0], ["Unused code", 0, 0, 0]]
    assert got["dropped"] == {"no consent": 1, "questionnaire not finished": 1,
                              "earlier submission of a repeated participant_id": 1,
                              "coded segment of a participant excluded by cleaning": 1}
    assert got["confidence"] == [4, 1, 2, 1]


@pytest.mark.e2e
def test_round_trip_redcap_and_taguette(raw, tmp_path):
    import_redcap(raw)
    import_taguette(raw)
    got = round_trip(raw, tmp_path / "out")
    assert got["roles"] == ROLES and got["sources"] == SOURCES
    # Taguette cannot say who spoke in the focus group: Peer support there counts for nobody.
    assert got["codes"] == [["Leading change", 2, 2, 2], ["Speaking up", 1, 1, 1], ["Peer support", 2, 2, 1],
                            ["Time pressure", 1, 1, 0], ["Unused code", 0, 0, 0]]
    # P06 never submitted (left out by the importer); REDCap keeps one row per record and event.
    assert got["dropped"] == {"no consent": 1, "questionnaire not finished": 0,
                              "earlier submission of a repeated participant_id": 0,
                              "coded segment of a participant excluded by cleaning": 1}
    assert got["confidence"] == [4, 1, 2, 1]


@pytest.mark.e2e
def test_round_trip_msforms_and_qualcoder(raw, tmp_path):
    import_msforms(raw)
    import_qualcoder(raw)
    got = round_trip(raw, tmp_path / "out")
    assert got["roles"] == ROLES and got["sources"] == SOURCES
    assert got["codes"] == [["Leading change", 2, 2, 2], ["Speaking up", 1, 1, 1], ["Peer support", 2, 2, 1],
                            ["Time pressure", 1, 1, 0]]
    assert got["dropped"] == {"no consent": 1, "questionnaire not finished": 0,
                              "earlier submission of a repeated participant_id": 1,
                              "coded segment of a participant excluded by cleaning": 1}
    assert got["confidence"] == [4, 1, 2, 1]


# --- code trees of any depth, names repeated in different branches ----------------------------

def deep_tree_project(tmp_path: Path) -> Path:
    """A 7-level tree: `citizenship` under two parents both named `Rights`, and two siblings named `Other`."""
    def chain(names, leaf):
        return "".join(f'<Code guid="{n}" name="{n.split("#")[0]}" isCodable="true">' for n in names) + leaf + \
            "</Code>" * len(names)
    politics = chain(["Society", "Politics", "National", "Law", "Rights", "Civic"],
                     '<Code guid="c1" name="citizenship" isCodable="true"/>')
    economy = chain(["Society#2", "Economy", "National#2", "Law#2", "Rights#2", "Civic#2"],
                    '<Code guid="c2" name="citizenship" isCodable="true"/><Code guid="o1" name="Other" '
                    'isCodable="true"/><Code guid="o2" name="Other" isCodable="true"/>')
    sel = "".join(f'<PlainTextSelection guid="s{i}" startPosition="{a}" endPosition="{b}"><Coding guid="k{i}">'
                  f'<CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>'
                  for i, (a, b, code) in enumerate([(0, 5, "c1"), (6, 11, "c2"), (0, 11, "o2")]))
    qde = (f'<Project xmlns="urn:QDA-XML:project:1.0" origin="NVivo 14"><CodeBook><Codes>{politics}{economy}'
           f'</Codes></CodeBook><Sources><TextSource guid="t1" name="Interview 1" plainTextPath="internal://t1.txt">'
           f'{sel}</TextSource></Sources></Project>')
    target = tmp_path / "deep.qdpx"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("Sources/t1.txt", "Hello world")
    return target


def test_code_identity_is_its_path_and_names_stay_unique(raw, tmp_path):
    outcome = first_then_confirm(deep_tree_project(tmp_path), "deep", raw,
                                 (r"participants = \[\]", 'participants = ["P01"]'),
                                 (r"^\[codes\]", '[codes]\n"Society > Economy > National > Law > Rights > Civic > '
                                                 'citizenship" = { subtheme = "Economic rights" }'))
    book = read(raw, "deep", "codebook.csv")
    assert book[["code", "theme", "subtheme"]].values.tolist() == [
        ["citizenship (Politics > National > Law > Rights > Civic)", "Society", "Politics"],
        ["citizenship (Economy > National > Law > Rights > Civic)", "Society", "Economic rights"],
        ["Other", "Society", "Economy"], ["Other [2]", "Society", "Economy"]]
    seg = read(raw, "deep", "coded_segments.csv")
    assert seg[["text", "code"]].values.tolist() == [
        ["Hello", "citizenship (Politics > National > Law > Rights > Civic)"],
        ["world", "citizenship (Economy > National > Law > Rights > Civic)"], ["Hello world", "Other [2]"]]
    assert any("written with their nearest distinguishing ancestors" in n for n in outcome.notes)


def test_mapping_shows_how_each_path_becomes_theme_and_subtheme(raw, tmp_path):
    with pytest.raises(MappingNeeded) as stop:
        run_import(deep_tree_project(tmp_path), "deep", raw)
    text = stop.value.path.read_text()
    assert "subtheme_level = 2  # GUESS: the code tree is 7 levels deep" in text
    assert ("# citizenship (Politics > National > Law > Rights > Civic): tree Society > Politics > National > Law > "
            "Rights > Civic > citizenship -> theme 'Society', subtheme 'Politics'") in text


# --- what the importer says about thin or odd exports --------------------------------------------

def test_project_with_codes_and_no_sources_says_so(raw, tmp_path):
    target = tmp_path / "codes_only.qdpx"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("project.qde", '<Project xmlns="urn:QDA-XML:project:1.0" origin="ATLAS.ti 23"><CodeBook>'
                                        '<Codes><Code guid="a" name="Alpha" isCodable="true"/></Codes></CodeBook>'
                                        '</Project>')
    outcome = first_then_confirm(target, "codes", raw, (r'^Alpha = \{ theme = ""', 'Alpha = { theme = "T"'))
    assert [p.name for p in outcome.written] == ["codebook.csv"]
    assert "codes_only.qdpx holds a code tree but no sources and no codings: only codebook.csv is written" in \
        " ".join(outcome.notes)


def test_missing_role_names_role_not_consent(raw):
    with pytest.raises(MappingNeeded) as stop:
        run_import(FIX / "qualtrics_choice_text.csv", "norole", raw)
    edit(stop.value.path, (r'^role = ".*$', 'role = ""'))
    with pytest.raises(InputError) as err:
        run_import(FIX / "qualtrics_choice_text.csv", "norole", raw)
    assert "column '[columns] role': value '': an export column for role in [columns], or a fixed value in " \
           "[constants] (e.g. role = \"GP\" when every respondent has the same role)" in str(err.value)
    assert 'role = "yes"' not in str(err.value)


def test_wide_qualtrics_export_imports_without_pandas_warnings(raw, tmp_path):
    # 518 responses x 150 rating items, as the wide real survey that gave 82 PerformanceWarnings.
    items = [f"Q{i}_1" for i in range(1, 151)]
    tags = ["StartDate", "EndDate", "Status", "Finished", "RecordedDate", "ResponseId", "Q0", "role"] + items
    texts = tags[:6] + ["Do you consent?", "Your role"] + [f"Item {i}" for i in range(1, 151)]
    ids = [f'{{"ImportId":"{t}"}}' for t in ["startDate", "endDate", "status", "finished", "recordedDate",
                                               "_recordId", "QID0", "QID99"]] + \
        [f'{{"ImportId":"QID{i}_1"}}' for i in range(1, 151)]
    rows = [[f"2021-01-01 10:{n % 60:02d}:00", "2021-01-01 10:30:00", "0", "1", "2021-01-01 10:30:00", f"R_{n}",
             "Yes", "GP"] + [str(1 + (n + i) % 5) for i in range(150)] for n in range(518)]
    export = tmp_path / "wide.csv"
    with open(export, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([tags, texts, ids] + rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first_then_confirm(export, "wide", raw)
    q = read(raw, "wide", "questionnaire.csv")
    assert q.shape == (518, 5 + 150) and q["q_q150_1"].iloc[0] == str(1 + 149 % 5)


def test_qualcoder_selections_are_placed_by_the_words_they_store(raw, tmp_path):
    # QualCoder stores each selection's words in its name: they say which unit each position is in.
    sels = "".join(f'<PlainTextSelection guid="s{i}" name="{words}" startPosition="{a}" endPosition="{b}">'
                   f'<Coding guid="k{i}"><CodeRef targetGUID="c1"/></Coding></PlainTextSelection>'
                   for i, (words, a, b) in enumerate([("Hello", 3, 8), ("world", 8, 13)]))
    qde = ('<Project xmlns="urn:QDA-XML:project:1.0" origin="QualCoder 3.5"><CodeBook><Codes><Code guid="c1" '
           f'name="Greeting" isCodable="true"/></Codes></CodeBook><Sources><TextSource guid="t1" name="Interview 1" '
           f'plainTextPath="internal://t1.txt">{sels}</TextSource></Sources></Project>')
    target = tmp_path / "qc.qdpx"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("Sources/t1.txt", "😀 Hello world")
    first_then_confirm(target, "qc", raw, (r'^Greeting = \{ theme = ""', 'Greeting = { theme = "T"'),
                       (r"participants = \[\]", 'participants = ["P01"]'))
    # "Hello" at 3..8 counts the emoji as two units; "world" at 8..13 as one: both cut right.
    assert read(raw, "qc", "coded_segments.csv")["text"].tolist() == ["Hello", "world"]
