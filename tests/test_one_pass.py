"""Every problem in one run, each with its likely fix; and the runner talks from its first second.

A new analyst's cohort with five mistakes in three files is named whole by one check, the
misspelt values with the known value they were meant as; the role map is checked even when
other rows fail; what could not be checked yet is said. `make report` prints its first lines
before any kernel starts, and `make report-all` shows each run's lines as they come. A step reads
a snapshot of the raw files, but its errors name the analyst's own files.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.data import load, paths, plan, suggest
from helpers.data.errors import InputError
from helpers.runner import pipeline

COHORT = "spring2023"  # a cohort name the project has never seen


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)


def sheet_row(frame: pd.DataFrame, index_label) -> int:
    """The spreadsheet row of a record: the header is row 1."""
    return frame.index.get_loc(index_label) + 2


@pytest.fixture
def unseen_raw(tmp_path) -> Path:
    return unseen_cohort(tmp_path)


def unseen_cohort(tmp_path: Path) -> Path:
    """data/raw with cohort1 copied as a new cohort, and the codebook's 'Funding constraints' renamed
    'resource_barrier' (in the codebook and every segment), as a team with code-style names has it."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copyfile(paths.RAW_DIR / paths.ROLE_MAP, raw / paths.ROLE_MAP)
    shutil.copyfile(paths.RAW_DIR / paths.SYNTHETIC_MARKER, raw / paths.SYNTHETIC_MARKER)
    shutil.copytree(paths.RAW_DIR / "cohort1", raw / COHORT)
    for name, column in ((paths.CODEBOOK, "code"), (paths.CODED_SEGMENTS, "code")):
        frame = read(raw / COHORT / name)
        assert (frame[column] == "Funding constraints").any()
        frame.loc[frame[column] == "Funding constraints", column] = "resource_barrier"
        write(frame, raw / COHORT / name)
    assert pipeline.check_inputs(COHORT, raw, tmp_path / "reports") is None  # valid before the mistakes
    return raw


def add_five_mistakes(raw: Path) -> dict[str, int]:
    """A finished 'maybe', a Likert 7 and a role 'Programme Manger' in the questionnaire, a code
    'resource_barier' in the segments, a source type 'intervew': {what: spreadsheet row}."""
    folder = raw / COHORT
    q = read(folder / paths.QUESTIONNAIRE)
    # The role is typed on a response that cleaning keeps (consenting, finished, the only one of its participant).
    single = ~q["participant_id"].duplicated(keep=False)
    kept = load.parse_bool(q["consent"]).fillna(False) & load.parse_bool(q["finished"]).fillna(False)
    role_at = q.index[(q["role"] == "Programme manager") & single & kept][0]
    others = [i for i in q.index if i != role_at and q.loc[i, "participant_id"] != q.loc[role_at, "participant_id"]]
    finished_at, likert_at = others[2], others[5]
    q.loc[finished_at, "finished"] = "maybe"
    q.loc[likert_at, "q_network_value"] = "7"
    q.loc[role_at, "role"] = "Programme Manger"
    write(q, folder / paths.QUESTIONNAIRE)
    segments = read(folder / paths.CODED_SEGMENTS)
    code_at = segments.index[segments["code"] == "resource_barrier"][0]
    segments.loc[code_at, "code"] = "resource_barier"
    write(segments, folder / paths.CODED_SEGMENTS)
    sources = read(folder / paths.SOURCES)
    type_at = sources.index[sources["source_type"] == "interview"][1]
    sources.loc[type_at, "source_type"] = "intervew"
    write(sources, folder / paths.SOURCES)
    return {"finished": sheet_row(q, finished_at), "likert": sheet_row(q, likert_at), "role": sheet_row(q, role_at),
            "code": sheet_row(segments, code_at), "source_type": sheet_row(sources, type_at)}


def test_five_mistakes_in_a_new_cohort_are_all_named_in_one_run_with_suggestions(unseen_raw, tmp_path):
    rows = add_five_mistakes(unseen_raw)

    message = pipeline.check_inputs(COHORT, unseen_raw, tmp_path / "reports")

    qfile, sfile, gfile = (f"{COHORT}/{n}" for n in (paths.QUESTIONNAIRE, paths.SOURCES, paths.CODED_SEGMENTS))
    expected = [
        f"{qfile}, row {rows['finished']}, column 'finished': value 'maybe': yes or no",
        f"{qfile}, row {rows['likert']}, column 'q_network_value': value '7': a whole number from 1 to 5",
        f"{qfile}, row {rows['role']}, column 'role': value 'Programme Manger': a role listed in "
        f"{unseen_raw / paths.ROLE_MAP} (add a row role_as_typed,role_group for it); "
        f"did you mean 'Programme manager'?",
        f"{gfile}, row {rows['code']}, column 'code': value 'resource_barier': a code listed in "
        f"codebook.csv; did you mean 'resource_barrier'?",
        f"{sfile}, row {rows['source_type']}, column 'source_type': value 'intervew': one of interview, "
        f"focus_group, questionnaire, dissertation; did you mean 'interview'?",
        "5 problem(s) in the input",
        # The role map's ready-to-paste line, for mapping the role as typed instead.
        "\n    Programme Manger,<group>",
    ]
    missing = [line for line in expected if line not in message]
    assert not missing, f"not in the message: {missing}\n{message}"
    assert message.count("did you mean") == 3  # nothing is suggested for 'maybe' or '7'


def test_the_role_map_is_checked_even_when_other_rows_fail(unseen_raw, tmp_path):
    q = read(unseen_raw / COHORT / paths.QUESTIONNAIRE)
    q.loc[0, "submitted_at"] = "yesterday"
    q.loc[3, "role"] = "Chief Clinical Information Officer"
    write(q, unseen_raw / COHORT / paths.QUESTIONNAIRE)
    message = pipeline.check_inputs(COHORT, unseen_raw, tmp_path / "reports")
    assert "row 2, column 'submitted_at': value 'yesterday'" in message
    assert "row 5, column 'role': value 'Chief Clinical Information Officer'" in message
    assert "2 problem(s)" in message


def test_a_role_whose_response_may_be_dropped_is_said_to_be_unchecked(unseen_raw, tmp_path):
    q = read(unseen_raw / COHORT / paths.QUESTIONNAIRE)
    q.loc[4, ["finished", "role"]] = ["perhaps", "Chief Clinical Information Officer"]
    q.loc[5, ["consent", "role"]] = ["no", "Astronaut"]  # dropped for want of consent: its role does not matter
    write(q, unseen_raw / COHORT / paths.QUESTIONNAIRE)
    message = pipeline.check_inputs(COHORT, unseen_raw, tmp_path / "reports")
    assert "1 problem(s)" in message and "value 'perhaps'" in message and "Astronaut" not in message
    assert "Not checked yet, because of a problem above" in message
    assert (f"{COHORT}/questionnaire.csv: the role on row(s) 6 ('Chief Clinical Information Officer'), which "
            f"role_map.csv lacks; it is needed if the response is analysed") in message


def test_references_to_an_unreadable_file_are_said_to_be_unchecked_and_the_rest_is_checked(unseen_raw, tmp_path):
    (unseen_raw / COHORT / paths.CODEBOOK).write_text("code;theme\n")  # no subtheme, no description
    segments = read(unseen_raw / COHORT / paths.CODED_SEGMENTS)
    segments.loc[2, "source_id"] = "INT99"
    write(segments, unseen_raw / COHORT / paths.CODED_SEGMENTS)
    message = pipeline.check_inputs(COHORT, unseen_raw, tmp_path / "reports")
    assert "codebook.csv, row 1: missing column(s) subtheme, description" in message
    assert "coded_segments.csv, row 4, column 'source_id': value 'INT99'" in message  # still checked
    assert "coded_segments.csv: column 'code', against codebook.csv, which could not be read" in message


def test_a_duplicate_id_names_the_row_that_has_it_first(unseen_raw):
    sources = read(unseen_raw / COHORT / paths.SOURCES)
    sources.loc[9, "source_id"] = sources.loc[3, "source_id"]
    sources.loc[12, "source_id"] = sources.loc[3, "source_id"]
    write(sources, unseen_raw / COHORT / paths.SOURCES)
    with pytest.raises(InputError) as err:
        load.load_inputs(unseen_raw, COHORT)
    message, value = str(err.value), sources.loc[3, "source_id"]
    assert f"row 11, column 'source_id': value '{value}': each value once; row 5 has it too" in message
    assert f"row 14, column 'source_id': value '{value}': each value once; row 5 has it too" in message


def test_a_missing_raw_dir_is_named_as_a_missing_folder(tmp_path):
    message = pipeline.check_inputs("cohort1", tmp_path / "exports" / "raw", tmp_path / "reports")
    assert message.startswith(f"RAW_DIR folder not found: {tmp_path / 'exports' / 'raw'} does not exist.")
    assert f"{tmp_path} exists, but holds no folder 'exports'." in message
    (tmp_path / "raw").mkdir()
    message = pipeline.check_inputs("cohort1", tmp_path / "raww", tmp_path / "reports")
    assert f"did you mean '{tmp_path / 'raw'}'?" in message and "Unknown cohort" not in message


def test_report_all_names_a_missing_raw_dir_too(tmp_path, capsys):
    assert pipeline.main(["--all", "--raw-dir", str(tmp_path / "nothing-here")]) == 1
    assert f"ERROR: RAW_DIR folder not found: {tmp_path / 'nothing-here'} does not exist." in capsys.readouterr().err


def test_a_misspelt_cohort_gets_the_nearest_one(tmp_path):
    message = pipeline.check_inputs("cohrt2", paths.RAW_DIR, tmp_path)
    assert "Unknown cohort 'cohrt2'" in message and message.endswith("did you mean 'cohort2'?")
    # Equally near two cohorts: no guess, the list says the rest.
    assert "did you mean" not in pipeline.check_inputs("cohort9", paths.RAW_DIR, tmp_path)


@pytest.mark.parametrize("value, known, options, expected", [
    ("intervew", ("interview", "focus_group"), {}, "interview"),
    ("focus group", ("interview", "focus_group"), {}, "focus_group"),
    ("Interview", ("interview", "focus_group"), {}, "interview"),  # case alone
    ("data scientist", ("clinician", "management", "data science", "other"), {}, "data science"),
    ("mgmt", ("clinician", "management", "data science", "other"), {"abbreviations": True}, "management"),
    ("mgmt", ("clinician", "management", "data science", "other"), {}, None),
    ("maybe", ("yes", "no", "true", "false"), {}, None),
    ("Programme Manger", ("Programme manager", "Project Manager"), {"max_changes": suggest.TYPO},
     "Programme manager"),
    # Two real jobs one word apart: not a slip of the keyboard, so no guess.
    ("Consultant cardiologist", ("Consultant radiologist", "Consultant anaesthetist"),
     {"max_changes": suggest.TYPO}, None),
    ("cohort9", ("cohort1", "cohort2", "all"), {}, None),  # a tie
    ("", ("interview",), {}, None),
])
def test_closest_suggests_one_clear_match_or_nothing(value, known, options, expected):
    assert suggest.closest(value, known, **options) == expected


@pytest.mark.parametrize("value, hint", [
    ("agree", "; did you mean '4' (Agree)?"),
    ("Strongly disagre", "; did you mean '1' (Strongly disagree)?"),
    ("4.0", "; did you mean '4'?"),
    ("N/A", "; did you mean a blank cell (no answer)?"),
    ("7", ""),
    ("3.5", ""),
])
def test_likert_values_get_the_number_they_stand_for(value, hint):
    assert suggest.likert_hint(value) == hint


# --- the terminal ----------------------------------------------------------------------

def test_the_runner_says_what_it_starts_before_any_kernel_starts(tmp_path, monkeypatch, capsys):
    """The first lines come before the first kernel is asked for; kernels are replaced by a
    recorder that prints where it was called, then fails the step (nothing else is needed)."""
    def warm(self, notebook, log):
        print(f"KERNEL WARMED for {notebook.name}", flush=True)
        return None

    def execute(build, name, *args, **kwargs):
        print(f"KERNEL STARTED for {name}", flush=True)
        raise RuntimeError("no kernel in this test")

    monkeypatch.setattr(pipeline._Kernels, "warm", warm)
    monkeypatch.setattr(pipeline, "_execute", execute)
    with pytest.raises(pipeline.PipelineError):
        pipeline.run("cohort1", paths.RAW_DIR, tmp_path / "processed", tmp_path / "reports", jobs=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Building the report for cohort 'cohort1'")
    assert lines[1] == f"  {'[1/5] 01_clean.ipynb':<32}  starting kernels..."
    first_kernel = next(i for i, line in enumerate(lines) if line.startswith("KERNEL"))
    assert first_kernel == 2, lines


@pytest.mark.slow  # two cohorts run with stand-in steps: 3 s
def test_report_all_shows_each_line_of_a_run_as_it_comes(tmp_path, monkeypatch):
    """Every cohort in this one process, each run's lines shown with its cohort while the run goes
    on: kernels are replaced by a step that notes what the terminal shows when it starts, then fails."""
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    shown_when_started: dict[str, str] = {}

    def execute(build, name, *args, **kwargs):
        shown_when_started[build.cohort] = terminal.getvalue()
        raise RuntimeError("no kernel in this test")

    monkeypatch.setattr(pipeline._Kernels, "warm", lambda self, notebook, log: None)
    monkeypatch.setattr(pipeline, "_execute", execute)
    monkeypatch.setattr("helpers.report.pdf.chromium_path", lambda: None)  # the five notebook steps only
    with pytest.raises(pipeline.PipelineError, match=r"^3 cohort\(s\) failed: cohort1, cohort2, all \(their previous"):
        pipeline.run_all(paths.RAW_DIR, tmp_path / "reports", tmp_path / "processed", jobs=1)
    lines = terminal.getvalue().splitlines()
    assert lines[0] == "Building 3 reports (cohort1, cohort2, all), 2 at a time; each line shows its cohort"
    for cohort in ("cohort1", "cohort2", "all"):
        assert cohort in shown_when_started, lines
        assert f"[{cohort}]   {'[1/5] 01_clean.ipynb':<32}  starting kernels..." in shown_when_started[cohort]
        assert f"[{cohort}] ERROR: Step 1/5 01_clean.ipynb failed for cohort {cohort!r}." in lines
        assert f"[{cohort}] RuntimeError: no kernel in this test" in lines
    assert [line.split(" in ")[0] for line in lines if line.startswith("== ")] == [
        "== cohort1: FAILED", "== cohort2: FAILED", "== all: FAILED"]  # one line each, at the end
    assert lines[-1] == f"Index: {tmp_path / 'reports' / 'index.html'}"
    assert "cohort1</" in (tmp_path / "reports" / "index.html").read_text()  # listed, as failed


def test_report_all_prefixes_a_failing_run_s_error_with_its_cohort(capsys):
    ok, _ = pipeline._build_cohort("cohort9", paths.RAW_DIR, paths.PROCESSED_DIR, paths.REPORTS_DIR, 0, 0, None,
                                   False, paths.NOTEBOOKS_DIR, [])
    assert not ok
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("[cohort9] ERROR: Unknown cohort 'cohort9'") for line in lines), lines


def test_report_all_prints_its_first_line_before_importing_pandas(tmp_path):
    """The first line comes at once: nothing before it imports pandas (seconds on a busy machine)."""
    code = ("import sys\nfrom helpers.runner import pipeline\n"
            "pipeline._build_cohort = lambda *args: print('pandas' in sys.modules, flush=True) or (False, 0.0)\n"
            f"pipeline.run_all({str(paths.RAW_DIR)!r}, {str(tmp_path)!r}, {str(tmp_path)!r}, cohorts_at_once=1)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Building 3 reports") and lines[1:4] == ["False"] * 3, result.stdout + result.stderr


def test_a_step_s_error_names_the_raw_folder_never_the_run_s_snapshot(unseen_raw, tmp_path, monkeypatch, capsys):
    """The steps read a copy of the raw files taken by the runner, and the runner checks that copy
    before any kernel starts, with notebook 01's own checks; what it prints names the file to fix."""
    add_five_mistakes(unseen_raw)
    read_from: list[str] = []
    started: list[str] = []
    load_inputs = load.load_inputs

    def recording(raw_dir, cohort):
        read_from.append(str(raw_dir))
        return load_inputs(raw_dir, cohort)

    monkeypatch.setattr(load, "load_inputs", recording)
    monkeypatch.setattr(pipeline._Kernels, "warm", lambda self, notebook, log: started.append(notebook.name))
    monkeypatch.setattr(pipeline, "_execute", lambda build, name, *args, **kwargs: started.append(name))
    with pytest.raises(pipeline.PipelineError) as failed:
        pipeline.run(COHORT, unseen_raw, tmp_path / "processed", tmp_path / "reports", jobs=1)
    snapshot = tmp_path / "reports" / ".build" / COHORT / "raw"
    assert read_from == [str(snapshot)]  # the check did read the snapshot
    assert started == []  # and stopped the run before any kernel was asked for
    message = str(failed.value) + capsys.readouterr().out
    assert f"The input in {unseen_raw} for cohort {COHORT!r} cannot be analysed." in message
    assert f"{unseen_raw / COHORT / paths.CODED_SEGMENTS}, row " in message
    assert str(snapshot) not in message and ".build" not in message


@pytest.mark.e2e
def test_a_real_run_prints_plain_lines_in_order_when_output_is_not_a_terminal(published):
    """The shared build ran with its output captured, as in CI: no bars, each step started and ended."""
    lines = published.results["cohort1"]["stdout"].splitlines()
    assert lines[0].startswith("Building the report for cohort 'cohort1'")
    assert lines[1] == f"  {'[1/5] 01_clean.ipynb':<32}  starting kernels..."
    assert lines[2].startswith("  [1/5] 01_clean.ipynb") and lines[2].endswith(" s")
    for step in plan.NOTEBOOKS[1:]:
        started = next(i for i, line in enumerate(lines) if step in line and line.endswith("running..."))
        ended = next(i for i, line in enumerate(lines) if step in line and line.endswith(" s"))
        assert started < ended
    assert lines[-1].startswith("Done in ") and "\r" not in published.results["cohort1"]["stdout"]


def test_a_theme_misspelt_in_one_cohort_s_codebook_gets_the_other_cohort_s_theme(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(paths.RAW_DIR, raw)
    codebook = read(raw / "cohort2" / paths.CODEBOOK)
    at = codebook.index[codebook["theme"] == "Network of change agents"][0]
    codebook.loc[at, "theme"] = "Network of change agent"
    write(codebook, raw / "cohort2" / paths.CODEBOOK)
    segments = read(raw / "cohort2" / paths.CODED_SEGMENTS)
    segments.loc[1, "code"] = "Peer suport from alumni"  # found in the same run as the clash
    write(segments, raw / "cohort2" / paths.CODED_SEGMENTS)
    message = pipeline.check_inputs("all", raw, tmp_path / "reports")
    code = codebook.loc[at, "code"]
    assert (f"cohort2/codebook.csv, row {sheet_row(codebook, at)}, column 'theme': value 'Network of change agent': "
            f"the same theme and subtheme for code {code!r} in every cohort's codebook") in message
    assert "; did you mean 'Network of change agents'?" in message
    assert "cohort2/coded_segments.csv, row 3, column 'code': value 'Peer suport from alumni'" in message
    assert "did you mean 'Peer support from alumni'?" in message


def test_an_abbreviated_role_group_or_source_type_gets_the_full_name(unseen_raw, tmp_path):
    role_map = read(unseen_raw / paths.ROLE_MAP)
    role_map.loc[2, "role_group"] = "clin"
    write(role_map, unseen_raw / paths.ROLE_MAP)
    sources = read(unseen_raw / COHORT / paths.SOURCES)
    at = sources.index[sources["source_type"] == "focus_group"][0]
    sources.loc[at, "source_type"] = "FG"
    write(sources, unseen_raw / COHORT / paths.SOURCES)
    message = pipeline.check_inputs(COHORT, unseen_raw, tmp_path / "reports")
    assert "role_map.csv, row 4, column 'role_group': value 'clin': one of clinician, management, data science, " \
           "other; did you mean 'clinician'?" in message
    assert f"row {sheet_row(sources, at)}, column 'source_type': value 'FG': one of interview, focus_group, " \
           f"questionnaire, dissertation; did you mean 'focus_group'?" in message
