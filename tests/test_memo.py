"""The memo of drawn figures (helpers.data.memo): a figure is fetched only when everything it is made
from is as when it was drawn, and what is fetched is the bytes a fresh drawing writes."""
from __future__ import annotations

import os
import subprocess
import sys

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers.data import memo, plan
from helpers.data.paths import RunDirs
from helpers.notebook import Run
from helpers.report import figures, page

FIGURE = plan.THEME_TALLIES_FIGURE  # a standard chart, drawn from one small table


def a_run(root, references=(30, 10)) -> Run:
    tables = root / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    total = sum(references)
    pd.DataFrame({"theme": ["Barriers", "Enablers"], "references": list(references),
                  "pct_references": [100 * r / total for r in references]}).to_csv(tables / "theme_summary.csv",
                                                                                    index=False)
    return Run(plan.FIGURES, RunDirs("c", out_dir=str(root), processed_dir=str(root / "p"), folder="."))


@pytest.fixture
def memo_dir(tmp_path, monkeypatch):
    (tmp_path / "build").mkdir()
    folder = tmp_path / "build" / "memo"
    monkeypatch.setenv(memo.MEMO_ENV, str(folder))
    figures.style()
    return folder


def after_a_pause() -> float:
    """A time after everything done so far and before what comes next, as file times see it: they
    come from a coarser clock than time.time(), up to a few milliseconds behind it."""
    import time

    time.sleep(0.1)
    return time.time() - 0.02


def files_of(root) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "figures").iterdir())}


def test_a_figure_with_the_same_inputs_is_fetched_as_the_bytes_a_fresh_drawing_writes(memo_dir, tmp_path,
                                                                                        monkeypatch):

    first = a_run(tmp_path / "first")
    drawn = figures.draw(first, FIGURE)
    assert drawn.figure is not None and memo.used_since(memo_dir, memo.FIGURE, 0) == ([], [FIGURE.name])

    since = after_a_pause()
    again = a_run(tmp_path / "again")
    fetched = figures.draw(again, FIGURE)
    assert memo.used_since(memo_dir, memo.FIGURE, since) == ([FIGURE.name], [])
    assert files_of(tmp_path / "again") == files_of(tmp_path / "first")
    assert fetched._repr_svg_() == drawn._repr_svg_()  # what the notebook shows: the same output
    # Asked for, the fetched figure's matplotlib figure is drawn then (a cell may go on to use it).
    assert [t.get_text() for t in fetched.figure.axes[0].get_yticklabels()] == ["Barriers", "Enablers"]

    monkeypatch.delenv(memo.MEMO_ENV)  # no memo (run by hand, FORCE=1): drawn, the same bytes
    assert figures.memo_key(a_run(tmp_path / "fresh"), FIGURE) is None
    figures.draw(a_run(tmp_path / "fresh"), FIGURE)
    assert files_of(tmp_path / "fresh") == files_of(tmp_path / "first")


def test_every_input_of_a_figure_is_in_its_key(memo_dir, tmp_path, monkeypatch):
    run = a_run(tmp_path / "a")
    key = figures.memo_key(run, FIGURE)
    assert key == figures.memo_key(run, FIGURE)

    assert figures.memo_key(a_run(tmp_path / "b", references=(31, 10)), FIGURE) != key  # the table's bytes
    with plt.rc_context({"figure.facecolor": "#fffff1"}):  # a setting changed in the cell
        assert figures.memo_key(run, FIGURE) != key
    with monkeypatch.context() as patch:  # a helper's constant changed in a cell
        patch.setattr(figures, "PALETTE", ["#000000"] + figures.PALETTE[1:])
        assert figures.memo_key(run, FIGURE) != key
    first = figures.LIKERT_COLOURS[0]
    try:  # a constant changed in place
        figures.LIKERT_COLOURS[0] = "#000000"
        assert figures.memo_key(run, FIGURE) != key
    finally:
        figures.LIKERT_COLOURS[0] = first
    with monkeypatch.context() as patch:  # a helper file edited
        patch.setattr(memo, "code", lambda: "another")
        assert figures.memo_key(run, FIGURE) != key
    with monkeypatch.context() as patch:  # another package version installed
        patch.setattr(memo, "environment", lambda: "another")
        assert figures.memo_key(run, FIGURE) != key
    assert figures.memo_key(run, plan.ROLE_GROUPS_FIGURE) != key
    with monkeypatch.context() as patch:
        # A helper function replaced by one defined outside the package (as in a notebook cell):
        # what it does cannot be keyed, so nothing is fetched or kept.
        patch.setattr(figures, "standard_chart", lambda *args: None)
        assert figures.memo_key(run, FIGURE) is None
    assert figures.memo_key(run, FIGURE) == key  # everything restored


def test_the_helpers_state_is_the_same_in_every_process():
    """Keys made in one kernel must be found by the next: no set order or address may enter them."""
    code = "import helpers.notebook, helpers.report.figures, helpers.report.page; " \
           "from helpers.data import memo; print(memo.helpers_state())"
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "2")]
    states = {run.communicate()[0] for run in runs}
    assert all(run.returncode == 0 for run in runs)
    assert len(states) == 1 and len(states.pop().strip()) == 64


def test_an_entry_altered_or_cut_short_is_not_used(memo_dir, tmp_path):
    figures.draw(a_run(tmp_path / "first"), FIGURE)
    (entry,) = (memo_dir / memo.FIGURE).iterdir()
    png = entry / f"{FIGURE.name}.png"
    png.write_bytes(png.read_bytes()[:-10])
    assert memo.fetch(memo.FIGURE, entry.name) is None and not entry.exists()
    figures.draw(a_run(tmp_path / "again"), FIGURE)  # drawn again, and kept again
    assert files_of(tmp_path / "again") == files_of(tmp_path / "first")
    assert memo.fetch(memo.FIGURE, entry.name) is not None


def test_a_figure_reads_only_the_tables_the_plan_says_it_is_drawn_from(tmp_path):
    read = figures.declared_reader(a_run(tmp_path), FIGURE)
    assert list(read("theme_summary")["theme"]) == ["Barriers", "Enablers"]
    with pytest.raises(plan.PlanError, match="figure 'theme_tallies' read table 'participants_by_role'"):
        read("participants_by_role")


def test_the_page_embeds_a_figure_once_for_its_bytes(memo_dir, tmp_path):

    figures.draw(a_run(tmp_path), FIGURE)
    png = tmp_path / "figures" / f"{FIGURE.name}.png"
    made = page.embed_png(png)
    since = after_a_pause()
    assert page.embed_png(png) == made and memo.used_since(memo_dir, memo.EMBEDDED, since)[0] == [png.name]
    assert page.embed_png(png, max_width=200) != made  # another width: another entry


def test_the_oldest_entries_beyond_the_limit_are_removed(tmp_path):
    root = tmp_path / "build" / "memo"
    (tmp_path / "build").mkdir()
    for i in range(5):
        assert memo.store("kind", f"k{i}", {"x": b"%d" % i}, root=root)
        os.utime(root / "kind" / f"k{i}" / memo.USED, (1000 + i, 1000 + i))
    memo.fetch("kind", "k0", root=root)  # used now: the most recent
    memo.prune(root / "kind", keep=3)
    assert sorted(p.name for p in (root / "kind").iterdir()) == ["k0", "k3", "k4"]


def test_a_link_planted_in_the_memo_is_neither_followed_nor_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "build" / "memo").mkdir(parents=True)
    root = tmp_path / "build" / "memo"
    (root / "kind").symlink_to(elsewhere)
    assert not memo.store("kind", "k", {"x": b"1"}, root=root)
    assert list(elsewhere.iterdir()) == []
    (elsewhere / "k").mkdir()
    (elsewhere / "k" / memo.MANIFEST).write_text('{"files": {}}')
    assert memo.fetch("kind", "k", root=root) is None and (elsewhere / "k").exists()
