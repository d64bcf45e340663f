"""The pipeline's steps, what each one reads, and a fingerprint of it for incremental builds.

A step is one notebook. Its fingerprint changes when anything it reads changes:

- its notebook's cells (outputs and execution counts saved from JupyterLab do not count);
- the helper modules it imports, directly or through other helpers, and the package data
  files (templates, published figures) those modules name;
- the raw files of the run (every file of the cohort folders and the top of raw_dir);
- the run's parameters (cohort, raw_dir, min_count, round_to), the pseudonym key, the
  report date (SOURCE_DATE_EPOCH), the Python version, requirements.lock and the runner;
- the fingerprints of the steps it depends on.

Raw files are identified by content (SHA-256), so touching a file without changing it
rebuilds nothing; a cache of (size, mtime) -> digest keeps a no-op check fast on large
exports. This module imports nothing heavy: the no-op check must take well under a second.
"""
from __future__ import annotations

import ast
import hmac
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from helpers.data import paths
from helpers.data.hashing import sha256_bytes, sha256_file
from helpers.data.environment import DATE_ENV, PSEUDONYM_KEY_ENV

# Notebook -> the notebooks whose outputs it reads. A step sees only the outputs of its
# ancestors, so a missing edge here makes the step fail rather than read stale files.
DEPENDS: dict[str, tuple[str, ...]] = {
    "01_clean.ipynb": (),
    "02_describe.ipynb": ("01_clean.ipynb",),
    "03_thematic_tallies.ipynb": ("01_clean.ipynb",),
    "04_figures.ipynb": ("02_describe.ipynb", "03_thematic_tallies.ipynb"),
    "05_report.ipynb": ("01_clean.ipynb", "02_describe.ipynb", "03_thematic_tallies.ipynb", "04_figures.ipynb"),
}
# The whole helpers package (this module lives in helpers/build/).
PACKAGE_DIR = Path(__file__).resolve().parent.parent
BUILD_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name
# A notebook's import lines (and the autoreload magics that go with them).
IMPORT_LINE = re.compile(r"^\s*(%load_ext\b|%autoreload\b|import\s|from\s+\S+\s+import\s)")


def ancestors(step: str) -> list[str]:
    """Every step whose outputs `step` reads, directly or not, in run order."""
    found: set[str] = set()
    todo = list(DEPENDS[step])
    while todo:
        parent = todo.pop()
        if parent not in found:
            found.add(parent)
            todo.extend(DEPENDS[parent])
    return [name for name in paths.NOTEBOOKS if name in found]


def descendants(step: str) -> set[str]:
    return {name for name in paths.NOTEBOOKS if step in ancestors(name)}


def notebook_cells(path: Path) -> list[tuple[str, str]]:
    """(cell type, source) of every cell: what a run of the notebook depends on."""
    from helpers.data.errors import InputError

    try:
        book = json.loads(Path(path).read_text(encoding="utf-8"))
        return [(cell["cell_type"], "".join(cell["source"])) for cell in book["cells"]]
    except FileNotFoundError:
        raise InputError(f"{path}: notebook not found (the pipeline runs {', '.join(paths.NOTEBOOKS)}).") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a readable notebook ({type(exc).__name__}: {exc}); "
                         f"restore it from git or save it again from JupyterLab.") from None


def import_lines(notebook: Path) -> list[str]:
    """The import statements (and autoreload magics) of a notebook's code cells, in order."""
    return [line.strip() for kind, source in notebook_cells(notebook) if kind == "code"
            for line in source.splitlines() if IMPORT_LINE.match(line)]


def _statements(nodes: list) -> Iterator[ast.AST]:
    """Every statement, nested ones included (imports inside functions count too).

    Only statement lists are followed: an import is never inside an expression, so
    expressions are skipped (the no-op check reads every helper module).
    """
    for node in nodes:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)


def _helper_imports(code: str, package: str) -> set[str]:
    """Helper modules named by the import statements of `code` (a module of `package`)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {"*"}  # cannot tell: depend on every helper
    names: set[str] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # from helpers import clean
    return {name for name in names if name == PACKAGE or name.startswith(PACKAGE + ".")}


def _module_file(name: str) -> Path | None:
    """helpers.x -> src/helpers/x.py (or x/__init__.py); None for a name that is not a module."""
    if name == PACKAGE:
        return PACKAGE_DIR / "__init__.py"
    relative = Path(*name.split(".")[1:])
    for candidate in (PACKAGE_DIR / relative.with_suffix(".py"), PACKAGE_DIR / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


class HelperGraph:
    """The helper package's files, each read, parsed and hashed at most once.

    Every notebook imports much the same helpers, so one graph serves all the steps of a
    fingerprinting; a new graph sees files as they are now.
    """

    def __init__(self):
        self.data = sorted(p for p in PACKAGE_DIR.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
                           and "__pycache__" not in p.parts and not p.name.startswith("."))
        self._texts: dict[Path, str] = {}
        self._imports: dict[Path, set[str]] = {}
        self._digests: dict[Path, str] = {}

    def text(self, path: Path) -> str:
        if path not in self._texts:
            self._texts[path] = path.read_text(encoding="utf-8", errors="replace")
        return self._texts[path]

    def digest(self, path: Path) -> str:
        if path not in self._digests:
            self._digests[path] = sha256_file(path)
        return self._digests[path]

    def everything(self) -> list[Path]:
        return sorted(PACKAGE_DIR.rglob("*.py")) + self.data

    def files(self, notebook: Path) -> list[Path]:
        """The helper modules a notebook imports, transitively, and the package data they name."""
        code = "\n".join(
            line for kind, source in notebook_cells(notebook) if kind == "code"
            for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        todo, seen = _helper_imports(code, PACKAGE), {PACKAGE_DIR / "__init__.py"}
        while todo:
            name = todo.pop()
            if name == "*":
                return self.everything()
            module = _module_file(name)
            if module is None or module in seen:
                continue
            seen.add(module)
            if module not in self._imports:
                package = name if module.name == "__init__.py" else name.rpartition(".")[0]
                self._imports[module] = _helper_imports(self.text(module), package)
            todo |= self._imports[module]
        # Data files named in these modules or in data files already found (templates include templates).
        data: list[Path] = []
        named_in = list(seen)
        while new := [p for p in self.data if p not in data and any(p.name in self.text(t) for t in named_in)]:
            data += new
            named_in = new
        return sorted(seen) + sorted(data)


def helper_files(notebook: Path) -> list[Path]:
    """The helper modules a notebook imports, transitively, and the package data they name."""
    return HelperGraph().files(notebook)


def raw_files(raw_dir: Path, cohort: str) -> list[Path]:
    """Every file a run may read: the files of its cohort folder(s) and of raw_dir itself."""
    folders = [raw_dir] + [folder for _, folder in paths.cohort_folders(raw_dir, cohort)]
    return sorted(p for folder in folders for p in folder.iterdir() if p.is_file())


class Digests:
    """SHA-256 of files, reusing the digest of a file whose size and mtime have not changed."""

    def __init__(self, cache: dict | None = None):
        self.cache: dict[str, list] = dict(cache or {})
        self.used: dict[str, list] = {}

    def __call__(self, path: Path) -> str:
        info = path.stat()
        key = str(path)
        known = self.cache.get(key)
        if known and known[0] == info.st_size and known[1] == info.st_mtime_ns:
            digest = known[2]
        else:
            digest = sha256_file(path)
        self.used[key] = [info.st_size, info.st_mtime_ns, digest]
        return digest


def key_fingerprint() -> str:
    """Which pseudonym key is in use, without storing anything that reveals it."""
    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    return hmac.new(key.encode(), b"nhsda-build-fingerprint", "sha256").hexdigest()[:16] if key else ""


def fingerprints(notebooks_dir: Path, raw_dir: Path, parameters: dict,
                 digests: Digests) -> tuple[dict[str, str], dict[str, dict]]:
    """(fingerprint, inputs) of every step for one run (see the module docstring)."""
    lock = paths.PROJECT_ROOT / "requirements.lock"
    common = {
        "parameters": parameters,
        "raw": {str(p.relative_to(raw_dir)): digests(p) for p in raw_files(raw_dir, parameters["cohort"])},
        "environment": {
            "python": sys.version,
            "requirements.lock": sha256_file(lock) if lock.is_file() else "",
            "runner": [sha256_file(BUILD_DIR / name) for name in ("pipeline.py", "steps.py")],
            DATE_ENV: os.environ.get(DATE_ENV, ""),
            "pseudonym key": key_fingerprint(),
        },
    }
    result: dict[str, str] = {}
    all_inputs: dict[str, dict] = {}
    helpers = HelperGraph()
    for name in paths.NOTEBOOKS:
        notebook = Path(notebooks_dir) / name
        inputs = dict(common)
        inputs["notebook"] = sha256_bytes(json.dumps(notebook_cells(notebook)).encode())
        inputs["helpers"] = {str(p.relative_to(PACKAGE_DIR)): helpers.digest(p) for p in helpers.files(notebook)}
        inputs["upstream"] = [result[parent] for parent in DEPENDS[name]]
        result[name] = sha256_bytes(json.dumps(inputs, sort_keys=True).encode())
        all_inputs[name] = inputs
    return result, all_inputs
