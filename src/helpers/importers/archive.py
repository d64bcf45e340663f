"""Reading untrusted export files within bounds: zip members, XML, and what may be opened at all.

A .qdpx or .xlsx is a zip that someone else made. Three things can go wrong with it, and
each becomes an InputError naming the file (never a traceback, never a read elsewhere):

- **Size.** A member is read only if its declared size is at most MAX_MEMBER_BYTES and it
  inflates at most MAX_RATIO times its compressed size (a 1 MB "zip bomb" of one member
  inflating to 1 GB is refused before a byte is inflated). The member is then read in
  chunks and counted, so a header that lies about the size cannot make it read more; and
  all members read from one archive together stay under MAX_TOTAL_BYTES. Peak memory of an
  import is therefore bounded by about MAX_TOTAL_BYTES plus the text it decodes.
- **Markup.** XML with a DOCTYPE that declares entities is refused (entity expansion is the
  XML form of a bomb, and no REFI-QDA tool writes one); a parse error names the member and
  the line and column.
- **Where sources live.** A REFI-QDA source's text is read from inside the archive
  (`internal://`). Text outside it (`relative://`, `absolute://`, `file://`) is read only
  from a folder the analyst names (--sources-dir), only by a path that stays inside that
  folder after resolving `..` and symbolic links; otherwise the import stops and says so.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from helpers.data.errors import InputError, Problem

MAX_MEMBER_BYTES = 256 * 2**20   # one inflated member: a 256 MB transcript is far beyond any real one
MAX_TOTAL_BYTES = 512 * 2**20    # all members read from one archive
MAX_RATIO = 100                  # inflated / compressed; text and XML compress 3-30 times
RATIO_FLOOR = 2**20              # members smaller than this are never refused for their ratio
CHUNK = 2**20
MAX_ELEMENTS = 1_000_000         # XML elements in one document (about 250,000 codings)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n < 10 * 2**20 else f"{n / 2**20:,.0f} MB"


class Archive:
    """A zip opened for bounded reading; InputError (naming the file) for anything that is not a sound zip."""

    def __init__(self, path: Path, what: str = "a zip archive"):
        self.path = Path(path)
        self.read_so_far = 0
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(None, [Problem(self.path, f"{what}; this file cannot be opened as one ({exc})")]) \
                from None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def check_all(self) -> None:
        """Every member's declared size and ratio within bounds (for archives a library reads itself)."""
        total = 0
        for info in self.zip.infolist():
            total += info.file_size
            self.check(info)
        if total > MAX_TOTAL_BYTES:
            raise InputError(None, [Problem(self.path, f"an archive whose members together stay under "
                                            f"{_mb(MAX_TOTAL_BYTES)} inflated; they declare {_mb(total)}")])

    def check(self, info: zipfile.ZipInfo) -> None:
        where = Path(f"{self.path}:{info.filename}")
        if info.file_size > MAX_MEMBER_BYTES:
            raise InputError(None, [Problem(where, f"a member of at most {_mb(MAX_MEMBER_BYTES)} when inflated; "
                                            f"it declares {_mb(info.file_size)}. The importer refuses it rather "
                                            f"than fill the memory")])
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputError(None, [Problem(where, f"a member that inflates at most {MAX_RATIO} times its "
                                            f"compressed size; it would inflate "
                                            f"{info.file_size // max(info.compress_size, 1):,} times "
                                            f"({_mb(info.compress_size)} to {_mb(info.file_size)}), as a zip bomb "
                                            f"does. The importer refuses it")])

    def namelist(self) -> list[str]:
        return self.zip.namelist()

    def read(self, name: str) -> bytearray:
        """One member's bytes, refused with a clear message past the size and ratio limits."""
        where = Path(f"{self.path}:{name}")
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise InputError(None, [Problem(self.path, f"a member {name!r} in the archive")]) from None
        self.check(info)
        if self.read_so_far + info.file_size > MAX_TOTAL_BYTES:
            raise InputError(None, [Problem(where, f"an archive whose members read together stay under "
                                            f"{_mb(MAX_TOTAL_BYTES)} inflated")])
        data = bytearray()   # grown in place: a list of chunks joined at the end would hold it twice
        try:
            with self.zip.open(info) as handle:
                while chunk := handle.read(CHUNK):
                    if len(data) + len(chunk) > min(info.file_size, MAX_MEMBER_BYTES):  # a header that lies
                        raise InputError(None, [Problem(where, f"a member no larger than it declares "
                                                        f"({info.file_size:,} bytes); it inflates to more")])
                    data += chunk
        except InputError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
                RuntimeError) as exc:  # bad CRC, truncated data, an encrypted or unknown compression
            raise InputError(None, [Problem(where, f"a readable zip member ({type(exc).__name__}: {exc})")]) \
                from None
        self.read_so_far += len(data)
        return data


def decode_xml(data: bytes, where: Path) -> str:
    """XML bytes as text: the declared or marked encoding, strictly (a bad byte is named, not replaced)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        declared = re.match(rb"\s*(?:\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']", data[:200])
        codec = declared.group(1).decode("ascii").lower() if declared else "utf-8-sig"
        if codec in ("utf-8", "utf8"):
            codec = "utf-8-sig"
    try:
        return data.decode(codec)
    except LookupError:
        raise InputError(None, [Problem(where, "XML in an encoding Python knows (UTF-8 as REFI-QDA asks)", None,
                                        "encoding", codec)]) from None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(None, [Problem(where, f"XML text in {codec.replace('-sig', '')}: the byte "
                                        f"0x{data[exc.start]:02x} at line {line} (byte {exc.start:,}) is "
                                        f"not valid in it; save the export again as UTF-8")]) from None


def parse_xml(data: bytes, where: Path) -> ET.Element:
    """XML bytes as an element tree with namespaces removed from tags (REFI versions differ in them)."""
    text = decode_xml(data, where)
    del data  # the caller passed the member's bytes on: keep one copy of the document, not two
    # A declaration must open the document; exporters sometimes put a BOM or blank lines first.
    # Skipped by offset, not by slicing: a copy of a large document would double the memory.
    first = text[:4096]
    start = len(first) - len(first.lstrip("\ufeff \t\r\n"))
    declaration = re.match(r"<\?xml[^>]*\?>", text[start:start + 4096])
    start += declaration.end() if declaration else 0
    head = text[start:start + 65536]
    if re.search(r"<!ENTITY", head) or re.search(r"<!DOCTYPE[^>]*\[", head):
        raise InputError(None, [Problem(where, "XML without entity declarations (a DOCTYPE that declares "
                                        "entities can expand without bound; no REFI-QDA tool writes one)")])
    # Parsed in pieces, counting elements: a small, highly compressible file can hold tens of
    # millions of tiny elements, each a Python object of ~200 bytes once parsed.
    parser = ET.XMLPullParser(events=("start",))
    root, count = None, 0
    try:
        for at in range(start, len(text), CHUNK):
            parser.feed(text[at:at + CHUNK])
            for _, element in parser.read_events():
                root = element if root is None else root
                count += 1
                if count > MAX_ELEMENTS:
                    raise InputError(None, [Problem(where, f"XML of at most {MAX_ELEMENTS:,} elements (a "
                                                    f"REFI-QDA project of 100,000 codings has about 400,000)")])
        parser.close()
    except ET.ParseError as exc:
        raise InputError(None, [Problem(where, f"well-formed XML ({exc})")]) from None
    del parser, text
    if root is None:
        raise InputError(None, [Problem(where, "well-formed XML (no element found)")])
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def external_source(ref: str, sources_dir: Path | None, qdpx: Path, source: str) -> Path:
    """The file a `relative://`, `absolute://` or `file://` text path names, inside sources_dir only.

    Raises InputError when no folder was given, or when the path leaves the folder.
    """
    scheme, _, rest = ref.partition("://")
    if sources_dir is None:
        raise InputError(None, [Problem(qdpx, "source text inside the .qdpx (internal://). This source's text is "
                                        "a file outside the archive, which the importer does not open on a "
                                        "project's say-so. Export the project with its sources embedded, or put "
                                        "the files in one folder and pass --sources-dir FOLDER to python -m "
                                        "helpers.importers", None, f"TextSource {source!r} plainTextPath", ref)])
    folder = Path(sources_dir).expanduser().resolve()
    rest = rest.replace("\\", "/")
    if scheme.lower() == "relative":
        parts = PurePosixPath(rest.lstrip("/")).parts
        candidate = folder.joinpath(*parts) if parts else folder
    else:
        # An absolute path names a file on the machine that wrote the project: only its name is used.
        candidate = folder / PurePosixPath(rest).name
    resolved = candidate.resolve()
    if not resolved.is_relative_to(folder) or not resolved.is_file():
        why = ("leaves that folder" if not resolved.is_relative_to(folder)
               else "is not a file there")
        raise InputError(None, [Problem(qdpx, f"a source file inside --sources-dir {folder}; this path {why}", None,
                                        f"TextSource {source!r} plainTextPath", ref)])
    return resolved
