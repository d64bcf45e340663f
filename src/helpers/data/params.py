"""Checks of a run's parameters (cohort name, folders, the pseudonym key), shared by the runner,
the importers and the index, so that each refuses a bad value with the same message before any work."""
from __future__ import annotations

import argparse
import re
import unicodedata
from pathlib import Path

from .errors import InputError

# A cohort is a folder name: letters, digits, dot, dash, underscore; no path parts. Matched
# with fullmatch: `$` alone also matches before a trailing newline ("probe\n" would pass).
COHORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Characters a shell or make would treat specially; refused in folder parameters.
SHELL_META = re.compile(r"[;&|`$<>'\"\\\n\r]")


def control_characters(text: str) -> list[str]:
    """The control, line- and paragraph-separator characters of `text`, as repr'd escapes.

    A newline or a NUL in a parameter is never meant: it comes from a pasted value or a
    quoting mistake, and it would end up in folder names, file names and log lines.
    """
    return sorted({repr(c)[1:-1] for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp")})


def check_text(value, what: str) -> str:
    """Any parameter as text, refused when it holds a control character (newline, tab, NUL...)."""
    text = str(value)
    found = control_characters(text)
    if found:
        raise InputError(f"{what} {text!r} contains control characters ({', '.join(found)}), such as a newline; "
                         f"refusing to use it. Check the value and the command's quoting.")
    return text


def check_cohort_name(cohort: str) -> str:
    cohort = check_text(cohort, "Cohort")
    if not COHORT_NAME.fullmatch(cohort) or ".." in cohort:
        raise InputError(f"Cohort {cohort!r} is not a folder name: use letters, digits, '.', '-' or '_' "
                         f"(no slashes, spaces or '..'), for example cohort1.")
    return cohort


def check_folder(value: str | Path, what: str) -> Path:
    """A folder parameter: no shell metacharacters (they point to a quoting mistake)."""
    text = check_text(value, what)
    if SHELL_META.search(text):
        raise InputError(f"{what} {text!r} contains characters such as ; $ ` | or quotes; refusing to use it "
                         f"as a folder. Rename the folder or check the command's quoting.")
    return Path(text).expanduser().resolve()


def check_key(key: str, where: str) -> str:
    """The pseudonym key: any characters but control characters (it is never printed)."""
    found = control_characters(key)
    if found:
        raise InputError(f"The pseudonym key in {where} contains control characters ({', '.join(found)}), such as "
                         f"a newline from a pasted value; remove them (the key is not shown here).")
    return key


def whole_number_setting(name: str):
    """An argparse type for a disclosure setting (`name`): a whole number of 0 or more.

    Checked at the command line, rather than by importing helpers.analysis.disclosure (and
    pandas with it) before the first kernel can start or the first run is launched; the
    notebooks check it again.
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number of 0 or more, not {text!r}")
        return value

    return parse
