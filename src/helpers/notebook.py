"""The line each notebook runs after its parameters cell: folders and disclosure rules of the run.

    from helpers.notebook import start
    run, rules = start(cohort, raw_dir, processed_dir, out_dir, min_count, round_to)

It also turns on autoreload, so that an analyst editing a helper in JupyterLab sees the
change in the next cell without restarting the kernel.
"""
from __future__ import annotations

from helpers.analysis.disclosure import Disclosure
from helpers.data.paths import RunDirs


def _autoreload() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to reload
        return
    shell = get_ipython()
    if shell is not None and "autoreload" not in shell.extension_manager.loaded:
        shell.run_line_magic("load_ext", "autoreload")
        shell.run_line_magic("autoreload", "2")


def start(cohort: str, raw_dir: str = "", processed_dir: str = "", out_dir: str = "",
          min_count: int = 0, round_to: int = 0) -> tuple[RunDirs, Disclosure]:
    """(folders of this run, created; its disclosure rules), from the notebook's parameters."""
    _autoreload()
    return RunDirs(cohort, raw_dir, processed_dir, out_dir).make(), Disclosure(int(min_count), int(round_to))
