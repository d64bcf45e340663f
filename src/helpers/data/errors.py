"""Errors a researcher can act on: file, spreadsheet row, column, value, expectation.

Values are shown so that what differs can be seen: a control character, a no-break space or
hyphen, a zero-width character or a Cyrillic letter in a Latin word is written as its escape
(`\\x0b`, `\\u2011`) and named after the value; a value of thousands of characters (a transcript
pasted into a role cell) is shortened; and the same problem on thousands of rows is listed
once, with the first rows that have it, so that a message stays readable and small.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# A value longer than this (in characters) is shown by its start and its length.
SHOWN_CHARS = 200
# A problem repeated on more rows than this is listed once, with the first ROWS_LISTED rows.
GROUP_FROM = 10
ROWS_LISTED = 10
# Look-alike characters named after a value: at most this many distinct ones.
NAMED_CHARS = 5
# Control characters have no Unicode name: the ones found in exports, by the names editors use.
CONTROL_NAMES = {0x00: "NUL", 0x08: "BACKSPACE", 0x0b: "VERTICAL TAB", 0x0c: "FORM FEED", 0x1b: "ESCAPE",
                 0x7f: "DELETE", 0x85: "NEXT LINE"}


def _mixes_scripts(text: str) -> bool:
    """True when `text` has Latin letters and letters of another script (`Dаta`, Cyrillic а)."""
    scripts = {unicodedata.name(c, "").split(" ")[0] for c in text if c.isalpha()}
    return "LATIN" in scripts and len(scripts) > 1


def look_alike(c: str, mixed: bool) -> bool:
    """Whether `c` could be mistaken for another character, or not be seen at all.

    Control and format characters (zero-width ones), spaces other than the space bar's,
    dashes, hyphens and quotes other than the keyboard's, and, in a value mixing scripts,
    every letter that is not Latin.
    """
    if c.isascii():
        return not c.isprintable()
    category = unicodedata.category(c)
    if category in ("Cc", "Cf", "Co", "Cn", "Cs", "Zs", "Zl", "Zp", "Pd", "Pi", "Pf"):
        return True
    return mixed and c.isalpha() and not unicodedata.name(c, "").startswith("LATIN")


def character_name(c: str) -> str:
    """The Unicode name of `c` ('NO-BREAK SPACE'), or what kind of control character it is."""
    return unicodedata.name(c, "") or CONTROL_NAMES.get(ord(c), "a control character")


def _escape(c: str) -> str:
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: object, limit: int = SHOWN_CHARS) -> str:
    """`value` as repr() shows it, with every look-alike character escaped, shortened past `limit`.

    Plain values look exactly as repr() shows them ('interview'); 'Service‑user' (a
    non-breaking hyphen) becomes 'Service\\u2011user', which no reader takes for a hyphen.
    """
    if not isinstance(value, str):
        return repr(value)
    if len(value) <= limit and value.isascii() and value.isprintable():
        return repr(value)  # nothing to escape: repr's own quoting (the common case, fast)
    text = value
    suffix = ""
    if len(text) > limit:
        suffix = f"… ({len(text):,} characters in all)"
        text = text[:limit]
    mixed = _mixes_scripts(text)
    quote = '"' if "'" in text and '"' not in text else "'"
    out = []
    for c in text:
        if c == "\\" or c == quote:
            out.append("\\" + c)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif look_alike(c, mixed) or not c.isprintable():
            out.append(_escape(c))
        else:
            out.append(c)
    return quote + "".join(out) + quote + suffix


def named_characters(value: object, limit: int = SHOWN_CHARS) -> str:
    """' (\\u2011 is NON-BREAKING HYPHEN, \\xa0 is NO-BREAK SPACE)' for the look-alikes of `value`, or ''."""
    if not isinstance(value, str) or (value.isascii() and value.isprintable()):
        return ""
    text = value[:limit]
    mixed = _mixes_scripts(text)
    found = list(dict.fromkeys(c for c in text if c not in "\n\r\t" and (look_alike(c, mixed) or not c.isprintable())))
    if not found:
        return ""
    names = [f"{_escape(c)} is {character_name(c)}" for c in found[:NAMED_CHARS]]
    more = f" and {len(found) - NAMED_CHARS} more" if len(found) > NAMED_CHARS else ""
    return f" ({', '.join(names)}{more})"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file.

    `row` is numbered as a spreadsheet shows it: the header is row 1, so the first
    record is row 2. None when the problem concerns the whole file or a column. `hint`
    follows the expectation: the likely fix, such as "; did you mean 'interview'?".
    """

    file: Path
    expected: str
    row: int | None = None
    column: str | None = None
    value: object = None
    hint: str = ""

    def where(self) -> str:
        where = str(self.file)
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {visible(self.column)}"
        return where

    def shown_value(self) -> str:
        return "" if self.value is None else f"value {visible(self.value)}{named_characters(self.value)}"

    def __str__(self) -> str:
        value = self.shown_value()
        return f"{self.where()}{': ' + value if value else ''}: {self.expected}{self.hint}"


def _grouped(problems: Iterable[Problem]) -> list[str]:
    """One line per problem; a problem on more than GROUP_FROM rows of one column is one entry.

    The same expectation in the same file and column (52,262 dates written day first, say)
    is the same problem: it is shown on its first row, followed by how many more rows have it
    and the first ROWS_LISTED of them, with their values.
    """
    def key(problem: Problem) -> tuple:
        return (str(problem.file), problem.column, problem.expected) if problem.row is not None else (id(problem),)

    problems = list(problems)
    groups: dict[tuple, list[Problem]] = {}
    for problem in problems:
        groups.setdefault(key(problem), []).append(problem)
    lines = []
    for problem in problems:  # in their order; a large group where its first row is
        group = groups[key(problem)]
        if len(group) <= GROUP_FROM:
            lines.append(f"  - {problem}")
            continue
        if problem is not group[0]:
            continue
        lines.append(f"  - {problem}")
        rest = group[1:]
        listed = "; ".join(f"row {p.row}" + (f" ({visible(p.value, 60)}{p.hint})" if p.value is not None else "")
                           for p in rest[:ROWS_LISTED])
        lines.append(f"    and {len(rest):,} more rows with the same problem in this column; the first "
                     f"{min(ROWS_LISTED, len(rest))} are: {listed}")
    return lines


class InputError(Exception):
    """Input that the pipeline refuses; carries every problem found, not only the first.

    `unchecked` names what could not be checked because of one of the problems (a reference
    to a file that could not be read, say), so that fixing the list is not followed by a
    surprise; `advice` is printed last, as it is (ready-to-paste lines, for instance).
    The message groups a problem repeated on many rows (see _grouped); `problems` keeps each.
    """

    def __init__(self, message: str | None = None, problems: list[Problem] | None = None,
                 unchecked: list[str] | None = None, advice: list[str] | None = None):
        self.problems = list(problems or [])
        self.unchecked = list(unchecked or [])
        self.advice = list(advice or [])
        lines = [message] if message else []
        if self.problems:
            lines.append(f"{len(self.problems):,} problem(s) in the input:")
            lines += _grouped(self.problems)
        if self.unchecked:
            lines.append("Not checked yet, because of a problem above (they will be once it is fixed):")
            lines += [f"  - {u}" for u in self.unchecked]
        lines += self.advice
        super().__init__("\n".join(lines))
