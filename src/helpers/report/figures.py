"""Paper-ready figures, each drawn from a table the pipeline wrote.

Category order is set explicitly on every axis (role groups in role-map order, themes
in codebook order) rather than left to seaborn's hue handling, which has mis-ordered
string categories with some pandas versions. Files are saved without creation dates
and with fixed SVG ids so that reruns give identical bytes.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: notebooks show the saved files (Drawn), papermill and CI draw off screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from helpers.analysis.disclosure import REDACTED  # noqa: E402
from helpers.data.contract import LIKERT_LABELS, LIKERT_LEVELS  # noqa: E402

from .outputs import SMALL_MARK, SMALL_N  # noqa: E402

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
LIKERT_COLOURS = ["#B2182B", "#EF8A62", "#D9D9D9", "#67A9CF", "#2166AC"]  # diverging, red-blue
# A journal's column-and-a-half. With the fonts of style(), the smallest text of any figure
# stays at least 9 px high when the page shows the figure across a 390 px phone screen.
WIDTH_IN = 5.5
DPI = 200


def style() -> None:
    """Fonts, sizes and reproducible-output settings shared by every figure."""
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.4)
    plt.rcParams.update({
        "svg.hashsalt": "nhsda-eval",   # fixed SVG element ids
        "svg.fonttype": "none",         # text stays text in SVG (editable, smaller)
        "figure.dpi": 100,
        "axes.titleweight": "bold",
    })


def save(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
    """Write name.png and name.svg without timestamps; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    # The tight bounding box, worked out once: bbox_inches="tight" would draw the figure
    # an extra time for each file. 0.1 in of padding, as "tight" adds.
    tight = fit_width(fig) or fig.get_tightbbox(fig.canvas.get_renderer())
    bbox = tight.padded(0.1)
    fig.savefig(png, dpi=DPI, bbox_inches=bbox, metadata={"Software": None})
    fig.savefig(svg, bbox_inches=bbox, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return [png, svg]


def fit_width(fig: plt.Figure, width: float = WIDTH_IN):
    """Narrow the figure until its drawn extent (labels included) is `width` inches wide, fonts
    unchanged: long tick labels would otherwise widen the saved file, and a wider file shown at
    a phone's width shrinks its text below 9 px. Returns the tight box measured at the final
    size (each measure is a full layout pass, so save() reuses it), or None if none was."""
    for _ in range(4):
        tight = fig.get_tightbbox(fig.canvas.get_renderer())
        extra = tight.width + 0.2 - width
        if abs(extra) < 0.02 or fig.get_figwidth() - extra < 1.5:
            return tight
        fig.set_size_inches(fig.get_figwidth() - extra, fig.get_figheight())
    return None


def numeric(values) -> np.ndarray:
    """A table column as floats, with redacted cells (disclosure control) as NaN."""
    # where(), not replace(): replace would downcast the column's dtype (deprecated in pandas).
    series = pd.Series(values)
    return pd.to_numeric(series.where(series.astype(str) != REDACTED)).to_numpy(dtype=float)


def labelled_bars(labels, counts, pcts, xlabel: str) -> plt.Figure:
    """Horizontal bars in the given order (first on top), each labelled `n (pct%)`;
    a redacted count draws no bar and is labelled as redacted."""
    values, shares = numeric(counts), numeric(pcts)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.55 * len(values) + 1.2))
    y = np.arange(len(values))
    ax.barh(y, np.nan_to_num(values), color=[PALETTE[i % len(PALETTE)] for i in y])
    ax.set_yticks(y, list(labels))
    ax.invert_yaxis()
    for yi, (n, pct) in enumerate(zip(values, shares)):
        label = REDACTED if np.isnan(n) else f"{n:.0f} ({pct:.1f}%)"
        ax.text(0 if np.isnan(n) else n, yi, f"  {label}", va="center")
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, max(np.nanmax(values, initial=0), 1) * 1.25)
    ax.grid(axis="y", visible=False)
    return fig


def share_bars(labels, counts, pcts, low, high, xlabel: str, few=None) -> plt.Figure:
    """Shares in percent as horizontal bars with 95% interval whiskers, each labelled
    `n (pct%)` beyond its whisker; a redacted share draws nothing and says so. Bars of
    groups with fewer than SMALL_N people (`few`) are hatched and their label marked."""
    share, lo, hi = numeric(pcts), numeric(low), numeric(high)
    few = np.zeros(len(share), dtype=bool) if few is None else np.asarray(few, dtype=bool)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.55 * len(share) + 1.3))
    y = np.arange(len(share))
    bars = ax.barh(y, np.nan_to_num(share), color=[PALETTE[i % len(PALETTE)] for i in y])
    for bar, is_few in zip(bars, few):
        if is_few:
            bar.set_alpha(0.45)
            bar.set_hatch("//")
    labels = [f"{label}{SMALL_MARK}" if is_few else label for label, is_few in zip(labels, few)]
    # A 2 x n array, not a list of two arrays: with one bar, a list trips a numpy deprecation.
    ax.errorbar(share, y, xerr=np.vstack([share - lo, hi - share]), fmt="none", ecolor="black", capsize=3, linewidth=1)
    ax.set_yticks(y, list(labels))
    ax.invert_yaxis()
    for yi, (n, pct, end) in enumerate(zip(counts, share, hi)):
        label = REDACTED if np.isnan(pct) else f"{n} ({pct:.1f}%)"
        ax.text(0 if np.isnan(end) else end + 1.5, yi, label, va="center")
    ax.set_xlim(0, 115)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    return fig


def role_groups(table: pd.DataFrame) -> plt.Figure:
    """Share of participants per role group with 95% Wilson intervals, labelled n (%)."""
    few = numeric(table["n"]) < SMALL_N
    return share_bars(table["role_group"].str.capitalize(), table["n"], table["pct"], table["ci_low"],
                      table["ci_high"], "Share of participants, % (95% CI)" + (f"; {SMALL_MARK} n < {SMALL_N}"
                                                                                if few.any() else ""), few=few)


def code_tallies(codes: pd.DataFrame) -> plt.Figure:
    """References per code, coloured by theme, codes in codebook order."""
    themes = list(dict.fromkeys(codes["theme"]))
    colour = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(themes)}
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.28 * len(codes) + 1.4))
    y = np.arange(len(codes))
    values = numeric(codes["references"])
    ax.barh(y, np.nan_to_num(values), color=[colour[t] for t in codes["theme"]])
    for yi in y[np.isnan(values)]:
        ax.text(0, yi, f" {REDACTED}", va="center", fontsize="small")
    ax.set_yticks(y, codes["code"])
    ax.invert_yaxis()
    ax.set_xlabel("Coded references")
    ax.grid(axis="y", visible=False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[t]) for t in themes]
    ax.legend(handles, themes, loc="lower right", frameon=True, fontsize="small")
    return fig


def theme_role_heatmap(long: pd.DataFrame, themes: list[str], role_groups: list[str]) -> plt.Figure:
    """Share of each role group's references falling under each theme (columns sum to 100)."""
    cells = long.pivot(index="theme", columns="role_group", values="pct_of_role_group")
    cells = cells.reindex(index=themes, columns=role_groups)
    grid = cells.apply(numeric)
    labels = cells.map(lambda v: REDACTED if v == REDACTED else f"{float(v):.1f}")
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.55 * len(themes) + 1.6))
    sns.heatmap(grid, annot=labels.to_numpy(), fmt="", cmap="Blues", vmin=0, vmax=100,
                cbar_kws={"label": "% of the role group's references"}, ax=ax)
    ax.set_xlabel("Role group")
    ax.set_ylabel("")
    # Wrapped, so longer group names stay apart at the figure's width.
    ax.set_xticklabels([g.capitalize().replace(" ", "\n") for g in role_groups], rotation=30, ha="right")
    return fig


def likert_diverging(summary: pd.DataFrame) -> plt.Figure:
    """Diverging stacked bars: disagreement left of zero, agreement right, neutral split."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.6 * max(len(summary), 1) + 1.6))
    counts = np.column_stack([numeric(summary[f"n_{x}"]) for x in LIKERT_LEVELS])
    redacted = np.isnan(counts).any(axis=1) | np.isnan(numeric(summary["n"]))
    few = numeric(summary["n"]) < SMALL_N
    counts = np.nan_to_num(counts)
    n = counts.sum(axis=1)
    n = np.where(n == 0, 1, n)
    shares = 100 * counts / n[:, None]
    left = -(shares[:, 0] + shares[:, 1] + shares[:, 2] / 2)
    y = np.arange(len(summary))
    for level, colour in zip(range(5), LIKERT_COLOURS):
        ax.barh(y, shares[:, level], left=left, color=colour, label=LIKERT_LABELS[level + 1], edgecolor="white")
        left = left + shares[:, level]
    for yi in y[few]:  # too few answers to read as a distribution: faded, and marked in the label
        ax.axhspan(yi - 0.45, yi + 0.45, color="white", alpha=0.55, zorder=3)
    ax.axvline(0, color="black", linewidth=0.8)
    # Wrapped at about 24 characters, so the bars keep most of the figure's width.
    labels = [textwrap.fill(f"{item.replace('_', ' ').capitalize()} (n={k}){SMALL_MARK if small else ''}", 24)
              + (f"\nsome counts {REDACTED}" if hidden else "")
              for item, k, hidden, small in zip(summary["item"], summary["n"], redacted, few)]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(-100, 100)
    ax.set_xticks(range(-100, 101, 50), [f"{abs(t)}%" for t in range(-100, 101, 50)])
    ax.set_xlabel("Share of respondents answering the item"
                  + (f" ({SMALL_MARK} fewer than {SMALL_N}: faded)" if few.any() else ""))
    # The legend sits a fixed 0.7 in below the axes (clear of the x label), however many
    # items make the figure tall; an offset in axes fraction would grow with the height.
    below = 0.7 / (fig.get_figheight() * ax.get_position().height)
    # Three columns: five in a row would be wider than the figure.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -below), ncol=3, frameon=False, fontsize="small")
    ax.grid(axis="y", visible=False)
    return fig


def theme_participants(table: pd.DataFrame) -> plt.Figure:
    """Share of all participants who raised each theme, with 95% Wilson intervals."""
    overall = table[table["role_group"] == "all participants"]
    return share_bars(overall["theme"], overall["participants"], overall["pct_of_role_group"], overall["ci_low"],
                      overall["ci_high"], "Participants who raised the theme, % (95% Wilson interval)")


def cooccurrence_heatmap(matrix: pd.DataFrame) -> plt.Figure:
    """Segments coded with both codes, for the codes with most references."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN))
    mask = np.triu(np.ones(matrix.shape, dtype=bool))  # symmetric: show each pair once
    # Zeros left blank so the pairs that do co-occur stand out; R marks a redacted small count.
    labels = matrix.map(lambda v: "R" if np.isnan(v) else ("" if v == 0 else f"{v:.0f}"))
    sns.heatmap(matrix.fillna(0), mask=mask, annot=labels.to_numpy(), fmt="", cmap="Purples",
                cbar_kws={"label": "Segments coded with both"},
                ax=ax, square=True, linewidths=0.5)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.grid(False)
    ax.tick_params(axis="x", rotation=60)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    return fig


# Beyond this many interviews a tick and a bar per interview are unreadable at 7 inches
# (and tens of thousands of them take a minute to save): the figure draws only the steps,
# on a log scale so that the first interviews, where codes are found, stay visible.
MANY_INTERVIEWS = 60


def saturation_curve(table: pd.DataFrame, total_codes: int) -> plt.Figure:
    """Cumulative distinct codes found over interviews in date order, new codes as bars."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.6))
    x = table["order"].to_numpy()
    table = table.assign(new_codes=numeric(table["new_codes"]), cumulative_codes=numeric(table["cumulative_codes"]))
    if len(table) <= MANY_INTERVIEWS:
        ax.bar(x, table["new_codes"], color=PALETTE[1], label="New codes in this interview")
        ax.plot(x, table["cumulative_codes"], marker="o", color=PALETTE[0], label="Codes found so far")
        ax.set_xticks(x)
    else:
        new = table["new_codes"].to_numpy()
        found = new > 0  # interviews without a new code draw nothing: only these are drawn
        ax.vlines(x[found], 0, new[found], color=PALETTE[1], linewidth=1.5, label="New codes in this interview")
        # The running total is a step function: its corners and the last interview draw the same line.
        corners = found | (np.arange(len(x)) == len(x) - 1)
        ax.step(x[corners], table["cumulative_codes"].to_numpy()[corners], where="post", color=PALETTE[0],
                label="Codes found so far")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.set_xlim(0.8, x[-1] * 1.25)
    ax.axhline(total_codes, color="grey", linestyle="--", linewidth=1, label=f"Codes in the codebook ({total_codes})")
    ax.set_xlabel("Interview, in date order" + ("" if len(table) <= MANY_INTERVIEWS else " (log scale)"))
    ax.set_ylabel("Codes")
    ax.set_ylim(0, total_codes * 1.1 + 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False, fontsize="small")
    return fig


def _tables(folder: Path):
    from helpers.data.store import read_table

    return lambda name: read_table(folder, f"{name}.csv")


# How each figure of helpers.report.outputs is drawn from the tables of a run: a function
# of `read` (table name -> frame) returning the figure, or None when the run has nothing to
# draw (no Likert items, fewer than two codes, no interviews).
def _role_groups(read):
    return role_groups(read("participants_by_role"))


def _code_tallies(read):
    return code_tallies(read("theme_tallies"))


def _theme_by_role_group(read):
    order = read("participants_by_role")["role_group"].tolist()
    return theme_role_heatmap(read("theme_by_role_group"), read("theme_summary")["theme"].tolist(), order)


def _likert(read):
    likert = read("likert_summary")
    return likert_diverging(likert) if len(likert) else None


def _likert_by_role(read):
    by_role = read("likert_by_role")
    if not len(by_role):
        return None
    return likert_diverging(by_role.assign(item=by_role["item"] + ": " + by_role["role_group"]))


def _theme_participants(read):
    return theme_participants(read("theme_participants"))


def _cooccurrence(read):
    matrix = top_cooccurrence(read("cooccurrence"), read("theme_tallies"))
    return cooccurrence_heatmap(matrix) if len(matrix) >= 2 else None


def _saturation(read):
    saturation = read("saturation")
    return saturation_curve(saturation, len(read("theme_tallies"))) if len(saturation) else None


DRAW = {
    "role_groups": _role_groups,
    "code_tallies": _code_tallies,
    "theme_by_role_group": _theme_by_role_group,
    "likert": _likert,
    "likert_by_role": _likert_by_role,
    "theme_participants": _theme_participants,
    "cooccurrence": _cooccurrence,
    "saturation": _saturation,
}


def standard_chart(plot: tuple[str, ...], table: pd.DataFrame) -> plt.Figure:
    """A figure declared in helpers.report.outputs by its `plot` (see Output.plot)."""
    kind, *columns = plot
    if kind == "bars":
        label, count, pct, axis = columns
        return labelled_bars(table[label], table[count], table[pct], axis)
    raise ValueError(f"unknown standard chart {kind!r} (known: bars)")


class Drawn:
    """A figure as saved: JupyterLab shows the SVG file itself, so what an analyst sees in the
    notebook is exactly what was written, without drawing it a second time for the screen."""

    def __init__(self, figure: plt.Figure, files: list[Path]):
        self.figure, self.files = figure, files

    def _repr_svg_(self) -> str:
        return next(f for f in self.files if f.suffix == ".svg").read_text(encoding="utf-8")

    def __repr__(self) -> str:
        return f"<figure saved as {', '.join(f.name for f in self.files)}>"


def draw(run, entry) -> Drawn | None:
    """Draw a figure of the plan (helpers.data.plan) in a notebook's run, from the tables its step
    declares it reads, and save it as PNG and SVG where the plan puts it; return it (JupyterLab
    shows it), or None when the run has nothing to draw in it."""
    fig = figure_of(entry.name, run.read_by_name)
    if fig is None:
        print(f"Figure {entry.name!r} not drawn: this run has nothing to show in it.")
        return None
    return Drawn(fig, save(fig, run.target(entry).parent, entry.name))


def figure_of(name: str, tables) -> plt.Figure | None:
    """One figure of helpers.report.outputs drawn from the run's tables (a folder, or a function
    of a table's name), not saved; None when the run has nothing to draw. The report's files
    and the manuscript's are drawn by this."""
    from .outputs import get

    entry = get(name, "figure")
    read = tables if callable(tables) else _tables(Path(tables))
    return DRAW[entry.name](read) if entry.name in DRAW else standard_chart(entry.plot, read(entry.source))


def top_cooccurrence(pairs: pd.DataFrame, codes: pd.DataFrame, top: int = 12) -> pd.DataFrame:
    """Segment co-occurrence matrix of the codes (at most `top`) of the pairs most often
    applied together, in codebook order: the heatmap shows the pairs that do co-occur."""
    counts = numeric(pairs["segments"]) if len(pairs) else np.array([])
    ranked = pairs.assign(_n=counts)[counts > 0].sort_values("_n", ascending=False, kind="mergesort")
    chosen: set[str] = set()
    for a, b in ranked[["code_a", "code_b"]].itertuples(index=False):
        if len(chosen | {a, b}) > top:
            break
        chosen |= {a, b}
    order = [c for c in codes["code"] if c in chosen]
    matrix = pd.DataFrame(0.0, index=order, columns=order)
    counts = numeric(pairs["segments"]) if len(pairs) else np.array([])
    for (a, b), n in zip(pairs[["code_a", "code_b"]].itertuples(index=False), counts):
        if a in chosen and b in chosen:
            matrix.loc[a, b] = matrix.loc[b, a] = n  # NaN where disclosure control redacted it
    return matrix
