"""`make watch`: rebuild the report each time a notebook, a helper or a raw file is saved.

    python -m helpers.runner.watch --cohort cohort1 [--raw-dir data/raw] [--min-count 7 --round-to 5]

Each rebuild is `make report`'s own run (helpers.runner.pipeline.run, in this process): only what
changed reruns, with early cutoff, and the report is published as `make report` publishes it.
What the watcher adds is time: papermill and the runner are imported once, and between rebuilds
a kernel is kept ready for the figures and the report steps (the steps an edit to a figure
reruns), with its notebook's imports already run in a throwaway namespace, as the runner does
for the next step while one runs. The notebook still starts with an empty namespace, so a step
run in a kept kernel computes what it computes in a new one. A kept kernel is used only while
everything it imported is as it was (the notebook's import lines, the helper modules and their
data files, requirements.lock); otherwise it is stopped and the step starts a new kernel.

Ctrl-C stops the watcher (and a rebuild under way, leaving the previous report).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from helpers.data import paths, plan
from helpers.data.errors import InputError
from helpers.data.hashing import sha256_file
from helpers.data.params import whole_number_setting

from . import pipeline, steps

POLL_SECONDS = 0.3
# The steps an edit to a figure reruns: a kernel is kept ready for each.
KEPT_FOR = (plan.FIGURES.name, plan.REPORT.name)


def watched_files(notebooks_dir: Path, raw_dir: Path, cohort: str) -> dict[Path, tuple[int, int]]:
    """(size, mtime) of every file a rebuild depends on that an analyst saves: the notebooks, the
    helper package and the raw files of the cohort."""
    files = [p for p in Path(notebooks_dir).glob("*.ipynb")]
    files += [p for p in steps.PACKAGE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    try:
        files += steps.raw_files(Path(raw_dir), cohort)
    except (InputError, OSError):
        pass  # the rebuild says what is wrong with the raw folder
    seen = {}
    for path in files:
        try:
            info = path.stat()
        except OSError:
            continue
        seen[path] = (info.st_size, info.st_mtime_ns)
    return seen


def imports_key(notebook: Path) -> str:
    """What a kernel warmed for `notebook` imported: its import lines, the helper files they reach
    and the lock. A kept kernel whose key has changed would hold old code."""
    lock = paths.PROJECT_ROOT / "requirements.lock"
    parts = steps.import_lines(notebook) + [f"{p}:{sha256_file(p)}" for p in steps.helper_files(notebook)]
    parts.append(sha256_file(lock) if lock.is_file() else "")
    return "\n".join(parts)


class KeptKernels:
    """Kernels started between rebuilds, one per step of KEPT_FOR, each with the key it was started at."""

    def __init__(self, notebooks_dir: Path, memo_dir: Path | None = None):
        self.notebooks_dir = Path(notebooks_dir)
        self.owner = pipeline._Kernels(memo_dir)  # the memo of the build they will run in
        self.logs = Path(tempfile.mkdtemp(prefix="nhsda-watch-"))
        self.ready: dict[str, tuple[str, object]] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start, in the background, a kernel for each step that has none."""
        for name in KEPT_FOR:
            if name not in self.ready:
                thread = threading.Thread(target=self._start_one, args=(name,), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _start_one(self, name: str) -> None:
        notebook = self.notebooks_dir / name
        key = imports_key(notebook)
        manager = self.owner.warm(notebook, self.logs / f"{Path(name).stem}.kernel.log")
        if manager is not None:
            self.ready[name] = (key, manager)

    def take(self) -> dict:
        """The kernels still valid for this rebuild, {step name: manager}; stale ones are stopped."""
        for thread in self._threads:
            thread.join()
        self._threads = []
        valid = {}
        for name, (key, manager) in list(self.ready.items()):
            del self.ready[name]
            if key == imports_key(self.notebooks_dir / name):
                valid[name] = manager
            else:
                pipeline._Kernels.shut(manager)
        return valid

    def stop(self, unused: dict | None = None) -> None:
        """Stop every kept kernel (and those a rebuild was given but did not use), at once: a kernel
        still starting is killed, not waited for (on a busy machine its imports can take a minute)."""
        self.owner.stop()
        for manager in list((unused or {}).values()) + list(self.take().values()):
            pipeline._Kernels.shut(manager)


def watch(cohort: str, raw_dir: Path | None, min_count: int, round_to: int, notebooks_dir: Path = paths.NOTEBOOKS_DIR,
          reports_dir: Path = paths.REPORTS_DIR, processed_dir: Path = paths.PROCESSED_DIR,
          rebuilds: int | None = None) -> None:
    """Rebuild now, then after every change, until Ctrl-C (or `rebuilds` rebuilds, for tests)."""
    name = plan.published_name(cohort, min_count, round_to)
    kept = KeptKernels(notebooks_dir, pipeline.memo_folder(Path(reports_dir) / pipeline.BUILD_DIR / name))
    # papermill and nbconvert, imported once: no rebuild waits for them.
    threading.Thread(target=pipeline._warm_imports, daemon=True).start()
    raw_shown = raw_dir or pipeline.recorded_parameters(Path(reports_dir), name).get("raw_dir") or paths.RAW_DIR
    done = 0
    given: dict = {}
    try:
        while rebuilds is None or done < rebuilds:
            seen = watched_files(notebooks_dir, raw_shown, cohort)
            given = kept.take()
            try:
                pipeline.run(cohort, raw_dir, processed_dir, reports_dir, min_count, round_to,
                             notebooks_dir=notebooks_dir, prestarted=given)
            except (InputError, pipeline.PipelineError) as exc:
                if "interrupted" in str(exc):  # Ctrl-C during a step: the runner kept the previous report
                    raise KeyboardInterrupt from None
                print(f"\nERROR: {exc}", file=sys.stderr, flush=True)
            for manager in given.values():  # given but not used (the step did not run)
                pipeline._Kernels.shut(manager)
            given = {}
            done += 1
            if rebuilds is not None and done >= rebuilds:
                break
            kept.start()
            print(f"Watching {notebooks_dir}, {steps.PACKAGE_DIR} and {raw_shown} (Ctrl-C to stop)...", flush=True)
            while watched_files(notebooks_dir, raw_shown, cohort) == seen:
                time.sleep(POLL_SECONDS)
    finally:
        kept.stop(given)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.runner.watch", description=__doc__.split("\n")[0])
    parser.add_argument("--cohort", default="cohort1")
    parser.add_argument("--raw-dir", default=None)
    parser.add_argument("--min-count", type=whole_number_setting("min_count"), default=0)
    parser.add_argument("--round-to", type=whole_number_setting("round_to"), default=0)
    parser.add_argument("--notebooks-dir", default=str(paths.NOTEBOOKS_DIR))
    parser.add_argument("--reports-dir", default=str(paths.REPORTS_DIR))
    parser.add_argument("--processed-dir", default=str(paths.PROCESSED_DIR))
    args = parser.parse_args(argv)
    try:
        watch(args.cohort, args.raw_dir, args.min_count, args.round_to, Path(args.notebooks_dir).resolve(),
              Path(args.reports_dir).resolve(), Path(args.processed_dir).resolve())
    except KeyboardInterrupt:
        print("\nStopped watching.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
