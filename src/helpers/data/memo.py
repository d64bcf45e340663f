"""A memo of slow results (a drawn figure, an embedded image) kept by everything they are made from.

The runner gives each kernel it starts a memo folder in the report's build folder (the
environment variable MEMO_ENV; none when run by hand in JupyterLab, or with FORCE=1). A result
is stored under a key: the SHA-256 of everything that makes it (its inputs' bytes, the helper
package's files, every installed distribution's version, Python, the in-memory state named by
the caller). The same key gives the same bytes, since what makes them is deterministic (the
identical-bytes test checks that two builds write the same files), so a result fetched from the
memo is the one the code would make again: a step that reruns draws only the figures whose
inputs or code changed, and its outputs are still exactly those of a run that drew everything.

An entry is a folder, written whole under a temporary name and renamed into place, with the
SHA-256 of each file: an entry cut short or altered is not used (and is removed). A fetched or
stored entry is marked used; the oldest entries beyond KEEP per kind are removed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from functools import cache, lru_cache
from pathlib import Path

from . import safe_write
from .hashing import sha256_file

MEMO_ENV = "NHSDA_MEMO_DIR"
MANIFEST = "manifest.json"
USED = "used"
KEEP = 64  # entries per kind: a few edits' worth of every figure
# The kinds of result kept: a figure's PNG and SVG (report.figures), a PNG as the page embeds it
# (report.page), the installed distributions' top-level modules (data.provenance).
FIGURE, EMBEDDED, PACKAGES = "figure", "embedded", "packages"
PACKAGE_DIR = Path(__file__).resolve().parent.parent


def folder() -> Path | None:
    """The memo folder the runner gave this process, or None (no memo: make everything)."""
    given = os.environ.get(MEMO_ENV, "").strip()
    return Path(given) if given else None


def key(*parts) -> str:
    """SHA-256 of the parts (strings, numbers, or lists, tuples and dicts of them), in order."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


_code_cache: dict = {}


def code() -> str:
    """SHA-256 of every file of the helper package (code, templates, data files), as on disk now.

    Re-hashed only when a file's size or modification time changed."""
    files = sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    stats = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if _code_cache.get("stats") != stats:
        _code_cache["digest"] = key([(str(p.relative_to(PACKAGE_DIR)), sha256_file(p)) for p in files])
        _code_cache["stats"] = stats
    return _code_cache["digest"]


@lru_cache(maxsize=1)
def environment() -> str:
    """SHA-256 of Python's version and every installed distribution's name and version (the
    names of the .dist-info folders on sys.path, which carry both: a listing, not a scan)."""
    installed = sorted({f"{place}/{name}" for place in sys.path if os.path.isdir(place)
                        for name in os.listdir(place) if name.endswith((".dist-info", ".egg-info", ".egg-link"))})
    return key(sys.version, sys.platform, installed)


def _entry(root: Path, kind: str, digest: str) -> Path:
    return root / kind / digest


def fetch(kind: str, digest: str, root: Path | None = None) -> dict[str, Path] | None:
    """The files of the entry `digest` of `kind`, by name, each checked against its SHA-256; None if
    there is no memo, no such entry, or the entry is incomplete or altered (then removed)."""
    root = root or folder()
    if root is None:
        return None
    entry = _entry(root, kind, digest)
    if safe_write.links_on(entry, root.parent):  # planted: neither read nor removed (the runner names it)
        return None
    try:
        manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
        files = {name: entry / name for name in manifest["files"]}
        if any(Path(name).name != name or sha256_file(path) != manifest["files"][name]
               for name, path in files.items()):
            raise ValueError("altered")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        return None
    (entry / USED).touch()
    return files


def store(kind: str, digest: str, files: dict[str, Path | bytes], what: str = "",
          root: Path | None = None) -> bool:
    """Keep `files` (name: a file to copy, or bytes) as the entry `digest` of `kind`; whether it was
    kept (False with no memo, or when the memo folder cannot be written: the result stands anyway)."""
    root = root or folder()
    if root is None:
        return False
    try:
        home = safe_write.make_dir(root / kind, root.parent)
        partial = Path(tempfile.mkdtemp(dir=home, prefix=".partial-"))
        try:
            sums = {}
            for name, content in files.items():
                target = partial / Path(name).name
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    shutil.copyfile(content, target)
                sums[target.name] = sha256_file(target)
            (partial / MANIFEST).write_text(json.dumps({"what": what, "files": sums}, indent=1) + "\n",
                                            encoding="utf-8")
            (partial / USED).touch()
            try:
                os.rename(partial, _entry(root, kind, digest))
            except OSError:  # kept meanwhile by another process: that entry has the same bytes
                pass
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        prune(home)
        return True
    except (OSError, safe_write.LinkRefused):  # (a link planted in the build folder: the runner names it)
        return False


def remembered(kind: str, parts: tuple, make, what: str = "") -> bytes:
    """The bytes `make()` returns, kept under the key of `parts` (with the helper package's files
    and the installed distributions): fetched when kept, made and kept otherwise; made every time
    when there is no memo."""
    if folder() is None:
        return make()
    digest = key(kind, *parts, code(), environment())
    kept = fetch(kind, digest)
    if kept is not None:
        return kept["result"].read_bytes()
    made = make()
    store(kind, digest, {"result": made}, what=what)
    return made


def prune(home: Path, keep: int = KEEP) -> None:
    """Remove the entries of one kind beyond the `keep` used most recently."""
    def used(entry: Path) -> float:
        try:
            return (entry / USED).stat().st_mtime
        except OSError:
            return 0.0

    entries = sorted((p for p in home.iterdir() if p.is_dir() and not p.name.startswith(".")), key=used,
                     reverse=True)
    for entry in entries[keep:]:
        shutil.rmtree(entry, ignore_errors=True)
    for partial in home.glob(".partial-*"):  # left by a process killed while storing
        if partial.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(partial, ignore_errors=True)


def used_since(root: Path, kind: str, since: float) -> tuple[list[str], list[str]]:
    """(fetched, stored): what the entries of `kind` fetched or stored since `since` (time.time())
    say they are, for the runner's step line. File times come from a coarser clock, a few
    milliseconds behind time.time(): the runner takes `since` when it starts a step, well before
    the step's kernel fetches or stores anything."""
    fetched, stored = [], []
    for entry in sorted((root / kind).glob("*")) if (root / kind).is_dir() else []:
        try:
            if (entry / USED).stat().st_mtime < since:
                continue
            what = json.loads((entry / MANIFEST).read_text(encoding="utf-8")).get("what", entry.name)
            (stored if (entry / MANIFEST).stat().st_mtime >= since else fetched).append(what)
        except (OSError, ValueError):
            continue
    return fetched, stored


class Unkeyable(Exception):
    """The helpers in memory hold code that no file of the package holds (a function or class
    defined in a notebook cell put in their place): nothing made now may be memoised."""


@cache
def _is_ours_on_disk(filename: str) -> bool:
    """Whether code compiled from `filename` comes from a file the key covers: the helper
    package's (code()) or an installed distribution's and Python's own (environment())."""
    path = Path(filename)
    if not path.is_absolute() or not path.is_file():
        return False  # "<string>", a notebook cell's compiled code
    roots = {PACKAGE_DIR, Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    return any(path.resolve().is_relative_to(root.resolve()) for root in roots)


def _canonical(value, seen: frozenset[int], done: dict):
    """A JSON-able form of a module-level value that is the same in every process holding an
    equal value (set order and object addresses left out). `seen`: the containers above this one
    (a cycle ends there); `done`: forms already made in this pass, by the object's id (nothing
    changes during a pass, and the plan's outputs are shared by many modules)."""
    import enum
    import re
    import types

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return ["bytes", hashlib.sha256(value).hexdigest()]
    if isinstance(value, Path):
        return ["path", str(value)]
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__]
    if isinstance(value, re.Pattern):
        return ["pattern", value.pattern, value.flags]
    if isinstance(value, enum.Enum):
        return ["enum", type(value).__qualname__, value.name]
    if isinstance(value, type):
        if value.__module__ == "__main__":
            raise Unkeyable(f"class {value.__qualname__} defined in the notebook")
        return ["class", value.__module__, value.__qualname__]
    unwrapped = value
    while hasattr(unwrapped, "__wrapped__"):
        unwrapped = unwrapped.__wrapped__
    code_object = getattr(unwrapped, "__code__", None) or getattr(getattr(unwrapped, "__func__", None),
                                                                   "__code__", None)
    if code_object is not None:
        if not _is_ours_on_disk(code_object.co_filename):
            raise Unkeyable(f"{getattr(value, '__qualname__', value)!r} defined in the notebook")
        return ["code", getattr(unwrapped, "__module__", ""), getattr(unwrapped, "__qualname__", "")]
    if isinstance(value, (types.BuiltinFunctionType, types.MethodWrapperType)):
        return ["builtin", getattr(value, "__qualname__", repr(type(value)))]
    if id(value) in seen:
        return ["cycle"]
    if id(value) not in done:
        done[id(value)] = _container(value, seen | {id(value)}, done)
    return done[id(value)]


def _container(value, seen: frozenset[int], done: dict):
    import dataclasses

    def form(item):
        return _canonical(item, seen, done)

    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [form(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        items = [form(v) for v in value]
        return [type(value).__name__, sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))]
    if isinstance(value, dict):
        return ["dict", [[form(k), form(v)] for k, v in value.items()]]
    if dataclasses.is_dataclass(value):
        return ["dataclass", type(value).__qualname__,
                [[f.name, form(getattr(value, f.name))] for f in dataclasses.fields(value)]]
    if type(value).__module__.split(".")[0] == PACKAGE_DIR.name and hasattr(value, "__dict__"):
        return ["object", type(value).__qualname__, form(vars(value))]
    # Another library's object (a lock, a logger): its type only.
    return ["opaque", type(value).__module__, type(value).__qualname__]


def helpers_state() -> str:
    """SHA-256 of what the helper modules loaded in this process hold at module level now: a
    constant changed from a notebook cell (figures.PALETTE = [...]) changes it. Raises
    Unkeyable if one of their functions or classes was replaced by one defined in a cell."""
    state, done = [], {}
    prefix = PACKAGE_DIR.name
    for name in sorted(n for n in sys.modules if n == prefix or n.startswith(prefix + ".")):
        module = sys.modules[name]
        if module is None or name == __name__:  # (this module's own cache of code())
            continue
        items = [[k, _canonical(v, frozenset(), done)] for k, v in sorted(vars(module).items())
                 if not (k.startswith("__") and k.endswith("__")) and k != "annotations"]
        state.append([name, items])
    return hashlib.sha256(repr(state).encode("utf-8")).hexdigest()  # (lists of plain values: repr is stable)
