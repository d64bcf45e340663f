"""Hostile and broken exports: nothing read outside the archive, bounded memory, a message naming the file.

All in process and fast. Each case is an export someone could send an analyst: a project
whose sources point at the analyst's own files, a zip bomb, truncated or mis-encoded files.
The rule checked every time: an InputError (or exit status 1 from the command line) whose
message names the file, and no Python traceback.
"""
from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from helpers.data.errors import InputError
from helpers.importers import archive
from helpers.importers.__main__ import main, run_import
from helpers.importers.common import MappingNeeded

FIX = Path(__file__).resolve().parent / "fixtures"
SECRET = "secret diary: the analyst's own file"


def project(sources: str, codes: str = '<Code guid="c1" name="Code one" isCodable="true"/>',
            origin: str = "QualCoder 3.5") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" origin="{origin}">'
            f'<CodeBook><Codes>{codes}</Codes></CodeBook><Sources>{sources}</Sources></Project>').encode()


def text_source(path: str, start: int = 0, end: int = 6) -> str:
    return (f'<TextSource guid="s1" name="Interview 1" plainTextPath="{path}">'
            f'<PlainTextSelection guid="x1" startPosition="{start}" endPosition="{end}">'
            f'<Coding guid="k1"><CodeRef targetGUID="c1"/></Coding></PlainTextSelection></TextSource>')


def qdpx(target: Path, qde: bytes, members: dict[str, bytes] | None = None,
         compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(target, "w", compression) as out:
        out.writestr("project.qde", qde)
        for name, data in (members or {}).items():
            out.writestr(name, data)
    return target


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    return folder


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "private" / "diary.txt"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


def written(raw: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in raw.rglob("*") if p.is_file())


# --- sources outside the archive ----------------------------------------------------------

@pytest.mark.parametrize("ref", ["absolute://{secret}", "relative://../private/diary.txt",
                                 "relative://../../../../../../..{secret}", "file://{secret}", "ftp://host/x.txt"])
def test_a_source_outside_the_archive_is_never_read(raw, tmp_path, secret, ref):
    export = qdpx(tmp_path / "p.qdpx", project(text_source(ref.format(secret=secret))))
    with pytest.raises(InputError) as err:
        run_import(export, "x", raw)
    assert "source text inside the .qdpx (internal://)" in str(err.value) and str(export) in str(err.value)
    assert "--sources-dir" in str(err.value)
    assert SECRET not in written(raw) and not (raw / "x").exists()


def test_sources_dir_is_an_explicit_opt_in_that_cannot_be_escaped(raw, tmp_path, secret):
    shared = tmp_path / "shared"
    (shared / "texts").mkdir(parents=True)
    (shared / "texts" / "int1.txt").write_text("Hello there, world", encoding="utf-8")
    inside = qdpx(tmp_path / "in.qdpx", project(text_source("relative://texts/int1.txt")))
    with pytest.raises(MappingNeeded) as stop:
        run_import(inside, "ok", raw, sources_dir=shared)
    stop.value.path.write_text(stop.value.path.read_text().replace("confirmed = false", "confirmed = true")
                               .replace("participants = []", 'participants = ["P1"]')
                               .replace('theme = ""', 'theme = "T"'))
    outcome = run_import(inside, "ok", raw, sources_dir=shared)
    assert (raw / "ok" / "coded_segments.csv").read_text().splitlines()[1].endswith(",Hello ")
    assert any("outside the archive, in --sources-dir" in n for n in outcome.notes)
    # An absolute path is looked up by its name in the folder, never where it points.
    named = qdpx(tmp_path / "abs.qdpx", project(text_source(f"absolute://{secret}")))
    with pytest.raises(InputError, match="this path is not a file there"):
        run_import(named, "abs", raw, sources_dir=shared)
    for ref in ("relative://../private/diary.txt", "relative://texts/../../private/diary.txt"):
        escape = qdpx(tmp_path / "esc.qdpx", project(text_source(ref)))
        with pytest.raises(InputError, match="this path leaves that folder"):
            run_import(escape, "esc", raw, sources_dir=shared)
    link = shared / "texts" / "link.txt"
    link.symlink_to(secret)
    linked = qdpx(tmp_path / "link.qdpx", project(text_source("relative://texts/link.txt")))
    with pytest.raises(InputError, match="this path leaves that folder"):
        run_import(linked, "link", raw, sources_dir=shared)
    assert SECRET not in written(raw)


def test_internal_paths_with_dots_stay_inside_the_archive(raw, tmp_path, secret):
    export = qdpx(tmp_path / "p.qdpx", project(text_source("internal://../../private/diary.txt")),
                  {"Sources/other.txt": b"Inside text"})
    with pytest.raises(MappingNeeded):
        run_import(export, "x", raw)
    assert SECRET not in written(raw)


# --- bombs and bounds ----------------------------------------------------------------------

def bomb(target: Path, inflated: int, name: str = "project.qde") -> Path:
    """A zip of ~1 MB whose one member inflates to `inflated` bytes of zeros (about 1000:1).

    Written by hand from one compressed megabyte repeated (each ends with a full flush, so
    the copies are independent), as zipfile would take half a minute to deflate a gigabyte.
    """
    chunk, n = b"\0" * 2**20, inflated // 2**20
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    data = first + again * (n - 1) + packer.flush()
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    raw_name = name.encode()
    fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(data), n * 2**20)
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(raw_name), 0) + raw_name
    central = (b"PK\x01\x02" + struct.pack("<H", 20) + fields
               + struct.pack("<HHHHHII", len(raw_name), 0, 0, 0, 0, 0, 0) + raw_name)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    target.write_bytes(local + data + central + end)
    return target


@pytest.fixture(scope="module")
def gigabyte_bomb(tmp_path_factory) -> Path:
    return bomb(tmp_path_factory.mktemp("bomb") / "bomb.qdpx", 1024 * 2**20)


def test_zip_bomb_is_refused_with_bounded_memory(raw, gigabyte_bomb):
    export = gigabyte_bomb   # 1 GB of zeros in about 1 MB
    assert export.stat().st_size < 1.1 * 2**20
    with zipfile.ZipFile(export) as check:  # a sound zip: zipfile itself would inflate it
        assert check.getinfo("project.qde").file_size == 2**30
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as err:
            run_import(export, "x", raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{export}:project.qde" in str(err.value)
    assert "a member of at most 256 MB when inflated; it declares 1,024 MB" in str(err.value)
    assert peak < 5 * 2**20  # refused from the zip's directory: nothing is inflated


def test_a_member_inflating_past_the_ratio_is_refused(raw, tmp_path):
    export = bomb(tmp_path / "ratio.qdpx", 64 * 2**20)    # under the size limit, 1000:1
    with pytest.raises(InputError, match=r"a member that inflates at most 100 times its compressed size; it would "
                                         r"inflate [\d,]+ times"):
        run_import(export, "x", raw)


def test_a_member_that_lies_about_its_size_is_cut_at_what_it_declares(tmp_path):
    real = project(text_source("internal://a.txt"))
    export = qdpx(tmp_path / "liar.qdpx", real)
    data = bytearray(export.read_bytes())
    info = zipfile.ZipFile(export).getinfo("project.qde")
    # Rewrite the declared size (local header at offset 22, central directory likewise) to 100 bytes.
    data[info.header_offset + 22:info.header_offset + 26] = (100).to_bytes(4, "little")
    central = bytes(data).rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (100).to_bytes(4, "little")
    export.write_bytes(bytes(data))
    with archive.Archive(export) as zipped, pytest.raises(InputError) as err:
        zipped.read("project.qde")
    assert f"{export}:project.qde" in str(err.value) and "a readable zip member (BadZipFile: Bad CRC-32" in \
        str(err.value)


def test_xlsx_bomb_is_refused_before_openpyxl_inflates_it(raw, tmp_path):
    export = bomb(tmp_path / "bomb.xlsx", 512 * 2**20, "xl/worksheets/sheet1.xml")
    with pytest.raises(InputError, match=r"bomb\.xlsx:xl/worksheets/sheet1\.xml.*a member of at most 256 MB|"
                                         r"inflates at most 100 times"):
        run_import(export, "x", raw, kind="msforms")


def test_xml_entities_are_refused(raw, tmp_path):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b'<Project xmlns="urn:QDA-XML:project:1.0"><Sources>&b;</Sources></Project>')
    export = qdpx(tmp_path / "laughs.qdpx", laughs)
    with pytest.raises(InputError, match="XML without entity declarations"):
        run_import(export, "x", raw)


def test_a_code_tree_ten_thousand_levels_deep_is_refused_quickly(raw, tmp_path):
    depth = 10_000   # paths of every code would take depth squared / 2 = 50 million names
    codes = "".join(f'<Code guid="g{i}" name="level {i}" isCodable="true">' for i in range(depth)) + "</Code>" * depth
    qdc = tmp_path / "deep.qdc"
    qdc.write_text(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes></CodeBook>', encoding="utf-8")
    with pytest.raises(InputError, match=r"deep\.qdc, column 'Code g200': value 'level 200': a code tree at most "
                                         r"200 levels deep"):
        run_import(qdc, "deep", raw)


# --- every parse error a message naming the file -----------------------------------------------

def test_truncated_xlsx_names_the_file(raw, tmp_path):
    whole = (FIX / "msforms_responses.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(whole)) as book:
        members = {n: book.read(n) for n in book.namelist()}
    # A sheet cut mid-element: openpyxl opens the workbook, then fails while reading rows.
    sheet = next(n for n in members if n.startswith("xl/worksheets/"))
    members[sheet] = members[sheet][: len(members[sheet]) // 2]
    cut = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(cut, "w") as out:
        for name, data in members.items():
            out.writestr(name, data)
    with pytest.raises(InputError) as err:
        run_import(cut, "x", raw, kind="msforms")
    assert f"{cut}: an Excel .xlsx workbook whose first sheet can be read to the end; it breaks after row" in \
        str(err.value) and "ParseError" in str(err.value)
    half = tmp_path / "half.xlsx"
    half.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"half\.xlsx: an Excel \.xlsx workbook, which is a zip archive; this file "
                                         r"cannot be opened as one"):
        run_import(half, "x", raw, kind="msforms")


@pytest.mark.parametrize("qde, expected", [
    (b"<Project><Sources>", r"p\.qdpx:project\.qde: well-formed XML \(no element found: line 1, column 18\)"),
    (b'<?xml version="1.0" encoding="utf-8"?><Project name="caf\xe9"/>',
     r"p\.qdpx:project\.qde: XML text in utf-8: the byte 0xe9 at line 1 \(byte 56\) is not valid in it"),
    (b'<?xml version="1.0" encoding="klingon"?><Project/>', r"column 'encoding': value 'klingon'"),
    (b"<CodeBook/>", r"a REFI-QDA project whose root element is Project"),
])
def test_bad_project_xml_names_the_member(raw, tmp_path, qde, expected):
    export = qdpx(tmp_path / "p.qdpx", qde)
    with pytest.raises(InputError, match=expected):
        run_import(export, "x", raw)


def test_bad_source_text_and_bad_positions_name_the_source(raw, tmp_path):
    nul = qdpx(tmp_path / "nul.qdpx", project(text_source("internal://a.txt")), {"Sources/a.txt": b"a\0b\0c\0"})
    with pytest.raises(InputError, match=r"nul\.qdpx:Sources/a\.txt: a source text that can be read .*NUL bytes"):
        run_import(nul, "x", raw)
    past = qdpx(tmp_path / "past.qdpx", project(text_source("internal://a.txt", 2, 99)), {"Sources/a.txt": b"short"})
    with pytest.raises(InputError) as err:
        run_import(past, "x", raw)
    assert "PlainTextSelection x1 in source 'Interview 1'\": value '2..99': positions inside the source's text of " \
           "5 characters" in str(err.value)
    words = project(text_source("internal://a.txt", 0, 5).replace('guid="x1"', 'guid="x1" name="Other words"'))
    stored = qdpx(tmp_path / "stored.qdpx", words, {"Sources/a.txt": "😀 Hello world".encode()})
    with pytest.raises(InputError, match="the words the project stores for this selection"):
        run_import(stored, "x", raw)


def test_a_selection_splitting_an_emoji_is_refused_for_a_utf16_tool(raw, tmp_path):
    export = qdpx(tmp_path / "split.qdpx", project(text_source("internal://a.txt", 1, 4), origin="NVivo 14"),
                  {"Sources/a.txt": "😀 Hello".encode()})
    with pytest.raises(InputError, match=r"positions in UTF-16 code units, as NVivo 14 writes them, that fall "
                                         r"inside the text and between whole characters"):
        run_import(export, "x", raw)


@pytest.mark.parametrize("content, expected", [
    (b"", r"file is empty"),
    (b"\xff\xfeI\x00D\x00", r"Microsoft Forms export|an export whose kind can be told"),
    (b"StartDate,EndDate\n\"unterminated,", r"is not a well-formed CSV table|an export whose kind"),
    (b"i\0d\0,\0d\0o\0c\0", r"cannot be read as text: holds NUL bytes"),
])
def test_broken_csv_exports_get_a_message(raw, tmp_path, content, expected):
    export = tmp_path / "export.csv"
    export.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        run_import(export, "x", raw)


def test_taguette_codebook_that_is_no_codebook(raw, tmp_path):
    book = tmp_path / "book.csv"
    book.write_text("name,colour\nx,red\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"book\.csv, row 1: value 'name, colour': a Taguette codebook export"):
        run_import(FIX / "taguette_highlights.csv", "x", raw, codebook=book)


def test_the_command_line_never_prints_a_traceback(raw, tmp_path, capsys, gigabyte_bomb):
    cases = [qdpx(tmp_path / "laughs.qdpx", b'<!DOCTYPE p [<!ENTITY a "x">]><Project/>'),
             gigabyte_bomb, tmp_path / "missing.qdpx"]
    folder = tmp_path / "a_folder.csv"
    folder.mkdir()
    cases.append(folder)
    for case in cases:
        status = main([str(case), "--cohort", "x", "--raw-dir", str(raw)])
        err = capsys.readouterr().err
        assert status == 1 and "Traceback" not in err and str(case) in err, err


def test_verified_tool_whose_positions_cut_words_is_refused(raw, tmp_path):
    # Positions of whole words counted in code points, in a project that says NVivo (UTF-16):
    # read as UTF-16 each selection would be shifted one character left, across a word edge.
    text = "😀 alpha beta gamma delta"
    spans = [(2, 7), (8, 12), (13, 18), (19, 24)]
    sels = "".join(f'<PlainTextSelection guid="x{i}" startPosition="{a}" endPosition="{b}"><Coding guid="k{i}">'
                   f'<CodeRef targetGUID="c1"/></Coding></PlainTextSelection>' for i, (a, b) in enumerate(spans))
    source = f'<TextSource guid="s1" name="Interview 1" plainTextPath="internal://a.txt">{sels}</TextSource>'
    export = qdpx(tmp_path / "words.qdpx", project(source, origin="NVivo 14"), {"Sources/a.txt": text.encode()})
    with pytest.raises(InputError) as err:
        run_import(export, "x", raw)
    assert "PlainTextSelection x0 in source 'Interview 1'\": value '2..7': positions in UTF-16 code units, as NVivo " \
           "14 writes them: read so, 4 of 4 selections after a character outside the BMP start or end inside a word " \
           "or on a space (0 in Unicode code points); this one reads ' alph' (Unicode code points: 'alpha')" in \
           str(err.value)
