"""Bad input is refused with the file, spreadsheet row, column, value and expectation."""
import re

import pytest

from helpers.data import load
from helpers.data.errors import InputError


def _problems(raw, cohort="tiny"):
    with pytest.raises(InputError) as err:
        load.load_inputs(raw, cohort)
    return str(err.value)


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_unknown_cohort_lists_the_existing_ones(tiny_raw):
    message = _problems(tiny_raw, "nosuch")
    assert "Unknown cohort 'nosuch'" in message and "tiny, all" in message


def test_missing_file_is_named(tiny_raw):
    (tiny_raw / "tiny" / "sources.csv").unlink()
    assert "sources.csv: file is missing" in _problems(tiny_raw)


def test_missing_column_is_named(tiny_raw):
    _edit(tiny_raw / "tiny" / "codebook.csv", "code,theme,subtheme,description", "code,theme,description")
    assert "codebook.csv, row 1: missing column(s) subtheme" in _problems(tiny_raw)


def test_code_absent_from_codebook(tiny_raw):
    _edit(tiny_raw / "tiny" / "coded_segments.csv", "S2,I2,B,Alpha", "S2,I2,B,Omega")
    message = _problems(tiny_raw)
    assert "coded_segments.csv, row 5, column 'code': value 'Omega': a code listed in codebook.csv" in message


def test_segment_with_unknown_source(tiny_raw):
    _edit(tiny_raw / "tiny" / "coded_segments.csv", "S2,I2,B", "S2,I9,B")
    assert "row 5, column 'source_id': value 'I9': a source_id listed in sources.csv" in _problems(tiny_raw)


def test_every_problem_is_reported_at_once(tiny_raw):
    _edit(tiny_raw / "tiny" / "coded_segments.csv", "S2,I2,B,Alpha", "S2,I9,B,Omega")
    _edit(tiny_raw / "tiny" / "questionnaire.csv", "2021-01-02T10:00:00Z", "yesterday")
    _edit(tiny_raw / "tiny" / "sources.csv", "I2,interview", "I2,podcast")
    message = _problems(tiny_raw)
    assert "4 problem(s)" in message
    assert "questionnaire.csv, row 3, column 'submitted_at': value 'yesterday'" in message
    assert "sources.csv, row 3, column 'source_type': value 'podcast'" in message


def test_likert_outside_one_to_five(tiny_raw):
    _edit(tiny_raw / "tiny" / "questionnaire.csv", "GP,2,", "GP,7,")
    assert "row 4, column 'q_useful': value '7': a whole number from 1 to 5" in _problems(tiny_raw)


def test_consent_that_is_not_yes_or_no(tiny_raw):
    _edit(tiny_raw / "tiny" / "questionnaire.csv", "A,2021-01-01T10:00:00Z,yes", "A,2021-01-01T10:00:00Z,perhaps")
    assert "row 2, column 'consent': value 'perhaps'" in _problems(tiny_raw)


def test_role_group_outside_the_four_groups(tiny_raw):
    _edit(tiny_raw / "role_map.csv", "Librarian,other", "Librarian,library")
    assert "role_map.csv, row 5, column 'role_group': value 'library'" in _problems(tiny_raw)


def test_participant_ids_keep_leading_zeros(tiny_raw):
    for name in ("questionnaire.csv", "sources.csv", "coded_segments.csv"):
        path = tiny_raw / "tiny" / name
        path.write_text(re.sub(r"\bA\b", "007", path.read_text()))
    inputs = load.load_inputs(tiny_raw, "tiny")
    assert "007" in set(inputs.cohorts[0].questionnaire["participant_id"])


def test_utf8_bom_is_accepted(tiny_raw):
    path = tiny_raw / "tiny" / "codebook.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    load.load_inputs(tiny_raw, "tiny")


def test_input_manifest_hashes_every_file(tiny_raw):
    manifest = load.input_manifest(load.load_inputs(tiny_raw, "tiny"), tiny_raw)
    assert manifest["file"].tolist() == ["role_map.csv", "tiny/questionnaire.csv", "tiny/sources.csv",
                                         "tiny/coded_segments.csv", "tiny/codebook.csv"]
    assert manifest["sha256"].str.len().eq(64).all()


def test_problem_in_a_large_file_is_reported_with_its_row(tmp_path):
    # A clean file of 20,000 rows is accepted in one vectorised pass; a bad cell still gets
    # pandera's full report with file, row, column and value.
    from helpers.tools import synthetic

    synthetic.write_scaled(tmp_path, 2000, "big")
    segments = tmp_path / "big" / "coded_segments.csv"
    lines = segments.read_text().splitlines(keepends=True)
    cells = lines[10001].split(",", 5)  # lines[10001] is spreadsheet row 10002
    cells[3] = "Omega"
    lines[10001] = ",".join(cells)
    segments.write_text("".join(lines))
    message = _problems(tmp_path, "big")
    assert "1 problem(s)" in message
    assert "coded_segments.csv, row 10002, column 'code': value 'Omega': a code listed in codebook.csv" in message


def test_rows_with_fewer_cells_than_the_header_are_read_as_before(tiny_raw):
    # Excel drops trailing empty cells: such a file takes the csv module's path, not pandas'.
    path = tiny_raw / "tiny" / "codebook.csv"
    path.write_text(path.read_text().replace("Delta,Theme two,,never used", "Delta,Theme two"))
    codebook = load.load_inputs(tiny_raw, "tiny").cohorts[0].codebook
    assert codebook.set_index("code").loc["Delta", "description"] == ""
