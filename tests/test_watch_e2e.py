"""`make watch`: a saved edit to one figure's cell gives a new report, built as `make report` builds it."""
from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import EPOCH, tree_hash

from helpers.data import paths
from helpers.runner import bench

pytestmark = pytest.mark.e2e


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """The process's output lines as they come, read in a thread."""
    lines: queue.Queue = queue.Queue()

    def read():
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for(lines: queue.Queue, start: str, seen: list[str], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = lines.get(timeout=deadline - time.monotonic())
        assert line is not None, "the watcher ended:\n" + "\n".join(seen)
        seen.append(line)
        if line.startswith(start):
            return
    raise AssertionError(f"no line starting {start!r}:\n" + "\n".join(seen))


def test_a_figure_cell_edit_is_rebuilt_on_save_with_kept_kernels_and_ctrl_c_stops(published, tmp_path):
    out = published.copy_to(tmp_path / "out")
    notebooks = shutil.copytree(paths.NOTEBOOKS_DIR, tmp_path / "notebooks")
    figures = out / "reports" / "cohort1" / "figures"
    others = {k: v for k, v in tree_hash(figures).items() if "role_groups" not in k}
    before = (figures / "role_groups.png").read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.runner.watch", "--cohort", "cohort1", "--raw-dir", str(paths.RAW_DIR),
         "--notebooks-dir", str(notebooks), "--reports-dir", str(out / "reports"),
         "--processed-dir", str(out / "processed")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **EPOCH})
    seen: list[str] = []
    lines = lines_of(process)
    try:
        wait_for(lines, "Watching", seen)
        assert any(line.startswith("Up to date") for line in seen), seen  # the shared build is current
        time.sleep(1.0)  # a save within the same mtime tick would still be seen (size changes too)
        bench.edit_figure_cell(notebooks, 3)
        wait_for(lines, "Done in", seen)
        wait_for(lines, "Watching", seen)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    remaining = []  # what the watcher printed after the last line read above
    while (line := lines.get(timeout=10)) is not None:
        remaining.append(line)
    remaining = "\n".join(remaining)
    rebuild = "\n".join(seen)
    assert "04_figures.ipynb" in rebuild and "(changed: notebook)" in rebuild
    assert "05_report.ipynb" in rebuild and "reads the new output of 04_figures.ipynb" in rebuild
    assert "drew role_groups, kept 8 figures" in rebuild  # the others' inputs are unchanged
    assert (figures / "role_groups.png").read_bytes() != before
    assert {k: v for k, v in tree_hash(figures).items() if "role_groups" not in k} == others
    assert process.returncode == 0 and "Stopped watching." in remaining, remaining
    # Nothing is left running: no kernel of the watcher outlives it.
    assert not list((out / "reports" / ".build" / "cohort1").glob("run")), "a half-built run was left"
