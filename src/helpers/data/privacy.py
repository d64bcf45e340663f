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

# The bundled data are invented, so their key can be public; real data must bring one.
SYNTHETIC_KEY = "synthetic-data-public-key"
PSEUDONYM_PREFIX = "PT-"
PSEUDONYM_HEX = 10  # 40 bits: no collision expected below about a million participants

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# NHS numbers: ten digits, written 3-3-4 with spaces or dashes, or run together.
NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
# UK phone numbers: +44 or 0, then 9-10 more digits with optional spaces, dashes, brackets.
UK_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?|\(?0)(?:[\s()-]?\d){9,10}(?!\d)")


def resolve_key(raw_dir: Path) -> str:
    """The pseudonym key: from the environment, or the public one for synthetic data."""
    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if key:
        return key
    if (Path(raw_dir) / paths.SYNTHETIC_MARKER).is_file():
        return SYNTHETIC_KEY
    raise InputError(
        f"{raw_dir} holds real (not synthetic) data, so participant ids must be pseudonymised with a key "
        f"of your own: run with PSEUDONYM_KEY=<a long random secret> (make report PSEUDONYM_KEY=...), "
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
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


def scrub(texts: pd.Series, names: list[str] = ()) -> pd.Series:
    """Quotes with e-mail addresses, NHS numbers, UK phone numbers and listed names replaced."""
    out = texts.fillna("").astype(str)
    out = out.str.replace(EMAIL, "[email]", regex=True)
    out = out.str.replace(UK_PHONE, "[phone]", regex=True)
    out = out.str.replace(NHS_NUMBER, "[NHS number]", regex=True)
    if names:
        # Longest first, so "Mary Ann Smith" goes before "Mary".
        pattern = r"(?<!\w)(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?!\w)"
        out = out.str.replace(re.compile(pattern, re.IGNORECASE), "[name]", regex=True)
    return out
