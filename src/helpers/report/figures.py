"""Paper-ready figures, each drawn from a table the pipeline wrote.

Category order is set explicitly on every axis (role groups in role-map order, themes
in codebook order) rather than left to seaborn's hue handling, which has mis-ordered
string categories with some pandas versions. Files are saved without creation dates
and with fixed SVG ids so that reruns give identical bytes.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: notebooks show the saved files (Drawn), papermill and CI draw off screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import cycler  # noqa: E402

from helpers.analysis.disclosure import REDACTED  # noqa: E402
from helpers.data import memo, plan  # noqa: E402
from helpers.data.contract import LIKERT_LABELS, LIKERT_LEVELS  # noqa: E402
from helpers.data.hashing import sha256_file  # noqa: E402

from .outputs import SMALL_MARK, SMALL_N  # noqa: E402

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
LIKERT_COLOURS = ["#B2182B", "#EF8A62", "#D9D9D9", "#67A9CF", "#2166AC"]  # diverging, red-blue
DPI = 200
# The report's width, and the width a figure drawn without a layout of its own (the index page's)
# is narrowed to (fit_width).
WIDTH_IN = 5.5


@dataclass(frozen=True)
class Size:
    """The size a figure is laid out for: its width and the size of all its text. Every figure
    function lays itself out from these (labels wrapped to the room they have, heights grown to
    hold them), so the report's files and the manuscript's are drawn by the same code."""

    width_in: float
    font_pt: float

    @property
    def line_in(self) -> float:
        """Height of one line of text (matplotlib's line spacing, 1.2)."""
        return 1.2 * self.font_pt / 72

    def rc(self) -> dict:
        """Every text at font_pt, lines in proportion (as at a journal's 7.5 pt)."""
        k = self.font_pt / 7.5
        return {
            "font.size": self.font_pt, "axes.labelsize": self.font_pt, "axes.titlesize": self.font_pt,
            "xtick.labelsize": self.font_pt, "ytick.labelsize": self.font_pt, "legend.fontsize": self.font_pt,
            "legend.title_fontsize": self.font_pt, "figure.titlesize": self.font_pt,
            "axes.linewidth": 0.6 * k, "grid.linewidth": 0.5 * k, "lines.linewidth": 1.0 * k,
            "patch.linewidth": 0.5 * k, "xtick.major.width": 0.6 * k, "ytick.major.width": 0.6 * k,
            "xtick.major.size": 3 * k, "ytick.major.size": 3 * k, "axes.titleweight": "bold",
            "axes.titlelocation": "left",
        }


# The report shows a figure at min(its width x 96 CSS px, the page's column). At 5.5 in (528 px)
# and 10 pt, its smallest text is 13 px on a desktop and 9.2 px across a 390 px phone's 366 px
# column (helpers.report.figure_layout checks both); the manuscript's sizes are its journal
# columns at 7.5 pt (helpers.report.manuscript).
REPORT = Size(WIDTH_IN, 10.0)
LABEL_SHARE = 0.38   # category labels wrap to this share of the width, so the data keep the rest


# seaborn's theme as `sns.set_theme(context="paper", style="whitegrid", font_scale=1.4)` sets it
# (white ground, light grid behind the data, no tick marks, soft grey text), written out so that
# the figures step need not import seaborn and, through it, scipy (0.8 s of every figures
# kernel's start); tests/test_figures.py checks it against seaborn itself. Its sizes are
# replaced by Size.rc; its colour cycle (the "deep" palette) colours only what no figure names a
# colour for (the SVG's fill of an error bar's cap); its colour map is unused.
THEME = {
    "axes.prop_cycle": cycler(color=["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
                                     "#8C8C8C", "#CCB974", "#64B5CD"]),
    "axes.axisbelow": True, "axes.edgecolor": ".8", "axes.grid": True, "axes.labelcolor": ".15",
    "axes.linewidth": 1.0, "grid.color": ".8", "lines.solid_capstyle": "round", "patch.edgecolor": "w",
    "patch.force_edgecolor": True, "text.color": ".15", "xtick.bottom": False, "xtick.color": ".15",
    "ytick.color": ".15", "ytick.left": False,
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "font.size": 13.44, "axes.labelsize": 13.44, "axes.titlesize": 13.44, "legend.fontsize": 12.32,
    "legend.title_fontsize": 13.44, "xtick.labelsize": 12.32, "ytick.labelsize": 12.32, "lines.linewidth": 1.2,
    "lines.markersize": 4.8, "patch.linewidth": 0.8, "xtick.major.size": 4.8, "ytick.major.size": 4.8,
    "xtick.major.width": 1.0, "ytick.major.width": 1.0, "xtick.minor.size": 3.2, "ytick.minor.size": 3.2,
    "xtick.minor.width": 0.8, "ytick.minor.width": 0.8,
}


def style() -> None:
    """The theme and reproducible-output settings shared by every figure (sizes: Size.rc)."""
    plt.rcParams.update(THEME)
    plt.rcParams.update({
        "svg.hashsalt": "nhsda-eval",   # fixed SVG element ids
        "svg.fonttype": "none",         # text stays text in SVG (editable, smaller)
        "figure.dpi": 100,
        "axes.titleweight": "bold",
    })


def save(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
    """Write name.png and name.svg without timestamps; return the paths. A figure laid out by this
    module (constrained layout) is saved whole, at exactly the width it was laid out for."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    bbox = saved_box(fig)
    fig.savefig(png, dpi=DPI, bbox_inches=bbox, metadata={"Software": None})
    # Laid out once: the SVG keeps the positions the PNG's layout found, rather than finding them again.
    fig.set_layout_engine("none")
    fig.savefig(svg, bbox_inches=bbox, metadata={"Date": None, "Creator": None})
    svg.write_text(stable_ids(svg.read_text(encoding="utf-8"), name), encoding="utf-8")
    plt.close(fig)
    return [png, svg]


# matplotlib names each clip box, marker and hatch of an SVG by a hash of its value at full float
# precision (backend_svg's _make_id). Constrained layout can come out different in the last bits
# of a float from one process to the next (it visits objects in memory order), which the file
# prints rounded, identically, but which changes those names: renamed in order of appearance, a
# figure's SVG bytes depend only on what it draws (tests/test_trustworthy_e2e.py builds twice).
HASHED_ID = re.compile(r'\bid="([a-z])([0-9a-f]{10})"')


def stable_ids(svg: str, scope: str) -> str:
    """The SVG text with matplotlib's hashed element ids renamed, and every reference to them:
    <letter><4 hex digits of `scope`, the figure's name><6 digits numbering them in order of first
    appearance>. The scope keeps two figures shown inline in one page from sharing an id."""
    prefix = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:4]
    names = {}
    for letter, digest in HASHED_ID.findall(svg):
        names.setdefault(letter + digest, f"{letter}{prefix}{len(names) + 1:06d}")
    return re.sub(r'(\bid="|url\(#|href="#)([a-z][0-9a-f]{10})\b',
                  lambda m: m.group(1) + names.get(m.group(2), m.group(2)), svg)


def saved_box(fig: plt.Figure):
    """The part of the figure a file holds, in inches: all of it for a figure laid out here;
    for another (the index page's), its drawn extent narrowed to WIDTH_IN, 0.1 in of padding."""
    if fig.get_layout_engine() is not None or getattr(fig, "_laid_out_here", False):
        return None
    # The tight bounding box, worked out once: bbox_inches="tight" would draw the figure
    # an extra time for each file.
    tight = fit_width(fig) or fig.get_tightbbox(fig.canvas.get_renderer())
    return tight.padded(0.1)


def fit_width(fig: plt.Figure, width: float = WIDTH_IN):
    """Narrow a figure drawn without a layout engine until its drawn extent is `width` inches wide,
    fonts unchanged. Returns the tight box measured at the final size, or None if none was."""
    for _ in range(4):
        tight = fig.get_tightbbox(fig.canvas.get_renderer())
        extra = tight.width + 0.2 - width
        if abs(extra) < 0.02 or fig.get_figwidth() - extra < 1.5:
            return tight
        fig.set_size_inches(fig.get_figwidth() - extra, fig.get_figheight())
    return None


# --- laying text out --------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _char_width_pt(char: str, font_pt: float, font_file: str) -> float:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    return TextToPath().get_text_width_height_descent(char, FontProperties(fname=font_file, size=font_pt),
                                                      ismath=False)[0]


def text_width_in(text: str, size: Size) -> float:
    """Width of one line of text at the size's font, in inches (each character of the font in use
    measured once by matplotlib's font machinery; 3% added for kerning and rounding)."""
    from matplotlib.font_manager import FontProperties, findfont

    font_file = findfont(FontProperties())  # the font the current settings draw text in
    return 1.03 * sum(_char_width_pt(c, size.font_pt, font_file) for c in text) / 72


def wrap(text: str, width_in: float, size: Size) -> str:
    """The text broken into lines no wider than width_in (a word longer than a line is split)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in (w for w in paragraph.split(" ") if w):  # a no-break space keeps its words together
            while text_width_in(word, size) > width_in and len(word) > 1:  # split a word wider than a line
                cut = len(word) - 1
                while cut > 1 and text_width_in(word[:cut], size) > width_in:
                    cut -= 1
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:cut])
                word = word[cut:]
            candidate = f"{line} {word}".strip()
            if line and text_width_in(candidate, size) > width_in:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _label_width(labels, size: Size) -> float:
    """The room category labels wrap to: what the longest needs, at most LABEL_SHARE of the width."""
    longest = max((text_width_in(line, size) for label in labels for line in str(label).split("\n")), default=0)
    return min(longest + 0.05, LABEL_SHARE * size.width_in)


def _data_width(size: Size, labels_in: float) -> float:
    """About the width the axes get beside labels_in of labels (ticks, padding: 0.35 in)."""
    return max(size.width_in - labels_in - 0.35, 0.4 * size.width_in)


def _figure(size: Size, height_in: float, **kwargs):
    """A figure of the size's width, laid out by matplotlib's constrained layout, which keeps
    every label, legend and colour bar inside it."""
    fig = plt.figure(figsize=(size.width_in, height_in), layout="constrained", **kwargs)
    fig.get_layout_engine().set(w_pad=2 / 72, h_pad=2 / 72)
    fig._laid_out_here = True  # saved whole (saved_box), even once its layout is fixed
    return fig


def _luminance(rgba) -> float:
    """Relative luminance (WCAG) of a colour: dark cells get white numbers."""
    rgb = np.asarray(rgba[:3], dtype=float)
    rgb = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(rgb @ [0.2126, 0.7152, 0.0722])


def _cells(ax, values: np.ndarray, labels: np.ndarray, columns, rows, cmap: str, vmax: float, mask=None):
    """A heatmap: one cell per value (first row on top, NaN or masked left blank), its label
    in it in black or white by the cell's colour, rows and columns labelled. Drawn directly
    rather than by seaborn, whose heatmap draws the whole figure once more to test its labels."""
    mask = np.zeros(values.shape, dtype=bool) if mask is None else mask
    mesh = ax.pcolormesh(np.ma.masked_where(mask | np.isnan(values), values), cmap=cmap, vmin=0, vmax=vmax,
                         edgecolors="white", linewidth=0.5)
    for (i, j), text in np.ndenumerate(labels):
        if text and not mask[i, j]:
            colour = mesh.cmap(mesh.norm(0 if np.isnan(values[i, j]) else values[i, j]))
            ax.text(j + 0.5, i + 0.5, text, ha="center", va="center",
                    color="white" if _luminance(colour) < 0.408 else "0.15")
    ax.set_xlim(0, values.shape[1])
    ax.set_ylim(values.shape[0], 0)
    ax.set_xticks(np.arange(values.shape[1]) + 0.5, columns)
    ax.set_yticks(np.arange(values.shape[0]) + 0.5, rows)
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return mesh


def _rows_height(labels, size: Size, gap_lines: float = 0.8) -> float:
    """Height of a column of evenly spaced rows, each as tall as the tallest wrapped label."""
    return len(labels) * (max((_lines(label) for label in labels), default=1) + gap_lines) * size.line_in


def _legend_columns(labels, size: Size) -> tuple[list[str], int]:
    """Legend labels wrapped to the width, and as many columns as fit it."""
    labels = [wrap(label, 0.9 * size.width_in - 0.4, size) for label in labels]
    widest = max(text_width_in(line, size) for label in labels for line in label.split("\n")) + 0.55
    return labels, int(max(1, min(len(labels), size.width_in // widest)))


def _bottom_legend(fig, handles, labels, size: Size, **kwargs):
    """A legend under the axes, outside the data, in as many columns as fit the width."""
    labels, ncol = _legend_columns(labels, size)
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False, **kwargs)


def _legend_height(labels, size: Size) -> float:
    labels, ncol = _legend_columns(labels, size)
    rows = -(-len(labels) // ncol)
    return (rows * max(_lines(label) for label in labels) * 1.25 + 0.6) * size.line_in


def numeric(values) -> np.ndarray:
    """A table column as floats, with redacted cells (disclosure control) as NaN."""
    # where(), not replace(): replace would downcast the column's dtype (deprecated in pandas).
    series = pd.Series(values)
    return pd.to_numeric(series.where(series.astype(str) != REDACTED)).to_numpy(dtype=float)


# --- the charts ------------------------------------------------------------------------------

def _room_for(text_in: float, data_in: float, top: float) -> float:
    """An axis limit beyond `top` leaving text_in inches after it, on an axes data_in wide."""
    share = min(text_in / data_in, 0.6)
    return top / (1 - share)


def _bars(labels, values, xlabel: str, size: Size):
    """What both bar charts start from: the labels wrapped to their share of the width, a figure
    tall enough for them and the x label, and one bar per value, first on top, in palette order.
    (figure, axes, bars, the data area's width in inches, the x label wrapped to it)."""
    label_in = _label_width(labels, size)
    ticks = [wrap(label, label_in, size) for label in labels]
    data_in = _data_width(size, label_in)
    xlabel = wrap(xlabel, data_in, size)
    fig = _figure(size, _rows_height(ticks, size) + (_lines(xlabel) + 2.5) * size.line_in)
    ax = fig.add_subplot()
    y = np.arange(len(values))
    bars = ax.barh(y, np.nan_to_num(values), color=[PALETTE[i % len(PALETTE)] for i in y])
    ax.set_yticks(y, ticks)
    ax.invert_yaxis()
    return fig, ax, bars, data_in, xlabel


def labelled_bars(labels, counts, pcts, xlabel: str, size: Size = REPORT) -> plt.Figure:
    """Horizontal bars in the given order (first on top), each labelled `n (pct%)`;
    a redacted count draws no bar and is labelled as redacted."""
    values, shares = numeric(counts), numeric(pcts)
    texts = [REDACTED if np.isnan(n) else f"{n:.0f} ({pct:.1f}%)" for n, pct in zip(values, shares)]
    fig, ax, _, data_in, xlabel = _bars(labels, values, xlabel, size)
    top = max(np.nanmax(values, initial=0), 1)
    widest = max((text_width_in(t, size) for t in texts), default=0) + 0.1
    for yi, (n, label) in enumerate(zip(values, texts)):
        ax.annotate(label, (0 if np.isnan(n) else n, yi), xytext=(3, 0), textcoords="offset points", va="center")
    ax.set_xlim(0, _room_for(widest, data_in, top))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=True))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    return fig


def share_bars(labels, counts, pcts, low, high, xlabel: str, few=None, size: Size = REPORT) -> plt.Figure:
    """Shares in percent as horizontal bars with 95% interval whiskers, each labelled
    `n (pct%)` beyond its whisker; a redacted share draws nothing and says so. Bars of
    groups with fewer than SMALL_N people (`few`) are hatched and their label marked."""
    share, lo, hi = numeric(pcts), numeric(low), numeric(high)
    few = np.zeros(len(share), dtype=bool) if few is None else np.asarray(few, dtype=bool)
    labels = [f"{label}{SMALL_MARK}" if is_few else str(label) for label, is_few in zip(labels, few)]
    texts = [REDACTED if np.isnan(pct) else f"{n} ({pct:.1f}%)" for n, pct in zip(counts, share)]
    fig, ax, bars, data_in, xlabel = _bars(labels, share, xlabel, size)
    y = np.arange(len(share))
    for bar, is_few in zip(bars, few):
        if is_few:
            bar.set_alpha(0.45)
            bar.set_hatch("//")
    # A 2 x n array, not a list of two arrays: with one bar, a list trips a numpy deprecation.
    capsize = 0.3 * size.font_pt
    ax.errorbar(share, y, xerr=np.vstack([share - lo, hi - share]), fmt="none", ecolor="black", capsize=capsize,
                linewidth=1)
    # Each label starts clear of its whisker's cap (half the cap's width, and as much again).
    for yi, (label, end) in enumerate(zip(texts, hi)):
        ax.annotate(label, (0 if np.isnan(end) else end, yi), xytext=(capsize + 2, 0), textcoords="offset points",
                    va="center")
    widest = max((text_width_in(t, size) for t in texts), default=0) + (capsize + 4) / 72
    ax.set_xlim(0, _room_for(widest, data_in, 100))
    ax.set_xticks(range(0, 101, 25))
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    return fig


def role_groups(table: pd.DataFrame, size: Size = REPORT) -> plt.Figure:
    """Share of participants per role group with 95% Wilson intervals, labelled n (%)."""
    few = numeric(table["n"]) < SMALL_N
    note = f"; {SMALL_MARK}\u00a0n\u00a0<\u00a0{SMALL_N}" if few.any() else ""  # no-break: wraps whole
    return share_bars(table["role_group"].str.capitalize(), table["n"], table["pct"], table["ci_low"],
                      table["ci_high"], "Share of participants, % (95% CI)" + note, few=few, size=size)


def code_tallies(codes: pd.DataFrame, size: Size = REPORT) -> plt.Figure:
    """References per code, coloured by theme (the legend under the axes), codes in codebook order."""
    themes = list(dict.fromkeys(codes["theme"]))
    colour = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(themes)}
    label_in = _label_width(codes["code"], size)
    ticks = [wrap(code, label_in, size) for code in codes["code"]]
    fig = _figure(size, _rows_height(ticks, size, 0.5) + 3 * size.line_in + _legend_height(themes, size))
    ax = fig.add_subplot()
    y = np.arange(len(codes))
    values = numeric(codes["references"])
    ax.barh(y, np.nan_to_num(values), color=[colour[t] for t in codes["theme"]])
    for yi in y[np.isnan(values)]:
        ax.annotate(REDACTED, (0, yi), xytext=(3, 0), textcoords="offset points", va="center")
    ax.set_xlim(0, max(np.nanmax(values, initial=0), 1) * 1.05)
    ax.set_yticks(y, ticks)
    ax.set_ylim(len(codes) - 0.5, -0.5)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=True))
    ax.set_xlabel("Coded references")
    ax.grid(axis="y", visible=False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[t]) for t in themes]
    _bottom_legend(fig, handles, themes, size, title="Theme")
    return fig


def _keyed(names: list[str], room_in: float, size: Size, lines: int = 3) -> tuple[list[str], str]:
    """Column labels: the names, wrapped to room_in, when each fits in `lines` lines; otherwise
    numbers, with a key ("1 name; 2 name") to print under the chart."""
    wrapped = [wrap(n, room_in, size) for n in names]
    whole_words = all(text_width_in(word, size) <= room_in for n in names for word in n.split())
    if whole_words and all(_lines(w) <= lines for w in wrapped):
        return wrapped, ""
    return [str(i) for i in range(1, len(names) + 1)], "; ".join(f"{i} {n}" for i, n in enumerate(names, 1))


def theme_role_heatmap(long: pd.DataFrame, themes: list[str], role_groups: list[str],
                       size: Size = REPORT) -> plt.Figure:
    """Share of each role group's references falling under each theme (columns sum to 100).
    Group names head their columns when they fit, else numbers keyed under the chart."""
    cells = long.pivot(index="theme", columns="role_group", values="pct_of_role_group")
    cells = cells.reindex(index=themes, columns=role_groups)
    grid = cells.apply(numeric)
    names = [g.capitalize() for g in role_groups]
    # The theme labels give up width (down to a fifth of the figure) until every group's
    # longest word fits its column: "Management" whole rather than split.
    longest_word = max((text_width_in(w, size) for n in names for w in n.split()), default=0) + 0.12
    label_in = min(_label_width(themes, size),
                   max(size.width_in - 0.35 - longest_word * len(names), 0.2 * size.width_in))
    rows = [wrap(t, label_in, size) for t in themes]
    cell_in = _data_width(size, label_in) / max(len(role_groups), 1)
    columns, key = _keyed(names, cell_in - 0.06, size)
    key = wrap(f"Role groups: {key}", size.width_in - 0.1, size) if key else ""
    # One decimal when "100.0" fits a cell, whole percentages when the cells are narrower.
    decimals = 1 if text_width_in("100.0", size) + 0.08 < cell_in else 0
    labels = cells.map(lambda v: "R" if v == REDACTED else ("" if pd.isna(v) else f"{float(v):.{decimals}f}"))
    cbar_label = "% of the role group's references" + ("; R: redacted" if (labels == "R").any().any() else "")
    header = max(_lines(c) for c in columns)
    height = (_rows_height(rows, size, 0.9) + (header + 1.5) * size.line_in + 4.2 * size.line_in
              + ((_lines(key) + 0.5) * size.line_in if key else 0))
    fig = _figure(size, height)
    ax = fig.add_subplot()
    mesh = _cells(ax, grid.to_numpy(dtype=float), labels.to_numpy(), columns, rows, "Blues", 100)
    ax.xaxis.tick_top()
    fig.colorbar(mesh, ax=ax, location="bottom", shrink=0.6, aspect=30, label=cbar_label, ticks=range(0, 101, 25))
    if key:
        fig.supxlabel(key, ha="left", x=0.01, fontsize=size.font_pt, fontweight="normal")
    return fig


def likert_diverging(summary: pd.DataFrame, by: str | None = None, size: Size = REPORT) -> plt.Figure:
    """Diverging stacked bars: disagreement left of zero, agreement right, neutral split at zero.
    One row per item; with `by` (a column, say role_group), one panel per item headed by its
    name and a row per group. Rows with fewer than SMALL_N answers are faded and marked."""
    summary = summary.reset_index(drop=True)
    pretty = summary["item"].str.replace("_", " ").str.capitalize()
    items = list(dict.fromkeys(pretty)) if by else [None]
    counts = np.column_stack([numeric(summary[f"n_{x}"]) for x in LIKERT_LEVELS])
    redacted = np.isnan(counts).any(axis=1) | np.isnan(numeric(summary["n"]))
    few = numeric(summary["n"]) < SMALL_N
    names = summary[by].astype(str).str.capitalize() if by else pretty
    raw_labels = [f"{name} (n={k}){SMALL_MARK if small else ''}" + (f"; some counts {REDACTED}" if hidden else "")
                  for name, k, hidden, small in zip(names, summary["n"], redacted, few)]
    label_in = _label_width(raw_labels, size)
    labels = [wrap(label, label_in, size) for label in raw_labels]
    data_in = _data_width(size, label_in)
    xlabel = wrap("Share of respondents, %: disagree left of zero, agree right"
                  + (f" ({SMALL_MARK} fewer than {SMALL_N}: faded)" if few.any() else ""), data_in, size)
    titles = [wrap(item, data_in, size) for item in items] if by else []
    rows = [[i for i in range(len(summary)) if not by or pretty[i] == item] for item in items]
    heights = [_rows_height([labels[i] for i in r], size, 0.9) + (_lines(titles[k]) + 0.6 if by else 0) * size.line_in
               for k, r in enumerate(rows)]
    legend_labels = [LIKERT_LABELS[level] for level in LIKERT_LEVELS]
    fig = _figure(size, sum(heights) + (_lines(xlabel) + 2.2) * size.line_in + _legend_height(legend_labels, size))
    axes = fig.subplots(len(items), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]
    counts = np.nan_to_num(counts)
    for k, (ax, r) in enumerate(zip(axes, rows)):
        n = counts[r].sum(axis=1)
        n = np.where(n == 0, 1, n)
        shares = 100 * counts[r] / n[:, None]
        left = -(shares[:, 0] + shares[:, 1] + shares[:, 2] / 2)
        y = np.arange(len(r))
        for level, colour in zip(range(5), LIKERT_COLOURS):
            bars = ax.barh(y, shares[:, level], left=left, color=colour, label=LIKERT_LABELS[level + 1],
                           edgecolor="white")
            for bar, small in zip(bars, few[r]):  # too few answers to read as a distribution: faded
                if small:
                    bar.set_alpha(0.4)
            left = left + shares[:, level]
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, [labels[i] for i in r])
        ax.set_ylim(len(r) - 0.5, -0.5)
        ax.set_xlim(-100, 100)
        ax.grid(axis="y", visible=False)
        if by:
            ax.set_title(titles[k], loc="left")
    axes[-1].set_xticks(range(-100, 101, 50), [f"{abs(t)}" for t in range(-100, 101, 50)])
    axes[-1].set_xlabel(xlabel)
    handles, labels = axes[0].get_legend_handles_labels()
    _bottom_legend(fig, handles, labels, size)
    return fig


def theme_participants(table: pd.DataFrame, size: Size = REPORT) -> plt.Figure:
    """Share of all participants who raised each theme, with 95% Wilson intervals."""
    overall = table[table["role_group"] == "all participants"]
    return share_bars(overall["theme"], overall["participants"], overall["pct_of_role_group"], overall["ci_low"],
                      overall["ci_high"], "Participants who raised the theme, % (95% Wilson interval)", size=size)


def cooccurrence_heatmap(matrix: pd.DataFrame, size: Size = REPORT) -> plt.Figure:
    """Segments coded with both codes, for the codes with most references: the lower triangle,
    rows named and numbered, columns by number; whole-number colour bar."""
    codes = list(matrix.index)
    k = len(codes)
    label_in = _label_width([f"{i}. {c}" for i, c in enumerate(codes, 1)], size)
    rows = [wrap(f"{i}. {c}", label_in, size) for i, c in enumerate(codes, 1)]
    # The lower triangle without its empty last column: each pair once. The first row stays,
    # blank, to name the code its column number stands for.
    shown = matrix.iloc[:, :-1]
    mask = np.triu(np.ones(shown.shape, dtype=bool))
    # Zeros left blank so the pairs that do co-occur stand out; R marks a redacted small count.
    labels = shown.map(lambda v: "R" if np.isnan(v) else ("" if v == 0 else f"{v:.0f}"))
    counts = shown.fillna(0)
    top = int(max(np.nanmax(counts.to_numpy(), initial=0), 1))
    cbar_label = "Segments coded with both" + ("; R: redacted" if (labels == "R").any().any() else "")
    fig = _figure(size, _rows_height(rows, size, 0.6) + 6.5 * size.line_in)
    ax = fig.add_subplot()
    mesh = _cells(ax, counts.to_numpy(dtype=float), labels.to_numpy(), [str(i) for i in range(1, k)], rows,
                  "Purples", top, mask)
    fig.colorbar(mesh, ax=ax, location="bottom", shrink=0.6, aspect=30, label=cbar_label,
                 ticks=matplotlib.ticker.MaxNLocator(nbins=min(top, 5), integer=True))
    return fig


# Beyond this many interviews a bar per interview is unreadable (and tens of thousands of them
# take a minute to save): the figure draws only the steps, on a log scale so that the first
# interviews, where codes are found, stay visible.
MANY_INTERVIEWS = 60


def saturation_curve(table: pd.DataFrame, total_codes: int, size: Size = REPORT) -> plt.Figure:
    """Cumulative distinct codes found over interviews in date order, new codes as bars."""
    legend_labels = ["New codes in this interview", "Codes found so far", f"Codes in the codebook ({total_codes})"]
    fig = _figure(size, max(0.55 * size.width_in, 16 * size.line_in) + _legend_height(legend_labels, size))
    ax = fig.add_subplot()
    x = table["order"].to_numpy()
    table = table.assign(new_codes=numeric(table["new_codes"]), cumulative_codes=numeric(table["cumulative_codes"]))
    if len(table) <= MANY_INTERVIEWS:
        ax.bar(x, table["new_codes"], color=PALETTE[1], label=legend_labels[0])
        ax.plot(x, table["cumulative_codes"], marker="o", markersize=0.4 * size.font_pt, color=PALETTE[0],
                label=legend_labels[1])
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=8, integer=True, min_n_ticks=1))
        ax.set_xlim(0.4, max(x[-1], 1) + 0.6)
    else:
        new = table["new_codes"].to_numpy()
        found = new > 0  # interviews without a new code draw nothing: only these are drawn
        ax.vlines(x[found], 0, new[found], color=PALETTE[1], linewidth=1.5, label=legend_labels[0])
        # The running total is a step function: its corners and the last interview draw the same line.
        corners = found | (np.arange(len(x)) == len(x) - 1)
        ax.step(x[corners], table["cumulative_codes"].to_numpy()[corners], where="post", color=PALETTE[0],
                label=legend_labels[1])
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.set_xlim(0.8, x[-1] * 1.25)
    ax.axhline(total_codes, color="grey", linestyle="--", linewidth=1, label=legend_labels[2])
    ax.set_xlabel("Interview, in date order" + ("" if len(table) <= MANY_INTERVIEWS else " (log scale)"))
    ax.set_ylabel("Codes")
    ax.set_ylim(0, total_codes * 1.1 + 1)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()  # matplotlib's order (lines before bars), with their labels
    _bottom_legend(fig, handles, labels, size)
    return fig


def _tables(folder: Path):
    from helpers.data.store import read_table

    return lambda name: read_table(folder, f"{name}.csv")


# How each figure of helpers.report.outputs is drawn from the tables of a run: a function
# of `read` (table name -> frame) and the Size to lay it out for, returning the figure, or None
# when the run has nothing to draw (no Likert items, fewer than two codes, no interviews).
def _role_groups(read, size):
    return role_groups(read("participants_by_role"), size)


def _code_tallies(read, size):
    return code_tallies(read("theme_tallies"), size)


def _theme_by_role_group(read, size):
    order = read("participants_by_role")["role_group"].tolist()
    return theme_role_heatmap(read("theme_by_role_group"), read("theme_summary")["theme"].tolist(), order, size)


def _likert(read, size):
    likert = read("likert_summary")
    return likert_diverging(likert, size=size) if len(likert) else None


def _likert_by_role(read, size):
    by_role = read("likert_by_role")
    return likert_diverging(by_role, by="role_group", size=size) if len(by_role) else None


def _theme_participants(read, size):
    return theme_participants(read("theme_participants"), size)


def _cooccurrence(read, size):
    matrix = top_cooccurrence(read("cooccurrence"), read("theme_tallies"))
    return cooccurrence_heatmap(matrix, size) if len(matrix) >= 2 else None


def _saturation(read, size):
    saturation = read("saturation")
    return saturation_curve(saturation, len(read("theme_tallies")), size) if len(saturation) else None


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


def standard_chart(plot: tuple[str, ...], table: pd.DataFrame, size: Size = REPORT) -> plt.Figure:
    """A figure declared in helpers.report.outputs by its `plot` (see Output.plot)."""
    kind, *columns = plot
    if kind == "bars":
        label, count, pct, axis = columns
        return labelled_bars(table[label], table[count], table[pct], axis, size)
    raise ValueError(f"unknown standard chart {kind!r} (known: bars)")


class Drawn:
    """A figure as saved: JupyterLab shows the SVG file itself, so what an analyst sees in the
    notebook is exactly what was written, without drawing it a second time for the screen.
    `figure` is the matplotlib figure; for one fetched from the memo it is drawn when first asked for."""

    def __init__(self, files: list[Path], figure: plt.Figure | None = None, redraw=None):
        self.files, self._figure, self._redraw = files, figure, redraw

    @property
    def figure(self) -> plt.Figure:
        if self._figure is None and self._redraw is not None:
            self._figure = self._redraw()
        return self._figure

    def _repr_svg_(self) -> str:
        return next(f for f in self.files if f.suffix == ".svg").read_text(encoding="utf-8")

    def __repr__(self) -> str:
        return f"<figure saved as {', '.join(f.name for f in self.files)}>"


def draw(run, entry) -> Drawn | None:
    """Draw a figure of the plan (helpers.data.plan) in a notebook's run, from the tables the plan
    says it is drawn from (reading another is refused), and save it as PNG and SVG where the plan
    puts it; return it (JupyterLab shows it), or None when the run has nothing to draw in it.

    Run by the pipeline, a figure whose every input is as when it was last drawn (memo_key) is
    copied from the build's memo instead (helpers.data.memo): the same bytes, without drawing."""
    read = declared_reader(run, entry)
    folder = run.target(entry).parent
    digest = memo_key(run, entry)
    kept = memo.fetch(memo.FIGURE, digest) if digest else None
    if kept is not None:
        files = [folder / name for name in (f"{entry.name}.png", f"{entry.name}.svg")]
        for file in files:
            shutil.copyfile(kept[file.name], file)
        return Drawn(files, redraw=lambda: figure_of(entry.name, read))
    fig = figure_of(entry.name, read)
    if fig is None:
        print(f"Figure {entry.name!r} not drawn: this run has nothing to show in it.")
        return None
    files = save(fig, folder, entry.name)
    if digest:
        memo.store(memo.FIGURE, digest, {f.name: f for f in files}, what=entry.name)
    return Drawn(files, figure=fig)


def declared_reader(run, entry):
    """run.read_by_name, for the tables the plan says `entry` is drawn from, and no other: what
    the figure reads is then what memo_key names."""
    declared = {table.name for table in entry.reads}

    def read(name: str):
        if name not in declared:
            raise plan.PlanError(f"figure {entry.name!r} read table {name!r}, which helpers/data/plan.py does not "
                                 f"list among the tables it is drawn from ({', '.join(sorted(declared))}): add it "
                                 f"to the figure's reads there.")
        return run.read_by_name(name)

    return read


def memo_key(run, entry) -> str | None:
    """Everything the figure's files are made from, as one SHA-256: its name, the bytes of the
    tables it is drawn from, the helper package's files and its modules' state in this kernel (a
    constant changed in a cell), the installed packages, and matplotlib's settings, colour maps and
    fonts (an rc_context or style set in a cell). None when there is no memo (run by hand, or with
    FORCE=1) or a helper's function was replaced by one defined in the notebook."""
    if memo.folder() is None:
        return None
    # What drawing imports on the way (run.read's store): loaded now, so that the modules whose
    # state is keyed are the same whether the figures before this one were drawn or fetched.
    import helpers.data.store  # noqa: F401

    try:
        state = memo.helpers_state()
    except memo.Unkeyable:
        return None
    from matplotlib import font_manager

    tables = [[t.name, sha256_file(path) if (path := run.path(t)).is_file() else None] for t in entry.reads]
    settings = [[name, repr(value)] for name, value in sorted(plt.rcParams.items())]
    fonts = sorted(f.fname for f in font_manager.fontManager.ttflist)
    return memo.key(memo.FIGURE, entry.name, tables, memo.code(), memo.environment(), state, settings,
                    sorted(matplotlib.colormaps), fonts)


def figure_of(name: str, tables, size: Size = REPORT) -> plt.Figure | None:
    """One figure of helpers.report.outputs drawn from the run's tables (a folder, or a function
    of a table's name) and laid out for `size`, not saved; None when the run has nothing to draw.
    The report's files (and so JupyterLab's view of them) and the manuscript's are drawn by this."""
    from .outputs import get

    entry = get(name, "figure")
    read = tables if callable(tables) else _tables(Path(tables))
    with plt.rc_context(size.rc()):
        if entry.name in DRAW:
            return DRAW[entry.name](read, size)
        return standard_chart(entry.plot, read(entry.source), size)


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

