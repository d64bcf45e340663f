"""'Did you mean ...?' for a value that must come from a known set: a code, a role, a source type.

How alike two texts are is the share of characters they have in common, in order (the ratio
2 * common / total of their longest common subsequence, as difflib computes it roughly and
rapidfuzz exactly, in C); a suggestion is made only when one known value is clearly the
closest, so a wrong guess is rarer than a missing one.
Comparison ignores case, surrounding spaces and look-alike characters (`Interview` is one fix
away from `interview`, and `Service‑user` with a non-breaking hyphen none from `Service-user`);
when the suggestion differs from the value by look-alike characters, the hint says which.

Thousands of unknown values against thousands of known ones (an export's job titles against
a large role map) must not take minutes: the known values are folded and grouped by length
once (KnownValues), only those of a length that can reach the cutoff are compared, and
rapidfuzz compares them in C, stopping early when a pair cannot reach it. (difflib, in
Python, took over 100 s for 3,000 job titles against a 3,000-role map.)
"""
from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from .contract import LIKERT_LABELS
from .errors import character_name, look_alike, visible

# How alike (the ratio above, 0-1) a value must be to a known one to be suggested: one
# letter off in a word of five or more (`intervew`, `Programme Manger`) passes, while
# short unrelated words (`maybe` and `yes`, `mgmt` and `management`) do not.
CUTOFF = 0.75
# For names a person made up (roles, codes, themes, cohorts), where two known names can be
# near each other and both real (`Consultant radiologist`, `Consultant cardiologist`): at most
# this many characters typed or missed, as in a slip of the keyboard.
TYPO = 2
# Typed values compared in one call of rapidfuzz's cdist: a matrix of BATCH x known values.
BATCH = 512
# What people type in a Likert column for "no answer": the contract's blank cell.
NO_ANSWER_WORDS = frozenset({"n/a", "na", "n.a.", "-", "none", "no answer", "not applicable", "don't know",
                             "dont know", "prefer not to say", "missing", "null", "."})
# Letters of other scripts drawn like Latin ones, as a word processor or a keyboard layout
# slips them into Latin words (Unicode's confusables.txt has thousands; these are the ones
# of the Cyrillic and Greek alphabets that look exactly like a Latin letter). NFKC folds
# the rest of what is met in exports: no-break and other spaces, non-breaking hyphens.
LOOK_ALIKE_LETTERS = str.maketrans(
    "аеорсухіјѕԁһԛԝАВЕКМНОРСТХІЈЅ" "αοινρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhqwABEKMHOPCTXIJS" "aoivptuxABEZHIKMNOPTYX")
DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
                       | {c: "'" for c in "\u2018\u2019\u201b\u2032"} | {c: '"' for c in "\u201c\u201d\u201f\u2033"})


def _fold(text: object) -> str:
    """Text as compared: look-alikes as their Latin or ASCII twin, zero-width characters
    dropped, spaces collapsed, case folded."""
    text = unicodedata.normalize("NFKC", str(text)).translate(LOOK_ALIKE_LETTERS).translate(DASHES)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return " ".join(text.split()).casefold()


def abbreviates(short: str, long: str) -> bool:
    """Whether `short` is `long` with letters left out, starting alike (`mgmt`, `FG`, `diss`)."""
    letters = iter(long)
    return len(short) >= 2 and short[0] == long[0] and all(c in letters for c in short)


class KnownValues:
    """Known values folded and grouped by length once, to look many typed values up in."""

    def __init__(self, known: Iterable[object]):
        self.keyed: dict[str, str] = {}
        for item in known:
            self.keyed.setdefault(_fold(item), str(item).strip())
        self.keyed.pop("", None)
        self.by_length: dict[int, list[str]] = {}
        for key in self.keyed:
            self.by_length.setdefault(len(key), []).append(key)

    def _keys_near(self, n: int, cutoff: float, max_changes: int | None) -> list[str]:
        """The keys whose length lets them reach `cutoff` (and `max_changes`) against a text of length n."""
        # ratio = 2 * common / (n + m) <= 2 * min(n, m) / (n + m): far longer or shorter keys cannot reach it.
        low, high = n * cutoff / (2 - cutoff), n * (2 - cutoff) / cutoff if cutoff > 0 else float("inf")
        if max_changes is not None:
            low, high = max(low, n - max_changes), min(high, n + max_changes)
        keys: list[str] = []
        for length, group in self.by_length.items():
            if low - 1e-9 <= length <= high + 1e-9:
                keys.extend(group)
        return keys

    def _scored(self, text: str, cutoff: float, max_changes: int | None) -> list[tuple[str, float]]:
        """(key, ratio) of the known keys at least `cutoff` alike (and at most `max_changes` apart)."""
        keys = self._keys_near(len(text), cutoff, max_changes)
        if not keys:
            return []
        if max_changes is not None:
            # Characters typed or missed: rapidfuzz stops early past the limit, so this filter is cheap.
            keys = [key for key, _, _ in process.extract(text, keys, scorer=Indel.distance, processor=None,
                                                         limit=None, score_cutoff=max_changes)]
        found = process.extract(text, keys, scorer=fuzz.ratio, processor=None, limit=None,
                                score_cutoff=cutoff * 100 - 1e-9)
        return [(key, score / 100) for key, score, _ in found]

    def closest(self, value: object, cutoff: float = CUTOFF, max_changes: int | None = None,
                abbreviations: bool = False) -> str | None:
        """See closest()."""
        text = _fold(value)
        if not text:
            return None
        if text in self.keyed:
            return self.keyed[text]
        return self._pick(text, self._scored(text, cutoff, max_changes), abbreviations)

    def _pick(self, text: str, scored: list[tuple[str, float]], abbreviations: bool) -> str | None:
        """The one best-scoring key's value; None when two tie (or, failing that, the one it abbreviates)."""
        best = max((score for _, score in scored), default=None)
        found = [self.keyed[key] for key, score in scored if score == best]
        if not found and abbreviations:
            found = [original for key, original in self.keyed.items() if abbreviates(text, key)]
        return found[0] if len(found) == 1 else None

    def did_you_mean(self, value: object, cutoff: float = CUTOFF, max_changes: int | None = None,
                     abbreviations: bool = False) -> str:
        """See did_you_mean()."""
        return self._hint(value, self.closest(value, cutoff, max_changes, abbreviations))

    @staticmethod
    def _hint(value: object, match: str | None) -> str:
        return "" if match is None else f"; did you mean {visible(match)}?{what_differs(value, match)}"

    def closest_many(self, values: Iterable[object], cutoff: float = CUTOFF, max_changes: int | None = None,
                     abbreviations: bool = False) -> dict[object, str | None]:
        """closest() of many values at once: {value: match or None}, the same answers.

        The values of one length are compared with the keys of the lengths they can match in
        one call of rapidfuzz's cdist (in C, on every core), rather than one call per value.
        """
        out: dict[object, str | None] = {}
        pending: dict[int, list[tuple[object, str]]] = {}
        for value in dict.fromkeys(values):
            text = _fold(value)
            if not text or text in self.keyed:
                out[value] = self.keyed.get(text) if text else None
            else:
                pending.setdefault(len(text), []).append((value, text))
        for length, group in pending.items():
            keys = self._keys_near(length, cutoff, max_changes)
            for start in range(0, len(group), BATCH):
                chunk = group[start:start + BATCH]
                scores = (process.cdist([t for _, t in chunk], keys, scorer=fuzz.ratio, processor=None,
                                        score_cutoff=cutoff * 100 - 1e-9, dtype=np.float32, workers=-1)
                          if keys else np.zeros((len(chunk), 0), dtype=np.float32))
                for (value, text), row in zip(chunk, scores):
                    near = np.flatnonzero(row)
                    scored = [(keys[i], float(row[i]) / 100) for i in near]
                    if max_changes is not None:
                        scored = [(k, r) for k, r in scored if Indel.distance(text, k) <= max_changes]
                    out[value] = self._pick(text, scored, abbreviations)
        return out

    def did_you_mean_many(self, values: Iterable[object], **options) -> dict[object, str]:
        """did_you_mean() of many values at once: {value: hint}."""
        return {value: self._hint(value, match) for value, match in self.closest_many(values, **options).items()}


def closest(value: object, known: Iterable[object], cutoff: float = CUTOFF,
            max_changes: int | None = None, abbreviations: bool = False) -> str | None:
    """The known value nearest to `value`, or None when none is close or two are equally close.

    A known value equal to `value` but for case, spacing and look-alike characters is always
    the answer. With `max_changes`, a match may also differ by at most that many characters
    (see TYPO). With `abbreviations` (for short lists such as the source types), a value that
    abbreviates exactly one known value suggests it when nothing is close by spelling.
    To look up many values in one list, make a KnownValues once and ask it.
    """
    return KnownValues(known).closest(value, cutoff, max_changes, abbreviations)


def did_you_mean(value: object, known: Iterable[object], cutoff: float = CUTOFF,
                 max_changes: int | None = None, abbreviations: bool = False) -> str:
    """'; did you mean 'x'?' to append to a problem's expectation, or '' when nothing is close."""
    return KnownValues(known).did_you_mean(value, cutoff, max_changes, abbreviations)


def what_differs(value: object, match: str) -> str:
    """' They differ in look-alike characters: ...' when `value` and `match` differ by characters
    that look alike or cannot be seen (a non-breaking hyphen, a Cyrillic а); '' otherwise."""
    text = str(value).strip()
    if text.isascii() and text.isprintable():
        return ""  # a plain typo: the suggestion shows what differs
    differences = []
    matcher = difflib.SequenceMatcher(None, text, match, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        typed, known = text[i1:i2], match[j1:j2]
        if not any(look_alike(c, True) for c in typed + known):
            continue
        here = ", ".join(f"{_shown(c)}" for c in typed) or "nothing"
        there = ", ".join(f"{_shown(c)}" for c in known) or "nothing"
        differences.append(f"character {i1 + 1} is {here} where the known value has {there}")
    if not differences:
        return ""
    more = f" and {len(differences) - 3} more" if len(differences) > 3 else ""
    return f" They look alike but differ: {'; '.join(differences[:3])}{more}."


def _shown(c: str) -> str:
    code = f"U+{ord(c):04X}"
    return f"{c!r} ({code} {character_name(c)})" if c.isprintable() and not c.isspace() or c == " " \
        else f"{code} {character_name(c)}"


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
