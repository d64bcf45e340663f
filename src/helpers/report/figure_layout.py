"""What a saved figure really draws, checked from the renderer rather than by eye.

Every rule reads the boxes matplotlib's renderer gives each drawn text, legend, bar, line and
axes of a figure laid out as it is saved (`box`: the part of the figure written to the file,
in inches). The rules are those of a figure a journal would print (STYLE.md, "Figures"):

- text over text: two drawn texts (tick labels, axis labels, value labels, legends) overlap;
- text over data: a value label or a legend covers a bar, a line, an error bar or a point;
- text cut: a text reaches beyond the saved box;
- data squeezed: an axes that shows data is narrower than DATA_SHARE of the saved width;
- fractional counts: a colour bar of whole counts is ticked between them (0.5, 1.5);
- too small: the smallest text, at the size the figure is published at, is below the limit
  of that medium (report: READ_DESKTOP_PX at desktop, READ_PHONE_PX on a phone; manuscript:
  READ_PRINT_PT at its journal column width).

The report page shows a figure at min(its natural width, the page's column), its natural width
being its saved width in inches x 96 CSS px; the numbers below are the page's (see
helpers.report.page). `problems()` returns every broken rule with what broke it, so a test
can say which figure failed and how.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

CSS_PX_PER_IN = 96          # a CSS pixel is 1/96 inch: a figure's natural width in the page
DESKTOP_COLUMN_PX = 900     # the page's widest column on a desktop (1366 px window)
PHONE_COLUMN_PX = 366       # the page's column on a 390 px phone
READ_DESKTOP_PX = 10        # smallest text at desktop, CSS px
READ_PHONE_PX = 9           # smallest text on a phone, CSS px
READ_PRINT_PT = 7           # smallest text in print, at the journal column width
DATA_SHARE = 0.40           # an axes showing data takes at least this share of the saved width
TOLERANCE_PT = 1.0          # boxes may touch: they overlap only by more than this, both ways

RULES = ("text over text", "text over data", "legend over data", "text cut", "data squeezed",
         "fractional counts", "too small")


@dataclass(frozen=True)
class Problem:
    rule: str      # one of RULES
    detail: str    # what broke it, in words: the texts, the artist, the sizes

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


@dataclass(frozen=True)
class Medium:
    """Where a figure is published, and the smallest text each reader may get there."""

    name: str
    column_in: float | None = None   # print: the journal column's width in inches; None: the report page

    def smallest_problems(self, smallest_pt: float, saved_width_in: float) -> list[Problem]:
        if self.column_in is not None:
            printed = smallest_pt * self.column_in / saved_width_in
            if printed < READ_PRINT_PT - 0.05:
                return [Problem("too small", f"{printed:.1f} pt at {self.column_in * 25.4:.0f} mm "
                                             f"(< {READ_PRINT_PT} pt)")]
            return []
        found = []
        natural_px = saved_width_in * CSS_PX_PER_IN
        for where, column, limit in (("desktop", DESKTOP_COLUMN_PX, READ_DESKTOP_PX),
                                     ("phone", PHONE_COLUMN_PX, READ_PHONE_PX)):
            shown = smallest_pt * CSS_PX_PER_IN / 72 * min(1.0, column / natural_px)
            if shown < limit - 0.05:
                found.append(Problem("too small", f"{shown:.1f} px on a {where} ({natural_px:.0f} px natural "
                                                  f"width shown at {min(natural_px, column):.0f} px; < {limit} px)"))
        return found


REPORT = Medium("report")


def print_medium(column_mm: float) -> Medium:
    return Medium(f"manuscript {column_mm:g} mm", column_in=column_mm / 25.4)


# --- what the renderer drew -----------------------------------------------------------------

def _drawn(text: Text) -> bool:
    return text.get_visible() and bool(text.get_text().strip())


def _is_colorbar(ax: Axes) -> bool:
    return hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>"


def _texts(fig: Figure) -> list[tuple[str, Text, Axes | None]]:
    """Every drawn text outside legends: (kind, text, its axes)."""
    found = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():
                continue
            # The ticks drawn: those in the view interval (the locator may give more, not drawn).
            for tick in axis._update_ticks():
                for label in (tick.label1, tick.label2):
                    if label.get_visible():
                        found.append(("tick label", label, ax))
            found.append(("axis label", axis.label, ax))
            found.append(("offset", axis.get_offset_text(), ax))
        for title in (ax.title, ax._left_title, ax._right_title):
            found.append(("title", title, ax))
        for text in ax.texts:
            found.append(("annotation", text, ax))
    for text in fig.texts:
        found.append(("figure text", text, None))
    return [(kind, t, ax) for kind, t, ax in found if _drawn(t)]


def _legends(fig: Figure) -> list[tuple[Legend, Axes | None]]:
    found = [(ax.get_legend(), ax) for ax in fig.axes if ax.get_legend() is not None]
    found += [(legend, None) for legend in fig.legends]
    return [(legend, ax) for legend, ax in found if legend.get_visible()]


def _data_artists(ax: Axes, renderer, t: float):
    """(name, test) for each bar, line, error bar or point of an axes: test(box) says if it
    crosses the box. Heatmap cells (QuadMesh) are left out: their numbers are meant to sit on them."""
    tests = []
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_width() and patch.get_height():
            extent = patch.get_window_extent(renderer)
            if not np.all(np.isfinite(extent.extents)):
                continue  # a redacted (NaN) bar draws nothing
            tests.append(("bar", lambda box, e=extent: _overlap(box, e, t)))
    for line in ax.lines:
        if not line.get_visible() or len(line.get_xdata()) == 0:
            continue
        path = line.get_transform().transform_path(line.get_path())
        has_line = line.get_linestyle() not in ("None", "none", "", " ") and len(path.vertices) > 1
        marker = line.get_marker() not in (None, "None", "none", "", " ")
        radius = line.get_markersize() / 2 * renderer.points_to_pixels(1) if marker else 0

        def crosses(box, path=path, has_line=has_line, marker=marker, radius=radius):
            inner = _shrunk(box, t)
            if inner is None:
                return False
            if has_line and path.intersects_bbox(inner, filled=False):
                return True
            if marker:
                grown = Bbox.from_extents(inner.x0 - radius, inner.y0 - radius, inner.x1 + radius, inner.y1 + radius)
                return _inside(grown, path.vertices)
            return False
        tests.append((f"line {line.get_label()!r}" if not line.get_label().startswith("_") else "line", crosses))
    for collection in ax.collections:
        if isinstance(collection, QuadMesh) or not collection.get_visible():
            continue
        if isinstance(collection, (LineCollection, PolyCollection)):
            transform = collection.get_transform()
            paths = [transform.transform_path(p) for p in collection.get_paths()]

            def crosses(box, paths=paths, filled=isinstance(collection, PolyCollection)):
                inner = _shrunk(box, t)
                return inner is not None and any(p.intersects_bbox(inner, filled=filled) for p in paths)
            tests.append(("error bar" if isinstance(collection, LineCollection) else "area", crosses))
        elif isinstance(collection, PathCollection):
            points = collection.get_offset_transform().transform(collection.get_offsets())

            def crosses(box, points=points):
                inner = _shrunk(box, t)
                return inner is not None and _inside(inner, points)
            tests.append(("points", crosses))
    return tests


def _shrunk(box: Bbox, t: float) -> Bbox | None:
    """The box less the tolerance `t` (px) on every side (None if nothing is left): touching is allowed."""
    if box.width <= 2 * t or box.height <= 2 * t:
        return None
    return Bbox.from_extents(box.x0 + t, box.y0 + t, box.x1 - t, box.y1 - t)


def _inside(box: Bbox, points) -> bool:
    """Whether any of the points (n x 2, pixels) lies in the box."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    return bool(np.any((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                       & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)))


def _overlap(a: Bbox, b: Bbox, t: float) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > t and min(a.y1, b.y1) - max(a.y0, b.y0) > t


def _name(kind: str, text: Text) -> str:
    words = " ".join(text.get_text().split())
    return f"{kind} {words[:40] + ('...' if len(words) > 40 else '')!r}"


# --- the rules --------------------------------------------------------------------------------

def problems(fig: Figure, box: Bbox, medium: Medium = REPORT, draw: bool = True) -> list[Problem]:
    """Every broken rule of the figure as saved with bounding box `box` (inches) for `medium`.
    The figure is drawn first (draw=False when it has just been saved at its final size)."""
    if draw:
        fig.draw_without_rendering()  # the layout and every artist's place, no pixels
    renderer = fig.canvas.get_renderer()
    t = TOLERANCE_PT * fig.dpi / 72  # the tolerance in pixels
    saved = Bbox.from_extents(*(np.asarray(box.extents) * fig.dpi))
    found: list[Problem] = []
    texts = [(kind, text, ax, text.get_window_extent(renderer)) for kind, text, ax in _texts(fig)]
    legends = [(legend, ax, legend.get_window_extent(renderer)) for legend, ax in _legends(fig)]

    # Text over text, a legend counting as one box.
    boxes = [(_name(kind, text), extent) for kind, text, _, extent in texts]
    boxes += [(f"legend of {len(legend.get_texts())} entries", extent) for legend, _, extent in legends]
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        if _overlap(box_a, box_b, t):
            found.append(Problem("text over text", f"{a} and {b}"))

    # Value labels and legends over the data of their axes (a figure legend: of every axes).
    data = {ax: _data_artists(ax, renderer, t) for ax in fig.axes if not _is_colorbar(ax)}
    for kind, text, ax, extent in texts:
        if kind == "annotation" and ax in data:
            for artist, crosses in data[ax]:
                if crosses(extent):
                    found.append(Problem("text over data", f"{_name(kind, text)} over a {artist}"))
                    break
    for _, ax, extent in legends:
        for axes in ([ax] if ax is not None else list(data)):
            hit = next((artist for artist, crosses in data.get(axes, []) if crosses(extent)), None)
            if hit:
                found.append(Problem("legend over data", f"legend over a {hit}"))
                break

    # Text cut at the saved edge.
    slack = t
    for kind, text, _, extent in texts:
        if (extent.x0 < saved.x0 - slack or extent.x1 > saved.x1 + slack
                or extent.y0 < saved.y0 - slack or extent.y1 > saved.y1 + slack):
            found.append(Problem("text cut", f"{_name(kind, text)} reaches beyond the saved edge"))
    for _, _, extent in legends:
        if (extent.x0 < saved.x0 - slack or extent.x1 > saved.x1 + slack
                or extent.y0 < saved.y0 - slack or extent.y1 > saved.y1 + slack):
            found.append(Problem("text cut", "a legend reaches beyond the saved edge"))

    # The data's share of the saved width.
    for ax in data:
        share = ax.get_window_extent(renderer).width / saved.width
        if share < DATA_SHARE - 0.005:
            found.append(Problem("data squeezed", f"the data area is {share:.0%} of the width (< {DATA_SHARE:.0%})"))

    # Colour bars of whole counts ticked in whole numbers.
    for ax in fig.axes:
        colorbar = getattr(ax, "_colorbar", None)
        if colorbar is None:
            continue
        values = np.ma.compressed(np.ma.masked_invalid(np.asarray(colorbar.mappable.get_array(), dtype=float)))
        if values.size and np.all(values == np.round(values)):
            ticks = [t for t in colorbar.get_ticks() if colorbar.vmin - 1e-9 <= t <= colorbar.vmax + 1e-9]
            odd = [t for t in ticks if abs(t - round(t)) > 1e-9]
            if odd:
                found.append(Problem("fractional counts", f"colour bar of whole counts ticked at {odd}"))

    # The smallest text at the published size.
    sizes = [text.get_fontsize() for _, text, _, _ in texts]
    sizes += [t.get_fontsize() for legend, _, _ in legends for t in legend.get_texts() if _drawn(t)]
    if sizes:
        found += medium.smallest_problems(min(sizes), box.width)
    return found


def counts(found: list[Problem]) -> dict[str, int]:
    """Problems per rule, every rule listed."""
    return {rule: sum(p.rule == rule for p in found) for rule in RULES}
