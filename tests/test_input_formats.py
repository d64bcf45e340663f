"""Spreadsheet exports in the shapes they really arrive in are read correctly."""
import pandas as pd

from helpers.analysis import clean
from helpers.data import load


def _read(tiny_raw):
    inputs = load.load_inputs(tiny_raw, "tiny")
    return inputs, clean.clean(inputs, pooled=False)


def _rewrite(path, encoding="utf-8", newline="\n", bom=b"", transform=lambda t: t):
    text = transform(path.read_text(encoding="utf-8"))
    path.write_bytes(bom + text.replace("\n", newline).encode(encoding))


def test_windows_1252_is_read_with_a_note(tiny_raw):
    path = tiny_raw / "tiny" / "codebook.csv"
    _rewrite(path, encoding="cp1252", transform=lambda t: t.replace("first", "café – “quoted”"))
    inputs, cleaned = _read(tiny_raw)
    assert cleaned.codebook.set_index("code").loc["Alpha", "description"] == "café – “quoted”"
    assert any("Windows-1252" in note for note in inputs.notes)


def test_utf16_with_bom_is_read(tiny_raw):
    path = tiny_raw / "tiny" / "sources.csv"
    _rewrite(path, encoding="utf-16-le", bom=b"\xff\xfe", newline="\r\n")
    inputs, cleaned = _read(tiny_raw)
    assert len(cleaned.sources) == 4 and any("UTF-16" in note for note in inputs.notes)


def test_crlf_line_ends_are_read(tiny_raw):
    for name in ("questionnaire.csv", "coded_segments.csv"):
        _rewrite(tiny_raw / "tiny" / name, newline="\r\n")
    _, cleaned = _read(tiny_raw)
    assert set(cleaned.participants["participant_id"]) == {"A", "B", "C"}
    assert not cleaned.participants["role"].str.endswith("\r").any()


def test_quoted_cells_with_commas_and_line_breaks(tiny_raw):
    path = tiny_raw / "tiny" / "coded_segments.csv"
    path.write_text(path.read_text().replace("S2,I2,B,Alpha,c1,", 'S2,I2,B,Alpha,c1,"one, two\nthree"'))
    path.write_text(path.read_text() + "S9,I2,B,Beta,c1,after the break\n")
    inputs, cleaned = _read(tiny_raw)
    seg = cleaned.segments.set_index("segment_id")
    assert seg.loc["S2", "text"] == "one, two\nthree"
    raw = inputs.cohorts[0].segments.set_index("segment_id")
    assert raw.loc["S9", "_row"] == 8  # the quoted line break does not shift spreadsheet rows


def test_semicolon_delimited_file_is_read_with_a_note(tiny_raw):
    path = tiny_raw / "tiny" / "codebook.csv"
    path.write_text(path.read_text().replace(",", ";"))
    inputs, cleaned = _read(tiny_raw)
    assert cleaned.codebook["code"].tolist() == ["Alpha", "Beta", "Gamma", "Delta"]
    assert any("semicolon" in note for note in inputs.notes)


def test_blank_rows_are_dropped_and_rows_keep_their_numbers(tiny_raw):
    path = tiny_raw / "tiny" / "questionnaire.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, ",,,,,,")
    path.write_text("\n".join(lines) + "\n\n,,,,,,\n\n")
    inputs, cleaned = _read(tiny_raw)
    q = inputs.cohorts[0].questionnaire
    assert len(q) == 6 and q.set_index("participant_id").loc["B", "_row"] == 4


def test_header_only_coding_files_give_zero_tallies(tiny_raw):
    path = tiny_raw / "tiny" / "coded_segments.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    _, cleaned = _read(tiny_raw)
    assert cleaned.segments.empty


def test_extra_columns_are_kept_and_mentioned(tiny_raw):
    path = tiny_raw / "tiny" / "sources.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",recorded_by"] + [line + ",AA" for line in lines[1:]]) + "\n")
    inputs, _ = _read(tiny_raw)
    assert "recorded_by" in inputs.cohorts[0].sources.columns
    assert any("'recorded_by' kept but not analysed" in note for note in inputs.notes)


def test_rows_missing_trailing_empty_cells_are_padded(tiny_raw):
    path = tiny_raw / "tiny" / "questionnaire.csv"
    path.write_text(path.read_text().replace("B,2021-01-02T10:00:00Z,Yes,TRUE,head of  IM&T,,",
                                             "B,2021-01-02T10:00:00Z,Yes,TRUE,head of  IM&T"))
    _, cleaned = _read(tiny_raw)
    assert pd.isna(cleaned.participants.set_index("participant_id").loc["B", "q_useful"])
