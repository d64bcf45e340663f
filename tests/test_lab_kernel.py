"""The kernel the notebooks name runs them, as JupyterLab would (make lab)."""
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from helpers.data import paths

pytestmark = pytest.mark.e2e


def test_notebooks_name_the_project_kernel_and_it_uses_this_environment(monkeypatch):
    names = {nbformat.read(paths.NOTEBOOKS_DIR / n, as_version=4).metadata.kernelspec.name for n in paths.NOTEBOOKS}
    assert names == {"nhsda-eval"}
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))  # as make lab sets it
    spec = KernelSpecManager().get_kernel_spec("nhsda-eval")
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve(), "the kernel must use .venv's Python"


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
