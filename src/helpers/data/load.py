"""Read the raw-data contract (data/README.md) and check it, collecting every problem.

Files are read as text first, so that identifiers such as `007` keep their leading
zeros and a stray word in a number column is reported, not coerced. Each file is then
checked against a pandera schema in lazy mode: every failing cell of every file of the
run is collected and reported together as file, spreadsheet row, column, value and
what was expected. Extra columns are kept and mentioned, never an error.
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import paths
from .contract import FALSE_WORDS, FREE_TEXT_PREFIX, LIKERT_PREFIX, ROLE_GROUPS, SOURCE_TYPES, TRUE_WORDS  # noqa: F401
from .errors import SHOWN_CHARS, InputError, Problem, character_name, visible
from .hashing import sha256_file
from .suggest import TYPO, KnownValues, did_you_mean, likert_hint

SUBMITTED = "_submitted_at"  # questionnaire.csv's submitted_at as parsed by load_inputs (UTC)

REQUIRED_COLUMNS = {
    paths.QUESTIONNAIRE: ("participant_id", "submitted_at", "consent", "finished", "role"),
    paths.SOURCES: ("source_id", "source_type", "participant_ids"),
    paths.CODED_SEGMENTS: ("segment_id", "source_id", "participant_id", "code", "coder", "text"),
    paths.CODEBOOK: ("code", "theme", "subtheme", "description"),
    paths.ROLE_MAP: ("role_as_typed", "role_group"),
}
# Columns a file may carry beyond the required ones, by name pattern, without a notice.
OPTIONAL_PREFIXES = {paths.QUESTIONNAIRE: (LIKERT_PREFIX, FREE_TEXT_PREFIX), paths.SOURCES: ("date",)}

# Spreadsheet row of the first record: the header is row 1.
FIRST_DATA_ROW = 2
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SAVE_AS_HINT = "In Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'."
# The longest cell accepted, in characters: a whole interview transcript as one quote fits
# many times over (the csv module's default, 131,072, refused a long quote as "never closes").
MAX_CELL_CHARS = 10 * 1024 * 1024
csv.field_size_limit(MAX_CELL_CHARS)
# Notes name at most this many extra columns: a header with 100,000 of them must not make a
# 100,000-name note (and a report of megabytes).
NOTE_NAMES = 20
# Rows of role_map.csv printed ready to paste: at most this many (a message stays readable).
MAPPING_LINES = 100
# Each Likert item is a row of two report tables and a bar in two figures: a questionnaire with
# thousands of q_ columns is an export mistake, and would make a report of megabytes.
MAX_LIKERT_ITEMS = 100


@dataclass
class RawCohort:
    """One cohort folder's files, as text, each with a `_row` column (spreadsheet row);
    the questionnaire also has `_submitted_at`, its submitted_at parsed."""

    name: str
    folder: Path
    questionnaire: pd.DataFrame
    sources: pd.DataFrame
    segments: pd.DataFrame
    codebook: pd.DataFrame


@dataclass
class RawInputs:
    """Everything a run reads: one or more cohorts and the shared role map."""

    cohorts: list[RawCohort]
    role_map: pd.DataFrame
    role_map_path: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # accepted oddities worth telling the analyst


# --- value parsing --------------------------------------------------------------------

def strip(values: pd.Series) -> pd.Series:
    """values.str.strip() on a column of text, with str.strip mapped in C rather than pandas'
    Python call per cell (it matters on large exports). Anything but plain text goes to pandas."""
    if values.dtype == object:
        try:
            stripped = list(map(str.strip, values.to_numpy()))
        except TypeError:  # a missing cell or a number
            return values.str.strip()
        return pd.Series(np.array(stripped, dtype=object), index=values.index, name=values.name, dtype=object)
    return values.str.strip()


def normalise_role(text: pd.Series) -> pd.Series:
    """Role text as matched against role_map.csv: case-folded, whitespace collapsed."""
    return text.astype("string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def parse_bool(values: pd.Series) -> pd.Series:
    """yes/no, true/false, 1/0 (any case) as booleans; anything else as <NA>."""
    folded = values.astype("string").str.strip().str.casefold()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[folded.isin(TRUE_WORDS)] = True
    out[folded.isin(FALSE_WORDS)] = False
    return out


# ISO 8601 date or date-time, with optional seconds, fraction and zone. Anything else
# (01/02/2021 is 1 February or 2 January depending on who typed it) is refused.
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$")


def _parse_one_timestamp(text: str):
    if not ISO_8601.match(str(text).strip()):
        return pd.NaT
    try:
        stamp = pd.Timestamp(str(text).strip())
    except (ValueError, TypeError):
        return pd.NaT
    if stamp is pd.NaT:
        return pd.NaT
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# The date-time part of ISO_8601 without the zone: what is left of a match is its zone.
ISO_8601_BODY = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")


def parse_timestamp(values: pd.Series) -> pd.Series:
    """ISO 8601 text as UTC timestamps (no zone given = UTC); anything else as NaT."""
    # Each distinct value is parsed once (a date column repeats a few hundred dates).
    positions, uniques = pd.factorize(values.astype(str))
    text = strip(pd.Series(uniques, dtype=object))
    iso = text.str.match(ISO_8601)
    zone = text.str.replace(ISO_8601_BODY, "", regex=True)
    stamps = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    # Vectorised, one zone suffix at a time: pandas 2.3's ISO parser carries one value's
    # offset over to a later value without one when they are mixed in a call.
    for suffix in pd.unique(zone[iso]):
        same = iso & (zone == suffix)
        stamps[same] = pd.to_datetime(text[same], format="ISO8601", utc=True, errors="coerce")
    # Forms pandas' ISO parser refuses but pd.Timestamp may take, one at a time.
    retry = iso & stamps.isna()
    if retry.any():
        stamps[retry] = pd.to_datetime(text[retry].map(_parse_one_timestamp), utc=True, errors="coerce")
    return pd.Series(stamps.array.take(positions), index=values.index, name=values.name)


def explode_ids(values: pd.Series) -> pd.Series:
    """`;`-separated id lists as one stripped, non-blank id per row, indexed by the list's row."""
    ids = strip(values.astype(str).str.split(";").explode())
    return ids[ids != ""]


# --- reading --------------------------------------------------------------------------

ENCODINGS_TRIED = "UTF-8, then Windows-1252"
# A UTF-8 character of two to four bytes. Text saved as Windows-1252 almost never holds one (it
# would take a letter such as 'Ã' followed by a symbol such as '©'), so a file that fails as
# UTF-8 and has none is Windows-1252 throughout, and one that has some mixes the two.
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


class Undecodable(ValueError):
    """A line of a file that is text in none of the encodings tried."""

    def __init__(self, line: int, byte: int):
        self.line, self.byte = line, byte
        super().__init__(f"line {line} holds byte 0x{byte:02x}, which is neither UTF-8 nor Windows-1252 "
                         f"(tried {ENCODINGS_TRIED}): the file is damaged or in another encoding. {SAVE_AS_HINT}")


@dataclass
class Decoded:
    """A file's text, the codec it was read with, and the lines (1 = first) read as Windows-1252
    in a file otherwise UTF-8 (codec 'mixed')."""

    text: str
    codec: str
    cp1252_lines: list[int] = field(default_factory=list)


def decode(path: Path, data: bytes, notes: list[str]) -> str:
    """File bytes as text: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    return decode_as(path, data, notes)[0]


def decode_as(path: Path, data: bytes, notes: list[str]) -> tuple[str, str]:
    """(text, codec) of decode(); a UTF-8 file with lines saved as Windows-1252 is read line by
    line, and the note names the lines."""
    decoded = decode_file(path, data, notes)
    if decoded.cp1252_lines:
        notes.append(mixed_note(path, "line", decoded.cp1252_lines))
    return decoded.text, decoded.codec


def mixed_note(path: Path, unit: str, numbers: list[int]) -> str:
    """The note on a file read partly as UTF-8 and partly as Windows-1252, naming where."""
    shown = ", ".join(map(str, numbers[:10])) + (f" and {len(numbers) - 10:,} more" if len(numbers) > 10 else "")
    return (f"{path}: not one encoding throughout: {unit}(s) {shown} are Windows-1252 (Excel's plain 'CSV'), "
            f"the rest UTF-8; each {unit} was read in its own encoding (tried {ENCODINGS_TRIED}). Check the "
            f"accented characters of those {unit}s; {SAVE_AS_HINT}")


def decode_file(path: Path, data: bytes, notes: list[str]) -> Decoded:
    """File bytes as text: UTF-8 (with or without BOM), UTF-16 with BOM, Windows-1252, or UTF-8
    with some lines in Windows-1252, each line read in its own (cp1252_lines names them).

    Never a silent guess: a whole file read as Windows-1252 gets a note, a mixed file is left to
    the caller to name its rows, and a line in neither encoding raises Undecodable.
    """
    body, codec = data, "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        body, codec = data[3:], "utf-8-sig"
    elif data.startswith(UTF16_BOMS):
        notes.append(f"{path}: read as UTF-16 (it has a UTF-16 byte-order mark).")
        return Decoded(data.decode("utf-16"), "utf-16")
    elif b"\x00" in data[:4096]:
        raise ValueError("holds NUL bytes: it looks like UTF-16 saved without a byte-order mark. " + SAVE_AS_HINT)
    try:
        return Decoded(body.decode("utf-8"), codec)
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if not UTF8_MULTIBYTE.search(body):
        # Excel's plain "CSV" on Windows writes cp1252; it decodes nearly any byte, so say so.
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise Undecodable(body.count(b"\n", 0, exc.start) + 1, body[exc.start]) from None
        notes.append(f"{path}: not UTF-8, read as Windows-1252 (Excel's plain 'CSV'). "
                     f"Check accented names in the report; {SAVE_AS_HINT}")
        return Decoded(text, "cp1252")
    # UTF-8 with some lines that are not: an edit saved by another program. Lines before the
    # first bad byte are UTF-8; each later line is read as UTF-8 if it is, else as cp1252.
    head_end = body.rfind(b"\n", 0, first_bad) + 1
    parts, foreign = [body[:head_end].decode("utf-8")], []
    first_line_number = body.count(b"\n", 0, head_end) + 1
    for number, line in enumerate(body[head_end:].split(b"\n"), first_line_number):
        try:
            parts.append(line.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            foreign.append(number)
        try:
            parts.append(line.decode("cp1252"))
        except UnicodeDecodeError as exc:
            raise Undecodable(number, line[exc.start]) from None
    return Decoded(parts[0] + "\n".join(parts[1:]), "mixed", foreign)


def rows_of_lines(text: str, sep: str, lines: list[int]) -> list[int]:
    """The spreadsheet rows (header = 1) holding the given lines of a CSV text: a quoted cell may
    span several lines (a transcript), so a line number is not a row number."""
    wanted, rows = sorted(set(lines)), []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    record, at = 0, 0
    try:
        for _ in reader:
            record += 1
            while at < len(wanted) and wanted[at] <= reader.line_num:
                rows.append(record)
                at += 1
            if at == len(wanted):
                break
    except csv.Error:
        pass  # the file's own problem is reported by read_raw_csv; lines past it keep their number
    rows += wanted[at:]
    return list(dict.fromkeys(rows))


def text_stream(data: bytes, text: str, codec: str) -> io.TextIOBase:
    """The file as a text stream for csv and pandas. UTF-8 is decoded as it is read:
    io.StringIO would hold a copy at four bytes a character (450 MB for 1,000,000 rows)."""
    if codec.startswith("utf-8"):
        return io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline="")
    return io.StringIO(text, newline="")


def sniff_delimiter(path: Path, header: str, notes: list[str]) -> str:
    """Comma, or semicolon/tab when the header clearly uses that instead (European Excel)."""
    if "," in header:
        return ","
    for sep, name in ((";", "semicolon"), ("\t", "tab")):
        if sep in header:
            notes.append(f"{path}: {name}-delimited, read as such (the contract asks for commas).")
            return sep
    return ","


def first_line(text: str) -> str:
    """text.splitlines()[0], without splitting a file of a million lines."""
    size = 4096
    while True:
        lines = text[:size].splitlines()
        if len(lines) > 1 or size >= len(text):
            return lines[0] if lines else ""
        size *= 8


def scan_records(stream: io.TextIOBase, sep: str) -> tuple[list[str] | None, bool]:
    """(header record, regular): regular when the strict csv module reads every record
    without error and each has as many cells as the header."""
    reader = csv.reader(stream, delimiter=sep, strict=True)
    try:
        header = next(reader)
        # Counts cells per record in C, keeping no record, so a large file costs no memory here.
        widths = set(map(len, reader))
    except (csv.Error, StopIteration):
        return None, False
    return header, widths <= {len(header)}


def blank_rows(frame: pd.DataFrame) -> pd.Series:
    """True where every cell of the row is blank or whitespace."""
    blank = pd.Series(True, index=frame.index)
    for column in range(frame.shape[1]):
        # Only rows still blank so far are looked at: nearly none after the first column.
        candidates = blank[blank].index
        if len(candidates) == 0:
            break
        cells = frame.iloc[:, column].loc[candidates]
        blank.loc[candidates] = strip(cells) == ""
    return blank


def read_raw_csv(path: Path, problems: list[Problem], notes: list[str] | None = None) -> pd.DataFrame | None:
    """A contract CSV as text cells with a `_row` column; None (and a problem) if unreadable."""
    path = Path(path)
    notes = [] if notes is None else notes
    if not path.is_file():
        problems.append(Problem(path, "file is missing; see data/README.md for the files a cohort needs"))
        return None
    data = path.read_bytes()
    try:
        decoded = decode_file(path, data, notes)
    except Undecodable as exc:
        text = data.decode("utf-8", errors="replace")
        row = rows_of_lines(text, sniff_delimiter(path, first_line(text), []), [exc.line])[0]
        problems.append(Problem(path, f"text in UTF-8 (or Windows-1252, Excel's plain 'CSV'); this row holds byte "
                                      f"0x{exc.byte:02x}, which is neither (tried {ENCODINGS_TRIED}), so the file "
                                      f"is damaged or in another encoding. {SAVE_AS_HINT}", row))
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(Problem(path, f"cannot be read as text: {exc}"))
        return None
    text, codec = decoded.text, decoded.codec
    if not text.strip():
        problems.append(Problem(path, "file is empty; expected a header row naming the columns "
                                      f"{', '.join(REQUIRED_COLUMNS[path.name])}"))
        return None
    sep = sniff_delimiter(path, first_line(text), notes)
    if decoded.cp1252_lines:
        notes.append(mixed_note(path, "row", rows_of_lines(text, sep, decoded.cp1252_lines)))
    nul = text.find("\x00")
    if nul >= 0:
        # A NUL is never text: the csv module and pandas would each read the rows around it
        # differently (29 rows became one cell in one probe), so nothing is read from the file.
        row, column = _where(text, nul, sep)
        problems.append(Problem(path, "no NUL bytes (character code 0) anywhere in a text file; this row holds one, "
                                      "so the file is damaged or partly binary. Export it again. " + SAVE_AS_HINT,
                                row, column))
        return None
    header_record, regular = scan_records(text_stream(data, text, codec), sep)
    if not regular:
        records = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
        try:
            for record in reader:
                records.append(record)
        except csv.Error as exc:
            # The record that failed starts right after the last one read.
            if "field larger than field limit" in str(exc):
                problems.append(Problem(path, f"cells of at most {MAX_CELL_CHARS:,} characters (10 MB, the contract's "
                                              f"limit); this row has a longer one. Split the text over several "
                                              f"segments", len(records) + 1))
            else:
                problems.append(Problem(path, f"a well-formed CSV row; this one breaks the CSV format ({exc}), "
                                              f"usually a quote that opens here and never closes", len(records) + 1))
            return None
        header_record = records[0]
    header = [h.strip() for h in header_record]
    # Counted once each: header.count() per name was quadratic (330 s for 100,000 columns).
    doubled = sorted(h for h, n in Counter(header).items() if n > 1 and h)
    if doubled:
        problems.append(Problem(path, f"each column once; the header repeats {', '.join(map(repr, doubled))}", 1))
        return None
    required = REQUIRED_COLUMNS[path.name]
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(Problem(path, f"missing column(s) {', '.join(missing)}; the header must include "
                                      f"{', '.join(required)} (found: {found_names(header)})", 1,
                                hint=column_hint(missing, [h for h in header if h not in required])))
        return None
    width = len(header)
    if regular:
        # Every record is as wide as the header and well-formed for the strict csv module:
        # pandas' C parser reads the same cells, without a Python object per record.
        frame = pd.read_csv(text_stream(data, text, codec), sep=sep, header=0, dtype=str, na_filter=False,
                            skip_blank_lines=False, engine="c")
        frame.columns = header
    else:
        body = []
        for number, record in enumerate(records[1:], FIRST_DATA_ROW):
            if len(record) > width and any(cell.strip() for cell in record[width:]):
                problems.append(Problem(path, f"at most {width} cells, as many as the header has; this row has "
                                              f"{len(record)} (an unquoted comma inside a cell?)", number))
            body.append((record + [""] * width)[:width])  # Excel drops trailing empty cells
        frame = pd.DataFrame(body, columns=header, dtype=str)
    # The index is the record's position, so index + 2 is its spreadsheet row even after
    # blank rows (trailing or not) are dropped here.
    frame = frame[~blank_rows(frame)]
    frame.insert(0, "_row", frame.index + FIRST_DATA_ROW)
    if CONTROL.search(text):
        frame = control_characters(frame, path, problems, notes)
    allowed = OPTIONAL_PREFIXES.get(path.name, ())
    extra = [c for c in header if c not in required and not c.startswith(allowed)]
    if extra:
        if len(extra) > NOTE_NAMES:
            notes.append(f"{path}: {len(extra):,} extra columns ({', '.join(map(repr, extra[:NOTE_NAMES]))} and "
                         f"{len(extra) - NOTE_NAMES:,} more) kept but not analysed.")
        else:
            notes.append(f"{path}: extra column(s) {', '.join(map(repr, extra))} kept but not analysed.")
    return frame


# Control characters other than tab and line ends (NUL is refused on its own, above): invisible
# in a spreadsheet, they make the published SVG figures malformed XML, stop the Word tables and
# show as boxes in quotes. C1 controls (0x80-0x9f) too: Windows-1252 text read as Latin-1 has them.
CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# In free text a vertical tab, form feed, file/group/record separator or NEXT LINE is a line
# or page break that a word processor wrote: it becomes a line break; the others are dropped.
BREAKS = re.compile(r"[\x0b\x0c\x1c-\x1e\x85]")
# Columns of free text (quotes, answers, descriptions): control characters there are normalised,
# with a note. Everywhere else (ids, codes, themes, roles, dates) they are refused: a code with
# a hidden character is another code.
FREE_TEXT_COLUMNS = frozenset({"text", "description"})


def free_text(path: Path, column: str) -> bool:
    """Whether `column` of the contract file `path` holds free text (or is an extra column, not analysed)."""
    required = REQUIRED_COLUMNS.get(path.name, ())
    return (column in FREE_TEXT_COLUMNS or column.startswith(FREE_TEXT_PREFIX)
            or (column not in required and not column.startswith(OPTIONAL_PREFIXES.get(path.name, ()))))


def control_characters(frame: pd.DataFrame, path: Path, problems: list[Problem], notes: list[str]) -> pd.DataFrame:
    """Refuse control characters in identifier and category cells; normalise them in free text.

    Each refused cell is a problem naming its row, column and the value with the character
    written visibly (`'Leadership\\x0b'`); each free-text column changed gets a note naming its rows.
    """
    for column in frame.columns[1:]:
        if CONTROL.search(column):
            problems.append(Problem(path, "a column name without control characters (other than tab or line "
                                          "break), which no spreadsheet shows; delete it", 1, column))
    for column in frame.columns[1:]:
        cells = frame[column]
        found = cells.str.contains(CONTROL)
        if not found.any():
            continue
        if not free_text(path, column):
            for row, value in frame.loc[found, ["_row", column]].itertuples(index=False):
                problems.append(Problem(path, "no control characters (other than tab or line break): no spreadsheet "
                                              "shows them, and they break the published figures and Word tables. "
                                              "Delete the character", int(row), column, value))
            continue
        kinds = sorted(set("".join(CONTROL.findall("".join(cells[found])))))
        frame[column] = cells.where(~found, cells[found].str.replace(BREAKS, "\n", regex=True)
                                    .str.replace(CONTROL, "", regex=True))
        rows = frame.loc[found, "_row"].astype(int).tolist()
        shown = ", ".join(map(str, rows[:10])) + (f" and {len(rows) - 10:,} more" if len(rows) > 10 else "")
        named = ", ".join(f"{visible(c)[1:-1]} ({character_name(c)})" for c in kinds)
        notes.append(f"{path}: column {column!r}, row(s) {shown}: control character(s) {named} in the text; a "
                     f"vertical tab, form feed or record separator became a line break, any other was removed.")
    return frame


def found_names(header: list[str]) -> str:
    """The header's names as a message lists them: the first NOTE_NAMES, then how many more."""
    shown = ", ".join(visible(h, 60)[1:-1] for h in header[:NOTE_NAMES])
    return shown + (f" and {len(header) - NOTE_NAMES:,} more" if len(header) > NOTE_NAMES else "")


def column_hint(missing: list[str], others: list[str]) -> str:
    """'; the header's 'Coder' looks like 'coder' ...' for each missing column a header name is near."""
    if len(others) > 1000:  # an export of 100,000 columns: not worth a pass per missing column
        return ""
    pairs = []
    for name in missing:
        near = [h for h in others if did_you_mean(name, [h], cutoff=0.6)]
        if len(near) == 1:
            pairs.append(f"{near[0]!r} looks like {name!r}")
    return f"; the header's {', '.join(pairs)}: rename it (names must match exactly)" if pairs else ""


def _where(text: str, position: int, sep: str) -> tuple[int, str | None]:
    """(spreadsheet row, column name or None) of the character at `position` of a CSV text."""
    records = list(csv.reader(io.StringIO(text[:position] + "\ufffd", newline=""), delimiter=sep))
    header = records[0] if records else []
    column = len(records[-1]) - 1 if records else 0
    name = header[column].strip() if len(records) > 1 and column < len(header) else None
    return len(records), name


# --- checks (pandera, lazy) -----------------------------------------------------------
# Each file's rules are written once, as tests on a column's stripped text. A file that
# passes them all is accepted after one vectorised pass; any other is handed to pandera in
# lazy mode, which lists every failing cell (and is slow on a million rows, so it runs only
# when there is something to report).

@dataclass(frozen=True)
class Rule:
    """One check: `test` maps a column's stripped cells to True where the cell is fine."""

    test: Callable[[pd.Series], pd.Series]
    error: str
    hint: Callable[[str], str] | None = None  # a failing value -> its likely fix ("; did you mean ...?")

    def check(self) -> pa.Check:
        return pa.Check(lambda s: self.test(s.str.strip()), error=self.error)


@dataclass(frozen=True)
class ColumnRules:
    rules: tuple[Rule, ...] = ()
    unique: bool = False
    regex: bool = False  # the name is a pattern: every matching column (at least one if required)
    required: bool = True


def _required(name: str) -> Rule:
    return Rule(lambda s: s != "", f"a {name} is required (the cell is blank)")


class _LazyHint:
    """A hint function over `known`, folded and indexed once, on the first failing value; `many`
    gives the hints of many failing values in one pass (validate uses it)."""

    def __init__(self, known, **options):
        self.known, self.options, self.index = known, options, None

    def _known(self) -> KnownValues:
        self.index = self.index or KnownValues(self.known)
        return self.index

    def __call__(self, value: str) -> str:
        return self._known().did_you_mean(value, **self.options)

    def many(self, values) -> dict[str, str]:
        return self._known().did_you_mean_many(values, **self.options)


def _lazy_hint(known, **options) -> _LazyHint:
    return _LazyHint(known, **options)


def _one_of(values, message: str) -> Rule:
    allowed = set(values)
    return Rule(lambda s: s.isin(allowed), message, _lazy_hint(values, abbreviations=True))


def _known_or_blank(known: set[str], message: str, suggest: bool = False) -> Rule:
    """`suggest`: a failing value may be a misspelt known one (a code), not an id (P099, INT99)."""
    hint = _lazy_hint(known, max_changes=TYPO) if suggest else None
    return Rule(lambda s: (s == "") | s.isin(known), message, hint)


def _text(*rules: Rule, unique: bool = False, regex: bool = False) -> ColumnRules:
    return ColumnRules(rules, unique=unique, regex=regex)


YES_NO = "yes or no (true/false and 1/0 also accepted)"
LIKERT = "a whole number from 1 to 5, or blank for no answer"


def _yes_no_hint(value: str) -> str:
    return did_you_mean(value, ("yes", "no", "true", "false"))


def questionnaire_schema(submitted: pd.Series | None = None) -> dict[str, ColumnRules]:
    """`submitted`: submitted_at already parsed (parse_timestamp), on the frame's index."""
    stamps = parse_timestamp if submitted is None else (lambda s: submitted.loc[s.index])
    return {
        "participant_id": _text(_required("participant_id")),
        "submitted_at": _text(Rule(lambda s: stamps(s).notna(), "an ISO 8601 date-time such as 2021-03-04T09:30:00Z")),
        "consent": _text(Rule(lambda s: parse_bool(s).notna(), YES_NO, _yes_no_hint)),
        "finished": _text(Rule(lambda s: parse_bool(s).notna(), YES_NO, _yes_no_hint)),
        # Likert items are optional (data/README.md): a questionnaire may have none.
        f"^{LIKERT_PREFIX}.+": ColumnRules((Rule(lambda s: s.isin({"", "1", "2", "3", "4", "5"}), LIKERT,
                                                 likert_hint),), regex=True, required=False),
    }


def codebook_schema() -> dict[str, ColumnRules]:
    return {
        "code": _text(_required("code"), unique=True),
        "theme": _text(_required("theme")),
    }


def sources_schema() -> dict[str, ColumnRules]:
    return {
        "source_id": _text(_required("source_id"), unique=True),
        "source_type": _text(_one_of(SOURCE_TYPES, f"one of {', '.join(SOURCE_TYPES)}")),
        # Optional: orders interviews for the saturation table.
        "date": ColumnRules((Rule(lambda s: (s == "") | parse_timestamp(s).notna(),
                                  "blank or an ISO 8601 date such as 2021-03-04"),), required=False),
    }


def segments_schema(sources: set[str] | None, codes: set[str] | None,
                    participants: set[str] | None) -> dict[str, ColumnRules]:
    """A reference set is None when its file could not be read: that reference is not checked."""
    def known(ids, rule: Rule) -> tuple[Rule, ...]:
        return () if ids is None else (rule,)

    return {
        "segment_id": _text(_required("segment_id")),
        "source_id": _text(_required("source_id"),
                           *known(sources, _known_or_blank(sources, "a source_id listed in sources.csv"))),
        "code": _text(_required("code"),
                      *known(codes, _known_or_blank(codes, "a code listed in codebook.csv", suggest=True))),
        "participant_id": _text(*known(participants, _known_or_blank(
            participants, "blank or a participant_id that appears in questionnaire.csv"))),
    }


def role_map_schema() -> dict[str, ColumnRules]:
    return {
        "role_as_typed": _text(_required("role_as_typed")),
        "role_group": _text(_one_of(ROLE_GROUPS, f"one of {', '.join(ROLE_GROUPS)}")),
    }


def pandera_schema(schema: dict[str, ColumnRules]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({
        name: pa.Column(str, checks=[rule.check() for rule in column.rules], unique=column.unique,
                        regex=column.regex, required=column.required, report_duplicates="exclude_first")
        for name, column in schema.items()
    })


def passes(frame: pd.DataFrame, schema: dict[str, ColumnRules]) -> bool:
    """True only if pandera would find nothing: every column present, text, and within its rules."""
    for name, column in schema.items():
        names = [c for c in frame.columns if (re.match(name, c) if column.regex else c == name)]
        if not names and column.required:
            return False
        for each in names:
            values = frame[each]
            if values.dtype != object or pd.api.types.infer_dtype(values, skipna=False) != "string":
                return False  # includes an empty file: pandera says what it thinks of that
            if column.unique and values.duplicated().any():
                return False
            stripped = strip(values)
            if not all(rule.test(stripped).all() for rule in column.rules):
                return False
    return True


UNIQUE = "field_uniqueness"


def validate(frame: pd.DataFrame, schema: dict[str, ColumnRules], path: Path, problems: list[Problem]) -> None:
    """Check a file against its rules; turn every failing cell into a Problem with its row."""
    if passes(frame, schema):
        return
    hints = {rule.error: rule.hint for column in schema.values() for rule in column.rules if rule.hint}
    try:
        pandera_schema(schema).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        first_rows: dict[str, pd.Series] = {}  # per column: the row where each value first appears
        found_hints: dict[tuple[str, str], str] = {}  # each distinct failing value is looked up once
        for check, hint_of in hints.items():
            if hasattr(hint_of, "many"):  # all of a check's failing values in one pass
                failing = cases.loc[cases["check"] == check, "failure_case"].astype(str)
                found_hints.update(((check, v), h) for v, h in hint_of.many(pd.unique(failing)).items())
        for case in cases.itertuples(index=False):
            row = frame.loc[case.index, "_row"] if case.index is not None and case.index in frame.index else None
            expected, hint = case.check, ""
            if case.check == UNIQUE:
                # pandera reports the repeats (not the first): name the row that holds it first, to compare.
                if case.column not in first_rows:
                    first_rows[case.column] = frame.drop_duplicates(case.column).set_index(case.column)["_row"]
                expected = f"each value once; row {int(first_rows[case.column][case.failure_case])} has it too"
            elif case.check in hints:
                key = (case.check, str(case.failure_case))
                if key not in found_hints:
                    found_hints[key] = hints[case.check](key[1])
                hint = found_hints[key]
            problems.append(Problem(path, expected, None if row is None else int(row), case.column,
                                    case.failure_case, hint))


def excel_zero_hint(problems: list[Problem], known: set[str]) -> list[Problem]:
    """Explain ids that differ from a known one only by leading zeros Excel removed (7 vs 007)."""
    def bare(value: str) -> str:
        text = str(value).strip()
        text = text[:-2] if text.endswith(".0") else text
        return text.lstrip("0") or "0"

    if not any(p.column in ("participant_id", "participant_ids") for p in problems):
        return problems  # spares a pass over every known id of a large, clean cohort
    by_bare = {}
    for pid in known:
        by_bare.setdefault(bare(pid), pid)
    out = []
    for problem in problems:
        match = by_bare.get(bare(problem.value)) if problem.column in ("participant_id", "participant_ids") else None
        if match is not None and match != problem.value:
            problem = Problem(problem.file, f"{problem.expected}; it matches {match!r} but for leading zeros or "
                              f"a '.0', as when Excel turns ids into numbers. Format the column as Text "
                              f"before saving, or fix the ids", problem.row, problem.column, problem.value)
        out.append(problem)
    return out


# --- cross-row and cross-file checks that a per-column schema cannot express ----------

def check_source_participants(frame: pd.DataFrame, path: Path, known: set[str], problems: list[Problem]) -> None:
    ids = explode_ids(frame["participant_ids"])
    unknown = ids[~ids.isin(known)]
    for row, value in zip(frame["_row"].reindex(unknown.index), unknown):
        problems.append(Problem(path, "a participant_id that appears in questionnaire.csv", int(row),
                                "participant_ids", value))


def check_segment_consistency(frame: pd.DataFrame, path: Path, problems: list[Problem]) -> None:
    # A segment is one stretch of one source said by one person: every coder's row must agree.
    segment = pd.factorize(frame["segment_id"])[0]
    for column in ("source_id", "participant_id"):
        value = pd.factorize(frame[column])[0]
        # Distinct (segment, value) pairs as one integer each; a segment in two pairs disagrees.
        width = int(value.max(initial=0)) + 1
        pairs = pd.unique(segment.astype(np.int64) * width + value)
        spread = np.bincount(pairs // width, minlength=segment.max(initial=-1) + 1)
        first = frame.loc[spread[segment] > 1].drop_duplicates("segment_id")
        for row, seg in first[["_row", "segment_id"]].itertuples(index=False):
            problems.append(Problem(path, f"every row of a segment to name the same {column}", int(row),
                                    "segment_id", seg))


def check_role_map_conflicts(frame: pd.DataFrame, path: Path, problems: list[Problem]) -> None:
    key = normalise_role(frame["role_as_typed"])
    groups = frame["role_group"].str.strip()
    conflict = key.duplicated(keep=False) & (groups.groupby(key).transform("nunique") > 1)
    for row, value in frame.loc[conflict, ["_row", "role_as_typed"]].itertuples(index=False):
        problems.append(Problem(path, "one role_group per role (ignoring case and spacing); this role is mapped "
                                      "to two groups", int(row), "role_as_typed", value))


def responses_kept(q: pd.DataFrame, stamps: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(kept, unknown) over the questionnaire's rows: the responses cleaning keeps (consent yes,
    finished yes, the latest submission of the participant: helpers.analysis.clean), and those
    for which that cannot be told yet because consent, finished or submitted_at is unreadable."""
    consent, finished = parse_bool(q["consent"]), parse_bool(q["finished"])
    # Dropped whatever the unreadable value: no consent, or not finished (<NA> | True is True).
    dropped = ((consent == False) | (finished == False)).fillna(False).astype(bool)  # noqa: E712
    unknown = ~dropped & (consent.isna() | finished.isna())
    candidate = ((consent == True) & (finished == True)).fillna(False).astype(bool)  # noqa: E712
    ids = strip(q["participant_id"])
    order = pd.DataFrame({"id": ids, "stamp": stamps, "row": q["_row"]})[candidate]
    order = order.sort_values(["stamp", "row"], kind="mergesort")  # as clean.keep_latest_submission
    kept = pd.Series(False, index=q.index)
    kept[order.index[~order.duplicated("id", keep="last").to_numpy()]] = True
    # A participant with several responses, one of them with an unreadable submitted_at: which one
    # is the latest is unknown.
    repeated = order["id"].duplicated(keep=False)
    undated = set(order.loc[repeated & order["stamp"].isna(), "id"])
    if undated:
        unsure = candidate & ids.isin(undated)
        kept &= ~unsure
        unknown |= unsure
    return kept, unknown


def role_lookup(role_map: pd.DataFrame) -> dict[str, str]:
    """{role as matched (normalise_role): role_group} of role_map.csv."""
    return dict(zip(normalise_role(role_map["role_as_typed"]), strip(role_map["role_group"])))


def unmapped_roles(q: pd.DataFrame, role_map: pd.DataFrame, questionnaire_path: Path,
                   role_map_path: Path) -> list[Problem]:
    """A problem for each response of `q` whose role role_map.csv lacks, with the nearest mapped role."""
    groups = normalise_role(q["role"]).map(role_lookup(role_map))
    typed = strip(role_map["role_as_typed"])
    expected = f"a role listed in {role_map_path} (add a row role_as_typed,role_group for it)"
    unmapped = q.loc[groups.isna(), ["_row", "role"]]
    # Each distinct role looked up once, all in one pass over the role map (thousands of job titles).
    hints = KnownValues(typed).did_you_mean_many(unmapped["role"], max_changes=TYPO) if len(unmapped) else {}
    problems = []
    for row, value in unmapped.itertuples(index=False):
        problems.append(Problem(questionnaire_path, expected, int(row), "role", value, hints[value]))
    return problems


def role_map_lines(problems: list[Problem], role_map_path: Path) -> list[str]:
    """The rows to paste into role_map.csv for the unmapped roles among `problems` (as the importer
    prints them): each role once, as typed, with `<group>` to replace. Empty if there are none."""
    roles: dict[str, str] = {}
    for problem in problems:
        if problem.column == "role" and problem.expected.startswith("a role listed in") and str(problem.value).strip():
            roles.setdefault(" ".join(str(problem.value).split()).casefold(), str(problem.value).strip())
    if not roles:
        return []
    buffer = io.StringIO()
    ordered = sorted(roles.values(), key=str.casefold)
    # A role cell holding a pasted transcript is not a role to map: such a line is shortened.
    csv.writer(buffer, lineterminator="\n").writerows([role if len(role) <= SHOWN_CHARS else visible(role), "<group>"]
                                                      for role in ordered[:MAPPING_LINES])
    more = (f"    ... and {len(ordered) - MAPPING_LINES:,} more roles, not listed here: so many unmapped roles "
            f"usually mean the wrong column was mapped to 'role', or a role map of another study"
            if len(ordered) > MAPPING_LINES else None)
    return ([f"To map the role(s) as typed, add to {role_map_path} these rows, replacing <group> "
             f"with {', '.join(ROLE_GROUPS[:-1])} or {ROLE_GROUPS[-1]} (or fix the questionnaire where a "
             f"suggestion above is right):"]
            + [f"    {line}" for line in buffer.getvalue().splitlines()] + ([more] if more else []))


def check_roles(q: pd.DataFrame, stamps: pd.Series, role_map: pd.DataFrame | None, questionnaire_path: Path,
                role_map_path: Path, problems: list[Problem], unchecked: list[str]) -> None:
    """The role of every response cleaning keeps must be in role_map.csv: checked on the rows whose
    fate can be told, even when other rows or files have problems."""
    if role_map is None:
        unchecked.append(f"{questionnaire_path}: the roles, against {role_map_path}, which could not be read")
        return
    kept, unknown = responses_kept(q, stamps)
    problems += unmapped_roles(q[kept], role_map, questionnaire_path, role_map_path)
    # A response that may be dropped needs a mapped role only if it is analysed: said, not counted.
    maybe = unmapped_roles(q[unknown], role_map, questionnaire_path, role_map_path)
    if maybe:
        listed = ", ".join(f"{p.row} ({visible(p.value, 60)})" for p in maybe[:10]) + (
            f" and {len(maybe) - 10:,} more" if len(maybe) > 10 else "")
        unchecked.append(f"{questionnaire_path}: the role on row(s) {listed}, which {paths.ROLE_MAP} lacks; it is "
                         f"needed if the response is analysed, as its consent, finished or submitted_at above will "
                         f"decide")


def codebook_clashes(codebooks: list[pd.DataFrame]) -> list[Problem]:
    """A pooled run's codebooks must put each code under the same theme and subtheme in every cohort.

    Each codebook carries `_file`, the path it was read from. A theme near another cohort's theme
    for the same code (`Leadership identiy`) gets that theme as a suggestion.
    """
    stacked = pd.concat([cb[["code", "theme", "subtheme", "_row", "_file"]] for cb in codebooks], ignore_index=True)
    for column in ("code", "theme", "subtheme"):
        stacked[column] = strip(stacked[column])
    stacked = stacked[stacked["code"] != ""]
    clash = stacked.groupby("code")[["theme", "subtheme"]].nunique().max(axis=1) > 1
    problems = []
    for code in clash[clash].index:
        rows = stacked[stacked["code"] == code]
        for file, row, theme, sub in rows[["_file", "_row", "theme", "subtheme"]].itertuples(index=False):
            others = rows.loc[rows["_file"] != file, "theme"]
            hint = did_you_mean(theme, set(others) - {theme}, max_changes=TYPO) if theme not in set(others) else ""
            expected = (f"the same theme and subtheme for code {visible(code)} in every cohort's codebook "
                        f"(here subtheme {visible(sub)})")
            problems.append(Problem(Path(file), expected, int(row), "theme", theme, hint))
    return problems


def load_inputs(raw_dir: Path, cohort: str) -> RawInputs:
    """Read and check every file a run needs; raise InputError listing all problems.

    Every check runs in one pass: a problem in one file or row never hides another. A check
    that needs another file (a segment's code needs the codebook) runs whenever that file
    could be read, and what could not be checked is listed after the problems.
    """
    raw_dir = Path(raw_dir)
    folders = paths.cohort_folders(raw_dir, cohort)
    problems: list[Problem] = []
    unchecked: list[str] = []
    notes: list[str] = []
    skipped = paths.skipped_folders(raw_dir) if cohort == paths.POOLED_COHORT else []
    if skipped:
        notes.append(f"{raw_dir}: folder(s) {', '.join(map(visible, skipped))} hold {paths.QUESTIONNAIRE} but "
                     f"were not pooled: COHORT= accepts only names of letters, digits, '.', '-' and '_', and "
                     f"'all' names the pooled run (a copy such as 'cohort1 - Copy' would count its participants "
                     f"twice). Rename a folder that is a cohort.")
    role_map_path = raw_dir / paths.ROLE_MAP
    role_map = read_raw_csv(role_map_path, problems, notes)
    if role_map is not None:
        validate(role_map, role_map_schema(), role_map_path, problems)
        check_role_map_conflicts(role_map, role_map_path, problems)
    cohorts: list[RawCohort] = []
    files = [role_map_path]
    codebooks = []
    for name, folder in folders:
        tables = {}
        for filename in paths.COHORT_FILES:
            files.append(folder / filename)
            tables[filename] = read_raw_csv(folder / filename, problems, notes)
        q, src, seg, cb = (tables[f] for f in paths.COHORT_FILES)
        found: list[Problem] = []
        participants: set[str] = set()
        if q is not None:
            # Parsed once here: cleaning orders submissions by it and keeps it (as _submitted_at).
            submitted = parse_timestamp(q["submitted_at"])
            validate(q, questionnaire_schema(submitted), folder / paths.QUESTIONNAIRE, found)
            q[SUBMITTED] = submitted
            participants = set(strip(q["participant_id"]))
            items = [c for c in q.columns if c.startswith(LIKERT_PREFIX)]
            if len(items) > MAX_LIKERT_ITEMS:
                found.append(Problem(folder / paths.QUESTIONNAIRE, f"at most {MAX_LIKERT_ITEMS} Likert items "
                                     f"(columns named {LIKERT_PREFIX}...); the header has {len(items):,}, which "
                                     f"looks like an export mistake. Rename the columns that are not Likert items",
                                     1))
            if len(q) == 0:
                found.append(Problem(folder / paths.QUESTIONNAIRE, "at least one response below the header row"))
                q = None  # without participants, every reference to one would be a problem of its own
            else:
                check_roles(q, submitted, role_map, folder / paths.QUESTIONNAIRE, role_map_path, found, unchecked)
        if cb is not None:
            validate(cb, codebook_schema(), folder / paths.CODEBOOK, found)
            codebooks.append(cb.assign(_file=str(folder / paths.CODEBOOK)))
        if src is not None:
            validate(src, sources_schema(), folder / paths.SOURCES, found)
            if q is not None:
                check_source_participants(src, folder / paths.SOURCES, participants, found)
            else:
                unchecked.append(f"{folder / paths.SOURCES}: column 'participant_ids', against "
                                 f"{paths.QUESTIONNAIRE}, which could not be read")
        if seg is not None:
            references = {"source_id": (src, paths.SOURCES), "code": (cb, paths.CODEBOOK),
                          "participant_id": (q, paths.QUESTIONNAIRE)}
            schema = segments_schema(None if src is None else set(strip(src["source_id"])),
                                     None if cb is None else set(strip(cb["code"])),
                                     None if q is None else participants)
            validate(seg, schema, folder / paths.CODED_SEGMENTS, found)
            check_segment_consistency(seg, folder / paths.CODED_SEGMENTS, found)
            for column, (table, filename) in references.items():
                if table is None:
                    unchecked.append(f"{folder / paths.CODED_SEGMENTS}: column {column!r}, "
                                     f"against {filename}, which could not be read")
        problems += excel_zero_hint(found, participants)
        if all(t is not None for t in (q, src, seg, cb)):
            cohorts.append(RawCohort(name, folder, q, src, seg, cb))
    if len(folders) > 1 and codebooks:
        problems += codebook_clashes(codebooks)
    if problems:
        problems = in_reading_order(problems)
        raise InputError(f"The input in {raw_dir} for cohort {cohort!r} cannot be analysed.",
                         problems, unchecked, role_map_lines(problems, role_map_path))
    return RawInputs(cohorts, role_map, role_map_path, files, notes)


def in_reading_order(problems: list[Problem]) -> list[Problem]:
    """Files in the order they were read, whole-file problems first, then by row."""
    first_seen = {}
    for problem in problems:
        first_seen.setdefault(str(problem.file), len(first_seen))
    return sorted(problems, key=lambda p: (first_seen[str(p.file)], p.row or 0))


def input_manifest(inputs: RawInputs, raw_dir: Path) -> pd.DataFrame:
    """SHA-256 and size of every input file, paths relative to raw_dir, for provenance."""
    rows = [
        {"file": str(Path(p).relative_to(raw_dir)), "bytes": Path(p).stat().st_size, "sha256": sha256_file(p)}
        for p in inputs.files
    ]
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"])
