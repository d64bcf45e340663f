"""Checks of a run's parameters (cohort name, folders), shared by the runner, the importers
and the index, so that each refuses a bad value with the same message before any work."""
from __future__ import annotations

import re
from pathlib import Path

from .errors import InputError

# A cohort is a folder name: letters, digits, dot, dash, underscore; no path parts.
COHORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Characters a shell or make would treat specially; refused in folder parameters.
SHELL_META = re.compile(r"[;&|`$<>'\"\\\n\r]")


def check_cohort_name(cohort: str) -> str:
    cohort = str(cohort)
    if not COHORT_NAME.match(cohort) or ".." in cohort:
        raise InputError(f"Cohort {cohort!r} is not a folder name: use letters, digits, '.', '-' or '_' "
                         f"(no slashes, spaces or '..'), for example cohort1.")
    return cohort


def check_folder(value: str | Path, what: str) -> Path:
    """A folder parameter: no shell metacharacters (they point to a quoting mistake)."""
    text = str(value)
    if SHELL_META.search(text):
        raise InputError(f"{what} {text!r} contains characters such as ; $ ` | or quotes; refusing to use it "
                         f"as a folder. Rename the folder or check the command's quoting.")
    return Path(text).expanduser().resolve()
