"""Notebooks are committed clean, parameterised, and thin."""
import nbformat
import pytest

from helpers.data import paths, plan

NOTEBOOKS = [paths.NOTEBOOKS_DIR / name for name in plan.NOTEBOOKS]


def test_every_pipeline_notebook_exists():
    assert sorted(p.name for p in paths.NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(plan.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    cells = nbformat.read(path, as_version=4).cells
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_parameters_cell_with_run_folders(path):
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"].startswith("# ")
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and params[0] is cells[1]
    source = params[0]["source"]
    for name in ("cohort", "raw_dir", "processed_dir", "out_dir"):
        assert f"\n{name} = " in "\n" + source
    assert 'cohort = "cohort1"' in source  # a string, so papermill keeps e.g. 2018 a cohort name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_helpers_without_path_edits(path):
    text = path.read_text()
    assert "sys.path" not in text and "from helpers." in text
    code = [c for c in nbformat.read(path, as_version=4).cells if c["cell_type"] == "code"]
    assert max(len(c["source"].splitlines()) for c in code) <= 8, "logic belongs in helpers"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_sets_up_its_run_in_one_line_after_the_parameters(path):
    cells = nbformat.read(path, as_version=4).cells
    step = next(name for name, value in vars(plan).items() if isinstance(value, plan.Step) and value.name == path.name)
    assert cells[2]["source"] == (
        "from helpers.data import plan\nfrom helpers.notebook import start\n\n"
        f"run, rules = start(plan.{step}, cohort, raw_dir, processed_dir, out_dir, min_count, round_to)")
    assert sum("start(" in c["source"] for c in cells if c["cell_type"] == "code") == 1


def test_figures_notebook_draws_each_listed_figure_in_its_own_cell():
    from helpers.report import outputs

    cells = nbformat.read(paths.NOTEBOOKS_DIR / "04_figures.ipynb", as_version=4).cells
    drawn = [c["source"] for c in cells if c["cell_type"] == "code" and "figures.draw(" in c["source"]]
    names = {value.name: name for name, value in vars(plan).items() if isinstance(value, plan.Output)
             and value.kind == plan.FIGURE}
    assert drawn == [f"figures.draw(run, plan.{names[entry.name]})" for entry in outputs.figures()]
