"""Run the plan's steps for one cohort, rebuilding only what changed (`make report`), or for
every cohort and the pooled `all`, then reports/index.html (`make report-all`).

    python -m helpers.runner.pipeline --cohort cohort1 [--raw-dir data/raw] [--min-count 7 --round-to 5]
                               [--with pdf] [--with manuscript] [--jobs 2] [--force]
    python -m helpers.runner.pipeline --all [--raw-dir data/raw] [--min-count 7 --round-to 5]

The steps, what each reads and writes, and their order are those of helpers.data.plan: every
notebook step, and the steps asked for with --with (`make pdf`, `make manuscript`), which are
then kept up to date by every later run of the same report. A step reruns only when its
fingerprint changed (its notebook or function, the helpers it imports, the raw files, the
parameters, or a step it reads from) or its outputs are missing or were changed; a run where
nothing changed does nothing. Steps that do not depend on each other run at the same time,
up to --jobs (default: `make -j N`'s N, else every core).

A run publishes to reports/<name>/ and data/processed/<name>/, <name> being the cohort, or
the cohort with its disclosure settings (`cohort1-min7-round5`), so a shareable report never
replaces the full one. RAW_DIR left out means the folder the published report was built from.

Each step runs (a notebook by papermill, a function in a process of its own) in a folder of
its own under reports/.build/<name>/run/, holding copies of the outputs it declares it
reads, so what it writes is known exactly and checked against the plan; its outputs are
then kept under reports/.build/<name>/steps/ for the next run. The steps read a
snapshot of the raw files (reports/.build/<cohort>/raw/), hashed as it is copied, so the
fingerprints describe exactly the bytes the run read. Every message the runner prints names the
raw folder the analyst gave, never the snapshot (the report notebook is told it as `raw_source`).

`--all` (run_all) builds each cohort folder of raw_dir and the pooled `all` in this one
process, two cohorts at a time; each line a run prints is shown as it comes, prefixed with its
cohort (`[cohort2]   [1/5] ...`). Then it prints each report's PDF when Chromium is installed,
and helpers.report.index writes reports/index.html.

Publishing: when every step has passed, the outputs are assembled (hard links to the kept
outputs) in a new version folder, reports/.build/<name>/versions/<n>/{reports,processed}/,
and one rename switches the symlink reports/.build/<name>/current to it. The published
paths are symlinks through `current`: `reports/<name>` -> .build/<name>/current/reports/
<cohort> and `data/processed/<name>` -> .../current/processed/<cohort>. So both trees
switch together, by one atomic rename, and at every instant each path holds a complete
report, the old one or the new one. A failed or interrupted run leaves the previous report;
the failed executed notebook is kept under `reports/_failed/<name>/` for debugging.

The build folder is written without ever following a symbolic link: a link planted there
(for the lock, state.json or anything else) stops the run before it writes.

Executed notebooks are stripped of run times, and the build folders have fixed names, so
that two runs on the same inputs give the same bytes (SOURCE_DATE_EPOCH fixes the
report's own date).
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import queue
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from helpers.data import memo, paths, plan, safe_write
from helpers.data.environment import PSEUDONYM_KEY_ENV
from helpers.data.errors import InputError
from helpers.data.hashing import sha256_file
from helpers.data.params import check_cohort_name, check_folder, check_key, whole_number_setting

from . import steps

FAILED_DIR = "_failed"
BUILD_DIR = ".build"
STATE_FILE = "state.json"
STATE_VERSION = 3
VERSIONS = "versions"   # published versions, in the build folder
CURRENT = "current"     # symlink to the published version: the one switch of publishing
SNAPSHOT = "raw"        # the copy of the raw files that the steps of a run read
MEMO = "memo"           # drawn figures and embedded images by what made them (helpers.data.memo)
# Cohorts built side by side by `make report-all` (each with its steps in parallel too).
COHORTS_AT_ONCE = 2
# The only symbolic link the build folder may hold: the pipeline's own.
OWN_LINKS = (CURRENT,)
# The two output trees of a step, named as the notebook parameters that point at them.
TREES = ("processed", "reports")
# The kernel only talks to this process over loopback; its TCP notice is noise here.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
# Run-time stamps that papermill and nbclient write into executed notebooks.
VOLATILE_METADATA = ("start_time", "end_time", "duration")


class PipelineError(Exception):
    """A run that stopped; the message says which step, why, and where to look."""


class Interrupted(Exception):
    """SIGTERM or SIGINT while a step ran."""


def default_jobs() -> int:
    """`make -j N` sets N (plain -j: every core); otherwise every core."""
    flags = os.environ.get("MAKEFLAGS", "")
    match = re.search(r"(?:^|\s)-[a-zA-Z]*j(\d*)(?:\s|$)", flags) or re.search(r"--jobs=(\d+)", flags)
    if match and match.group(1):
        return max(1, int(match.group(1)))
    return os.cpu_count() or 1


def strip_run_times(path: Path) -> None:
    """Remove per-run timestamps and random ids from an executed notebook so reruns compare equal.

    Plain JSON in nbformat's own layout: nbformat's reader would validate against its
    schema, which the runner does not need (the `make bench` table shows the cost).
    """
    book = json.loads(path.read_text(encoding="utf-8"))
    book.get("metadata", {}).get("papermill", {}).update({k: None for k in VOLATILE_METADATA})
    for cell in book["cells"]:
        meta = cell.get("metadata", {})
        if "injected-parameters" in meta.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id on every run
        meta.pop("execution", None)
        if "papermill" in meta:
            meta["papermill"].update({k: None for k in VOLATILE_METADATA})
    path.write_text(json.dumps(book, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# --- files of a step -------------------------------------------------------------------

def _files(root: Path) -> list[str]:
    """Files under root, as paths relative to it ('reports/<cohort>/tables/x.csv')."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _stat(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_size, info.st_mtime_ns]


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _remove_empty_dirs(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def _remove(path: Path) -> None:
    """Remove a file, a folder or a symbolic link (the link itself, never what it points to)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _new_file(path: Path) -> int:
    """A descriptor of a new, empty file at `path`, never created through a symbolic link:
    whatever was at `path` (a stale file, a planted link) is unlinked first, and O_EXCL with
    O_NOFOLLOW refuses anything that appears there meanwhile."""
    path.unlink(missing_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with os.fdopen(_new_file(tmp), "w") as handle:
        handle.write(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic rename (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


def _point(link: Path, target: str) -> None:
    """Make `link` a symbolic link to `target`, replacing what is there in one rename.

    A link is replaced atomically. A real folder (published before reports were versioned)
    is swapped with the new link in one atomic exchange where the system has one, then removed.
    """
    if link.is_symlink() and os.readlink(link) == target:
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.link")
    _remove(tmp)
    os.symlink(target, tmp)
    if link.is_symlink() or not link.exists():
        os.replace(tmp, link)
    elif _exchange(tmp, link):
        _remove(tmp)  # now the old folder
    else:  # no exchange: the old folder is moved aside, and the link takes its place at once
        old = link.with_name(f".{link.name}.old")
        _remove(old)
        link.rename(old)
        os.replace(tmp, link)
        _remove(old)


def _check_writable(folder: Path, what: str) -> None:
    """Refuse, before any step runs, a folder the run could not write its outputs to."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A name of its own: runs of several cohorts (make report-all) check the same folder at once.
        probe = folder / f".write-test-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
        probe.unlink()
    except OSError as exc:
        raise PipelineError(f"Cannot write to the {what} {folder} ({exc.strerror or exc}). Nothing was run and "
                            f"nothing was changed: make the folder writable (or choose another) and run "
                            f"again.") from None


def _refuse_symlinks(build_root: Path, cohort: str) -> None:
    """Stop if the build folder, or anything in this cohort's build folder, is a symbolic link
    the pipeline did not make: writing there would write wherever the link points."""
    planted = [p for p in (build_root, build_root / f"{cohort}.lock") if p.is_symlink()]
    root = build_root / cohort
    if root.is_symlink():
        planted.append(root)
    elif root.is_dir():
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                path = Path(folder) / name
                if path.is_symlink() and not (Path(folder) == root and name in OWN_LINKS):
                    planted.append(path)
    if planted:
        listed = "\n".join(f"  - {p} -> {os.readlink(p)}" for p in planted[:10])
        raise PipelineError(f"The build folder holds symbolic links the pipeline did not make; it never writes "
                            f"through a link, so it stops here. Remove them (or the whole {build_root}) and run "
                            f"again:\n{listed}")
    # The failed notebooks' folder, cleared by every run and written by a failed one: outside the
    # build folder, so checked on its own (safe_write.LinkRefused names the link).
    failed = build_root.parent / FAILED_DIR / cohort
    safe_write.check(failed, build_root.parent, f"clear or keep failed notebooks in {failed}")


# --- failures --------------------------------------------------------------------------

def _failing_cell(exc: BaseException) -> str:
    """'cell 7 (In [5]): first line of its code', from papermill's execution error."""
    index, count, source = (getattr(exc, a, None) for a in ("cell_index", "exec_count", "source"))
    if index is None:
        return ""
    first = next((line for line in str(source or "").splitlines() if line.strip()), "")
    return f"Failing cell: {index + 1} of the executed notebook (In [{count}]): {first}\n"


def _error_of(exc: BaseException) -> str:
    """The message a researcher needs from a failed notebook: the exception, not a traceback."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename and evalue:
        return f"{ename}: {evalue}"
    if ename:  # some errors (e.g. from template engines) arrive without their text
        return f"{ename} (no message came back from the kernel; open the kept notebook for the full error)"
    return f"{type(exc).__name__}: {exc}"


def _keep_failed(output: Path, kernel_log: Path, failed: Path) -> Path | None:
    """Copy the executed notebook (and the kernel's own log) where the user can open them,
    in reports/_failed/<name>/, never through a link planted there (safe_write.LinkRefused)."""
    root = failed.parents[1]  # the reports folder
    safe_write.make_dir(failed, root)
    if kernel_log.exists():
        safe_write.copy_file(kernel_log, failed / kernel_log.name, root)
    if output.exists():
        return safe_write.copy_file(output, failed / output.name, root)
    return None


# --- locks, signals, kernels -----------------------------------------------------------

@contextmanager
def _cohort_lock(build_root: Path, cohort: str):
    """One run per cohort and reports folder at a time: the build folder is shared."""
    build_root.mkdir(parents=True, exist_ok=True)
    path = build_root / f"{cohort}.lock"
    try:  # opened without truncating, and never through a link (O_NOFOLLOW)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise PipelineError(f"Cannot open the lock file {path} ({exc.strerror}); if it is a symbolic link, "
                            f"remove it.") from None
    handle = os.fdopen(descriptor, "r+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise PipelineError(
            f"Another run for cohort {cohort!r} is building in {build_root}; wait for it to finish.") from None
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextmanager
def _stop_requests(raising: bool = False):
    """SIGTERM/SIGINT recorded in a list (yielded) while the block runs; with `raising`, also
    turned into Interrupted at once. Only the main thread may handle signals."""
    received: list[str] = []

    def handler(signum, _frame):
        received.append(signal.Signals(signum).name)
        if raising:
            raise Interrupted(received[-1])

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def _signals_as_exceptions(shared: list[str] | None = None):
    """Turn SIGTERM/SIGINT into Interrupted so the run can keep what it must and clean up.

    The signal is also remembered: the runner checks the record before publishing and
    never publishes a run that was asked to stop. A run among several (run_all) is given the
    record (`shared`) kept by the main thread, the only one Python lets handle signals; it
    stops at its next check of it.
    """
    if shared is not None:
        yield shared
        return
    with _stop_requests(raising=True) as received:
        yield received


class _Kernels:
    """The kernels (and function steps' processes) of the running steps, so that a stop request
    or a failure can end them.

    Kernels start in a session of their own, so Ctrl-C in the terminal does not reach them.
    """

    def __init__(self, memo_dir: Path | None = None):
        # Given to every kernel started here (helpers.data.memo); None: kernels make everything.
        self.memo_dir = memo_dir
        self._lock = threading.Lock()
        self._managers: list = []
        self._processes: list = []
        self._stopping = False
        self._cancelled: set[Path] = set()  # kernel logs of steps that will not run after all
        self._by_log: dict[Path, object] = {}

    def add_process(self, process) -> None:
        with self._lock:
            self._processes.append(process)
            if self._stopping:
                process.kill()

    def manager_class(self, log: Path):
        """A kernel manager class whose kernels write their stderr to `log` and register here.

        The kernel's shutdown chatter (ZMQ callbacks, "KeyboardInterrupt caught") is noise
        to a researcher; errors that matter come back through the notebook's outputs.
        """
        from jupyter_client.manager import AsyncKernelManager

        registry = self
        memo_dir = self.memo_dir

        class LoggingKernelManager(AsyncKernelManager):
            async def _async_launch_kernel(self, kernel_cmd, **kw):
                kw["env"] = dict(kw.get("env") or os.environ)
                kw["env"].pop(memo.MEMO_ENV, None)  # only this run's memo, or none (FORCE=1)
                if memo_dir is not None:
                    kw["env"][memo.MEMO_ENV] = str(memo_dir)
                with open(log, "ab") as handle:  # the child keeps its own copy of the descriptor
                    kw["stderr"] = handle
                    await super()._async_launch_kernel(kernel_cmd, **kw)
                registry._add(self, log)

        return LoggingKernelManager

    def warm(self, notebook: Path, log: Path):
        """Start a kernel for `notebook` and import its libraries there, ahead of its turn.

        Run in a thread while earlier steps execute, so the next step does not wait for a
        kernel to start and import pandas, matplotlib and the helpers. The imports run in a
        throwaway namespace: the notebook still starts with an empty one and its own import
        cells bind the names, so it runs exactly as it would in JupyterLab. Returns the
        started kernel manager, or None (papermill then starts a kernel as usual).
        """
        import asyncio

        manager = self.manager_class(log)(kernel_name="python3")

        async def start():
            code = "\n".join(line for line in steps.import_lines(notebook) if not line.startswith("%"))
            await manager.start_kernel(extra_arguments=KERNEL_ARGUMENTS, cwd=str(notebook.parent))
            client = manager.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=120)  # raises if the kernel dies meanwhile
                request = client.execute(f"exec({code!r}, {{}})", silent=True, store_history=False)
                while True:  # until the imports are done, or the run stops and kills this kernel
                    if self._stopping or log in self._cancelled or not await manager.is_alive():
                        raise RuntimeError("the run stopped before this step's turn")
                    try:
                        reply = await client.get_shell_msg(timeout=0.2)
                    except queue.Empty:
                        continue
                    if reply["parent_header"].get("msg_id") == request:
                        break
            finally:
                client.stop_channels()

        try:
            asyncio.run(start())
        except Exception:  # the notebook's own run will start a kernel and show any error
            self.shut(manager)
            return None
        return manager

    @staticmethod
    def shut(manager) -> None:
        """Stop a kernel this runner started (nbclient leaves kernels it was given running)."""
        import asyncio

        try:
            asyncio.run(manager.shutdown_kernel(now=True))
        except Exception:  # already gone
            _Kernels._kill(manager)

    def _add(self, manager, log: Path | None = None) -> None:
        with self._lock:
            self._managers.append(manager)
            self._by_log[log] = manager
            if self._stopping or log in self._cancelled:
                self._kill(manager)

    def cancel(self, log: Path) -> None:
        """End the kernel warming for the step of `log` (it will not run after all), at once:
        waiting for its imports to finish would only delay the end of the run."""
        with self._lock:
            self._cancelled.add(log)
            if log in self._by_log:
                self._kill(self._by_log[log])

    @staticmethod
    def _kill(manager) -> None:
        process = getattr(manager.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            for manager in self._managers:
                self._kill(manager)
            for process in self._processes:
                if process.poll() is None:
                    process.kill()


# --- the build -------------------------------------------------------------------------

class Build:
    """One published report's build folder: each step's kept outputs and the record of what built them.

    state.json holds, per step, its fingerprint, its inputs (to say why it reruns) and its
    output files; the size, mtime and SHA-256 of every published file, so that an output
    changed or deleted by hand is noticed and rebuilt (and one rewritten with the same bytes
    is not); the on-request steps asked for so far; and the raw folder it was built from.
    """

    def __init__(self, root: Path, cohort: str, processed_dir: Path, reports_dir: Path,
                 order: tuple[plan.Step, ...] = plan.ALWAYS, state: dict | None = None):
        self.root, self.cohort, self.name = root, cohort, root.name
        self.published_roots = {"processed": processed_dir, "reports": reports_dir}
        self.state_path = root / STATE_FILE
        self.state = read_state(root) if state is None else state  # (the caller's reading, if it has one)
        self.order = order
        # Random per build folder: salts the key's hash in the fingerprints (steps.key_fingerprint).
        self.salt = self.state.get("salt") or os.urandom(16).hex()
        # Steps that rerun only if a file they read comes out changed (set by `stale`), and the
        # SHA-256 of each file written by the steps of this run (set as each step ends).
        self.waiting: set[str] = set()
        self.made: dict[str, dict[str, str]] = {}

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.order]

    def kept(self, step: str) -> Path:
        return self.root / "steps" / plan.step(step).stem

    def staging(self, step: str) -> Path:
        return self.root / "run" / plan.step(step).stem

    def executed(self, step: str) -> Path:
        """Where papermill writes the step's executed notebook (an output of the step)."""
        return self.staging(step) / "reports" / self.cohort / "notebooks" / step

    def kernel_log(self, step: str) -> Path:
        return self.root / "run" / f"{plan.step(step).stem}.kernel.log"

    def published(self, relative: str) -> Path:
        """Where a file of the build ('reports/<cohort>/x') is published ('reports/<name>/x')."""
        tree, _, rest = relative.partition("/")
        return self.published_roots[tree] / self.name / rest.partition("/")[2]

    def position(self, name: str) -> str:
        return f"{self.names.index(name) + 1}/{len(self.order)}" if name in self.names else name

    def label(self, name: str) -> str:
        """'[4/5] 04_figures.ipynb', as in the step lines."""
        return f"[{self.position(name)}] {name}"

    def stale(self, fingerprints: dict[str, str], inputs: dict[str, dict]) -> dict[str, str]:
        """Steps that must rerun or may have to, each with the reason shown to the user.

        A published file counts as changed only if its bytes did: size and mtime as recorded
        say it is unchanged at once; otherwise its SHA-256 decides (and the new size and mtime
        are recorded, so the next check is quick again). A step that is stale only because a
        step before it reruns is left in `waiting`: the run decides once that step has run,
        by the bytes it wrote (early cutoff).
        """
        recorded = self.state.get("steps", {})
        published = self.state.get("published", {})
        reasons: dict[str, str] = {}
        for name in self.names:
            old = recorded.get(name)
            if old is None:
                reasons[name] = "first build" if not recorded else "asked for"
            elif old["fingerprint"] != fingerprints[name]:
                reasons[name] = "changed: " + _what_changed(old.get("inputs", {}), inputs[name])
            else:
                for relative in old["outputs"]:
                    # Outputs kept but not published (executed notebooks under disclosure control)
                    # are checked in the build folder only.
                    shown = relative in published
                    if not (self._unchanged(self.kept(name) / relative, relative, published, refresh=False)
                            and (not shown or self._unchanged(self.published(relative), relative, published))):
                        reasons[name] = f"output missing or changed: {self.published(relative)}"
                        break
        self.waiting = set()
        for name in list(reasons):
            for child in plan.descendants(plan.step(name), self.order):
                if child.name not in reasons:
                    reasons[child.name] = f"reads the new output of {name}"
                    self.waiting.add(child.name)
        return {name: reasons[name] for name in self.names if name in reasons}

    def digests_of(self, name: str) -> dict[str, str]:
        """SHA-256 of each file step `name` wrote: in this run, or as the last build recorded."""
        if name in self.made:
            return self.made[name]
        return self.state.get("steps", {}).get(name, {}).get("sha256", {})

    def upstream(self, step: plan.Step) -> dict[str, str]:
        """What `step` reads from the steps before it: SHA-256 of each file, by its path."""
        return {relative: digest for parent in plan.parents(step)
                for relative, digest in sorted(self.digests_of(parent.name).items())
                if _declared_by(relative, step.reads, self.cohort) is not None}

    def _unchanged(self, path: Path, relative: str, published: dict, refresh: bool = True) -> bool:
        """Whether `path` holds the bytes recorded for `relative` (a published file, or its kept copy)."""
        now = _stat(path)
        record = published.get(relative)
        if now is None:
            return False
        if record is None or now == record[:2]:
            return True  # (an unpublished file is checked for presence; its digest is its step's)
        if len(record) > 2 and sha256_file(path) == record[2]:
            if refresh:  # same bytes: the new size and mtime are remembered as unchanged
                published[relative] = now + record[2:]
                self.refreshed = True
            return True
        return False

    refreshed = False


def read_state(root: Path) -> dict:
    """A build folder's state.json, or {} (none yet, unreadable, or of an older runner)."""
    try:
        state = json.loads((Path(root) / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError, OSError):
        return {}
    return state if isinstance(state, dict) and state.get("version") == STATE_VERSION else {}


def _what_changed(old: dict, new: dict) -> str:
    """'notebook', 'helpers (figures.py)', 'parameters (min_count)'... for the step's log line."""
    changed = []
    for key in ("notebook", "helpers", "raw", "parameters", "environment", "upstream"):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            names = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            more = f", +{len(names) - 3} more" if len(names) > 3 else ""
            changed.append(f"{key} ({', '.join(names[:3])}{more})")
        else:
            changed.append("an earlier step" if key == "upstream" else key)
    return ", ".join(changed) or "inputs"


def _say(progress: bool):
    """print, or tqdm's print while progress bars are on screen, so bars and lines do not mix."""
    if progress:
        from tqdm import tqdm

        return tqdm.write
    return lambda text: print(text, flush=True)


def _prepare(build: Build, name: str, fresh: dict[str, list[str]]) -> dict[str, list[int]]:
    """A clean folder for step `name`, holding copies of the files it declares it reads; their stats.

    Only what the plan says the step reads is there: a read the plan does not declare fails
    in the step, rather than reading whatever an earlier run left. Copies rather than links: a
    step that wrote to an input by mistake must not be able to change a kept output, or the
    published report through it.
    """
    stage = build.staging(name)
    if stage.exists():
        shutil.rmtree(stage)
    for tree in TREES:
        (stage / tree / build.cohort).mkdir(parents=True)
    copied: dict[str, list[int]] = {}
    step = plan.step(name)
    for parent in plan.parents(step):
        source = build.staging(parent.name) if parent.name in fresh else build.kept(parent.name)
        outputs = fresh[parent.name] if parent.name in fresh else build.state["steps"][parent.name]["outputs"]
        for relative in outputs:
            if _declared_by(relative, step.reads, build.cohort) is None:
                continue
            target = stage / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / relative, target)
            copied[relative] = _stat(target)
    return copied


def _declared_by(relative: str, outputs: tuple[plan.Output, ...], cohort: str) -> plan.Output | None:
    """The output among `outputs` that a file of a run ('reports/<cohort>/tables/x.csv') belongs to."""
    tree, _, rest = relative.partition("/")
    folder, _, name = rest.partition("/")
    if folder != cohort:
        return None
    return next((o for o in outputs if o.tree == tree and o.holds(name)), None)


def _import_papermill():
    """papermill, without compiling a grammar it never uses.

    nbformat validates notebooks with jsonschema, whose optional IRI format checker
    (rfc3987-syntax, installed for JupyterLab) builds a Lark parser at import, on
    every run (python-jsonschema/jsonschema#1392). Notebook schemas use no IRI format, so
    jsonschema is told the checker is absent, in this process only.
    """
    sys.modules.setdefault("rfc3987_syntax", None)
    import papermill

    return papermill


class _TaskFailed(Exception):
    """A function step's process failed; `ename` and `evalue` as a notebook's error has them."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(f"{ename}: {evalue}")
        self.ename, self.evalue = ename, evalue


def _execute(build: Build, name: str, parameters: dict, notebooks_dir: Path, kernels: _Kernels, bar: bool,
             warm: Future | None, reuse_html: bool = False) -> None:
    """Run one step in its staging folder (in a worker thread).

    `reuse_html`: the renderer is the one the kept outputs were made with, so an executed
    notebook that comes out byte-identical to the kept one keeps its HTML, not rendered again.
    """
    step = plan.step(name)
    if not step.notebook:
        _execute_function(build, step, parameters, kernels)
        return
    papermill = _import_papermill()

    stage, output = build.staging(name), build.executed(name)
    output.parent.mkdir(parents=True, exist_ok=True)
    manager = warm.result() if warm is not None else None
    try:
        given = {**parameters, "processed_dir": str(stage / "processed"), "out_dir": str(stage / "reports")}
        papermill.execute_notebook(
            str(notebooks_dir / name), str(output),
            # Only the parameters the notebook declares (raw_source is the report notebook's alone).
            parameters={k: v for k, v in given.items() if k in steps.parameter_names(notebooks_dir / name)},
            kernel_name="python3",  # the kernel of this interpreter, which has helpers installed
            cwd=str(notebooks_dir), log_output=False,
            # A live bar per running step in a terminal, replaced by the step's summary line.
            progress_bar={"desc": f"  {build.label(name)}", "leave": False} if bar else False,
            extra_arguments=KERNEL_ARGUMENTS, kernel_manager_class=kernels.manager_class(build.kernel_log(name)),
            km=manager,  # the kernel started ahead of time, if any
        )
    finally:
        if manager is not None:
            kernels.shut(manager)
    strip_run_times(output)
    kept = build.kept(name) / output.relative_to(build.staging(name))
    if reuse_html and kept.with_suffix(".html").is_file() and kept.is_file() \
            and kept.read_bytes() == output.read_bytes():
        shutil.copy2(kept.with_suffix(".html"), output.with_suffix(".html"))
        return
    from helpers.report.notebook_html import render  # the executed notebook, for reading without Jupyter

    render(output)


def _execute_function(build: Build, step: plan.Step, parameters: dict, kernels: _Kernels) -> None:
    """Run a function step (helpers.runner.tasks) in a process of its own, which a stop request ends."""
    import subprocess

    folder = build.staging(step.name) / "reports" / build.cohort
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.runner.tasks", step.function, str(folder), parameters["cohort"],
         str(parameters["min_count"]), str(parameters["round_to"])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    kernels.add_process(process)
    _, err = process.communicate()
    if process.returncode:
        last = next((line for line in reversed(err.splitlines()) if line.strip()), "")
        ename, _, evalue = last.partition(": ")
        if not evalue:
            ename, evalue = "Error", (last or f"the process ended with code {process.returncode}")
        raise _TaskFailed(ename, evalue)


def _collect(build: Build, copied: dict[str, list[int]], name: str) -> list[str]:
    """The files step `name` wrote (its folder without the inputs copied in), checked against the
    plan: every file belongs to an output the step declares, and every output that is always
    written is there."""
    stage, step = build.staging(name), plan.step(name)
    for relative, before in copied.items():
        if _stat(stage / relative) != before:
            raise PipelineError(f"Step {build.position(name)} {name} changed {relative}, an output of an earlier "
                                f"step. A step must write only its own files (one direction of data flow): "
                                f"fix the notebook.")
        (stage / relative).unlink()
    _remove_empty_dirs(stage)
    written = _files(stage)
    undeclared = [r for r in written if _declared_by(r, step.outputs, build.cohort) is None]
    if undeclared:
        raise PipelineError(f"Step {build.position(name)} {name} wrote files that helpers/data/plan.py does not "
                            f"declare for it: {', '.join(undeclared[:5])}. Declare them as outputs of the step "
                            f"(a step writes only what the plan says), or stop writing them.")
    missing = [o.name for o in step.outputs if not o.when
               and not any(_declared_by(r, (o,), build.cohort) for r in written)]
    if missing:
        raise PipelineError(f"Step {build.position(name)} {name} did not write {', '.join(missing)}, which "
                            f"helpers/data/plan.py says it always writes.")
    return written


def _warm_imports() -> None:
    """Import papermill, then nbconvert's renderer (about 2 s and 1.5 s of processor time), in a
    thread of the runner while the first kernel starts: one after the other, so that papermill,
    which the first step needs first, does not wait for the renderer on the interpreter's lock."""
    try:
        _import_papermill()
        from helpers.report import notebook_html

        notebook_html.warm()
    except Exception:  # the step's own run will show any error
        pass


def memo_folder(build_root: Path) -> Path:
    """The memo of a build folder (helpers.data.memo): figures drawn by its runs, by what made them."""
    return build_root / MEMO


def _memo_said(memo_dir: Path | None, since: float) -> str:
    """What the step line adds when a step fetched figures from the memo: which it drew."""
    if memo_dir is None:
        return ""
    fetched, stored = memo.used_since(memo_dir, memo.FIGURE, since)
    if not fetched:
        return ""
    drawn = f"drew {', '.join(sorted(stored))}" if stored else "drew none"
    return f"; {drawn}, kept {len(fetched)} figure{'s' * (len(fetched) != 1)} drawn from the same inputs before"


class _StepFailed(Exception):
    def __init__(self, name: str, error: BaseException):
        super().__init__(name)
        self.name, self.error = name, error


def _run_steps(build: Build, stale: dict[str, str], parameters: dict, notebooks_dir: Path, jobs: int,
               progress: bool, signals: list[str], say, timings: dict[str, tuple[float, float]],
               fingerprints: dict[str, str] | None = None, inputs: dict[str, dict] | None = None,
               reuse_html: frozenset[str] = frozenset(), prestarted: dict | None = None,
               memo_dir: Path | None = None) -> dict[str, list[str]]:
    """Run the stale steps, each as soon as the steps it reads have finished; their outputs.

    `timings` receives each finished step's (start, end) on the perf_counter clock. When a step's
    turn comes, what it reads is known: its entry in `fingerprints` and `inputs` is made from
    the bytes of those files, and a step of build.waiting whose fingerprint comes out as the last
    build's is not run (early cutoff). `reuse_html`: steps whose kept notebook HTML may be reused.
    `prestarted`: kernels started ahead of this run (see `run`), taken by the steps they are for.
    `memo_dir`: the memo the steps' kernels keep drawn figures in (None: draw every one).
    """
    fingerprints = {} if fingerprints is None else fingerprints
    inputs = {} if inputs is None else inputs
    recorded = build.state.get("steps", {})
    skipped: list[str] = []
    pending = [name for name in build.names if name in stale]
    announced = pending[0]  # `run` has said it is starting
    fresh: dict[str, list[str]] = {}
    running: dict[Future, tuple[str, dict, float, float]] = {}  # name, inputs copied, start (perf, wall)
    kernels = _Kernels(memo_dir)
    failure: BaseException | None = None
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="step")
    # Kernels for the next steps start while earlier steps run. At most jobs + 1 kernels
    # are alive at once (running or waiting): each waiting one holds its libraries, and at
    # national scale the running ones hold most of the memory the machine has to spare.
    warming = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="warm")
    warm: dict[str, Future] = {}

    try:
        while pending or running:
            if signals:
                raise Interrupted(signals[0])
            for name in pending:
                if len(running) + sum(1 for step in warm if step in pending) > jobs:
                    break
                if name not in warm and plan.step(name).notebook:
                    ready = (prestarted or {}).pop(name, None)
                    if ready is not None:  # started before this run: now this run's to stop
                        kernels._add(ready, build.kernel_log(name))
                        warm[name] = Future()
                        warm[name].set_result(ready)
                    else:
                        warm[name] = warming.submit(kernels.warm, notebooks_dir / name, build.kernel_log(name))
            for name in list(pending):
                busy = {step for step, *_ in running.values()}
                if len(running) >= jobs or any(a.name in pending or a.name in busy
                                               for a in plan.ancestors(plan.step(name))):
                    continue
                if name in inputs:  # what it reads is now known, by the bytes written
                    inputs[name]["upstream"] = build.upstream(plan.step(name))
                    fingerprints[name] = steps.fingerprint_of(inputs[name])
                if name in build.waiting and fingerprints.get(name) == recorded.get(name, {}).get("fingerprint"):
                    pending.remove(name)  # the steps before it wrote the bytes it read last time
                    skipped.append(name)
                    if name in warm:
                        kernels.cancel(build.kernel_log(name))
                    say(f"  {build.label(name):<32}  up to date (what it reads came out unchanged)")
                    continue
                copied = _prepare(build, name, fresh)
                # One live bar at a time: two bars sharing the terminal with the step lines
                # printed between them leave gaps. A step that starts beside another runs
                # without one, and its line appears when it ends.
                bar = progress and not running
                future = pool.submit(_execute, build, name, parameters, notebooks_dir, kernels, bar, warm.get(name),
                                     name in reuse_html)
                running[future] = (name, copied, time.perf_counter(), time.time())
                pending.remove(name)
                if name != announced:
                    say(f"  {build.label(name):<32}  running...")
            finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                name, copied, start, wall = running.pop(future)
                if future.exception() is not None:
                    raise _StepFailed(name, future.exception())
                fresh[name] = _collect(build, copied, name)
                build.made[name] = {r: sha256_file(build.staging(name) / r) for r in fresh[name]}
                timings[name] = (start, time.perf_counter())
                reason = "" if stale[name] == "first build" else f"  ({stale[name]})"
                say(f"  {build.label(name):<32} {time.perf_counter() - start:6.1f} s{reason}"
                    + _memo_said(memo_dir, wall))
    except BaseException as exc:
        failure = exc
        kernels.stop()  # end the other running steps now: this run will not be published
        raise
    finally:
        pool.shutdown(wait=True)
        warming.shutdown(wait=True)
        for name, future in warm.items():  # kernels warmed for steps that never ran
            if (name in pending or name in skipped) and future.result() is not None:
                kernels.shut(future.result())
        if failure is not None:
            _report_failure(build, failure, [name for name, *_ in running.values()], parameters["cohort"])
    if signals:  # the signal came, but was swallowed on its way (e.g. by an event loop)
        raise Interrupted(signals[0])
    return fresh


def _report_failure(build: Build, failure: BaseException, running: list[str], cohort: str) -> None:
    """Keep the failed or interrupted notebooks and raise the message the user reads.

    Returns (and the caller re-raises `failure`) for errors of the runner itself.
    """
    reports_dir = build.published_roots["reports"]
    failed = reports_dir / FAILED_DIR / build.name
    refused: list[str] = []  # a link planted at reports/_failed during the run: nothing is kept through it

    def keep(name: str) -> Path | None:
        if not plan.step(name).notebook or refused:
            return None
        try:
            return _keep_failed(build.executed(name), build.kernel_log(name), failed)
        except safe_write.LinkRefused as exc:
            refused.append(f"\nThe executed notebook was not kept. {exc}")
            return None

    try:
        safe_write.remove(failed, reports_dir)
    except safe_write.LinkRefused as exc:
        refused.append(f"\nThe executed notebook was not kept. {exc}")
    unchanged = _unchanged(reports_dir, build.name)
    if isinstance(failure, _StepFailed):
        name, error = failure.name, failure.error
        kept = keep(name)
        raise PipelineError(step_failure(name, error, cohort, reports_dir, kept, build) + "".join(refused)) from None
    if isinstance(failure, (Interrupted, KeyboardInterrupt)):
        lines = []
        for name in [n for n in build.names if n in running]:
            kept = keep(name)
            lines.append(f"Step {build.position(name)} {name} was interrupted ({failure}) for cohort {cohort!r}."
                         + (f" The part that ran is kept at {kept}" if kept else ""))
        raise PipelineError("\n".join(lines or [f"The run was interrupted ({failure})."]) + "\n" + unchanged
                            + "".join(refused)) from None


def named_as_raw(text: str, snapshot_dir: Path, raw_dir: Path) -> str:
    """`text` with each path into the run's snapshot of the raw files named by its place in
    raw_dir, the folder the analyst gave, so that a message points at the file to fix."""
    return text.replace(str(snapshot_dir), str(raw_dir))


def _unchanged(reports_dir: Path, cohort: str) -> str:
    return f"The previous report (if any) in {reports_dir / cohort} is unchanged."


def step_failure(name: str, error: BaseException, cohort: str, reports_dir: Path, kept: Path | None = None,
                 build: Build | None = None) -> str:
    """The message of a failed step, as `make report` prints it after 'ERROR: '."""
    position = build.position(name) if build else f"{plan.NOTEBOOKS.index(name) + 1}/{len(plan.ALWAYS)}"
    return (f"Step {position} {name} failed for cohort {cohort!r}.\n{_failing_cell(error)}{_error_of(error)}\n"
            + (f"The executed notebook, with the failing cell, is kept at {kept}\n" if kept else "")
            + _unchanged(reports_dir, build.name if build else cohort))


def _checked_arguments(cohort: str, raw_dir: Path, processed_dir: Path, reports_dir: Path,
                       notebooks_dir: Path) -> tuple[str, Path, Path, Path, Path]:
    """The run's names and folders, checked before anything runs (InputError says what is wrong)."""
    cohort = check_cohort_name(cohort)
    raw_dir = check_folder(raw_dir, "RAW_DIR")
    processed_dir = check_folder(processed_dir, "processed folder")
    reports_dir = check_folder(reports_dir, "reports folder")
    notebooks_dir = check_folder(notebooks_dir, "notebooks folder")
    check_key(os.environ.get(PSEUDONYM_KEY_ENV, ""), f"the environment variable {PSEUDONYM_KEY_ENV}")
    paths.cohort_folders(raw_dir, cohort)  # unknown cohort: fail now, naming the ones that exist
    return cohort, raw_dir, processed_dir, reports_dir, notebooks_dir


def check_inputs(cohort: str, raw_dir: Path, reports_dir: Path = paths.REPORTS_DIR) -> str | None:
    """What `make report` would say of these inputs, without starting Jupyter: the message it
    prints after 'ERROR: ' (less the lines about the kept notebook), or None if they pass.

    Runs the argument checks of `run` and then what notebook 01 runs on the raw files
    (load.load_inputs, then clean.prepare), in this process: the bad-input corpus is tested
    through here, with a few cases also run end to end through `make report`.
    """
    try:
        cohort, raw_dir, _, reports_dir, _ = _checked_arguments(cohort, raw_dir, paths.PROCESSED_DIR, reports_dir,
                                                                paths.NOTEBOOKS_DIR)
    except InputError as exc:
        return str(exc)
    return _raw_problems(cohort, raw_dir, reports_dir)


def _raw_problems(cohort: str, raw_dir: Path, reports_dir: Path, build: Build | None = None) -> str | None:
    """What notebook 01 would stop with on these raw files (load.load_inputs, then clean.prepare:
    every file checked in one pass, and the pseudonym key), run in this process; None if they pass.

    `run` calls this before any kernel starts, whenever the cleaning step is to run, so that bad
    input is answered in about a second rather than after a kernel has started (`build` numbers
    the step and names the report left unchanged, as for a step that failed in its kernel).
    """
    from helpers.analysis import clean
    from helpers.data import load

    try:
        clean.prepare(load.load_inputs(raw_dir, cohort), raw_dir, pooled=cohort == paths.POOLED_COHORT)
    except InputError as exc:
        return step_failure(plan.CLEAN.name, exc, cohort, reports_dir, build=build)
    return None


def _published_here(relative: str, cohort: str, disclosure_on: bool) -> bool:
    """Whether an output goes to reports/ or processed/ (every output is kept in the build).

    Executed notebooks print what their cells computed, and a cell is easily written to
    print an exact count: with disclosure control on they are kept in the build folder
    only, so nothing published can show a count the tables protect.
    """
    return not (disclosure_on and relative.startswith(f"reports/{cohort}/notebooks/"))


def _publish(build: Build, fresh: dict[str, list[str]], fingerprints: dict[str, str], inputs: dict[str, dict],
             digests: steps.Digests, disclosure_on: bool = False, parameters: dict | None = None) -> None:
    """Keep the new outputs, assemble them as a new version and switch to it with one rename.

    Order matters for a kill at any instant: the old version is never touched until the
    `current` link points away from it, and the published paths point through `current`.
    """
    outputs = {name: fresh[name] if name in fresh else build.state["steps"][name]["outputs"]
               for name in build.names}
    owner: dict[str, str] = {}
    for name in build.names:
        for relative in outputs[name]:
            if relative in owner:
                raise PipelineError(f"Steps {owner[relative]} and {name} both write {relative}; "
                                    f"each output must have one step that writes it.")
            owner[relative] = name
    # What each step wrote, by SHA-256: what the steps after it read, for the next run's early cutoff.
    written = {name: build.digests_of(name) or {
        relative: sha256_file((build.staging(name) if name in fresh else build.kept(name)) / relative)
        for relative in outputs[name]} for name in build.names}
    versions = build.root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    stops = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # a stop request now waits until all is in place
    try:
        build.state_path.unlink(missing_ok=True)  # stopped outright from here: the next run rebuilds all
        for name in fresh:
            kept = build.kept(name)
            kept.parent.mkdir(parents=True, exist_ok=True)
            _remove(kept)  # the published version holds its own links to the old files
            build.staging(name).rename(kept)
        number = 1 + max((int(p.name) for p in versions.iterdir() if p.name.isdigit()), default=0)
        version = versions / str(number)
        for tree in TREES:
            (version / tree / build.cohort).mkdir(parents=True)
        published = {relative: name for relative, name in owner.items()
                     if _published_here(relative, build.cohort, disclosure_on)}
        for relative, name in published.items():
            _link_or_copy(build.kept(name) / relative, version / relative)
        # The switch: one rename of a symlink. Before it the old version is published, after it the new.
        _point(build.root / CURRENT, f"{VERSIONS}/{number}")
        for tree in TREES:  # links that never change once made (made here on a first publish)
            root = build.published_roots[tree]
            _point(root / build.name, os.path.relpath(build.root / CURRENT / tree / build.cohort, root))
        _write_json(build.state_path, {
            "version": STATE_VERSION,
            "salt": build.salt,
            "parameters": parameters,
            "wanted": sorted(s.name for s in build.order if s.on_request),
            "steps": {name: {"fingerprint": fingerprints[name], "inputs": inputs[name], "outputs": outputs[name],
                             "sha256": written[name]} for name in build.names},
            "published": {relative: _file_record(build, relative, name) for relative, name in published.items()},
            "digests": digests.record(),
        })
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
    _prune_versions(build)


def _file_record(build: Build, relative: str, name: str) -> list:
    """[size, mtime, SHA-256] of a published file; the digest is reused while size and mtime hold."""
    path = build.kept(name) / relative
    now, was = _stat(path), build.state.get("published", {}).get(relative)
    if was and len(was) > 2 and was[:2] == now:
        return was
    return now + [sha256_file(path)]


def _prune_versions(build: Build) -> None:
    """Remove every version but the published one (older ones, and any a killed run left)."""
    current = build.root / CURRENT
    keep = os.readlink(current).rpartition("/")[2] if current.is_symlink() else None
    versions = build.root / VERSIONS
    for version in (versions.iterdir() if versions.is_dir() else []):
        if version.name != keep:
            _remove(version)


def shown_raw_dir(raw_dir: Path) -> str:
    """The raw folder as state.json keeps it: relative to the project when inside it (a moved
    clone still finds its data/raw), otherwise absolute."""
    try:
        return Path(raw_dir).resolve().relative_to(paths.PROJECT_ROOT.resolve()).as_posix()
    except ValueError:
        return str(Path(raw_dir).resolve())


def recorded_parameters(reports_dir: Path, name: str) -> dict:
    """The parameters the report published as reports/<name>/ was built with ({} if none)."""
    recorded = dict(read_state(Path(reports_dir) / BUILD_DIR / name).get("parameters") or {})
    if recorded.get("raw_dir"):
        recorded["raw_dir"] = str(paths.PROJECT_ROOT / recorded["raw_dir"])  # an absolute path stays as it is
    return recorded


def run(cohort: str, raw_dir: Path | None = None, processed_dir: Path = paths.PROCESSED_DIR,
        reports_dir: Path = paths.REPORTS_DIR, min_count: int = 0, round_to: int = 0, jobs: int | None = None,
        force: bool = False, progress: bool = False, notebooks_dir: Path = paths.NOTEBOOKS_DIR,
        with_steps: tuple[str, ...] = (), printer: Callable[[str], None] | None = None,
        stops: list[str] | None = None, prestarted: dict | None = None, compare_test: bool = False) -> dict:
    """Bring the report of `cohort` at these disclosure settings up to date, with the on-request
    steps asked for now or before (`with_steps`: names of plan.ON_REQUEST); a summary: report
    path, steps run, seconds, step timings.

    raw_dir None: the raw folder the published report was built from (data/raw if none).
    `printer` prints each message of the run (default: print, or tqdm's while bars show), for
    instance with a prefix. `stops`: for a run in a thread other than the main one, the record
    of stop requests that the main thread keeps (see run_all); by default the run handles
    SIGTERM and SIGINT itself. `prestarted`: {notebook name: kernel manager} started ahead, with
    the notebook's imports done in a throwaway namespace (helpers.runner.watch); a step that runs
    takes its kernel from there (and removes it) instead of starting one. `compare_test`: Table 1
    also tests the difference between cohorts (off by default: the SMD only).
    """
    started = time.perf_counter()
    name = plan.published_name(check_cohort_name(cohort), min_count, round_to)
    recorded = recorded_parameters(check_folder(reports_dir, "reports folder"), name)
    if raw_dir is None:
        raw_dir = recorded.get("raw_dir") or paths.RAW_DIR
    cohort, raw_dir, processed_dir, reports_dir, notebooks_dir = _checked_arguments(
        cohort, raw_dir, processed_dir, reports_dir, notebooks_dir)
    if plan.SETTINGS_SUFFIX.search(cohort):
        raise InputError(f"Cohort {cohort!r}: a name ending in -min<N> or -round<N> is kept for the reports of "
                         f"disclosure-controlled runs (reports/{cohort}-min7-round5, say); rename the folder.")
    snapshot_dir = reports_dir / BUILD_DIR / name / SNAPSHOT
    show = printer or _say(progress)

    def say(text: str) -> None:
        show(named_as_raw(text, snapshot_dir, raw_dir))
    # Every folder written, checked before any step runs: a read-only reports folder found only
    # when publishing would leave the two trees disagreeing.
    _check_writable(reports_dir, "reports folder")
    _check_writable(processed_dir, "processed folder")
    jobs = max(1, jobs or default_jobs())
    parameters = {"cohort": cohort, "raw_dir": str(raw_dir), "min_count": min_count, "round_to": round_to,
                  **({"compare_test": True} if compare_test else {})}  # named only when asked for
    disclosure_on = min_count > 0 or round_to > 1  # as helpers.analysis.disclosure.Disclosure.active
    unknown = [w for w in with_steps if w not in plan.ON_REQUEST]
    if unknown:
        raise InputError(f"No step {unknown[0]!r} to ask for (known: {', '.join(plan.ON_REQUEST)}).")
    report = reports_dir / name / plan.PAGE.files[0]
    build_root = reports_dir / BUILD_DIR
    _refuse_symlinks(build_root, name)
    with _cohort_lock(build_root, name):
        _refuse_symlinks(build_root, name)  # again, now that no other run can be making links
        state = read_state(build_root / name)
        # The steps asked for now, and those asked for before: a PDF or manuscript once made is
        # kept up to date with its report, never left behind or silently dropped.
        wanted = {short for short, step in plan.ON_REQUEST.items()
                  if short in with_steps or step.name in state.get("wanted", [])}
        order = plan.active(frozenset(plan.ON_REQUEST[w].name for w in wanted))
        build = Build(build_root / name, cohort, processed_dir, reports_dir, order, state)
        digests = steps.Digests(raw_dir, build.state.get("digests"))
        key = _reused_key(build)
        fingerprints, inputs = steps.fingerprints(notebooks_dir, raw_dir, parameters, digests, build.salt, order, key,
                                                  build.upstream)
        stale = dict.fromkeys(build.names, "rebuild asked for") if force else build.stale(fingerprints, inputs)
        if key is not None:
            _refuse_without_key(build, stale, parameters, with_steps)
        if not stale:
            if digests.record() != build.state.get("digests") or build.refreshed:
                build.state["digests"] = digests.record()  # touched but unchanged files: skip hashing next time
                _write_json(build.state_path, build.state)
            say(f"Up to date: {report}" + "".join(f"\n  {reports_dir / name / step.writes[0].files[0]}"
                                                   for step in order if step.on_request)
                + "\n  (no notebook, helper, raw file or parameter it depends on has changed; FORCE=1 rebuilds "
                  "every step)")
            return {"report": report, "ran": [], "seconds": time.perf_counter() - started, "timings": {}}

        say(f"Building the report for cohort {cohort!r} from {raw_dir}"
            + (f" into {reports_dir / name}" if name != cohort else "")
            + (f" (up to {jobs} independent steps at once)" if jobs > 1 and len(stale) > 1 else ""))
        timings: dict[str, tuple[float, float]] = {}
        fresh: dict[str, list[str]] = {}
        # With no raw-file check to run in this process first (it imports pandas, and bad input
        # must be answered at once), the libraries for running notebooks are imported meanwhile.
        warming = any(plan.step(n).notebook for n in stale) and plan.CLEAN.name not in stale
        if warming:
            threading.Thread(target=_warm_imports, daemon=True).start()
        try:
            # The steps read a copy of the raw files, and the fingerprints are made again from the
            # bytes copied: a raw file edited during the run cannot be recorded as what was read.
            _remove(snapshot_dir)
            snapshot = steps.Snapshot(raw_dir, snapshot_dir)
            fingerprints, inputs = steps.fingerprints(notebooks_dir, raw_dir, parameters, snapshot, build.salt,
                                                      order, key, build.upstream)
            if not force:
                stale = build.stale(fingerprints, inputs)
            if plan.CLEAN.name in stale:  # the raw files are read again: checked here, with no kernel to wait for
                problems = _raw_problems(cohort, snapshot_dir, reports_dir, build)
                if problems:
                    raise PipelineError(problems)
            for step_name in build.names:
                if step_name not in stale:
                    say(f"  {build.label(step_name):<32}  up to date")
            if not warming and any(plan.step(n).notebook for n in stale):
                threading.Thread(target=_warm_imports, daemon=True).start()
            # The step about to run (each later step gets a line when it starts, and one when it ends).
            first = next(iter(stale))
            say(f"  {build.label(first):<32}  " + ("starting kernels..." if plan.step(first).notebook
                                                   else "starting..."))
            # Kept notebook HTML may be reused by a step whose renderer and environment are unchanged.
            recorded = build.state.get("steps", {})
            reuse_html = frozenset(n for n in stale if n in recorded and not force
                                   and recorded[n]["inputs"].get("environment") == inputs[n]["environment"])
            # Every step is also told the raw folder as the analyst gave it, for the report to show
            # (the fingerprints hold raw_dir's own tag instead).
            run_parameters = {**parameters, "raw_dir": str(snapshot_dir), "raw_source": str(raw_dir)}
            with _signals_as_exceptions(stops) as signals:
                fresh = _run_steps(build, stale, run_parameters, notebooks_dir, jobs, progress, signals, say,
                                   timings, fingerprints, inputs, reuse_html, prestarted,
                                   None if force else memo_folder(build.root))
                if signals:
                    raise Interrupted(signals[0])
                try:
                    _publish(build, fresh, fingerprints, inputs, snapshot, disclosure_on,
                             {**parameters, "raw_dir": shown_raw_dir(raw_dir)})
                except OSError as exc:
                    raise PipelineError(f"Publishing failed ({exc}); the previous report in {reports_dir / name} "
                                        f"is unchanged.") from None
            _clear_failed(reports_dir, name, say)
        except PipelineError as exc:  # a step's error names the files it read: those of the snapshot
            raise PipelineError(named_as_raw(str(exc), snapshot_dir, raw_dir)) from None
        finally:
            for leftover in ("run", "publish", SNAPSHOT):
                shutil.rmtree(build.root / leftover, ignore_errors=True)
    seconds = time.perf_counter() - started
    say(f"Done in {seconds:.1f} s: {report}"
        + "".join(f"\n  {reports_dir / name / step.writes[0].files[0]}" for step in order if step.on_request))
    return {"report": report, "ran": [n for n in build.names if n in fresh], "seconds": seconds, "timings": timings}


def _clear_failed(reports_dir: Path, name: str, say: Callable[[str], None]) -> None:
    """Remove the failed notebooks of an earlier run, once this one is published; a link planted at
    reports/_failed meanwhile is left, and named, never followed."""
    try:
        safe_write.remove(reports_dir / FAILED_DIR / name, reports_dir)
    except safe_write.LinkRefused as exc:
        say(f"Note: the report is published, but the earlier failed notebooks were not cleared. {exc}")


def _reused_key(build: Build) -> str | None:
    """With no pseudonym key set, the fingerprint of the key the published report was built with
    (None when a key is set, or none was used): reading a published report needs no key."""
    if os.environ.get(PSEUDONYM_KEY_ENV, ""):
        return None
    recorded = [s["inputs"]["environment"].get("pseudonym key", "") for s in build.state.get("steps", {}).values()]
    return recorded[0] if recorded and recorded[0] else None


def _refuse_without_key(build: Build, stale: dict[str, str], parameters: dict, with_steps: tuple[str, ...]) -> None:
    """Stop, before anything runs, a run whose analysis must be redone without the pseudonym key the
    report was built with: say what changed and what to run."""
    redo = [name for name in stale if plan.step(name).notebook]
    if not redo:
        return
    target = "make " + (with_steps[0] if with_steps else "report")
    settings = "".join(f" {k.upper()}={parameters[k]}" for k in ("min_count", "round_to") if parameters[k])
    raise PipelineError(
        f"The report in {build.published_roots['reports'] / build.name} was built with a pseudonym key, and its "
        f"analysis must be redone: {redo[0]} {stale[redo[0]]}. That needs the same key: run\n"
        f"  {target} COHORT={parameters['cohort']} RAW_DIR={parameters['raw_dir']}{settings} PSEUDONYM_KEY=...\n"
        f"Nothing was run and nothing was changed.")


# --- every cohort (make report-all) ---------------------------------------------------------

# One whole line at a time on the terminal: the runs of several cohorts print from their threads.
_PRINT = threading.Lock()


def _print_line(text: str) -> None:
    with _PRINT:
        print(text, flush=True)


def cohort_printer(cohort: str) -> Callable[[str], None]:
    """A printer for run(printer=...): each non-blank line of a message, prefixed with its cohort
    (`[cohort2]   [1/5] 01_clean.ipynb ...`), so that runs side by side stay readable."""
    def show(text: str) -> None:
        with _PRINT:
            for line in text.splitlines():
                if line.strip():
                    print(f"[{cohort}] {line}", flush=True)

    return show


def _build_cohort(cohort: str, raw_dir: Path, processed_dir: Path, reports_dir: Path, min_count: int,
                  round_to: int, jobs: int | None, force: bool, notebooks_dir: Path,
                  stops: list[str], with_steps: tuple[str, ...] = (), compare_test: bool = False
                  ) -> tuple[bool, float]:
    """One cohort's run, in a thread of run_all: (published, seconds). Its errors are printed with
    its cohort, as its other lines, and do not stop the other cohorts."""
    show = cohort_printer(cohort)
    started = time.perf_counter()
    try:
        if stops:  # asked to stop before this cohort's turn came
            raise Interrupted(stops[0])
        run(cohort, raw_dir, processed_dir, reports_dir, min_count, round_to, jobs=jobs, force=force,
            notebooks_dir=notebooks_dir, printer=show, stops=stops, with_steps=with_steps, compare_test=compare_test)
        return True, time.perf_counter() - started
    except (InputError, PipelineError) as exc:
        show(f"ERROR: {exc}")
    except Interrupted as exc:
        show(f"Interrupted ({exc}): the previous report is unchanged.")
    except Exception:  # a fault of the runner itself: shown in full, and the other cohorts go on
        import traceback

        show(traceback.format_exc())
    return False, time.perf_counter() - started


def run_all(raw_dir: Path, reports_dir: Path = paths.REPORTS_DIR, processed_dir: Path = paths.PROCESSED_DIR,
            min_count: int = 0, round_to: int = 0, jobs: int | None = None, force: bool = False,
            notebooks_dir: Path = paths.NOTEBOOKS_DIR, cohorts_at_once: int = COHORTS_AT_ONCE,
            with_steps: tuple[str, ...] = (), compare_test: bool = False) -> Path:
    """Bring every cohort of raw_dir and the pooled `all` up to date, each with its PDF (the
    report.pdf step, when Chromium is installed) and the steps of `with_steps`, then write
    reports/index.html; the index's path.

    The cohorts run in threads of this process, `cohorts_at_once` at a time, each with up to
    `jobs` steps at once. SIGTERM and SIGINT are recorded by the main thread, and every run
    stops at its next check (a report being published is finished first, never left half
    done); then Interrupted is raised. Cohorts that failed are listed in the index, and a
    PipelineError naming them is raised once it is written.
    """
    # Absolute from here on: papermill changes the process's working folder while a step starts,
    # and the runs resolve their folders while other cohorts' steps start.
    raw_dir = check_folder(raw_dir, "RAW_DIR")
    reports_dir = check_folder(reports_dir, "reports folder")
    processed_dir = check_folder(processed_dir, "processed folder")
    notebooks_dir = check_folder(notebooks_dir, "notebooks folder")
    missing = paths.missing_folder(raw_dir, "RAW_DIR")
    if missing:
        raise InputError(missing)
    cohorts = paths.list_cohorts(raw_dir)
    if not cohorts:
        raise InputError(f"no cohort folders (with {paths.QUESTIONNAIRE}) in {raw_dir}")
    cohorts.append(paths.POOLED_COHORT)
    at_once = max(1, cohorts_at_once)
    from helpers.report import index  # (no heavy imports)
    from helpers.report.pdf import chromium_path

    index.check_targets(reports_dir)  # a link planted where the index goes: refused before any cohort is built

    # Each report's PDF, linked from the index, printed and published with it; without Chromium,
    # only the pages.
    with_steps = tuple(dict.fromkeys(with_steps + (("pdf",) if chromium_path() else ())))
    _print_line(f"Building {len(cohorts)} reports ({', '.join(cohorts)}), {at_once} at a time; each line shows "
                f"its cohort")
    with _stop_requests() as stops, ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="cohort") as pool:
        futures = {cohort: pool.submit(_build_cohort, cohort, raw_dir, processed_dir, reports_dir, min_count,
                                       round_to, jobs, force, notebooks_dir, stops, with_steps, compare_test)
                   for cohort in cohorts}
        pending = set(futures.values())
        while pending:  # short waits: the main thread stays free to record a stop request at once
            _, pending = wait(pending, timeout=0.2)
    outcome = {cohort: future.result() for cohort, future in futures.items()}
    for cohort, (ok, seconds) in outcome.items():  # the outcome of each, together, once all have finished
        _print_line(f"== {cohort}: {'ok' if ok else 'FAILED'} in {seconds:.1f} s")
    if stops:
        raise Interrupted(stops[0])
    from helpers.analysis.disclosure import Disclosure

    rules = Disclosure(min_count, round_to)  # checks both settings, as each run did
    built = {cohort: ok for cohort, (ok, _) in outcome.items()}
    target = index.write_index(reports_dir, raw_dir, cohorts, built, rules)
    _print_line(f"\nIndex: {target}")
    failed = [cohort for cohort in cohorts if not built[cohort]]
    if failed:
        raise PipelineError(f"{len(failed)} cohort(s) failed: {', '.join(failed)} (their previous reports are "
                            f"unchanged)")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.runner.pipeline", description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cohort", default="cohort1", help="cohort folder in RAW_DIR, or 'all' (default cohort1)")
    which.add_argument("--all", action="store_true",
                       help="every cohort folder in RAW_DIR and the pooled 'all', then reports/index.html")
    parser.add_argument("--raw-dir", default=None,
                        help="folder of cohort folders (default: the one the published report was built from, "
                             "else data/raw)")
    parser.add_argument("--min-count", type=whole_number_setting("min_count"), default=0,
                        help="redact counts at or below this, and percentages built on them (default 0: off)")
    parser.add_argument("--round-to", type=whole_number_setting("round_to"), default=0,
                        help="round other counts to the nearest ROUND_TO (default 0: off)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="steps run at once where independent (default: make -j N's N, else every core)")
    parser.add_argument("--force", action="store_true", help="rerun every step even if nothing changed")
    parser.add_argument("--with", dest="with_steps", action="append", default=[], choices=list(plan.ON_REQUEST),
                        help="also build this step, and keep it up to date in later runs (pdf, manuscript)")
    parser.add_argument("--compare-test", action="store_true",
                        help="Table 1 also tests the difference between cohorts (default: the SMD only)")
    parser.add_argument("--processed-dir", default=str(paths.PROCESSED_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", default=str(paths.REPORTS_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--notebooks-dir", default=str(paths.NOTEBOOKS_DIR),
                        help="run the notebooks of this folder (default notebooks/)")
    args = parser.parse_args(argv)
    try:
        if args.all:
            run_all(args.raw_dir or paths.RAW_DIR, args.reports_dir, args.processed_dir, args.min_count,
                    args.round_to, jobs=args.jobs, force=args.force, notebooks_dir=args.notebooks_dir,
                    with_steps=tuple(args.with_steps), compare_test=args.compare_test)
        else:
            run(args.cohort, args.raw_dir, args.processed_dir, args.reports_dir, args.min_count, args.round_to,
                jobs=args.jobs, force=args.force, progress=sys.stderr.isatty(), notebooks_dir=args.notebooks_dir,
                with_steps=tuple(args.with_steps), compare_test=args.compare_test)
    except (InputError, PipelineError) as exc:
        print(f"\nERROR: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        print("\nInterrupted: " + ("each report not yet published is unchanged." if args.all
                                   else "the previous report is unchanged."), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
