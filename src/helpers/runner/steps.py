"""A fingerprint of each step of the plan (helpers.data.plan), for incremental builds.

A step is a notebook, or a function of the runner (helpers.runner.tasks). Its fingerprint
changes when anything it reads changes:

- its notebook's cells (outputs and execution counts saved from JupyterLab do not count), or
  for a function step, which function it is;
- the helper modules it imports, directly or through other helpers, and the package data
  files (templates, published figures) those modules name;
- the raw files of the run (every file of the cohort folders and the top of raw_dir);
- the run's parameters (cohort, raw_dir, min_count, round_to), the pseudonym key, the
  report date (SOURCE_DATE_EPOCH), the Python version, requirements.lock and the runner;
- the bytes of the files it reads from the steps before it (SHA-256 of each): a step rebuilt
  with the same bytes does not make the steps after it rerun (early cutoff).

Raw files are identified by content (SHA-256), so touching a file without changing it
rebuilds nothing; a cache of (size, mtime) -> digest keeps a no-op check fast on large
exports. This module imports nothing heavy: the no-op check must take well under a second.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from helpers.data import paths, plan
from helpers.data.environment import DATE_ENV, PSEUDONYM_KEY_ENV
from helpers.data.hashing import sha256_bytes, sha256_file

# The whole helpers package (this module lives in helpers/runner/).
PACKAGE_DIR = Path(__file__).resolve().parent.parent
RUNNER_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name
# A notebook's import lines (and the autoreload magics that go with them).
IMPORT_LINE = re.compile(r"^\s*(%load_ext\b|%autoreload\b|import\s|from\s+\S+\s+import\s)")


def notebook_cells(path: Path) -> list[tuple[str, str]]:
    """(cell type, source) of every cell: what a run of the notebook depends on."""
    from helpers.data.errors import InputError

    try:
        book = json.loads(Path(path).read_text(encoding="utf-8"))
        return [(cell["cell_type"], "".join(cell["source"])) for cell in book["cells"]]
    except FileNotFoundError:
        raise InputError(f"{path}: notebook not found (the pipeline runs {', '.join(plan.NOTEBOOKS)}).") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a readable notebook ({type(exc).__name__}: {exc}); "
                         f"restore it from git or save it again from JupyterLab.") from None


def parameter_names(notebook: Path) -> set[str]:
    """The names a notebook's parameters cell assigns (what papermill may set)."""
    book = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cell = next((c for c in book["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return set()
    try:
        with _PARSING:  # (see _PARSING: steps start in threads)
            tree = ast.parse("".join(cell["source"]))
    except SyntaxError:
        return set()
    return {target.id for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


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


# One parse at a time: `make report-all` fingerprints cohorts in threads, and CPython 3.11 keeps
# the AST constructor's recursion depth in state shared by the threads, so two parses at once can
# fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).
_PARSING = threading.Lock()


@lru_cache(maxsize=1024)
def _helper_imports(code: str, package: str) -> frozenset[str]:
    """Helper modules named by the import statements of `code` (a module of `package`). Kept by the
    code's text: a run fingerprints twice (before and after copying the raw files), and `make
    watch` at every save, and most files have not changed."""
    try:
        with _PARSING:
            tree = ast.parse(code)
    except SyntaxError:
        return frozenset({"*"})  # cannot tell: depend on every helper
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
    return frozenset(name for name in names if name == PACKAGE or name.startswith(PACKAGE + "."))


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
        return self.files_of_code("\n".join(
            line for kind, source in notebook_cells(notebook) if kind == "code"
            for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
        ))

    def files_of_code(self, code: str) -> list[Path]:
        """The helper modules `code` imports, transitively, and the package data they name."""
        todo, seen = set(_helper_imports(code, PACKAGE)), {PACKAGE_DIR / "__init__.py"}
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
    """SHA-256 of raw files, reusing the digest of a file whose size and mtime have not changed.

    The cache is kept in state.json by path relative to raw_dir (no absolute path is stored),
    under a tag of the raw folder: another raw folder starts with an empty cache.
    """

    def __init__(self, raw_dir: Path, cache: dict | None = None):
        self.raw_dir = Path(raw_dir)
        self.tag = folder_tag(raw_dir)
        cache = cache or {}
        self.cache: dict[str, list] = dict(cache.get("files", {})) if cache.get("raw_dir") == self.tag else {}
        self.used: dict[str, list] = {}

    def record(self) -> dict:
        """What state.json keeps of this cache."""
        return {"raw_dir": self.tag, "files": self.used}

    def __call__(self, path: Path) -> str:
        info = path.stat()
        key = path.relative_to(self.raw_dir).as_posix()
        known = self.cache.get(key)
        if known and known[0] == info.st_size and known[1] == info.st_mtime_ns:
            digest = known[2]
        else:
            digest = sha256_file(path)
        self.used[key] = [info.st_size, info.st_mtime_ns, digest]
        return digest


class Snapshot(Digests):
    """Copies each raw file into `target` while hashing the bytes it copies.

    The steps read the copy, so what they read is exactly what the fingerprint records,
    even when a raw file is edited (or edited and changed back) while the run goes on.
    """

    def __init__(self, raw_dir: Path, target: Path):
        super().__init__(raw_dir)
        self.target = Path(target)

    def __call__(self, path: Path) -> str:
        key = path.relative_to(self.raw_dir).as_posix()
        copy = self.target / key
        copy.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(path, "rb") as source:
            before = os.fstat(source.fileno())
            with open(copy, "xb") as sink:  # "x": a new file, never written through a planted link
                while block := source.read(1 << 20):
                    digest.update(block)
                    sink.write(block)
            after = os.fstat(source.fileno())
        value = digest.hexdigest()
        # Kept for the next no-op check only if the file did not change while it was read.
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns):
            self.used[key] = [before.st_size, before.st_mtime_ns, value]
        return value


def folder_tag(folder: Path) -> str:
    """A short tag of a folder's path: tells two raw folders apart without storing either path."""
    return sha256_bytes(str(Path(folder)).encode("utf-8", "surrogateescape"))[:16]


def key_fingerprint(salt: str) -> str:
    """Which pseudonym key is in use, as a salted, memory-hard hash (scrypt, as for passwords).

    A fast tag of the key (an HMAC, as this was) lets whoever holds state.json test guesses
    of the key by the million per second; scrypt with a random salt per build folder costs
    each guess 16 MB and tens of milliseconds. Empty when no key is set.
    """
    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if not key:
        return ""
    return hashlib.scrypt(key.encode("utf-8", "surrogateescape"), salt=bytes.fromhex(salt or "00"), n=2 ** 14,
                          r=8, p=1, dklen=16).hex()


def fingerprint_of(inputs: dict) -> str:
    """The fingerprint of a step with these inputs (the runner recomputes it when what a step
    reads is known only once the steps before it have run)."""
    return sha256_bytes(json.dumps(inputs, sort_keys=True).encode())


def fingerprints(notebooks_dir: Path, raw_dir: Path, parameters: dict, digests: Digests, salt: str = "",
                 active: tuple[plan.Step, ...] = plan.ALWAYS, key: str | None = None,
                 upstream: Callable[[plan.Step], dict] | None = None) -> tuple[dict[str, str], dict[str, dict]]:
    """(fingerprint, inputs) of every active step for one run (see the module docstring).

    The inputs are kept in state.json, so the raw folder appears only as its tag. `key`, when
    given, stands for the pseudonym key's fingerprint (the one recorded by the last build, when
    no key is set: see helpers.runner.pipeline, reusing a published report). `upstream`, when
    given, says what a step reads from the steps before it (the runner gives the SHA-256 of each
    file, so that a step rebuilt with the same bytes does not make later steps rerun); without
    it, the fingerprints of those steps stand in.
    """
    lock = paths.PROJECT_ROOT / "requirements.lock"
    common = {
        "parameters": {**parameters, "raw_dir": folder_tag(raw_dir)},
        "raw": {str(p.relative_to(raw_dir)): digests(p) for p in raw_files(raw_dir, parameters["cohort"])},
        "environment": {
            "python": sys.version,
            "requirements.lock": sha256_file(lock) if lock.is_file() else "",
            # The runner's own code, and what it writes into every step's outputs (the executed
            # notebooks as HTML): a change to either is a change to every step.
            "runner": [sha256_file(path) for path in (RUNNER_DIR / "pipeline.py", RUNNER_DIR / "steps.py",
                                                      RUNNER_DIR / "tasks.py",
                                                      PACKAGE_DIR / "report" / "notebook_html.py")],
            DATE_ENV: os.environ.get(DATE_ENV, ""),
            "pseudonym key": key_fingerprint(salt) if key is None else key,
        },
    }
    result: dict[str, str] = {}
    all_inputs: dict[str, dict] = {}
    helpers = HelperGraph()
    for step in active:
        inputs = dict(common)
        if step.notebook:
            notebook = Path(notebooks_dir) / step.name
            inputs["notebook"] = sha256_bytes(json.dumps(notebook_cells(notebook)).encode())
            files = helpers.files(notebook)
        else:
            module = step.function.partition(":")[0]
            inputs["notebook"] = sha256_bytes(step.function.encode())
            files = helpers.files_of_code(f"import {module}")
        inputs["helpers"] = {str(p.relative_to(PACKAGE_DIR)): helpers.digest(p) for p in files}
        inputs["upstream"] = upstream(step) if upstream is not None \
            else [result[parent.name] for parent in plan.parents(step)]
        result[step.name] = fingerprint_of(inputs)
        all_inputs[step.name] = inputs
    return result, all_inputs
