"""REFI-QDA exchange files: a project (.qdpx, from NVivo, ATLAS.ti, MAXQDA, QualCoder...) or a codebook (.qdc).

A .qdpx is a zip holding `project.qde` (XML, namespace `urn:QDA-XML:project:1.0`) and the
sources' text under `Sources/` (some tools write `sources/`). What is read:

- `CodeBook/Codes/Code`, nested: the code tree (`name`, `isCodable`, `Description`).
- `Users/User`: who coded (`Coding/@creatingUser` names a user's guid).
- `Sources/TextSource`: each text source, its text from `plainTextPath` ("internal://<file>"
  in the zip's sources folder, or "relative://" / "absolute://" outside it) or inline
  `PlainTextContent`; its `PlainTextSelection`s (`startPosition`, `endPosition`: offsets in
  Unicode code points into the plain text, end exclusive) with their `Coding/CodeRef
  targetGUID`.
- `Cases/Case`: the participants; `SourceRef` links a case to a whole source, `SelectionRef`
  to one selection (a speaker in a focus group).

A .qdc is the `CodeBook` element alone (namespace `urn:QDA-XML:codebook:1.0`).
Tolerated: a byte-order mark or blank lines before the XML declaration, selections
without a coding (counted), non-text sources (counted, not imported).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path, PurePosixPath

from helpers.data.errors import InputError, Problem
from helpers.data.load import decode

from .coding import Code, Coding, CodingExport, Source

KIND = "refi_qda"
NON_TEXT = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


def parse_xml(data: bytes, path: Path, member: str = "") -> ET.Element:
    """XML bytes as an element tree with namespaces removed from tags (REFI versions differ in them)."""
    where = f"{path} ({member})" if member else str(path)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8-sig", errors="replace")
    # A declaration must open the document; exporters sometimes put a BOM or blank lines first.
    text = text.lstrip("\ufeff \t\r\n")
    text = re.sub(r"^<\?xml[^>]*\?>", "", text)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(None, [Problem(Path(where), f"well-formed XML ({exc})")]) from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def _children(element: ET.Element | None, tag: str) -> list[ET.Element]:
    return [] if element is None else [e for e in element if e.tag == tag]


def _description(element: ET.Element) -> str:
    desc = element.find("Description")
    return re.sub(r"\s+", " ", desc.text or "").strip() if desc is not None and desc.text else ""


def read_codes(codebook: ET.Element | None, export: CodingExport) -> None:
    """The nested Code elements as a flat dict of Code with their ancestors' names."""
    def walk(element: ET.Element, path: tuple[str, ...]) -> None:
        for node in _children(element, "Code"):
            guid, name = node.get("guid", ""), (node.get("name") or "").strip()
            kids = _children(node, "Code")
            export.codes[guid] = Code(key=guid, name=name or guid, path=path, description=_description(node),
                                      codable=(node.get("isCodable", "true").strip().lower() != "false"),
                                      has_children=bool(kids))
            walk(node, path + (name,))

    if codebook is not None:
        walk(codebook.find("Codes") if codebook.find("Codes") is not None else codebook, ())


def read_qdc(path: Path) -> CodingExport:
    """A REFI-QDA codebook file (.qdc) as a CodingExport holding only codes."""
    root = parse_xml(Path(path).read_bytes(), Path(path))
    if root.tag != "CodeBook":
        raise InputError(None, [Problem(Path(path), "a REFI-QDA codebook whose root element is CodeBook", None,
                                        None, root.tag)])
    export = CodingExport(kind="qdc", path=Path(path), codebook_only=True)
    read_codes(root, export)
    if not export.codes:
        raise InputError(None, [Problem(Path(path), "at least one Code element under CodeBook/Codes")])
    return export


def _project_member(archive: zipfile.ZipFile, path: Path) -> str:
    members = [n for n in archive.namelist() if n.lower().endswith(".qde")]
    if not members:
        raise InputError(None, [Problem(path, "a .qde project file inside the .qdpx zip; it holds: "
                                        + ", ".join(archive.namelist()[:10]))])
    return sorted(members, key=lambda n: (n.count("/"), n.lower() != "project.qde"))[0]


def _source_text(archive: zipfile.ZipFile, element: ET.Element, qdpx: Path, base: str,
                 notes: list[str]) -> str | None:
    """The plain text of a TextSource, or None when the export does not include it."""
    inline = element.find("PlainTextContent")
    if inline is not None:
        return inline.text or ""
    ref = element.get("plainTextPath", "")
    if not ref:
        return None
    if ref.startswith("internal://"):
        name = PurePosixPath(ref[len("internal://"):]).name.lower()
        # `Sources/` per the standard, `sources/` from some tools: match without case.
        found = [n for n in archive.namelist() if n.lower().rsplit("/", 1)[-1] == name
                 and "sources/" in n.lower()] or [n for n in archive.namelist() if n.lower().endswith("/" + name)]
        if not found:
            return None
        data = archive.read(found[0])
        where = Path(f"{qdpx}:{found[0]}")
    else:
        rest = re.sub(r"^(relative|absolute|file)://", "", ref)
        candidates = [Path(base) / rest if base else None, qdpx.parent / rest, Path(rest)]
        hit = next((p for p in candidates if p is not None and p.is_file()), None)
        if hit is None:
            return None
        data, where = hit.read_bytes(), hit
    try:
        return decode(where, data, notes)
    except (ValueError, UnicodeDecodeError):
        return None


def read(path: Path) -> CodingExport:
    """A REFI-QDA project (.qdpx) or codebook (.qdc) as a CodingExport."""
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        return read_qdc(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(None, [Problem(path, "a .qdpx file, which is a zip archive; this file is not a zip")]) \
            from None
    with archive:
        member = _project_member(archive, path)
        root = parse_xml(archive.read(member), path, member)
        if root.tag != "Project":
            raise InputError(None, [Problem(path, f"a REFI-QDA project whose root element is Project ({member})",
                                            None, None, root.tag)])
        export = CodingExport(kind=KIND, path=path)
        users = {u.get("guid", ""): (u.get("name") or u.get("id") or u.get("guid", "")).strip()
                 for u in _children(root.find("Users"), "User")}
        read_codes(root.find("CodeBook"), export)
        sources_el = root.find("Sources")
        selections: dict[str, tuple[str, int, int]] = {}   # selection guid -> (source, start, end)
        missing_text, beyond, uncoded, whole = [], 0, 0, 0
        non_text: dict[str, int] = {}
        span_ids: dict[tuple[str, int, int], str] = {}
        for element in ([] if sources_el is None else list(sources_el)):
            if element.tag in NON_TEXT:
                n = sum(len(_children(sel, "Coding")) for sel in element.iter() if sel.tag.endswith("Selection"))
                non_text[element.tag] = non_text.get(element.tag, 0) + n
                continue
            if element.tag != "TextSource":
                continue
            guid = element.get("guid", "")
            name = (element.get("name") or guid).strip()
            export.sources[guid] = Source(key=guid, name=name)
            text = _source_text(archive, element, path, root.get("basePath", ""), export.notes)
            if text is None:
                missing_text.append(name)
            for sel in _children(element, "PlainTextSelection"):
                try:
                    start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
                except ValueError:
                    raise InputError(None, [Problem(path, "whole-number startPosition and endPosition", None,
                                                    f"PlainTextSelection {sel.get('guid')}",
                                                    f"{sel.get('startPosition')}..{sel.get('endPosition')}")]) \
                        from None
                selections[sel.get("guid", "")] = (guid, start, end)
                codings = _children(sel, "Coding")
                if not codings:
                    uncoded += 1
                    continue
                if text is not None and end > len(text):
                    beyond += 1
                # Two selections of the same span (one per coder, as some tools export) are one segment.
                segment = span_ids.setdefault((guid, start, end), sel.get("guid", ""))
                quote = "" if text is None else text[start:end]
                for coding in codings:
                    ref = coding.find("CodeRef")
                    user = coding.get("creatingUser") or sel.get("creatingUser") or ""
                    export.codings.append(Coding(segment=segment, source=guid,
                                                 code="" if ref is None else ref.get("targetGUID", ""),
                                                 coder=users.get(user, user), text=quote))
            for coding in _children(element, "Coding"):  # a code applied to the whole source
                whole += 1
                ref = coding.find("CodeRef")
                user = coding.get("creatingUser") or ""
                export.codings.append(Coding(segment=guid, source=guid, code="" if ref is None else
                                             ref.get("targetGUID", ""), coder=users.get(user, user), text=""))
        case_of_segment: dict[str, str] = {}
        for case in _children(root.find("Cases"), "Case"):
            name = (case.get("name") or case.get("guid", "")).strip()
            export.cases.append(name)
            for ref in _children(case, "SourceRef") + _children(case, "SelectionRef"):
                target = ref.get("targetGUID", "")
                if target in export.sources:
                    export.sources[target].cases.append(name)
                elif target in selections:
                    src, start, end = selections[target]
                    if name not in export.sources[src].cases:
                        export.sources[src].cases.append(name)
                    case_of_segment[span_ids.get((src, start, end), "")] = name
        for coding in export.codings:
            coding.case = case_of_segment.get(coding.segment, "")
    if uncoded:
        export.dropped.append(("text selections without a coding", uncoded))
    for tag, n in non_text.items():
        export.dropped.append((f"codings in {tag} elements (only text sources are imported)", n))
    if missing_text:
        export.notes.append(f"No plain text in the export for: {', '.join(missing_text)}; their segments' text is "
                            f"left blank.")
    if beyond:
        export.notes.append(f"{beyond} selection(s) end past their source's text (offsets are code points): "
                            f"their text is cut at the end of the source. Check the export.")
    if whole:
        export.notes.append(f"{whole} coding(s) apply to a whole source: imported as one segment with blank text.")
    export.says_coder = any(c.coder for c in export.codings) or not export.codings
    return export
