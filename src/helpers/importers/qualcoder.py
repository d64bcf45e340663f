"""QualCoder: the coding report exported as CSV (Reports > Coding reports > Export: csv).

QualCoder writes it as UTF-8 with a byte-order mark, every cell quoted, with the columns
`File` (`File/case` in recent versions), `Coder`, `Coded`, `Id`, `Codename`,
`Coded_Memo`, then one `Category` column per level of the deepest code's categories
(the header repeats `Category`), nearest category first, then optional `FileVar_<name>`
and `CaseVar_<name>` columns. `Id` is `ctid:<n>` for coded text, `imid:` / `avid:` for
image and audio/video codings (left out, counted; `Coded` then reads "image" or "a/v").

The report gives no character positions: codings of the same text in the same file are
taken as one segment (two coders coding one stretch count once, as docs/methods.md's reference
definition asks). Identical words coded at two places of one file by the same coder with
the same code are then counted once too; the importer says when it sees that.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.errors import InputError, Problem

from .coding import Code, Coding, CodingExport, Source
from .common import read_records, table_from_records

KIND = "qualcoder"
FIXED = ["coder", "coded", "id", "codename", "coded_memo"]


def looks_like(header: list[str]) -> bool:
    names = [h.strip().casefold() for h in header[:6]]
    return len(names) >= 5 and names[0] in ("file", "file/case") and names[1:5] == FIXED[:4]


def read(path: Path, codebook: Path | None = None) -> CodingExport:
    """A QualCoder coding-report CSV as a CodingExport."""
    path = Path(path)
    export = CodingExport(kind=KIND, path=path)
    records = read_records(path, export.notes)
    if not records or not looks_like(records[0]):
        raise InputError(None, [Problem(path, "a QualCoder coding report with the columns File (or File/case), "
                                        "Coder, Coded, Id, Codename, Coded_Memo, Category...", 1, None,
                                        ", ".join(records[0][:6]) if records else "")])
    header, body = table_from_records(records, 1, path)
    names = [h.casefold() for h in header]
    category_cols = [i for i, h in enumerate(names) if h == "category"]
    body.columns = ["_row"] + [f"c{i}" for i in range(len(header))]
    file_, coder, coded, cid, codename = (body[f"c{i}"] for i in range(5))
    kind = cid.str.strip().str.split(":").str[0]
    media = kind.isin(["imid", "avid"])
    if media.any():
        export.dropped.append(("image and audio/video codings (only text is imported)", int(media.sum())))
    keep = ~media & (codename.str.strip() != "")
    if (codename.str.strip() == "").any():
        export.dropped.append(("rows without a Codename", int((codename.str.strip() == "").sum())))
    rows = pd.DataFrame({
        "row": body["_row"], "file": file_.str.strip(), "coder": coder.str.strip(), "text": coded,
        "id": cid.str.strip(), "code": codename.str.strip(),
        # Categories come nearest first; the tree wants the top first.
        "path": [tuple(reversed([c.strip() for c in cats if c.strip()]))
                 for cats in body[[f"c{i}" for i in category_cols]].itertuples(index=False, name=None)]
        if category_cols else [()] * len(body),
    })[keep.to_numpy()]
    for name in pd.unique(rows["file"]):
        export.sources[name] = Source(key=name, name=name)
    for code, group in rows.groupby("code", sort=False):
        paths = set(group["path"])
        if len(paths) > 1:
            export.notes.append(f"Code {code!r} appears under more than one category path; the first is used.")
        export.codes[code] = Code(key=code, name=code, path=group["path"].iloc[0])
    if codebook is not None:
        from .taguette import read_tree
        for name, (parents, description) in read_tree(codebook).items():
            code = export.codes.setdefault(name, Code(key=name, name=name, path=parents))
            code.description = description or code.description
    parents = {p for code in export.codes.values() for p in code.path}
    for code in export.codes.values():
        code.has_children = code.name in parents
    # One segment per (file, coded text): the first coding's Id names it.
    rows["segment"] = rows.groupby(["file", "text"], sort=False)["id"].transform("first")
    again = rows.duplicated(["segment", "code", "coder"])
    if again.any():
        export.notes.append(f"{int(again.sum())} coding(s) repeat the same words, file, code and coder as another: "
                            f"counted once (they may be two places with the same words).")
    export.codings = [Coding(segment=s, source=f, code=c, coder=k, text=t, row=int(r))
                      for s, f, c, k, t, r in rows[["segment", "file", "code", "coder", "text", "row"]]
                      .itertuples(index=False)]
    if not export.codings:
        raise InputError(None, [Problem(path, "at least one coded text row (Id ctid:...)")])
    return export
