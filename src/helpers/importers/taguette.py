"""Taguette: the highlights export (Highlights > all tags > Export: CSV or Excel).

Columns `id, document, tag, content`: one row per highlight and tag, so a highlight with
two tags is two rows with the same id (one segment, two codes); a highlight without a
tag has an empty `tag` (left out, counted). `content` is the highlighted text. The export
says nothing of coders or of who speaks, and tags carry no tree: the tree and the tags'
descriptions can come from Taguette's codebook export (`tag, parent, description, number
of highlights`) or a REFI .qdc, given with --codebook.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.errors import InputError, Problem

from .coding import Code, Coding, CodingExport, Source
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
    for name in pd.unique(body["document"]):
        export.sources[name] = Source(key=name, name=name)
    tree = read_tree(codebook) if codebook else {}
    for tag in pd.unique(body["tag"]):
        parents, description = tree.get(tag, ((), ""))
        export.codes[tag] = Code(key=tag, name=tag, path=parents, description=description)
    for tag, (parents, description) in tree.items():  # codebook tags nobody used: zero rows
        export.codes.setdefault(tag, Code(key=tag, name=tag, path=parents, description=description))
    has_children = {p for parents, _ in tree.values() for p in parents}
    for code in export.codes.values():
        code.has_children = code.name in has_children
    export.codings = [Coding(segment=f"H{hid}", source=doc, code=tag, text=text, row=int(row))
                      for row, hid, doc, tag, text in body[["_row", "id", "document", "tag", "content"]]
                      .itertuples(index=False)]
    return export


def read_tree(path: Path) -> dict[str, tuple[tuple[str, ...], str]]:
    """tag -> (ancestors top first, description) from a Taguette codebook CSV or a REFI .qdc."""
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        from .refi_qda import read_qdc
        book = read_qdc(path)
        return {c.name: (c.path, c.description) for c in book.codes.values()}
    records = read_records(path)
    header = [h.strip().casefold() for h in records[0]] if records else []
    if header[:2] != ["tag", "parent"]:
        raise InputError(None, [Problem(path, "a Taguette codebook export (tag, parent, description, number of "
                                        "highlights) or a REFI .qdc", 1, None, ", ".join(header[:4]))])
    _, body = table_from_records(records, 1, path)
    body.columns = ["_row"] + header[:len(body.columns) - 1]
    parent = dict(zip(body["tag"].str.strip(), body["parent"].str.strip()))
    described = dict(zip(body["tag"].str.strip(), body.get("description", pd.Series("", index=body.index))))
    out = {}
    for tag in parent:
        chain, seen, node = [], {tag}, parent[tag]
        while node and node not in seen:  # a loop in the parents would never end
            chain.append(node)
            seen.add(node)
            node = parent.get(node, "")
        out[tag] = (tuple(reversed(chain)), str(described.get(tag, "")).strip())
    return out
