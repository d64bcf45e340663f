"""The codebook as a REFI-QDA codebook exchange file (codebook.qdc), for coding tools.

REFI-QDA 1.5 (www.qdasoftware.org) defines the codebook file: one `CodeBook` element in the
namespace `urn:QDA-XML:codebook:1.0` holding `Codes`, each `Code` with a `guid`, a `name`,
`isCodable` and an optional `Description`, nested to form the tree. NVivo, ATLAS.ti, MAXQDA
and QualCoder import it. Here each theme is a code that is not codable, each subtheme one
under it, and each code of the codebook a codable code under its subtheme with its definition
as `Description`; only tables/codebook.csv's theme, subtheme, code and definition are used,
nothing from the data. Guids are derived from the names (UUID version 5), so the same codebook
gives the same file, byte for byte, and a tool re-importing it recognises the same codes.
"""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pandas as pd

NAMESPACE = "urn:QDA-XML:codebook:1.0"
# A namespace of this project's own for the guids: uuid5(GUIDS, "theme/subtheme/code").
GUIDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:nhsda-eval:codebook")
ORIGIN = "nhsda-eval (reproducible analysis of the NHS Digital Academy evaluation)"


def guid(*path: str) -> str:
    """The code's guid, from its path of names: the same path, the same guid."""
    return str(uuid.uuid5(GUIDS, "/".join(path))).upper()


def _text(value) -> str:
    return "" if value is None or str(value) in ("nan", "None", "<NA>") else str(value).strip()


def codebook_qdc(codebook: pd.DataFrame) -> bytes:
    """codebook.qdc from a codebook table (theme, subtheme, code, definition), in its order."""
    ET.register_namespace("", NAMESPACE)
    q = f"{{{NAMESPACE}}}"
    root = ET.Element(f"{q}CodeBook", {"origin": ORIGIN})
    codes = ET.SubElement(root, f"{q}Codes")
    parents: dict[tuple[str, ...], ET.Element] = {}

    def node(parent: ET.Element, path: tuple[str, ...], codable: bool, description: str = "") -> ET.Element:
        element = ET.SubElement(parent, f"{q}Code", {"guid": guid(*path), "name": path[-1],
                                                   "isCodable": "true" if codable else "false"})
        if description:  # the schema's order: Description before any child Code
            ET.SubElement(element, f"{q}Description").text = description
        return element

    for row in codebook.itertuples(index=False):
        theme, subtheme, code = _text(row.theme), _text(getattr(row, "subtheme", "")), _text(row.code)
        if (theme,) not in parents:
            parents[(theme,)] = node(codes, (theme,), codable=False)
        parent_path = (theme, subtheme) if subtheme else (theme,)
        if parent_path not in parents:
            parents[parent_path] = node(parents[(theme,)], parent_path, codable=False)
        node(parents[parent_path], parent_path + (code,), codable=True,
             description=_text(getattr(row, "definition", "")))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"
