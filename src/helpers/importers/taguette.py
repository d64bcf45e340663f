"""Taguette: the highlights export (Highlights > all tags > Export: CSV or Excel), with its codebook.

What Taguette (1.5) really writes:

- **Highlights** (`taguette.export.highlights_csv`): columns `id, document, tag, content`,
  one row per highlight and tag, so a highlight with two tags is two rows with the same id
  (one segment, two codes). `content` is the highlighted text. Highlights without a tag
  are not exported at all, and nothing says who coded or who speaks.
- **Codebook CSV** (`codebook_csv`): `tag, description, number of highlights, number of
  documents`. There is no parent column: Taguette's tags are flat, and people write a
  hierarchy into the name (`barriers.time`; `interesting\\places` in Taguette's own tests).
- **Codebook .qdc** (`codebook_xml`): REFI-QDA `CodeBook` with one flat `Code` per tag.

So the tree comes from the names: the separator (`.` or `\\`, guessed from the tags, and
set in the mapping's [codebook] separator) splits `barriers.time` into theme `barriers`
and code `time`. A codebook that does give parents (a `parent` column, or a nested .qdc
from another tool) is used as it is instead. Codebook tags nobody used are listed with
zero references.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.errors import InputError, Problem

from .coding import Code, Coding, CodingExport, Source, split_names
from .common import read_records, table_from_records

KIND = "taguette"
HEADER = ["id", "document", "tag", "content"]


def looks_like(header: list[str]) -> bool:
    return [h.strip().casefold() for h in header[:4]] == HEADER


def read(path: Path, codebook: Path | None = None) -> CodingExport:
    """A Taguette highlights export (.csv or .xlsx) as a CodingExport."""
    path = Path(path)
    export = CodingExport(kind=KIND, path=path, says_coder=False)
    records = read_records(path, export.notes)
    if not records or not looks_like(records[0]):
        raise InputError(None, [Problem(path, "a Taguette highlights export with the columns id, document, tag, "
                                        "content", 1, None, ", ".join(records[0][:4]) if records else "")])
    _, body = table_from_records(records, 1, path)
    body.columns = ["_row"] + [h.strip().casefold() for h in records[0]][:len(body.columns) - 1]
    for column in HEADER:
        body[column] = body[column].str.strip() if column != "content" else body[column]
    untagged = body["tag"] == ""
    if untagged.any():
        export.dropped.append(("highlights without a tag", int(untagged.sum())))
    body = body[~untagged]
    blank_id = body["id"] == ""
    if blank_id.any():
        raise InputError(None, [Problem(path, "a highlight id (the cell is blank)", int(r), "id", "")
                                for r in body.loc[blank_id, "_row"]])
    if body.empty:
        raise InputError(None, [Problem(path, "at least one highlight; the export has a header and no rows (Taguette "
                                        "exports only tagged highlights: tag some text, or export all tags)")])
    for name in pd.unique(body["document"]):
        export.sources[name] = Source(key=name, name=name)
    tree = read_tree(codebook) if codebook else {}
    tags = list(dict.fromkeys(list(tree) + list(pd.unique(body["tag"]))))  # the codebook's order first
    for tag in tags:
        parents, description = tree.get(tag, ((), ""))
        export.codes[tag] = Code(key=tag, name=tag, path=parents, description=description)
    if any(parents for parents, _ in tree.values()):
        # The codebook gives the tree itself: names stay whole.
        has_children = {p for parents, _ in tree.values() for p in parents}
        for code in export.codes.values():
            code.has_children = code.name in has_children
    else:
        split_names(export, guess_separator(tags))
    export.codings = [Coding(segment=f"H{hid}", source=doc, code=tag, text=text, row=int(row))
                      for row, hid, doc, tag, text in body[["_row", "id", "document", "tag", "content"]]
                      .itertuples(index=False)]
    return export


def guess_separator(tags: list[str]) -> str:
    """The character that separates levels in these tag names: '.', then '\\', else none."""
    for sep in (".", "\\"):
        if any(sep in t.strip(sep) for t in tags):
            return sep
    return ""


def read_tree(path: Path) -> dict[str, tuple[tuple[str, ...], str]]:
    """tag -> (ancestors top first, description) from a Taguette codebook CSV or a REFI .qdc.

    Taguette's own CSV (tag, description, number of highlights, number of documents) and its
    .qdc are flat: every tag gets no ancestors here, and the names are split later. A CSV
    with a `parent` column (written by hand or by another tool) gives ancestors.
    """
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        from .refi_qda import read_qdc
        book = read_qdc(path)
        return {c.name: (c.path, c.description) for c in book.codes.values()}
    records = read_records(path)
    header = [h.strip().casefold() for h in records[0]] if records else []
    if "tag" not in header:
        raise InputError(None, [Problem(path, "a Taguette codebook export (tag, description, number of highlights, "
                                        "number of documents) or a REFI .qdc", 1, None, ", ".join(header[:4]))])
    _, body = table_from_records(records, 1, path)
    body.columns = ["_row"] + header[:len(body.columns) - 1]
    tags = body["tag"].str.strip()
    blank = tags == ""
    if blank.any():
        raise InputError(None, [Problem(path, "a tag name (the cell is blank)", int(r), "tag", "")
                                for r in body.loc[blank, "_row"]])
    described = dict(zip(tags, body["description"].str.strip() if "description" in body else [""] * len(body)))
    if "parent" not in body:
        return {tag: ((), described[tag]) for tag in tags}
    parent = dict(zip(tags, body["parent"].str.strip()))
    out = {}
    for tag in parent:
        chain, seen, node = [], {tag}, parent[tag]
        while node and node not in seen:  # a loop in the parents would never end
            chain.append(node)
            seen.add(node)
            node = parent.get(node, "")
        out[tag] = (tuple(reversed(chain)), described.get(tag, ""))
    return out
