"""The kernel the notebooks name runs them, as JupyterLab would (make lab)."""
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.data import paths, plan
from helpers.report import outputs

pytestmark = pytest.mark.e2e


def test_every_notebook_runs_top_to_bottom_in_the_project_kernel(tmp_path, monkeypatch):
    """As an analyst runs them in JupyterLab, one after another: same kernel, default parameters
    but the output folders; the figures notebook shows each figure in its own cell."""
    import papermill  # (2 s to import: not at collection, which the fast loop pays too)

    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    executed = {}
    for name in plan.NOTEBOOKS:
        output = tmp_path / name
        papermill.execute_notebook(
            str(paths.NOTEBOOKS_DIR / name), str(output), kernel_name="nhsda-eval",
            parameters={"processed_dir": str(tmp_path / "processed"), "out_dir": str(tmp_path / "reports")},
            cwd=str(paths.NOTEBOOKS_DIR), progress_bar=False, log_output=False,
        )
        executed[name] = nbformat.read(output, as_version=4)
    assert (tmp_path / "processed" / "cohort1" / "participants.parquet").is_file()
    assert (tmp_path / "reports" / "cohort1" / "report.html").is_file()
    shown = [[o for o in c.outputs if "image/svg+xml" in o.get("data", {})]
             for c in executed["04_figures.ipynb"].cells if c.cell_type == "code" and "figures.draw(" in c.source]
    assert len(shown) == len(outputs.figures()) and all(len(images) == 1 for images in shown)
    for entry in outputs.figures():
        assert (tmp_path / "reports" / "cohort1" / "figures" / f"{entry.name}.svg").is_file()
