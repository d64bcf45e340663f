"""Every listed figure lays itself out, for any cohort the contract allows: no text over text or
over data, nothing cut at the saved edge, the data at least 40% of the width, whole-number
colour bars for counts, and text readable at the size each figure is published at (the report
on a desktop and a phone, the manuscript at its journal column). Checked from the renderer
(helpers.report.figure_layout) for cohort1, `all` and generated hostile cohorts."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from figure_cohorts import CONTROLLED, group_names, hostile_raw, tables
from matplotlib.transforms import Bbox

from helpers.data import paths
from helpers.report import figure_layout, figures, manuscript, outputs

COHORTS = {
    # name: (how to make the raw folder, cohort, disclosure rules)
    "cohort1": (None, "cohort1", None),
    "all": (None, "all", None),
    "cohort1 controlled": (None, "cohort1", CONTROLLED),
    "60 long-named codes, 10 groups": (dict(codes=60, long_names=True, role_groups=10), "hostile", None),
    "60 long-named codes, controlled": (dict(codes=60, long_names=True, role_groups=10), "hostile", CONTROLLED),
    "one role group": (dict(codes=21, long_names=False, role_groups=1), "hostile", None),
}


@pytest.fixture(scope="module")
def cohort_tables(tmp_path_factory):
    made = {}

    def get(label):
        if label not in made:
            recipe, cohort, rules = COHORTS[label]
            root = tmp_path_factory.mktemp("raw")
            raw = paths.RAW_DIR if recipe is None else hostile_raw(root, **recipe)
            kwargs = {} if rules is None else {"rules": rules}
            if recipe is not None:
                kwargs["role_groups"] = group_names(recipe["role_groups"], recipe["long_names"])
            made[label] = tables(raw, cohort, root / "tables", **kwargs)
        return made[label]
    return get


def layout_problems(name, read, column_mm=None):
    """The figure's layout problems as the report (column_mm None) or the manuscript saves it;
    None when the cohort has nothing to draw in it."""
    figures.style()
    if column_mm is None:
        fig, medium = figures.figure_of(name, read), figure_layout.REPORT
    else:
        with plt.rc_context(manuscript.JOURNAL_RC):
            fig = manuscript.journal_draw(name, read)
        medium = figure_layout.print_medium(column_mm)
    if fig is None:
        return None
    try:
        box = figures.saved_box(fig) or Bbox.from_bounds(0, 0, *fig.get_size_inches())
        return figure_layout.problems(fig, box, medium)
    finally:
        plt.close(fig)


# The generated 60-code cohorts take 3 s each: `make test` runs them, the fast loop the other four.
@pytest.mark.parametrize("label", [pytest.param(label, marks=pytest.mark.slow) if "60 long-named" in label
                                   else label for label in COHORTS])
def test_every_figure_lays_itself_out_in_the_report_and_the_manuscript(cohort_tables, label):
    read = cohort_tables(label)
    found = {}
    for entry in outputs.figures():
        for column_mm in (None, manuscript.COLUMN_MM[entry.column]):  # each figure's column: outputs.py
            where = "report" if column_mm is None else f"manuscript {column_mm} mm"
            broken = layout_problems(entry.name, read, column_mm)
            if broken:
                found[f"{entry.name} ({where})"] = [str(p) for p in broken]
    assert not found, "\n".join(f"{k}: {len(v)} problems: " + "; ".join(v[:6]) for k, v in found.items())


# --- the checker itself: each rule fails on a figure that breaks it ----------------------------

def _checked(fig, medium=figure_layout.REPORT):
    fig.canvas.draw()
    box = Bbox.from_bounds(0, 0, *fig.get_size_inches())
    try:
        return figure_layout.counts(figure_layout.problems(fig, box, medium))
    finally:
        plt.close(fig)


def test_the_checker_finds_text_over_text_and_a_legend_over_bars():
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.barh([0, 1, 2], [10, 9, 8], label="references")
    ax.set_yticks([0, 0.05, 2], ["a long label here", "another long label", "c"])
    ax.legend(loc="center")
    found = _checked(fig)
    assert found["text over text"] >= 1 and found["legend over data"] == 1


def test_the_checker_finds_a_value_label_on_an_error_bar_and_text_cut_at_the_edge():
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.barh([0], [50])
    ax.errorbar([50], [0], xerr=[[10], [10]], fmt="none", capsize=3)
    ax.text(55, 0, "12 (50.0%)", va="center")
    ax.set_xlim(0, 100)
    ax.set_xlabel("a label far too long to fit the width of the figure " * 3)
    found = _checked(fig)
    assert found["text over data"] == 1 and found["text cut"] == 1


def test_the_checker_finds_squeezed_data_fractional_counts_and_small_text():
    fig = plt.figure(figsize=(7, 3))
    ax = fig.add_axes((0.7, 0.2, 0.25, 0.7))
    mesh = ax.pcolormesh([[0, 1], [2, 1]])
    fig.colorbar(mesh, ticks=[0, 0.5, 1, 1.5, 2])
    ax.set_title("tiny", fontsize=6)
    found = _checked(fig)
    assert found["data squeezed"] == 1 and found["fractional counts"] == 1 and found["too small"] == 2  # desktop, phone
    fig, ax = plt.subplots(figsize=(84 / 25.4, 2))
    ax.set_xlabel("small in print", fontsize=6.5)
    assert _checked(fig, figure_layout.print_medium(84))["too small"] == 1
