"""Figures keep the category order of their tables, and save reproducibly."""
import hashlib
import re

import pandas as pd

from helpers.report import figures


def test_role_group_bars_follow_table_order():
    table = pd.DataFrame({"role_group": ["clinician", "management", "data science", "other"],
                          "n": [1, 9, 3, 0], "pct": [7.7, 69.2, 23.1, 0.0],
                          "ci_low": [1.4, 42.4, 8.2, 0.0], "ci_high": [33.3, 87.3, 50.3, 22.8]})
    fig = figures.role_groups(table)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # Groups of fewer than 5 people are marked (and their bars hatched).
    assert labels == ["Clinician\u2020", "Management", "Data science\u2020", "Other\u2020"]
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == [7.7, 69.2, 23.1, 0.0]
    assert [t.get_text() for t in fig.axes[0].texts] == ["1 (7.7%)", "9 (69.2%)", "3 (23.1%)", "0 (0.0%)"]


def test_heatmap_rows_and_columns_follow_given_order():
    long = pd.DataFrame({
        "theme": ["B", "B", "A", "A"], "role_group": ["other", "clinician", "other", "clinician"],
        "pct_of_role_group": [10.0, 20.0, 90.0, 80.0]})
    fig = figures.theme_role_heatmap(long, ["B", "A"], ["clinician", "other"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["B", "A"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Clinician", "Other"]
    assert [t.get_text() for t in ax.texts] == ["20.0", "10.0", "80.0", "90.0"]


def test_saved_figures_are_byte_identical(tmp_path):
    table = pd.DataFrame({"role_group": ["clinician"], "n": [3], "pct": [100.0], "ci_low": [43.9], "ci_high": [100.0]})
    figures.style()
    a = figures.save(figures.role_groups(table), tmp_path / "a", "f")
    b = figures.save(figures.role_groups(table), tmp_path / "b", "f")
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_saturation_of_thousands_of_interviews_draws_steps_not_bars(tmp_path):
    n = 5000
    new = [3, 2, 0, 4] + [0] * (n - 4)
    table = pd.DataFrame({"order": range(1, n + 1), "new_codes": new,
                          "cumulative_codes": pd.Series(new).cumsum()})
    fig = figures.saturation_curve(table, 9)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.patches) == 0
    written = figures.save(fig, tmp_path, "saturation")
    assert written[1].stat().st_size < 100_000


def test_every_listed_figure_has_a_way_to_be_drawn():
    from helpers.report import outputs

    for entry in outputs.figures():
        assert entry.name in figures.DRAW or entry.plot, entry.name
        assert outputs.get(entry.source), entry.name  # drawn from a listed table


def test_a_standard_chart_is_drawn_from_its_table_by_the_list_alone(tmp_path):
    """A figure declared with `plot` needs no drawing code: bars in table order, labelled n (%)."""
    tables, folder = tmp_path / "tables", tmp_path / "figures"
    tables.mkdir()
    pd.DataFrame({"theme": ["Barriers", "Enablers"], "references": [30, 10],
                  "pct_references": [75.0, 25.0]}).to_csv(tables / "theme_summary.csv", index=False)
    from helpers.data import plan
    from helpers.data.paths import RunDirs
    from helpers.notebook import Run

    run = Run(plan.FIGURES, RunDirs("c", out_dir=str(tmp_path), processed_dir=str(tmp_path / "p"), folder="."))
    drawn = figures.draw(run, plan.THEME_TALLIES_FIGURE)
    assert drawn._repr_svg_() == (folder / "theme_tallies.svg").read_text()  # what JupyterLab shows
    fig = drawn.figure
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Barriers", "Enablers"]
    assert [t.get_text().strip() for t in fig.axes[0].texts] == ["30 (75.0%)", "10 (25.0%)"]
    assert sorted(p.name for p in folder.iterdir()) == ["theme_tallies.png", "theme_tallies.svg"]


def test_numeric_reads_redacted_cells_as_missing_without_a_pandas_warning():
    import warnings

    from helpers.report.figures import numeric

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = numeric([3, "[REDACTED]", 5])  # a count column of a table under disclosure control
        assert values[0] == 3 and values[2] == 5 and values[1] != values[1]
        assert all(v != v for v in numeric(["[REDACTED]", "[REDACTED]"]))
        assert list(numeric([1.0, 2.5])) == [1.0, 2.5]


def test_every_legend_names_what_it_draws():
    """Each legend entry's label is the label of the artist it shows (a legend built from a
    separate list of names can pair them wrongly when matplotlib orders lines before bars)."""
    from matplotlib.colors import to_hex

    table = pd.DataFrame({"order": [1, 2, 3], "new_codes": [3, 2, 0], "cumulative_codes": [3, 5, 5]})
    fig = figures.saturation_curve(table, 9)
    legend = fig.legends[0]
    drawn = {text.get_text(): to_hex(handle.get_facecolor() if hasattr(handle, "get_width") else handle.get_color())
             for handle, text in zip(legend.legend_handles, legend.get_texts())}
    assert drawn == {"New codes in this interview": to_hex(figures.PALETTE[1]),
                     "Codes found so far": to_hex(figures.PALETTE[0]), "Codes in the codebook (9)": to_hex("grey")}
    summary = pd.DataFrame({"item": ["q_a"], "n": [10], **{f"n_{x}": [2] for x in range(1, 6)}})
    fig = figures.likert_diverging(summary)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]


def test_the_theme_is_seaborn_s_paper_whitegrid_theme_written_out():
    """figures.THEME stands in for sns.set_theme(context="paper", style="whitegrid", font_scale=1.4),
    so that drawing need not import seaborn: every setting it writes out is seaborn's own."""
    import matplotlib as mpl
    import seaborn as sns

    with mpl.rc_context():
        mpl.rcdefaults()
        before = dict(mpl.rcParams)
        sns.set_theme(context="paper", style="whitegrid", font_scale=1.4)
        theirs = dict(mpl.rcParams)
    for name, value in figures.THEME.items():
        expected = theirs[name]
        if name == "axes.prop_cycle":
            value, expected = [mpl.colors.to_hex(c["color"]) for c in value], \
                [mpl.colors.to_hex(c["color"]) for c in expected]
        elif isinstance(value, float):
            value, expected = round(value, 6), round(expected, 6)
        assert value == expected, name
    changed = {k for k, v in theirs.items() if repr(v) != repr(before[k])}
    assert changed - set(figures.THEME) == {"image.cmap"}  # seaborn's own colour map: no figure uses it


def test_an_svg_names_its_clip_boxes_and_markers_by_order_not_by_float_noise():
    """matplotlib's SVG ids hash each clip box at full float precision; layout can move one by the
    last bit between processes. Renamed in order of appearance, equal drawings give equal bytes."""
    def svg(ids):
        return (f'<clipPath id="{ids[0]}"><rect x="107.375"/></clipPath><path id="{ids[1]}" d="M 0 3"/>'
                f'<g clip-path="url(#{ids[0]})"><use xlink:href="#{ids[1]}"/></g><text>p967874f500</text>')  # a label

    one, other = svg(["p967874f500", "m0dffaf3fb6"]), svg(["p0cafbef670", "m451a356e83"])
    assert one != other and figures.stable_ids(one, "likert") == figures.stable_ids(other, "likert")
    scope = hashlib.sha256(b"likert").hexdigest()[:4]
    assert figures.stable_ids(one, "likert") == (
        f'<clipPath id="p{scope}000001"><rect x="107.375"/></clipPath><path id="m{scope}000002" d="M 0 3"/><g '
        f'clip-path="url(#p{scope}000001)"><use xlink:href="#m{scope}000002"/></g><text>p967874f500</text>')
    # Another figure's ids differ: two figures inline in one page never share one.
    assert set(re.findall(r'id="(\w+)"', figures.stable_ids(one, "saturation"))).isdisjoint(
        re.findall(r'id="(\w+)"', figures.stable_ids(one, "likert")))
