"""Errors a researcher can act on: file, spreadsheet row, column, value, expectation."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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

    def __str__(self) -> str:
        where = str(self.file)
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        value = "" if self.value is None else f": value {self.value!r}"
        return f"{where}{value}: {self.expected}{self.hint}"


class InputError(Exception):
    """Input that the pipeline refuses; carries every problem found, not only the first.

    `unchecked` names what could not be checked because of one of the problems (a reference
    to a file that could not be read, say), so that fixing the list is not followed by a
    surprise; `advice` is printed last, as it is (ready-to-paste lines, for instance).
    """

    def __init__(self, message: str | None = None, problems: list[Problem] | None = None,
                 unchecked: list[str] | None = None, advice: list[str] | None = None):
        self.problems = list(problems or [])
        self.unchecked = list(unchecked or [])
        self.advice = list(advice or [])
        lines = [message] if message else []
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s) in the input:")
            lines += [f"  - {p}" for p in self.problems]
        if self.unchecked:
            lines.append("Not checked yet, because of a problem above (they will be once it is fixed):")
            lines += [f"  - {u}" for u in self.unchecked]
        lines += self.advice
        super().__init__("\n".join(lines))
