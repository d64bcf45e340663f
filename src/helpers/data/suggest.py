"""'Did you mean ...?' for a value that must come from a known set: a code, a role, a source type.

difflib (the standard library) scores how alike two texts are; a suggestion is made only
when one known value is clearly the closest, so a wrong guess is rarer than a missing one.
Comparison ignores case and surrounding spaces (`Interview` is one fix away from `interview`).
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable

from .contract import LIKERT_LABELS

# How alike (difflib's ratio, 0-1) a value must be to a known one to be suggested: one
# letter off in a word of five or more (`intervew`, `Programme Manger`) passes, while
# short unrelated words (`maybe` and `yes`, `mgmt` and `management`) do not.
CUTOFF = 0.75
# For names a person made up (roles, codes, themes, cohorts), where two known names can be
# near each other and both real (`Consultant radiologist`, `Consultant cardiologist`): at most
# this many characters typed or missed, as in a slip of the keyboard.
TYPO = 2
# What people type in a Likert column for "no answer": the contract's blank cell.
NO_ANSWER_WORDS = frozenset({"n/a", "na", "n.a.", "-", "none", "no answer", "not applicable", "don't know",
                             "dont know", "prefer not to say", "missing", "null", "."})


def _fold(text: object) -> str:
    return " ".join(str(text).split()).casefold()


def abbreviates(short: str, long: str) -> bool:
    """Whether `short` is `long` with letters left out, starting alike (`mgmt`, `FG`, `diss`)."""
    letters = iter(long)
    return len(short) >= 2 and short[0] == long[0] and all(c in letters for c in short)


def closest(value: object, known: Iterable[object], cutoff: float = CUTOFF,
            max_changes: int | None = None, abbreviations: bool = False) -> str | None:
    """The known value nearest to `value`, or None when none is close or two are equally close.

    A known value equal to `value` but for case and spacing is always the answer. With
    `max_changes`, a match may also differ by at most that many characters (see TYPO).
    With `abbreviations` (for short lists such as the source types), a value that abbreviates
    exactly one known value suggests it when nothing is close by spelling.
    """
    text = _fold(value)
    if not text:
        return None
    keyed: dict[str, str] = {}
    for item in known:
        keyed.setdefault(_fold(item), str(item).strip())
    keyed.pop("", None)
    if text in keyed:
        return keyed[text]
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(text)  # difflib caches facts about its second sequence: the typed value
    best, found = cutoff, []
    for key, original in keyed.items():
        matcher.set_seq1(key)
        # Cheap upper bounds first: most known values are far from the typed one.
        if matcher.real_quick_ratio() < best or matcher.quick_ratio() < best:
            continue
        score = matcher.ratio()
        if max_changes is not None and score >= best:
            same = sum(block.size for block in matcher.get_matching_blocks())
            if len(key) + len(text) - 2 * same > max_changes:
                continue
        if score > best:
            best, found = score, [original]
        elif score == best:
            found.append(original)
    if not found and abbreviations:
        found = [original for key, original in keyed.items() if abbreviates(text, key)]
    return found[0] if len(found) == 1 else None


def did_you_mean(value: object, known: Iterable[object], cutoff: float = CUTOFF,
                 max_changes: int | None = None, abbreviations: bool = False) -> str:
    """'; did you mean 'x'?' to append to a problem's expectation, or '' when nothing is close."""
    match = closest(value, known, cutoff, max_changes, abbreviations)
    return f"; did you mean {match!r}?" if match is not None else ""


def likert_hint(value: object) -> str:
    """What a Likert cell outside 1-5 was probably meant as: a label, a '4.0', a 'N/A'."""
    text = _fold(value)
    if text in NO_ANSWER_WORDS:
        return "; did you mean a blank cell (no answer)?"
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if number.is_integer() and int(number) in LIKERT_LABELS:
            return f"; did you mean '{int(number)}'?"
        return ""  # 7, 0 or 3.5: another scale, which only the analyst can recode
    label = closest(text, [label.casefold() for label in LIKERT_LABELS.values()])
    if label is None:
        return ""
    level = next(n for n, name in LIKERT_LABELS.items() if name.casefold() == label)
    return f"; did you mean '{level}' ({LIKERT_LABELS[level]})?"
