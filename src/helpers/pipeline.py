"""Run the notebook chain for one cohort and publish its report atomically (`make report`).

    python -m helpers.pipeline --cohort cohort1 [--raw-dir data/raw] [--min-count 7 --round-to 5]

Each notebook in paths.NOTEBOOKS is executed by papermill into a build folder beside the
reports. Only when every step has passed are `data/processed/<cohort>/` and
`reports/<cohort>/` replaced, so a failed or interrupted run never leaves a half-built
report that looks complete: the previous report stays, and the failed executed notebook
is kept under `reports/_failed/<cohort>/` for debugging.

Executed notebooks are stripped of run times, and the build folder has a fixed name, so
that two runs on the same inputs give the same bytes (SOURCE_DATE_EPOCH fixes the
report's own date).
"""
from __future__ import annotations

import argparse
import fcntl
import re
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat

from . import paths
from .disclosure import Disclosure
from .errors import InputError

# A cohort is a folder name: letters, digits, dot, dash, underscore; no path parts.
COHORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Characters a shell or make would treat specially; refused in folder parameters.
SHELL_META = re.compile(r"[;&|`$<>'\"\\\n\r]")
FAILED_DIR = "_failed"
BUILD_DIR = ".build"
# Run-time stamps that papermill and nbclient write into executed notebooks.
VOLATILE_METADATA = ("start_time", "end_time", "duration")


class PipelineError(Exception):
    """A run that stopped; the message says which step, why, and where to look."""


class Interrupted(Exception):
    """SIGTERM or SIGINT while a step ran."""


def kernel_manager_logging_to(log: Path):
    """A kernel manager class whose kernels write their own stderr to `log`.

    The kernel's shutdown chatter (ZMQ callbacks, "KeyboardInterrupt caught") is noise
    to a researcher; errors that matter come back through the notebook's outputs.
    """
    from jupyter_client.manager import AsyncKernelManager

    class LoggingKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            with open(log, "ab") as handle:  # the child keeps its own copy of the descriptor
                kw["stderr"] = handle
                return await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggingKernelManager


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


def strip_run_times(path: Path) -> None:
    """Remove per-run timestamps and random ids from an executed notebook so reruns compare equal."""
    book = nbformat.read(path, as_version=4)
    book.metadata.get("papermill", {}).update({k: None for k in VOLATILE_METADATA})
    for cell in book.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id on every run
        cell.metadata.pop("execution", None)
        if "papermill" in cell.metadata:
            cell.metadata["papermill"].update({k: None for k in VOLATILE_METADATA})
    nbformat.write(book, path)


def _swap_in(built: Path, target: Path) -> None:
    """Replace target by built with renames on one file system; the old copy goes last."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    shutil.move(str(built), str(target))
    if old.exists():
        shutil.rmtree(old)


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


@contextmanager
def _cohort_lock(build_root: Path, cohort: str):
    """One run per cohort and reports folder at a time: the build folder is shared."""
    build_root.mkdir(parents=True, exist_ok=True)
    handle = open(build_root / f"{cohort}.lock", "w")
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
def _signals_as_exceptions():
    """Turn SIGTERM/SIGINT into Interrupted so the run can keep what it must and clean up.

    The signal is also remembered: raised inside papermill's event loop, the exception
    can be swallowed by asyncio and the step run on to its end, so the runner checks the
    record after every step and never publishes a run that was asked to stop.
    """
    received: list[str] = []

    def handler(signum, _frame):
        received.append(signal.Signals(signum).name)
        raise Interrupted(received[-1])

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _keep_failed(output: Path, failed: Path, name: str) -> Path | None:
    """Copy the executed notebook (and the kernel's own log) where the user can open them."""
    if failed.exists():
        shutil.rmtree(failed)
    failed.mkdir(parents=True)
    kernel_log = output.parents[3] / "kernel.log"  # build/reports/<cohort>/notebooks/<name>
    if kernel_log.exists():
        shutil.copy2(kernel_log, failed / "kernel.log")
    if output.exists():
        shutil.copy2(output, failed / name)
        return failed / name
    return None


def run(cohort: str, raw_dir: Path, processed_dir: Path = paths.PROCESSED_DIR,
        reports_dir: Path = paths.REPORTS_DIR, rules: Disclosure = Disclosure(),
        progress: bool = False, log=print) -> Path:
    """Execute every notebook for `cohort`; return the published report's path."""
    import papermill

    cohort = check_cohort_name(cohort)
    raw_dir = check_folder(raw_dir, "RAW_DIR")
    processed_dir = check_folder(processed_dir, "processed folder")
    reports_dir = check_folder(reports_dir, "reports folder")
    paths.cohort_folders(raw_dir, cohort)  # unknown cohort: fail now, naming the ones that exist

    build_root = reports_dir / BUILD_DIR
    with _cohort_lock(build_root, cohort), _signals_as_exceptions() as signals:
        build = build_root / cohort
        if build.exists():
            shutil.rmtree(build)  # left by a run that was killed outright
        build_processed, build_reports = build / "processed", build / "reports"
        executed = build_reports / cohort / "notebooks"
        executed.mkdir(parents=True)
        parameters = {"cohort": cohort, "raw_dir": str(raw_dir), "processed_dir": str(build_processed),
                      "out_dir": str(build_reports), "min_count": rules.min_count, "round_to": rules.round_to}
        started = time.perf_counter()
        log(f"Building the report for cohort {cohort!r} from {raw_dir}")
        try:
            for i, name in enumerate(paths.NOTEBOOKS, 1):
                step_start = time.perf_counter()
                output = executed / name
                where = f"Step {i}/{len(paths.NOTEBOOKS)} {name}"
                try:
                    if signals:
                        raise Interrupted(signals[0])
                    papermill.execute_notebook(
                        str(paths.NOTEBOOKS_DIR / name), str(output), parameters=parameters,
                        kernel_name="python3",  # the kernel of this interpreter, which has helpers installed
                        cwd=str(paths.NOTEBOOKS_DIR), log_output=False,
                        # A live bar per step in a terminal, replaced by the step's summary line.
                        progress_bar={"desc": f"  [{i}/{len(paths.NOTEBOOKS)}] {name}", "leave": False}
                        if progress else False,
                        # The kernel only talks to this process over loopback; its TCP notice is noise here.
                        extra_arguments=["--IPKernelApp.log_level=ERROR"],
                        kernel_manager_class=kernel_manager_logging_to(build / "kernel.log"),
                    )
                    if signals:  # the signal came, but the event loop swallowed its exception
                        raise Interrupted(signals[0])
                except Exception as exc:  # Interrupted, or papermill's and nbclient's own errors
                    kept = _keep_failed(output, reports_dir / FAILED_DIR / cohort, name)
                    if isinstance(exc, Interrupted):
                        what, kept_as = f"was interrupted ({exc}) for cohort {cohort!r}.", "The part that ran"
                    else:
                        what = f"failed for cohort {cohort!r}.\n{_failing_cell(exc)}{_error_of(exc)}"
                        kept_as = "The executed notebook, with the failing cell,"
                    raise PipelineError(
                        f"{where} {what}\n" + (f"{kept_as} is kept at {kept}\n" if kept else "")
                        + f"The previous report (if any) in {reports_dir / cohort} is unchanged."
                    ) from None
                strip_run_times(output)
                log(f"  [{i}/{len(paths.NOTEBOOKS)}] {name:<26} {time.perf_counter() - step_start:6.1f} s")
            # Publish both folders or neither: a stop request now waits until they are in place.
            stops = {signal.SIGTERM, signal.SIGINT}
            signal.pthread_sigmask(signal.SIG_BLOCK, stops)
            try:
                if signals:
                    raise Interrupted(signals[0])
                _swap_in(build_processed / cohort, processed_dir / cohort)
                _swap_in(build_reports / cohort, reports_dir / cohort)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
            shutil.rmtree(reports_dir / FAILED_DIR / cohort, ignore_errors=True)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    report = reports_dir / cohort / "report.html"
    log(f"Done in {time.perf_counter() - started:.1f} s: {report}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline", description=__doc__.split("\n")[0])
    parser.add_argument("--cohort", default="cohort1", help="cohort folder in RAW_DIR, or 'all' (default cohort1)")
    parser.add_argument("--raw-dir", default=str(paths.RAW_DIR), help="folder of cohort folders (default data/raw)")
    parser.add_argument("--min-count", type=int, default=0,
                        help="redact counts at or below this, and percentages built on them (default 0: off)")
    parser.add_argument("--round-to", type=int, default=0,
                        help="round other counts to the nearest ROUND_TO (default 0: off)")
    parser.add_argument("--processed-dir", default=str(paths.PROCESSED_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", default=str(paths.REPORTS_DIR), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        rules = Disclosure(args.min_count, args.round_to)
        run(args.cohort, args.raw_dir, args.processed_dir, args.reports_dir, rules, progress=sys.stderr.isatty())
    except ValueError as exc:  # a disclosure setting out of range
        print(f"\nERROR: {exc}", file=sys.stderr)
        return 2
    except (InputError, PipelineError) as exc:
        print(f"\nERROR: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        print("\nInterrupted: the previous report is unchanged.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
