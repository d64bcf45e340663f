"""Run the notebook chain for one cohort and publish its report atomically (`make report`).

    python -m helpers.pipeline --cohort cohort1 [--raw-dir data/raw]

Each notebook in paths.NOTEBOOKS is executed by papermill into a private build folder.
Only when every step has passed are `data/processed/<cohort>/` and `reports/<cohort>/`
replaced, so a failed run never leaves a half-built report that looks complete: the
previous report stays, and the failed executed notebook is kept under
`reports/_failed/<cohort>/` for debugging.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path

from . import paths
from .errors import InputError

# A cohort is a folder name: letters, digits, dot, dash, underscore; no path parts.
COHORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FAILED_DIR = "_failed"
BUILD_DIR = ".build"


class PipelineError(Exception):
    """A run that stopped; the message says which step, why, and where to look."""


def check_cohort_name(cohort: str) -> str:
    cohort = str(cohort)
    if not COHORT_NAME.match(cohort) or ".." in cohort:
        raise InputError(f"Cohort {cohort!r} is not a folder name: use letters, digits, '.', '-' or '_' "
                         f"(no slashes, spaces or '..'), for example cohort1.")
    return cohort


def _swap_in(built: Path, target: Path) -> None:
    """Replace target by built with renames on one file system; the old copy goes last."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    built.rename(target)
    if old.exists():
        shutil.rmtree(old)


def _error_of(exc: Exception) -> str:
    """The message a researcher needs from a failed notebook: the exception, not a traceback."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return f"{type(exc).__name__}: {exc}"


def run(cohort: str, raw_dir: Path, processed_dir: Path = paths.PROCESSED_DIR,
        reports_dir: Path = paths.REPORTS_DIR, progress: bool = False, log=print) -> Path:
    """Execute every notebook for `cohort`; return the published report's path."""
    import papermill

    cohort = check_cohort_name(cohort)
    raw_dir, processed_dir, reports_dir = (Path(p).resolve() for p in (raw_dir, processed_dir, reports_dir))
    paths.cohort_folders(raw_dir, cohort)  # unknown cohort: fail now, naming the ones that exist

    build = reports_dir / BUILD_DIR / f"{cohort}-{os.getpid()}"
    if build.exists():
        shutil.rmtree(build)
    build_processed, build_reports = build / "processed", build / "reports"
    executed = build_reports / cohort / "notebooks"
    executed.mkdir(parents=True)
    parameters = {"cohort": cohort, "raw_dir": str(raw_dir),
                  "processed_dir": str(build_processed), "out_dir": str(build_reports)}
    started = time.perf_counter()
    log(f"Building the report for cohort {cohort!r} from {raw_dir}")
    try:
        for i, name in enumerate(paths.NOTEBOOKS, 1):
            step_start = time.perf_counter()
            output = executed / name
            try:
                papermill.execute_notebook(
                    str(paths.NOTEBOOKS_DIR / name), str(output), parameters=parameters,
                    kernel_name="python3",  # the kernel of this interpreter, which has helpers installed
                    cwd=str(paths.NOTEBOOKS_DIR), progress_bar=progress, log_output=False,
                    # The kernel only talks to this process over loopback; its TCP notice is noise here.
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                )
            except Exception as exc:  # papermill raises its own and nbclient's errors
                failed = reports_dir / FAILED_DIR / cohort
                if failed.exists():
                    shutil.rmtree(failed)
                failed.mkdir(parents=True)
                kept = failed / name
                if output.exists():
                    shutil.copy2(output, kept)
                raise PipelineError(
                    f"Step {i}/{len(paths.NOTEBOOKS)} {name} failed for cohort {cohort!r}.\n"
                    f"{_error_of(exc)}\n"
                    + (f"The executed notebook, with the failing cell, is kept at {kept}\n" if kept.exists() else "")
                    + f"The previous report (if any) in {reports_dir / cohort} is unchanged."
                ) from exc
            log(f"  [{i}/{len(paths.NOTEBOOKS)}] {name:<26} {time.perf_counter() - step_start:6.1f} s")
        _swap_in(build_processed / cohort, processed_dir / cohort)
        _swap_in(build_reports / cohort, reports_dir / cohort)
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
    parser.add_argument("--processed-dir", default=str(paths.PROCESSED_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--reports-dir", default=str(paths.REPORTS_DIR), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        run(args.cohort, Path(args.raw_dir), Path(args.processed_dir), Path(args.reports_dir),
            progress=sys.stderr.isatty())
    except (InputError, PipelineError) as exc:
        print(f"\nERROR: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted: the previous report is unchanged.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
