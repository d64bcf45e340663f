"""Hostile files, clumsy hands and kills (issue 14): nothing read that should not be, nothing
leaked, nothing lost.

Rules are tested in process, on small hand-made inputs. A few runs of the real entry points
(`make report`, the runner) prove the targets on everything a run publishes:
0 formula-leading cells in any CSV under reports/, 0 raw ids in anything written with a key
set, 0 counts at or below MIN_COUNT in anything published; and publishing is killed at every
one of its system calls, each time leaving a complete report.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tree_hash, write_csv

from helpers.analysis import clean, themes
from helpers.analysis.disclosure import REDACTED, Disclosure, shown_count
from helpers.data import load, paths, plan, privacy, store
from helpers.data.errors import InputError
from helpers.data.params import check_cohort_name, check_folder, check_key
from helpers.report import outputs, readings
from helpers.runner import pipeline, steps

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
KEY = "pa$sw0rd$(x)-$$tail-123"  # as typed; make used to turn it into paw0rd-$tail-123
RULES = Disclosure(7, 5)
# The bundled cohort's smallest agreement block has 33 decisions: a higher threshold reaches it.
AGREEMENT_RULES = Disclosure(40, 5)


def hmac_pseudonym(raw_id: str, key: str) -> str:
    return "PT-" + hmac.new(key.encode(), raw_id.encode(), hashlib.sha256).hexdigest()[:10]


# --- CSV formula neutralisation ---------------------------------------------------------

def test_formula_leading_text_cells_are_written_with_an_apostrophe_and_numbers_as_numbers(tmp_path):
    frame = pd.DataFrame({
        "code": ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "'=already", "plain"],
        "kappa": [-0.25, 0.5, -1.0, 0.0, 1.0, -0.125, 0.3, 0.4],
        "n": [-3, 1, 2, 3, 4, 5, 6, 7],
        "mixed": [REDACTED, 10, -5, "-text", 1.5, "x", "", "=1"],
    })
    store.write_table(frame, tmp_path, "t.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_bytes().decode(), newline="")))
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "-0.25", "-3", REDACTED]
    # (A lone carriage return inside a cell is not quoted by Python's csv writer: read the frame.)
    assert pd.read_csv(tmp_path / "t.csv", dtype=str)["code"].tolist() == [
        "'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\rcmd", "''=already", "plain"]
    frame_back = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert frame_back["n"].tolist() == ["-3", "1", "2", "3", "4", "5", "6", "7"]  # numbers untouched
    assert frame_back["kappa"].iloc[0] == "-0.25"
    assert frame_back["mixed"].tolist() == [REDACTED, "10", "-5", "'-text", "1.5", "x", "", "'=1"]


def test_read_table_gives_back_every_neutralised_cell_exactly(tmp_path):
    texts = ["=1", "'=1", "''@x", "'plain", "-x", "+", "@", "a=b", "", "x'"]
    store.write_table(pd.DataFrame({"=col": texts, "v": range(len(texts))}), tmp_path, "t.csv")
    back = store.read_table(tmp_path, "t.csv")
    assert list(back.columns) == ["=col", "v"]
    assert back["=col"].fillna("").tolist() == texts
    # pandas alone gets the apostrophes, predictably: one in front of each neutralised cell.
    plain = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert plain.columns[0] == "'=col" and plain.iloc[:3, 0].tolist() == ["'=1", "''=1", "'''@x"]


def test_a_table_without_formula_cells_is_written_unchanged(tmp_path):
    frame = pd.DataFrame({"theme": ["Leadership", "Data"], "n": [3, -1], "pct": [50.0, 50.0]})
    store.write_table(frame, tmp_path, "t.csv")
    assert (tmp_path / "t.csv").read_text() == frame.to_csv(index=False, lineterminator="\n")


# --- reading hostile files ---------------------------------------------------------------

def _segments_with(tiny_raw: Path, rows: int, text_of) -> Path:
    path = tiny_raw / "tiny" / "coded_segments.csv"
    body = [["segment_id", "source_id", "participant_id", "code", "coder", "text"]]
    body += [[f"S{i}", "I1", "A", "Alpha", "c1", text_of(i)] for i in range(rows)]
    return write_csv(path, body)


def test_a_nul_byte_far_into_a_file_is_refused_naming_file_row_and_column(tiny_raw):
    path = _segments_with(tiny_raw, 300, lambda i: f"an ordinary quote number {i}")
    data = path.read_bytes()
    assert data.index(b"number 250") > 4096  # beyond the UTF-16 sniffing of the first 4 KB
    path.write_bytes(data.replace(b"number 250", b"number \x00250"))
    with pytest.raises(InputError) as caught:
        load.load_inputs(tiny_raw, "tiny")
    text = str(caught.value)
    assert f"{path}, row 252, column 'text'" in text and "NUL" in text, text


def test_a_nul_byte_in_redact_names_is_refused_naming_the_line(tiny_raw):
    (tiny_raw / paths.REDACT_NAMES).write_bytes(b"Mary Smith\nJohn\x00 Doe\n")
    with pytest.raises(InputError, match=r"redact_names.txt, line 2: holds a NUL byte"):
        privacy.read_redact_names(tiny_raw)


@pytest.mark.parametrize("size", [150_000, 9_000_000])
def test_long_quotes_are_read_whole(tiny_raw, size):
    long_quote = "word, \"quoted\"\nand a line break " * (size // 33)
    _segments_with(tiny_raw, 3, lambda i: long_quote if i == 1 else "short")
    inputs = load.load_inputs(tiny_raw, "tiny")
    assert inputs.cohorts[0].segments["text"].tolist() == ["short", long_quote, "short"]


def test_a_cell_beyond_10_mb_is_refused_with_the_documented_limit(tiny_raw):
    path = _segments_with(tiny_raw, 3, lambda i: "x" * (load.MAX_CELL_CHARS + 1) if i == 1 else "short")
    with pytest.raises(InputError) as caught:
        load.load_inputs(tiny_raw, "tiny")
    assert f"{path}, row 3: cells of at most 10,485,760 characters (10 MB" in str(caught.value)


def test_a_repeated_header_name_among_100000_columns_is_found_at_once(tiny_raw):
    path = tiny_raw / "tiny" / "questionnaire.csv"
    rows = list(csv.reader(path.open()))
    extra = [f"x_{i}" for i in range(100_000)] + ["x_5"]
    write_csv(path, [rows[0] + extra] + [r + [""] * len(extra) for r in rows[1:]])
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"the header repeats 'x_5'"):
        load.load_inputs(tiny_raw, "tiny")
    assert time.perf_counter() - started < 30  # was 330 s: header.count() per name


def test_notes_on_a_wide_header_name_a_few_columns_and_count_the_rest(tiny_raw):
    path = tiny_raw / "tiny" / "questionnaire.csv"
    rows = list(csv.reader(path.open()))
    extra = [f"x_{i}" for i in range(5_000)]
    write_csv(path, [rows[0] + extra] + [r + [""] * len(extra) for r in rows[1:]])
    notes = load.load_inputs(tiny_raw, "tiny").notes
    assert len(notes) == 1 and "5,000 extra columns ('x_0', 'x_1'" in notes[0] and "and 4,980 more" in notes[0]
    assert len(notes[0]) < 600


def test_thousands_of_likert_columns_are_refused_as_an_export_mistake(tiny_raw):
    path = tiny_raw / "tiny" / "questionnaire.csv"
    rows = list(csv.reader(path.open()))
    items = [f"q_item{i}" for i in range(load.MAX_LIKERT_ITEMS + 1)]
    write_csv(path, [rows[0] + items] + [r + ["3"] * len(items) for r in rows[1:]])
    with pytest.raises(InputError, match=r"row 1: at most 100 Likert items .* the header has 102"):
        load.load_inputs(tiny_raw, "tiny")


# --- privacy ---------------------------------------------------------------------------

@pytest.mark.parametrize("number", [
    "(020) 7946 0018", "(0161) 496 0000", "0044 20 7946 0018", "+44 20 7946 0018", "+44 (0)20 7946 0018",
    "+44(0)2079460018", "020 7946 0018", "020-7946-0018", "07700 900123", "07700900123", "+447700900123",
    "(01632) 960 001", "01632 960001", "0044 (0) 161 496 0000",
])
def test_every_common_uk_phone_form_is_scrubbed_whole(number):
    assert privacy.scrub(pd.Series([f"Call me on {number} after five."])).tolist() == [
        "Call me on [phone] after five."]


def test_phone_scrubbing_leaves_years_and_counts_alone():
    text = "In 2021 we ran 12 sites for 1500 staff; 3 of 26 said so."
    assert privacy.scrub(pd.Series([text])).tolist() == [text]


def _with_embedded_ids(raw: Path, cohort: str) -> None:
    """Questionnaire sources named after their respondent (Q-A), segments too (A-seg1)."""
    write_csv(raw / cohort / "sources.csv", [
        ["source_id", "source_type", "participant_ids"],
        ["I1", "interview", "A"], ["Q-A", "questionnaire", "A"], ["B_interview", "interview", "B"],
        ["F1", "focus_group", "A;B;C"], ["D", "dissertation", "D"]])
    write_csv(raw / cohort / "coded_segments.csv", [
        ["segment_id", "source_id", "participant_id", "code", "coder", "text"],
        ["A-seg1", "I1", "A", "Alpha", "c1", "q"], ["A-seg2", "Q-A", "A", "Beta", "c1", "q"],
        ["seg/B/1", "B_interview", "B", "Alpha", "c1", "q"], ["S3", "F1", "", "Gamma", "c1", "q"],
        ["D.1", "D", "D", "Gamma", "c1", "q"]])


def _parts(value: str) -> set[str]:
    return set(re.split(r"[^0-9A-Za-z]+", value))


@pytest.mark.parametrize("pooled", [False, True])
def test_participant_ids_inside_source_and_segment_ids_are_pseudonymised(tiny_raw, pooled):
    _with_embedded_ids(tiny_raw, "tiny")
    if pooled:
        shutil.copytree(tiny_raw / "tiny", tiny_raw / "tiny2")
    cohort = "all" if pooled else "tiny"
    cleaned = clean.pseudonymise(clean.clean(load.load_inputs(tiny_raw, cohort), pooled=pooled), "k")
    raw_ids = {"A", "B", "C", "D", "E"}
    for frame in (cleaned.sources, cleaned.segments):
        for column in ("source_id", "segment_id"):
            if column in frame:
                leaked = [v for v in frame[column] if _parts(v) & raw_ids]
                assert not leaked, (column, leaked)
    prefix = "tiny/" if pooled else ""
    a = hmac_pseudonym(prefix + "A", "k")
    assert f"{prefix}Q-{a}" in set(cleaned.sources["source_id"])
    assert f"{a}-seg1" in set(cleaned.segments["segment_id"])  # `tiny/A` is one id: the pooled participant's
    assert f"{prefix}seg/{hmac_pseudonym(prefix + 'B', 'k')}/1" in set(cleaned.segments["segment_id"])
    # Ids without a participant id in them are kept, and sources still join their segments.
    assert f"{prefix}I1" in set(cleaned.sources["source_id"]) and f"{prefix}S3" in set(cleaned.segments["segment_id"])
    assert set(cleaned.segments["source_id"]) <= set(cleaned.sources["source_id"])


def test_keys_and_parameters_with_control_characters_are_refused():
    for bad in ("probe\n", "cohort1\r", "co\thort", "a\x00b", "x\u2028y"):
        with pytest.raises(InputError, match="control characters|not a folder name"):
            check_cohort_name(bad)
    with pytest.raises(InputError, match="control characters"):
        check_folder("/tmp/raw\n", "RAW_DIR")
    with pytest.raises(InputError, match=r"control characters \(\\n\)") as caught:
        check_key("secret\n", "the environment variable NHSDA_PSEUDONYM_KEY")
    assert "secret" not in str(caught.value)  # the key is never shown
    assert check_key(KEY, "x") == KEY and check_cohort_name("cohort1") == "cohort1"


# --- disclosure control --------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled_cohort1():
    inputs = load.load_inputs(paths.RAW_DIR, "cohort1")
    cleaned = clean.pseudonymise(clean.clean(inputs, pooled=False), privacy.SYNTHETIC_KEY)
    return cleaned, themes.references(cleaned)


def _protected(values: pd.Series, rules: Disclosure) -> bool:
    """Every cell redacted, or a count above min_count and a multiple of round_to (a blank cell, such
    as the joint display's for an item paired with no theme, holds no count)."""
    numbers = pd.to_numeric(values[~values.astype(str).isin([REDACTED, "", "nan"])])
    return bool(((numbers > rules.min_count) & (numbers % rules.round_to == 0)).all())


def test_agreement_counts_are_controlled_and_statistics_of_few_decisions_redacted(bundled_cohort1):
    cleaned, _ = bundled_cohort1
    plain = themes.agreement_table(cleaned)
    rules = AGREEMENT_RULES
    shown = themes.agreement_table(cleaned, rules)
    assert list(shown.columns) == list(plain.columns)
    assert (plain["units"] <= rules.min_count).any() and (plain["sources"] <= rules.min_count).any()
    for column in ("units", "sources"):
        assert _protected(shown[column], rules), shown[column].tolist()
    few = plain["units"] <= rules.min_count
    for column in ("agreement_pct", "cohen_kappa", "krippendorff_alpha"):
        assert (shown.loc[few, column] == REDACTED).all()
    pooled = shown[shown["code"] == "(all codes pooled)"]
    assert pooled["cohen_kappa"].astype(str).ne(REDACTED).any()  # large blocks keep their statistics


def test_saturation_counts_are_controlled(bundled_cohort1):
    cleaned, refs = bundled_cohort1
    plain = themes.saturation_table(refs, cleaned)
    shown = themes.saturation_table(refs, cleaned, RULES)
    assert (plain["new_codes"] <= 7).any()
    for column in ("codes", "new_codes", "cumulative_codes"):
        assert _protected(shown[column], RULES), shown[column].tolist()
    assert (shown.loc[plain["new_codes"] <= 7, "new_codes"] == REDACTED).all()
    assert readings.saturation(shown)  # a sentence, not a crash on [REDACTED]


def test_every_published_output_is_under_disclosure_control():
    exempt = [o.name for o in outputs.OUTPUTS if o.disclosure.startswith("exempt")]
    assert not exempt


def test_a_reading_never_sums_a_redacted_cell_as_zero():
    likert = pd.DataFrame({"item": ["q_a", "q_b"], "pct_agree": [60.0, 40.0], "ci_low": [1, 1], "ci_high": [2, 2],
                           "missing": [REDACTED, REDACTED]})
    text = readings.likert(likert)
    assert "0 answers" not in text and "redacted" in text
    likert["missing"] = [2, 3]
    assert "5 answers were left blank" in readings.likert(likert)
    sources = pd.DataFrame({"source_type": ["interview", "dissertation"], "n": [10, 15],
                            "double_coded": [REDACTED, 15]})
    assert "15 sources" not in readings.sources(sources) and "redacted" in readings.sources(sources)
    agreement = pd.DataFrame({"code": ["(all codes pooled)"] * 2, "coders": ["AA & RB", "all coders"],
                              "units": [REDACTED, 40], "sources": [REDACTED, 10], "agreement_pct": [REDACTED, 90.0],
                              "cohen_kappa": [REDACTED, np.nan], "krippendorff_alpha": [np.nan, REDACTED]})
    assert "Cohen's kappa [REDACTED]" in readings.agreement(agreement)


def test_counts_a_notebook_prints_are_the_protected_ones():
    assert shown_count(26, RULES) == 25 and shown_count(7, RULES) == REDACTED and shown_count(3, Disclosure()) == 3


# --- parameters through make ----------------------------------------------------------------

@pytest.mark.parametrize("variable", ["COHORT", "RAW_DIR", "MIN_COUNT", "ROUND_TO", "JOBS", "PSEUDONYM_KEY",
                                      "REPORTS_DIR"])
def test_make_never_runs_shell_functions_in_a_parameter(variable, tmp_path):
    marker = tmp_path / "PWNED"
    settings = {"COHORT": "no-such-cohort", variable: f"$(shell touch {marker})"}
    result = subprocess.run(["make", "-s", "report"] + [f"{k}={v}" for k, v in settings.items()],
                            cwd=paths.PROJECT_ROOT, capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode != 0, result.stdout
    assert not marker.exists()


def test_make_import_never_runs_shell_functions_in_src(tmp_path):
    marker = tmp_path / "PWNED"
    result = subprocess.run(["make", "-s", "import", f"SRC=$(shell touch {marker})", "COHORT=x",
                             f"RAW_DIR={tmp_path}"], cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
                            env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode != 0 and not marker.exists()


@pytest.mark.parametrize("variable", ["COHORT", "RAW_DIR", "PSEUDONYM_KEY"])
def test_make_refuses_a_newline_in_a_parameter_before_anything_runs(variable):
    result = subprocess.run(["make", "-s", "report", f"{variable}=probe\n"], cwd=paths.PROJECT_ROOT,
                            capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode != 0
    assert f"ERROR: {variable} contains a newline" in result.stderr and "Building" not in result.stdout


def test_make_passes_a_key_with_dollars_exactly(tmp_path):
    """The key reaches the runner as typed, in its environment: a stand-in for the venv's
    Python writes down the key and the arguments it was given."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text("#!/bin/sh\nprintf '%s' \"$NHSDA_PSEUDONYM_KEY\" > \"$KEY_SEEN\"\n"
                                 "printf '%s\\n' \"$@\" > \"$ARGS_SEEN\"\n")
    (fake / "python").chmod(0o755)
    seen, args = tmp_path / "key", tmp_path / "args"
    (tmp_path / ".installed").touch()  # the stand-in's "virtual environment" is ready
    result = subprocess.run(["make", "-s", "report", f"PSEUDONYM_KEY={KEY}", "COHORT=a$$b$(x)",
                             f"PY={fake / 'python'}", f"VENV={tmp_path}"], cwd=paths.PROJECT_ROOT,
                            capture_output=True, text=True,
                            env={**os.environ, "MAKEFLAGS": "", "KEY_SEEN": str(seen), "ARGS_SEEN": str(args)})
    assert result.returncode == 0, result.stderr
    assert seen.read_text() == KEY
    assert args.read_text().splitlines()[:4] == ["-m", "helpers.runner.pipeline", "--cohort", "a$$b$(x)"]
    assert KEY not in args.read_text()  # never on a command line


# --- the build folder ---------------------------------------------------------------------

def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    build_root = tmp_path / "reports" / pipeline.BUILD_DIR
    build_root.mkdir(parents=True)
    (build_root / "cohort1.lock").symlink_to(victim)
    with pytest.raises(pipeline.PipelineError, match="symbolic links the pipeline did not make"):
        pipeline.run("cohort1", paths.RAW_DIR, tmp_path / "processed", tmp_path / "reports")
    assert victim.read_text() == "precious"
    with pytest.raises(pipeline.PipelineError, match="lock file"):
        with pipeline._cohort_lock(build_root, "cohort1"):
            pass
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("planted", ["state.json.tmp", "state.json", "run", "steps/01_clean", "raw"])
def test_a_symlink_planted_in_the_build_folder_stops_the_run_before_it_writes(tmp_path, planted):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    link = tmp_path / "reports" / pipeline.BUILD_DIR / "cohort1" / planted
    link.parent.mkdir(parents=True)
    link.symlink_to(victim)
    with pytest.raises(pipeline.PipelineError, match=re.escape(f"{link} -> {victim}")):
        pipeline.run("cohort1", paths.RAW_DIR, tmp_path / "processed", tmp_path / "reports")
    assert [p.name for p in victim.iterdir()] == ["keep.txt"] and (victim / "keep.txt").read_text() == "precious"


def test_state_is_written_without_following_a_link(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "state.json.tmp").symlink_to(victim)
    pipeline._write_json(tmp_path / "state.json", {"a": 1})
    assert victim.read_text() == "precious" and json.loads((tmp_path / "state.json").read_text()) == {"a": 1}


def test_an_unwritable_output_folder_is_refused_before_any_step_runs(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for reports, processed in ((blocker / "reports", tmp_path / "processed"),
                               (tmp_path / "reports", blocker / "processed")):
        with pytest.raises(pipeline.PipelineError, match=r"Cannot write to the (reports|processed) folder .* "
                                                         r"Nothing was run and nothing was changed"):
            pipeline.run("cohort1", paths.RAW_DIR, processed, reports)
        assert "Building" not in capsys.readouterr().out


def test_the_steps_read_a_snapshot_fingerprinted_by_the_bytes_copied(tmp_path, bundled_raw_copy):
    raw = bundled_raw_copy
    cached = steps.Digests(raw)
    params = {"cohort": "cohort1", "raw_dir": str(raw), "min_count": 0, "round_to": 0}
    before, _ = steps.fingerprints(paths.NOTEBOOKS_DIR, raw, params, cached)
    snapshot = steps.Snapshot(raw, tmp_path / "snap")
    taken, inputs = steps.fingerprints(paths.NOTEBOOKS_DIR, raw, params, snapshot)
    assert taken == before
    questionnaire = raw / "cohort1" / "questionnaire.csv"
    original = questionnaire.read_bytes()
    questionnaire.write_bytes(original.replace(b"P001,", b"P1001,"))  # edited while the run goes on
    copy = tmp_path / "snap" / "cohort1" / "questionnaire.csv"
    assert copy.read_bytes() == original
    assert inputs["01_clean.ipynb"]["raw"]["cohort1/questionnaire.csv"] == hashlib.sha256(original).hexdigest()
    assert sorted(str(p.relative_to(tmp_path / "snap")) for p in (tmp_path / "snap").rglob("*") if p.is_file()) \
        == sorted(str(p.relative_to(raw)) for p in steps.raw_files(raw, "cohort1"))
    # The changed file is a change for the next run, whatever it was while the run read it.
    after, _ = steps.fingerprints(paths.NOTEBOOKS_DIR, raw, params, steps.Digests(raw, snapshot.record()))
    assert after["01_clean.ipynb"] != taken["01_clean.ipynb"]


def test_fingerprint_inputs_hold_no_raw_path_and_no_fast_key_tag(bundled_raw_copy, monkeypatch):
    monkeypatch.setenv("NHSDA_PSEUDONYM_KEY", KEY)
    digests = steps.Digests(bundled_raw_copy)
    params = {"cohort": "cohort1", "raw_dir": str(bundled_raw_copy), "min_count": 0, "round_to": 0}
    salt = os.urandom(16).hex()
    fingerprints, inputs = steps.fingerprints(paths.NOTEBOOKS_DIR, bundled_raw_copy, params, digests, salt)
    text = json.dumps([inputs, digests.record()])
    old_tag = hmac.new(KEY.encode(), b"nhsda-build-fingerprint", "sha256").hexdigest()[:16]
    assert str(bundled_raw_copy) not in text and old_tag not in text and KEY not in text
    assert inputs["01_clean.ipynb"]["environment"]["pseudonym key"] == hashlib.scrypt(
        KEY.encode(), salt=bytes.fromhex(salt), n=2 ** 14, r=8, p=1, dklen=16).hex()
    other, _ = steps.fingerprints(paths.NOTEBOOKS_DIR, bundled_raw_copy, params, digests, os.urandom(16).hex())
    assert other != fingerprints  # a salt of its own per build folder
    monkeypatch.setenv("NHSDA_PSEUDONYM_KEY", KEY + "x")
    changed, _ = steps.fingerprints(paths.NOTEBOOKS_DIR, bundled_raw_copy, params, digests, salt)
    assert changed["01_clean.ipynb"] != fingerprints["01_clean.ipynb"]  # another key rebuilds


# --- publishing, killed at every system call ------------------------------------------------

class Killed(BaseException):
    """A kill: not an Exception, so no handler of the code under test can catch it."""


CALLS = ("link", "symlink", "replace", "rename", "unlink", "mkdir", "rmdir", "open", "remove")


@pytest.fixture
def count_calls(monkeypatch):
    """count_calls(limit): every os call of CALLS counts; the call numbered `limit` is killed."""
    state = {"n": 0, "limit": None}
    for name in CALLS:
        real = getattr(os, name)

        def wrapper(*args, _real=real, **kwargs):
            state["n"] += 1
            if state["limit"] is not None and state["n"] == state["limit"]:
                raise Killed(state["n"])
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, wrapper)

    def arm(limit):
        """Count from 0 again, killing call number `limit` (None: none); the count so far."""
        counted = state["n"]
        state["n"], state["limit"] = 0, limit
        return counted

    return arm


def _stage(build: pipeline.Build, label: str) -> dict[str, list[str]]:
    """Every step's outputs, written into its staging folder, each file saying `label`."""
    fresh = {}
    for i, name in enumerate(plan.NOTEBOOKS):
        stem = Path(name).stem
        files = [f"reports/{build.cohort}/tables/{stem}.csv", f"reports/{build.cohort}/notebooks/{name}"]
        files += [f"processed/{build.cohort}/{stem}.parquet"] if i == 0 else []
        files += [f"reports/{build.cohort}/report.html"] if i == len(plan.NOTEBOOKS) - 1 else []
        for relative in files:
            target = build.staging(name) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"{label} {relative}")
        fresh[name] = files
    return fresh


def _publish(root: Path, label: str, count_calls=None, limit=None) -> None:
    build = pipeline.Build(root / "reports" / ".build" / "c", "c", root / "processed", root / "reports")
    fresh = _stage(build, label)
    prints = {name: label for name in plan.NOTEBOOKS}
    if count_calls is not None:
        count_calls(limit)
    pipeline._publish(build, fresh, prints, {n: {} for n in plan.NOTEBOOKS}, steps.Digests(root))


def _published(root: Path) -> tuple[str, str]:
    """(label of the report in reports/c, label of processed/c), each checked complete."""
    labels = []
    for tree, count in (("reports", 11), ("processed", 1)):
        files = sorted(p for p in (root / tree / "c").rglob("*") if p.is_file()) if (root / tree / "c").exists() \
            else []
        assert len(files) == count, (tree, files)
        found = {p.read_text().split()[0] for p in files}
        assert len(found) == 1, (tree, found)  # never half old, half new
        labels.append(found.pop())
    return labels[0], labels[1]


@pytest.mark.parametrize("first_layout", ["versioned",  # (a layout older runners left: `make test` only)
                                          pytest.param("folders of an earlier version", marks=pytest.mark.slow)])
def test_a_kill_at_any_system_call_of_publishing_leaves_a_complete_report(tmp_path, count_calls, first_layout):
    calls = None
    limit = 1
    while calls is None or limit <= calls:
        root = tmp_path / str(limit)
        _publish(root, "old")
        if first_layout != "versioned":  # as published before reports were versioned: two real folders
            for tree in ("reports", "processed"):
                link = root / tree / "c"
                real = link.resolve()
                link.unlink()
                shutil.copytree(real, link)
            shutil.rmtree(root / "reports" / ".build")
        try:
            _publish(root, "new", count_calls, limit)
            calls = count_calls(None)  # not killed: every call is now counted
        except Killed:
            count_calls(None)
            report, processed = _published(root)
            if first_layout == "versioned":
                assert report == processed  # both trees switch together
        else:
            assert _published(root) == ("new", "new")
        # The next run publishes whatever the kill interrupted.
        _publish(root, "next")
        assert _published(root) == ("next", "next")
        versions = root / "reports" / ".build" / "c" / "versions"
        assert len(list(versions.iterdir())) == 1  # leftovers of the kill are gone
        limit += 1
    # Every call of a whole publish was killed once: about 140 from a versioned report, about
    # 75 from an earlier version's folders (no old build to replace).
    assert calls > (100 if first_layout == "versioned" else 50)


def test_executed_notebooks_are_kept_but_not_published_with_disclosure_control_on(tmp_path):
    build = pipeline.Build(tmp_path / "reports" / ".build" / "c", "c", tmp_path / "processed", tmp_path / "reports")
    fresh = _stage(build, "x")
    pipeline._publish(build, fresh, dict.fromkeys(plan.NOTEBOOKS, "f"), {n: {} for n in plan.NOTEBOOKS},
                      steps.Digests(tmp_path), disclosure_on=True)
    assert not (tmp_path / "reports" / "c" / "notebooks").exists()
    assert (build.kept("01_clean.ipynb") / "reports" / "c" / "notebooks" / "01_clean.ipynb").is_file()
    assert (tmp_path / "reports" / "c" / "report.html").is_file()
    # Kept-only outputs do not make the next run think something was deleted.
    stale = build.__class__(build.root, "c", tmp_path / "processed", tmp_path / "reports").stale(
        dict.fromkeys(plan.NOTEBOOKS, "f"), {n: {} for n in plan.NOTEBOOKS})
    assert stale == {}


# --- the real entry points on a hostile cohort ---------------------------------------------

PARTICIPANTS = [f"P{i:03d}" for i in range(1, 31)]
CODES = [("=HYPERLINK(\"http://evil\")", "=Theme one"), ("+Leadership", "=Theme one"), ("-Networks", "+Theme two"),
         ("@Data", "+Theme two"), ("Plain code", "Theme three"), ("\tTabbed", "Theme three")]
QUOTES = ["=1+2 said the form", "Ring me on (020) 7946 0018 please", "Or 0044 20 7946 0018, or (0161) 496 0000",
          "-minus first", "@mention here", "plain words"]
WIDE = 20_000  # extra columns of the questionnaire (100,000 are read in process above)


def hostile_raw(root: Path) -> Path:
    """Real-looking data (no SYNTHETIC marker, so a key is needed) that attack their readers."""
    raw = root / "raw"
    roles = ["GP", "Head of IM&T", "Data scientist", "Librarian"]
    write_csv(raw / "role_map.csv", [["role_as_typed", "role_group"], ["GP", "clinician"],
                                     ["Head of IM&T", "management"], ["Data scientist", "data science"],
                                     ["Librarian", "other"]])
    extra = [f"x_{i}" for i in range(WIDE)]
    rows = [["participant_id", "submitted_at", "consent", "finished", "role", "q_useful", "q_again", "text_best"]
            + extra]
    for i, pid in enumerate(PARTICIPANTS):
        rows.append([pid, f"2021-02-{1 + i % 28:02d}T10:00:00Z", "no" if i == 29 else "yes", "yes", roles[i % 4],
                     "" if i % 7 == 0 else str(1 + i % 5), str(1 + (i * 3) % 5), "=cmd|' /C calc'!A0"]
                    + [""] * len(extra))
    write_csv(raw / "study" / "questionnaire.csv", rows)
    sources = [["source_id", "source_type", "participant_ids", "date"]]
    segments = [["segment_id", "source_id", "participant_id", "code", "coder", "text"]]
    for i, pid in enumerate(PARTICIPANTS):
        sources.append([f"Q-{pid}", "questionnaire", pid, "2021-02-01"])
        sources.append([f"INT-{pid}", "interview", pid, f"2021-03-{1 + i % 28:02d}"])
        for j in range(4):
            code = CODES[(i + j) % len(CODES)][0]
            for coder in (["@coder", "-AA"] if i % 3 == 0 else ["@coder"]):
                segments.append([f"{pid}-{j}", f"INT-{pid}", pid, code, coder, QUOTES[(i + j) % len(QUOTES)]])
        segments.append([f"{pid}-q", f"Q-{pid}", pid, CODES[i % len(CODES)][0], "@coder", "From the form"])
    write_csv(raw / "study" / "sources.csv", sources)
    write_csv(raw / "study" / "coded_segments.csv", segments)
    write_csv(raw / "study" / "codebook.csv", [["code", "theme", "subtheme", "description"]]
              + [[c, t, "", "=description"] for c, t in CODES])
    return raw


def _text_of(path: Path) -> str:
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return "\n".join(frame.astype(str).stack().tolist() + list(map(str, frame.columns)))
    return path.read_bytes().decode("utf-8", errors="replace")


def _raw_ids_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![0-9A-Za-z])P0[0-3][0-9](?![0-9A-Za-z])", text))


def _csv_cells(folder: Path):
    for path in sorted(folder.rglob("*.csv")):
        for number, row in enumerate(csv.reader(io.StringIO(path.read_bytes().decode(), newline="")), 1):
            for column, cell in enumerate(row):
                yield path, number, column, cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    """The hostile cohort built twice by the real entry points: by `make report` with a key
    full of `$` and no disclosure control, and by the runner with MIN_COUNT=7 ROUND_TO=5."""
    root = tmp_path_factory.mktemp("hostile")
    raw = hostile_raw(root)
    runs = {}
    for label, extra in (("open", []), ("controlled", ["MIN_COUNT=7", "ROUND_TO=5"])):
        out = root / label
        result = subprocess.run(
            ["make", "-s", "report", "COHORT=study", f"RAW_DIR={raw}", f"PSEUDONYM_KEY={KEY}",
             f"REPORTS_DIR={out / 'reports'}", f"PROCESSED_DIR={out / 'processed'}", *extra],
            cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
            env={**os.environ, "MAKEFLAGS": "", "SOURCE_DATE_EPOCH": "1700000000"})
        assert result.returncode == 0, result.stdout + result.stderr
        runs[label] = out
    return raw, runs


@pytest.mark.e2e
def test_no_csv_under_reports_holds_a_formula_leading_cell(hostile_runs):
    _, runs = hostile_runs
    checked = 0
    for out in runs.values():
        for path, row, column, cell in _csv_cells(out / "reports"):
            checked += 1
            assert not cell.startswith(FORMULA_START) or _is_number(cell), (path, row, column, cell)
    assert checked > 1000
    tallies = store.read_table(runs["open"] / "reports" / "study" / "tables", "theme_tallies.csv")
    assert set(tallies["code"]) == {c.strip() for c, _ in CODES}  # read back as the codebook has them


@pytest.mark.e2e
def test_no_raw_id_anywhere_written_with_a_key_set(hostile_runs):
    raw, runs = hostile_runs
    scanned = 0
    for out in runs.values():
        for path in sorted(p for p in out.rglob("*") if p.is_file() and p.suffix != ".png"):
            leaked = _raw_ids_in(_text_of(path))
            assert not leaked, (path, sorted(leaked)[:5])
            scanned += 1
    assert scanned > 60
    sources = pd.read_parquet(runs["open"] / "processed" / "study" / "sources.parquet")
    # Pseudonyms keyed by the key exactly as typed, `$` and all.
    assert f"Q-{hmac_pseudonym('P001', KEY)}" in set(sources["source_id"])


@pytest.mark.e2e
def test_quotes_published_are_scrubbed_of_every_phone_form(hostile_runs):
    _, runs = hostile_runs
    quotes = store.read_table(runs["open"] / "reports" / "study" / "tables", "quotes.csv")
    text = " ".join(quotes["quote"])
    assert "[phone]" in text and not re.search(r"7946|496 0000|0044", text), text


@pytest.mark.e2e
def test_no_count_at_or_below_min_count_is_published(hostile_runs):
    _, runs = hostile_runs
    reports = runs["controlled"] / "reports" / "study-min7-round5"  # beside the uncontrolled report, never over it
    assert not (reports / "notebooks").exists()  # executed notebooks print what they like
    assert not (reports / "tables" / "cleaning_log.csv").exists()  # one row per dropped person
    tables = reports / "tables"
    counts = {"n", "references", "sources", "participants", "segments", "units", "codes", "new_codes",
              "cumulative_codes", "rows_dropped", "missing", "coded", "double_coded", "role_group_n",
              "n_1", "n_2", "n_3", "n_4", "n_5", "answered", "agree", "raised"}
    checked = 0
    for entry in outputs.tables():
        if not (tables / entry.file).is_file():
            continue
        frame = store.read_table(tables, entry.file)
        for column in counts & set(frame.columns):
            assert _protected(frame[column], RULES), (entry.file, column, frame[column].tolist())
            checked += len(frame)
    assert checked > 100
    html = (reports / "report.html").read_text()
    assert "counts of 7 or fewer" in html and "rounded to the nearest 5" in html  # the header's settings
    blank = re.findall(r"[^>]{0,80}answers were left blank|[^>]{0,80}their number is redacted", html)
    assert blank and not any(re.search(r"(?<!\d)0 answers", b) for b in blank), blank


@pytest.mark.e2e
def test_a_wide_questionnaire_makes_a_small_report_and_a_short_note(hostile_runs):
    _, runs = hostile_runs
    report = runs["open"] / "reports" / "study" / "report.html"
    assert report.stat().st_size < 2_000_000
    notes = store.read_table(runs["open"] / "reports" / "study" / "tables", "input_notes.csv")["note"]
    assert any(f"{WIDE:,} extra columns" in note for note in notes) and notes.str.len().max() < 1000


@pytest.mark.e2e
def test_state_holds_the_raw_folder_once_and_the_report_names_it_not_its_snapshot(hostile_runs):
    raw, runs = hostile_runs
    out = runs["open"]
    state = (out / "reports" / ".build" / "study" / "state.json").read_text()
    old_tag = hmac.new(KEY.encode(), b"nhsda-build-fingerprint", "sha256").hexdigest()[:16]
    assert old_tag not in state and KEY not in state
    # The build folder (never published) keeps the raw folder once, as the parameter the report was
    # built with (make pdf and make manuscript reuse it); the fingerprints know it by a tag only.
    assert state.count(str(raw)) == 1 and json.loads(state)["parameters"]["raw_dir"] == str(raw)
    # Nor does any published file but the executed notebooks (published only without disclosure
    # control), whose injected parameters are the folders the step ran with.
    assert not any(str(raw) in p.read_text(errors="replace") for p in (out / "reports" / "study").rglob("*")
                   if p.is_file() and p.suffix in (".html", ".csv", ".json") and "notebooks" not in p.parts)
    html = (out / "reports" / "study" / "report.html").read_text()
    # The raw folder by its name only: a page meant to be e-mailed carries no machine path.
    assert f"<code>{raw.name} (outside the project)</code>" in html and str(raw) not in html and ".build" not in html
    executed = json.loads((out / "reports" / "study" / "notebooks" / "01_clean.ipynb").read_text())
    injected = "".join("".join(c["source"]) for c in executed["cells"] if c["id"] == "injected-parameters")
    assert str(out / "reports" / ".build" / "study" / "raw") in injected  # the steps read the snapshot
    assert not (out / "reports" / ".build" / "study" / "raw").exists()  # removed after the run


@pytest.mark.e2e
def test_a_rerun_is_up_to_date_and_both_trees_are_one_published_version(hostile_runs):
    raw, runs = hostile_runs
    out = runs["open"]
    result = subprocess.run([sys.executable, "-m", "helpers.runner.pipeline", "--cohort", "study", "--raw-dir",
                             str(raw), "--reports-dir", str(out / "reports"), "--processed-dir",
                             str(out / "processed")], capture_output=True, text=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "NHSDA_PSEUDONYM_KEY": KEY})
    assert result.returncode == 0 and "Up to date" in result.stdout, result.stdout + result.stderr
    current = (out / "reports" / ".build" / "study" / "current").resolve()
    assert (out / "reports" / "study").resolve() == current / "reports" / "study"
    assert (out / "processed" / "study").resolve() == current / "processed" / "study"


@pytest.mark.e2e
def test_the_manuscript_of_a_controlled_report_keeps_every_redaction(hostile_runs):
    """MIN_COUNT=7 ROUND_TO=5: the Word tables show [REDACTED] where the CSVs do, no count of 7 or
    fewer, the footnotes state the settings, and the COREQ draft names no participant."""
    from docx import Document

    _, runs = hostile_runs
    out = runs["controlled"]
    before = tree_hash(out / "reports" / "study-min7-round5")
    # No RAW_DIR and no key: the published report's own parameters are used, and nothing of the
    # analysis must be redone, so the key it was built with is not needed.
    result = subprocess.run(
        ["make", "-s", "manuscript", "COHORT=study", "MIN_COUNT=7", "ROUND_TO=5", f"REPORTS_DIR={out / 'reports'}",
         f"PROCESSED_DIR={out / 'processed'}"], cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
        env={**{k: v for k, v in os.environ.items() if k != "NHSDA_PSEUDONYM_KEY"}, "MAKEFLAGS": "",
             "SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\[5/6\] 05_report.ipynb +up to date", result.stdout) and "manuscript" in result.stdout
    reports = out / "reports"
    folder = reports / "study-min7-round5" / "manuscript"
    after = tree_hash(reports / "study-min7-round5")
    assert {k: v for k, v in after.items() if not k.startswith("manuscript/")} == before  # the report as it was
    assert not (reports / "study" / "manuscript").exists()  # the uncontrolled report has none
    document = Document(folder / "tables.docx")
    cells = [cell.text for table in document.tables for row in table.rows[1:] for cell in row.cells[1:]]
    redacted = sum(REDACTED in c for c in cells)
    assert redacted > 5
    # A count is a number before " (": "10 (38.5)"; a median before its quartiles, "3 (3\u20134)", is
    # a point of the scale, not a count.
    counts = [int(m) for c in cells
              for m in re.findall(r"(?<![\d.\[\u2013])(\d+)(?=\u00a0\((?!\d+\u2013\d+\)))", c)]
    assert counts and all(n > 7 and n % 5 == 0 for n in counts), sorted(set(counts))[:10]
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.count("Small-number disclosure control: counts of 7 or fewer") == 1  # in the availability paragraph
    checklist = (folder / "coreq.md").read_text(encoding="utf-8")
    assert "PT-" not in checklist and "identified by source type only" in checklist
    # The values the text quotes are those the controlled page prints, redactions included.
    numbers = json.loads((folder / "numbers.json").read_text(encoding="utf-8"))["numbers"]
    page = html.unescape(re.sub(r"<[^>]+>", " ", (folder.parent / "report.html").read_text(encoding="utf-8")))
    assert numbers and all(value in page for value in numbers.values())


# Count phrases a sentence can hold ("30 participants", "20 of 25 participants", "10 interviews"):
# under disclosure control each number must be one the tables could show.
COUNT_PHRASE = re.compile(r"(?<![\w.,\[-])(\d[\d,]*)(?: of (\d[\d,]*))? (interviews?|focus groups?|questionnaire "
                          r"responses|responses|participants?|sources?|answers|decisions|segments|references|codes|"
                          r"people)\b")
# Numbers in sentences that are not counts of the data: the report's small-group threshold ("at
# least 5 answers", "fewer than 5 people"), the paper's figures, the size of the codebook.
NOT_A_COUNT = re.compile(r"(?:at least|fewer than|paper's|subthemes and|codebook holds) $")


def _readable_text(path: Path) -> str | None:
    """What a reader of a published file reads (None for images): page text and alt texts, figure
    text, Word paragraphs and cells, the PDF's text; whitespace and no-break spaces as one space."""
    from docx import Document

    if path.suffix == ".html":
        raw = re.sub(r"data:image/[^\"')]+", " ", path.read_text(encoding="utf-8"))
        shown = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", raw, flags=re.S))
        text = html.unescape(shown + " " + " ".join(re.findall(r'(?:alt|title|aria-label)="([^"]*)"', raw)))
    elif path.suffix == ".svg":
        text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(
            re.findall(r"<text[^>]*>(.*?)</text>", path.read_text(encoding="utf-8"), re.S))))
    elif path.suffix == ".qdc":  # the codebook for coding tools: its code names and definitions
        xml = path.read_text(encoding="utf-8")
        text = html.unescape(" ".join(re.findall(r'name="([^"]*)"', xml) + re.findall(r">([^<]+)<", xml)))
    elif path.suffix in (".md", ".json", ".csv", ".yml", ".tex"):
        text = path.read_text(encoding="utf-8")
    elif path.suffix == ".docx":
        document = Document(path)
        text = "\n".join([p.text for p in document.paragraphs]
                         + [c.text for t in document.tables for r in t.rows for c in r.cells])
    elif path.suffix == ".pdf":
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    else:
        assert path.suffix in (".png", ".tif"), path  # every other published file is read above
        return None
    return " ".join(text.replace("\u00a0", " ").split())


@pytest.mark.e2e
def test_every_published_sentence_under_control_quotes_counts_as_the_tables_show_them(hostile_runs, tmp_path,
                                                                                       monkeypatch):
    """MIN_COUNT=7 ROUND_TO=5, with the PDF and the manuscript: every count a sentence quotes, in
    every published file (the page and its alt texts, the PDF, the figures, the Word files, the
    COREQ draft, numbers.json), is [REDACTED] or above 7 and a multiple of 5. A redacted count is
    never read as zero: the COREQ draft said "0 of 30 questionnaire responses were excluded" when
    one was (30 - 30, rounded counts subtracted)."""
    _, runs = hostile_runs
    out = shutil.copytree(runs["controlled"], tmp_path / "controlled", symlinks=True)
    monkeypatch.delenv("NHSDA_PSEUDONYM_KEY", raising=False)  # the report is up to date: no key needed
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # as it was built
    pipeline.run("study", None, out / "processed", out / "reports", 7, 5, with_steps=("manuscript", "pdf"))
    folder = (out / "reports" / "study-min7-round5").resolve()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert {"report.html", "report.pdf", "manuscript/coreq.md", "manuscript/coreq.docx", "manuscript/tables.docx",
            "manuscript/numbers.json"} <= {str(p.relative_to(folder)) for p in files}
    quoted = []
    for path in files:
        text = _readable_text(path)
        for match in COUNT_PHRASE.finditer(text or ""):
            if NOT_A_COUNT.search(text[max(0, match.start() - 20):match.start()]):
                continue
            for number in filter(None, match.group(1, 2)):
                quoted.append(number)
                assert _protected(pd.Series([int(number.replace(",", ""))]), RULES), \
                    (path.relative_to(folder), text[max(0, match.start() - 80):match.end() + 40])
    assert len(quoted) > 20
    numbers = json.loads((folder / "manuscript" / "numbers.json").read_text(encoding="utf-8"))["numbers"]
    whole = {name: value for name, value in numbers.items() if re.fullmatch(r"\d+", value)
             and not name.startswith(("check.", "codebook.")) and not name.endswith(".small_n")}
    # (codebook.*: how many codes and themes the codebook holds, and how many have an exemplar: the
    # codebook's shape, which its published table shows row by row, not a count of people or words)
    assert len(whole) > 5 and _protected(pd.Series(whole.values(), dtype=int), RULES), whole
    assert not re.search(r"(?<![\d.,])0 of ", (folder / "manuscript" / "coreq.md").read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_without_the_key_a_report_whose_raw_data_changed_is_refused_with_what_to_run(hostile_runs, tmp_path,
                                                                                      monkeypatch):
    """make pdf with no key on a report built with one: its raw data changed since, so the analysis
    must be redone, which needs the key. Nothing runs; the message says what changed and what to run."""
    raw, runs = hostile_runs
    out = tmp_path / "out"
    shutil.copytree(runs["open"], out, symlinks=True)
    changed = shutil.copytree(raw, tmp_path / "raw")
    with open(changed / "study" / "coded_segments.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    before = tree_hash(out / "reports" / "study")
    monkeypatch.delenv("NHSDA_PSEUDONYM_KEY", raising=False)
    with pytest.raises(pipeline.PipelineError) as refused:
        pipeline.run("study", changed, out / "processed", out / "reports", with_steps=("pdf",))
    message = str(refused.value)
    assert "was built with a pseudonym key" in message and "raw (study/coded_segments.csv" in message
    assert f"make pdf COHORT=study RAW_DIR={changed} PSEUDONYM_KEY=..." in message
    assert "Nothing was run" in message and KEY not in message
    assert tree_hash(out / "reports" / "study") == before and not (out / "reports" / "study" / "report.pdf").exists()
