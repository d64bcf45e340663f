"""Participant protection: keyed pseudonyms and scrubbing of quotes.

A cohort of 26 named alumni is small enough that a raw participant id or a name in a
quote identifies a person. Outputs therefore carry pseudonyms made with a keyed hash
(HMAC-SHA-256): stable across reruns with the same key, not reversible without it, and
different for every key. The key comes from the environment (PSEUDONYM_KEY_ENV), never
from a notebook parameter, so that it is not written into the executed notebooks.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .environment import PSEUDONYM_KEY_ENV
from .errors import InputError
from .params import check_key

# The bundled data are invented, so their key can be public; real data must bring one.
SYNTHETIC_KEY = "synthetic-data-public-key"
PSEUDONYM_PREFIX = "PT-"
PSEUDONYM_HEX = 10  # 40 bits: no collision expected below about a million participants

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# NHS numbers: ten digits, written 3-3-4 with spaces or dashes, or run together.
NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
# UK phone numbers as people write them: a national 0 or an international +44 / 0044 (with an
# optional "(0)" after it), then 9 or 10 digits grouped by spaces, dashes or brackets:
# 020 7946 0018, (020) 7946 0018, (0161) 496 0000, 07700 900123, +44 (0)20 7946 0018,
# 0044 20 7946 0018. Runs of separators are allowed between any two digits.
_SEP = r"[\s()\-]*"
UK_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|\b00)44" + _SEP + r"(?:\(0\)" + _SEP + r")?|\(?0" + _SEP + r")"
    r"\d(?:" + _SEP + r"\d){8,9}(?!\d)"
)


def resolve_key(raw_dir: Path) -> str:
    """The pseudonym key: from the environment, or the public one for synthetic data."""
    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if key:
        return check_key(key, f"the environment variable {PSEUDONYM_KEY_ENV}")
    if (Path(raw_dir) / paths.SYNTHETIC_MARKER).is_file():
        return SYNTHETIC_KEY
    raise InputError(
        f"{raw_dir} holds real (not synthetic) data, so participant ids must be pseudonymised "
        f"with a key of your own: run with PSEUDONYM_KEY=<a long random secret> (make report PSEUDONYM_KEY=...), "
        f"or set {PSEUDONYM_KEY_ENV}. Keep the key out of git; the same key gives the same pseudonyms."
    )


def pseudonyms(ids: pd.Series, key: str) -> pd.Series:
    """Each non-blank id as PT-<10 hex digits of HMAC-SHA-256(key, id)>; blanks stay blank."""
    secret = key.encode("utf-8")
    # One HMAC per distinct id, spread back over the rows by position.
    positions, uniques = pd.factorize(ids.astype(str))
    hidden = np.array([
        "" if value == "" else
        PSEUDONYM_PREFIX + hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]
        for value in uniques
    ], dtype=object)
    return pd.Series(hidden[positions], index=ids.index, name=ids.name, dtype=object)


def read_redact_names(raw_dir: Path) -> list[str]:
    """Names listed one per line in <raw_dir>/redact_names.txt (optional; # starts a comment)."""
    path = Path(raw_dir) / paths.REDACT_NAMES
    if not path.is_file():
        return []
    names = []
    text = path.read_text(encoding="utf-8-sig")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{path}, line {line}: holds a NUL byte (character code 0), which no "
                         f"text file has; the file is damaged or not UTF-8 text. Save it again as UTF-8 text, one "
                         f"name per line.")
    for line in text.splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


# A pseudonym as pseudonyms() writes it; in a published quote it becomes PARTICIPANT_LABEL.
PSEUDONYM = re.compile(re.escape(PSEUDONYM_PREFIX) + r"[0-9a-f]{" + str(PSEUDONYM_HEX) + r"}(?![0-9A-Za-z])")
PARTICIPANT_LABEL = "[participant]"


def scrub(texts: pd.Series, names: list[str] = ()) -> pd.Series:
    """Quotes with e-mail addresses, NHS numbers, UK phone numbers and listed names replaced, and
    participant ids (pseudonymised by hide_in_text) written as PARTICIPANT_LABEL: the quote's own
    row says whose words they are, and with disclosure control on it must not say at all."""
    out = texts.fillna("").astype(str)
    out = out.str.replace(PSEUDONYM, PARTICIPANT_LABEL, regex=True)
    out = out.str.replace(EMAIL, "[email]", regex=True)
    out = out.str.replace(UK_PHONE, "[phone]", regex=True)
    out = out.str.replace(NHS_NUMBER, "[NHS number]", regex=True)
    if names:
        # Longest first, so "Mary Ann Smith" goes before "Mary".
        pattern = r"(?<!\w)(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?!\w)"
        out = out.str.replace(re.compile(pattern, re.IGNORECASE), "[name]", regex=True)
    return out


def _embedded(value: str, lookup: dict[str, str]) -> str:
    """`value` with every participant id standing in it as a whole part replaced by its pseudonym.

    A part starts at the beginning of the value or after a character that is not a letter or
    a digit, and ends at the end or before one: `Q-P001`, `P001_interview`, `cohort1/P001`
    hold P001; `QP001` and `P0012` do not. The longest id wins at each start.
    """
    cuts = [i for i, c in enumerate(value) if not c.isalnum()]
    starts, ends = [0] + [i + 1 for i in cuts], sorted(set(cuts + [len(value)]), reverse=True)
    out, position = [], 0
    for start in starts:
        if start < position:
            continue
        for end in ends:
            if end > start and value[start:end] in lookup:
                out += [value[position:start], lookup[value[start:end]]]
                position = end
                break
    return "".join(out) + value[position:] if out else value


def hide_embedded(values: pd.Series, cohorts: pd.Series, lookups: dict[str, dict[str, str]]) -> pd.Series:
    """Ids (source_id, segment_id) with the participant ids embedded in them pseudonymised.

    `lookups` maps each cohort to {raw participant id: pseudonym}. A value of letters and
    digits only can hold an id only as a whole, checked for all such values at once; the
    others are looked at one distinct value at a time.
    """
    text = values.astype(str).to_numpy(dtype=object)
    cohort_of = cohorts.astype(str).to_numpy(dtype=object)
    out = text.copy()
    plain = pd.Series(text, dtype=object).str.fullmatch(r"[^\W_]*").to_numpy(dtype=bool)
    for cohort, lookup in lookups.items():
        rows = cohort_of == cohort
        whole = rows & pd.Series(text, dtype=object).isin(list(lookup)).to_numpy()
        out[whole] = [lookup[v] for v in text[whole]]
        mixed = rows & ~whole & ~plain
        if mixed.any():
            replaced = {v: _embedded(v, lookup) for v in pd.unique(text[mixed])}
            out[mixed] = [replaced[v] for v in text[mixed]]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


# --- participant ids in free text ---------------------------------------------------------
# A run of letters and digits: the parts an id is made of, and the places it may stand in text.
_PART = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
# A speaker label: an id at the start of a line, then a colon or a dash ("P001: ...", "7 - ...").
_LABEL = re.compile(r"(?m)^([ \t]*)([^\W_]+)(?=[ \t]*[:\uff1a\-\u2013\u2014])")


def distinctive(raw_id: str) -> bool:
    """Whether an id is unlike any word of speech (it has letters and digits: P001, INT-07), so
    that it is hidden wherever it stands in free text. An id of digits only (7, 2019) or of
    letters only (A, JS) is hidden only as a speaker label at a line start: elsewhere it is a
    number or a word of the quote."""
    return any(c.isdigit() for c in raw_id) and any(c.isalpha() for c in raw_id)


class TextIds:
    """The participant ids of one cohort, indexed to find them in free text.

    Matching ignores case (a transcript writes `p001:` for P001) unless two ids differ only by
    case, and respects the same boundaries as hide_embedded: an id stands as whole parts of the
    text, never inside a longer run of letters and digits (`P0012` does not hold `P001`).
    """

    def __init__(self, lookup: dict[str, str]):
        folded: dict[str, set[str]] = {}
        for raw in lookup:
            folded.setdefault(raw.casefold(), set()).add(raw)
        self.lookup = {f: lookup[next(iter(raws))] for f, raws in folded.items() if len(raws) == 1}
        self.exact = lookup
        self.anywhere = {f for f, raws in folded.items() if distinctive(next(iter(raws)))}
        self.first_parts = {_PART.findall(f)[0] for f in self.anywhere if _PART.findall(f)}
        self.most_parts = max((len(_PART.findall(f)) for f in self.anywhere), default=0)
        self.labels = {raw.casefold() for raw in lookup if not distinctive(raw) and raw.strip()}

    def _pseudonym(self, raw: str) -> str | None:
        return self.exact.get(raw) or self.lookup.get(raw.casefold())

    def hide(self, text: str) -> str:
        """`text` with every known id replaced by its pseudonym."""
        if self.labels:
            text = _LABEL.sub(lambda m: m.group(1) + (self._pseudonym(m.group(2)) or m.group(2))
                              if m.group(2).casefold() in self.labels else m.group(0), text)
        if not self.anywhere or not _DIGIT.search(text):
            return text  # every id hidden anywhere has a digit: most quotes have none, and cost no more
        parts = list(_PART.finditer(text))
        if not any(p.group().casefold() in self.first_parts for p in parts):
            return text
        out, position, i = [], 0, 0
        while i < len(parts):
            start = parts[i].start()
            for span in range(min(self.most_parts, len(parts) - i), 0, -1):  # the longest id first
                candidate = text[start:parts[i + span - 1].end()]
                if candidate.casefold() in self.anywhere:
                    out += [text[position:start], self._pseudonym(candidate)]
                    position, i = parts[i + span - 1].end(), i + span
                    break
            else:
                i += 1
        return "".join(out) + text[position:] if out else text


def hide_in_text(values: pd.Series, cohorts: pd.Series, lookups: dict[str, dict[str, str]]) -> pd.Series:
    """Free text (quotes, answers) with every known participant id in it replaced by its pseudonym.

    Transcripts name speakers (`P001: I think...`) and people name each other (`as P002 said`):
    left as typed, the raw id would stand in processed data and published quotes beside the
    speaker's pseudonym, linking the two. `lookups` is as for hide_embedded (per cohort, raw id ->
    pseudonym); each distinct text is looked at once.
    """
    text = values.fillna("").astype(str).to_numpy(dtype=object)
    cohort_of = cohorts.astype(str).to_numpy(dtype=object)
    out = text.copy()
    for cohort, lookup in lookups.items():
        rows = cohort_of == cohort
        if not rows.any() or not lookup:
            continue
        # Only a text with a digit or a line-start label can hold an id: most quotes have neither,
        # and a cohort of 100,000 ids is indexed only when one does.
        candidates = [v for v in pd.unique(text[rows]) if _DIGIT.search(v) or _LABEL.search(v)]
        if not candidates:
            continue
        finder = TextIds(lookup)
        hidden = {value: finder.hide(value) for value in candidates}
        out[rows] = [hidden.get(value, value) for value in text[rows]]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)
