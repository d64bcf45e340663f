"""The kernel the notebooks name runs them, as JupyterLab would (make lab)."""
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from helpers.data import paths

pytestmark = pytest.mark.e2e


def test_a_notebook_runs_top_to_bottom_in_the_project_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    output = tmp_path / "01_clean.ipynb"
    papermill.execute_notebook(
        str(paths.NOTEBOOKS_DIR / "01_clean.ipynb"), str(output), kernel_name="nhsda-eval",
        parameters={"processed_dir": str(tmp_path / "processed"), "out_dir": str(tmp_path / "reports")},
        cwd=str(paths.NOTEBOOKS_DIR), progress_bar=False, log_output=False,
    )
    executed = nbformat.read(output, as_version=4)
    assert all(c.get("outputs") is not None for c in executed.cells if c.cell_type == "code")
    assert (tmp_path / "processed" / "cohort1" / "participants.parquet").is_file()
