"""What a run ran on, read from the running process: the packages imported, the commit, the lock.

Each notebook step records the distributions its kernel imported (sys.modules mapped to the
installed distributions), so the report lists what the run used, not a hand-kept list.
"""
from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata

from packaging.utils import canonicalize_name

from . import paths
from .hashing import sha256_file

PROJECT = "nhsda-eval"  # this project's own distribution: identified by the commit, not listed
LOCK = "requirements.lock"


def _providers() -> dict[str, list[str]]:
    """importlib's {top-level module: [distribution]}: a scan of every installed distribution's
    files (0.3 s), kept in the runner's memo by the installed distributions' names and versions."""
    import json

    from . import memo

    scanned = memo.remembered(memo.PACKAGES, (), lambda: json.dumps(metadata.packages_distributions()).encode(),
                              what="installed distributions")
    return json.loads(scanned)


def imported_packages() -> dict[str, str]:
    """{distribution: version} of every installed distribution with a module imported in this process."""
    providers = _providers()
    names = {dist for module in list(sys.modules) for dist in providers.get(module.partition(".")[0], ())}
    found = {}
    for name in names:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        canonical = canonicalize_name(dist.metadata["Name"])  # the name pip and the page use
        if canonical != PROJECT:
            found[canonical] = dist.version
    return dict(sorted(found.items()))


def git_state() -> dict:
    """{"commit": the checkout's commit or None, "dirty": whether tracked files differ from it, or None}."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.PROJECT_ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.PROJECT_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


def describe_commit(state: dict) -> str:
    """The commit as a reader sees it: the hash, marked when the tree had uncommitted changes."""
    if not state.get("commit"):
        return "unknown (not a git checkout)"
    return state["commit"] + (" (with uncommitted changes)" if state.get("dirty") else "")


def lock_sha256() -> str | None:
    """SHA-256 of requirements.lock, the exact environment the run was meant to have (None: no lock)."""
    lock = paths.PROJECT_ROOT / LOCK
    return sha256_file(lock) if lock.is_file() else None


def step_record(step: str) -> dict:
    """A step's record: the Python, packages, commit and lock it ran with."""
    return {"step": step, "python": platform.python_version(), **git_state(), "lock_sha256": lock_sha256(),
            "packages": imported_packages()}
