"""The report's tables in one publication style, built from the tables the pipeline wrote.

One small HTML builder for every table (one stylesheet, in the page template): a caption
with the table's number, column headers with scope, row headers, grouped rows (theme >
subtheme > code) instead of repeated names, counts as `n (%)` with the 95% interval in
the same cell, one decimal for percentages, two for agreement coefficients. Every cell
is text escaped here; nothing is computed but formatting (the CSVs in tables/ stay as
they are, tidy and machine-readable).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import pandas as pd

from helpers.analysis.disclosure import REDACTED
from helpers.data.contract import LIKERT_LABELS, LIKERT_LEVELS

from .outputs import SMALL_MARK, SMALL_N

SOURCE_LABELS = {"interview": "Interviews", "focus_group": "Focus groups", "questionnaire": "Questionnaires",
                 "dissertation": "Dissertations"}


def item_label(item: str) -> str:
    """A questionnaire item key as words: confidence_leading_change -> Confidence leading change."""
    return item.replace("_", " ").strip().capitalize()


def group_label(group: str) -> str:
    return SOURCE_LABELS.get(group, group[:1].upper() + group[1:])


def _redacted(*values) -> bool:
    return any(str(v) == REDACTED for v in values)


def blank(value) -> bool:
    return str(value) in ("", "nan", "None", "<NA>")


NBSP = "\u00a0"  # inside `n (%)`, so a heading or a wrapped line never splits it


def number(value) -> str:
    """A count as a whole number; blank stays blank; [REDACTED] stays."""
    if _redacted(value) or blank(value):
        return REDACTED if _redacted(value) else ""
    return f"{float(value):,.0f}"


def decimal1(value) -> str:
    if _redacted(value) or blank(value):
        return REDACTED if _redacted(value) else ""
    return f"{float(value):.1f}"


def coefficient(value) -> str:
    """Agreement coefficients to two decimals; undefined (NaN) as an en dash."""
    try:
        number_ = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number_ != number_:
        return "\u2013"
    return f"{round(number_, 2) + 0.0:.2f}"  # + 0.0: no "-0.00" for a coefficient a hair below zero


def interval(low, high) -> str:
    if _redacted(low, high):
        return REDACTED
    if blank(low):
        return ""
    return f"{float(low):.1f}\u2013{float(high):.1f}"


def n_pct(n, pct, low=None, high=None) -> str:
    """`n (pct)` and, given the interval, `n (pct) [low-high]`."""
    if _redacted(n):
        return REDACTED
    text = f"{number(n)}{NBSP}({decimal1(pct)})"
    return text + (f" [{interval(low, high)}]" if low is not None and not blank(low) else "")


def cell_html(text: str) -> str:
    """A cell's text, escaped, that may break only before its interval: `n (%)` and `[lo-hi]`
    each stay whole, so a narrow screen shows the interval under its count, never a split number."""
    parts = str(text).split(" [")
    return " ".join(f'<span class="nw">{escape(part if i == 0 else "[" + part)}</span>' for i, part in enumerate(parts))


# Columns of words (definitions, quotes), by header: set left-aligned and free to wrap, in the
# page and in Word, where every other cell is a number, right-aligned and kept whole.
TEXT_COLUMNS = {"Definition", "Exemplar quote", "Illustrative quote"}
TEXT_CLASS = ' class="text"'


@dataclass
class Row:
    cells: list[str]          # the first is the row's header
    level: int = 0            # 0: a plain row; 1, 2: indented under the row or heading above it
    note: str = ""            # a mark after the header, e.g. the small-group dagger
    bold: bool = False        # a group's own row with its totals (a theme above its subthemes)


@dataclass
class Table:
    number: str
    title: str
    caption: str              # trusted HTML from helpers.report.outputs
    columns: list[str]
    rows: list[Row | str] = field(default_factory=list)   # a str is a group heading spanning the row
    footnote: str = ""        # plain text
    anchor: str = ""

    def html(self) -> str:
        head = "".join(f'<th scope="col"{TEXT_CLASS if c in TEXT_COLUMNS else ""}>{escape(c)}</th>'
                       for c in self.columns)
        body = []
        for row in self.rows:
            if isinstance(row, str):
                body.append(f'<tr class="group"><th scope="colgroup" colspan="{len(self.columns)}">'
                            f'{escape(row)}</th></tr>')
                continue
            header = "" if blank(row.cells[0]) else str(row.cells[0])
            first = escape(header) + (f'<span class="mark">{escape(row.note)}</span>' if row.note else "")
            cells = "".join(f'<td class="text">{escape(str(c))}</td>' if self.columns[i] in TEXT_COLUMNS
                            else f"<td>{cell_html(c)}</td>" for i, c in enumerate(row.cells[1:], 1))
            kind = f"level{row.level}" + (" total" if row.bold else "")
            body.append(f'<tr class="{kind}"><th scope="row">{first}</th>{cells}</tr>')
        anchor = self.anchor or f"table-{self.number}"
        foot = f'<p class="tablenote">{escape(self.footnote)}</p>' if self.footnote else ""
        # The caption is a paragraph naming the table (aria-labelledby) rather than a <caption>:
        # a <caption> widens its table to the caption's length, and the table's own width is
        # what decides whether its figure fits beside it.
        number = f'<span class="num">Table {escape(self.number)}.</span> ' if self.number else ""
        return (f'<p class="caption" id="{anchor}-caption">{number}<strong>{escape(self.title)}.</strong> '
                f'{self.caption}</p>'
                f'<div class="table-wrap" role="region" tabindex="0" aria-labelledby="{anchor}-caption">'
                f'<table class="pub" id="{anchor}" aria-labelledby="{anchor}-caption">'
                f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{foot}')


def small(n) -> bool:
    try:
        return float(n) < SMALL_N
    except (TypeError, ValueError):
        return False  # redacted: already hidden


SMALL_FOOTNOTE = (f"{SMALL_MARK} Fewer than {SMALL_N} people: shown for completeness, not interpreted "
                  f"(readings never headline such a group).")


# --- one builder per table ---------------------------------------------------------------

MISSING_SUFFIX = ": missing"


def characteristics(frame: pd.DataFrame, comparison: pd.DataFrame | None = None
                    ) -> tuple[list[str], list[Row | str], bool]:
    """Table 1: sections as groups, a column per cohort (and the run as a whole), and, when the
    run pools cohorts, the SMD between them (and the test, when one was asked for) on each
    characteristic's own row. Questionnaire items show median (Q1-Q3), with their missing
    answers under them. Role-group cells of fewer than SMALL_N people carry the small-group
    mark; the third value says whether any does."""
    cohorts = list(dict.fromkeys(frame["cohort"]))
    analysed = frame[frame["characteristic"] == "Participants analysed"].set_index("cohort")["n"]
    comparison = comparison if comparison is not None else pd.DataFrame(columns=["characteristic", "comparison"])
    pairs = list(dict.fromkeys(comparison["comparison"]))
    tested = bool(len(comparison)) and (~comparison["test"].map(blank)).any()
    smd_header = [f"SMD ({p})" if len(pairs) > 1 else "SMD" for p in pairs]
    columns = (["Characteristic"] + [f"{c} (n = {number(analysed.get(c, ''))})" for c in cohorts] + smd_header
               + (["p (test)"] if tested else []))
    flagged = False

    def compared(characteristic: str) -> list[str]:
        if not pairs:
            return []
        found = comparison[comparison["characteristic"] == characteristic]
        if found.empty:
            return [""] * (len(pairs) + tested)
        by = found.set_index("comparison")
        cells = [coefficient(by.at[p, "smd"]) if p in by.index else "" for p in pairs]
        if tested:
            first = found.iloc[0]
            p_value = "" if blank(first["p_value"]) else (
                REDACTED if _redacted(first["p_value"]) else p_text(first["p_value"]))
            cells.append(f"{p_value} ({first['test']})" + ("*" if not blank(first["note"]) else "")
                         if p_value else str(first["note"]) if not blank(first["note"]) else "")
        return cells

    rows: list[Row | str] = []
    for section, part in frame.groupby("section", sort=False):
        is_answers = (~part["median"].map(blank)).any() if "median" in part else False
        label = section + (", median (IQR); missing, n (%)" if is_answers else
                           ", n (%) [95% CI]" if (~part["pct"].map(blank)).any() else ", n")
        heading = compared(section)
        rows.append(Row([label] + [""] * len(cohorts) + heading, bold=True) if any(heading) else label)
        for characteristic, cells in part.groupby("characteristic", sort=False):
            by = cells.set_index("cohort")
            if is_answers and characteristic.endswith(MISSING_SUFFIX):
                values = [n_pct(by.at[c, "n"], by.at[c, "pct"]) for c in cohorts]
                rows.append(Row(["Missing"] + values + [""] * (len(columns) - 1 - len(cohorts)), level=2))
                continue
            if is_answers:
                values = [REDACTED if _redacted(by.at[c, "median"]) else "" if blank(by.at[c, "median"]) else
                          f"{number(by.at[c, 'median'])}{NBSP}({number(by.at[c, 'q1'])}\u2013{number(by.at[c, 'q3'])})"
                          for c in cohorts]
                rows.append(Row([characteristic] + values + compared(characteristic), level=1))
                continue
            values = []
            for c in cohorts:
                if blank(by.at[c, "pct"]):
                    values.append(number(by.at[c, "n"]))
                    continue
                mark = SMALL_MARK if small(by.at[c, "n"]) else ""
                flagged = flagged or bool(mark)
                values.append(n_pct(by.at[c, "n"], by.at[c, "pct"], by.at[c, "ci_low"], by.at[c, "ci_high"]) + mark)
            rows.append(Row([group_label(characteristic)] + values + [""] * (len(columns) - 1 - len(cohorts)),
                            level=1))
    return columns, rows, flagged


def p_text(value) -> str:
    """A p-value as journals print it: three decimals, or < 0.001."""
    number_ = float(value)
    return "< 0.001" if number_ < 0.001 else f"{number_:.3f}"


def characteristics_footnote(comparison: pd.DataFrame, flagged: bool) -> str:
    """Table 1's footnote: what the percentages are, what cannot be missing, the SMD and test."""
    parts = ["Percentages are of the participants analysed in that column; sources are counted, not people. "
             "Role group cannot be missing (cleaning refuses an analysed response whose role is not in the role "
             "map); a questionnaire item's missing answers are counted under it. Medians and quartiles are levels "
             "of the scale, not interpolated."]
    if len(comparison):
        parts.append("SMD: standardised mean difference between the cohorts as tableone computes it (role group: "
                     "Yang and Dalton's multivariate SMD of the level proportions; items: difference of means over "
                     "the pooled standard deviation); 0.1 is the usual mark of a meaningful imbalance.")
        tests = comparison[~comparison["test"].map(blank)]
        if len(tests):
            named = ", ".join(dict.fromkeys(tests["test"]))
            parts.append(f"p: {named}, asked for (compare_test); with so few participants a p-value says little.")
            warned = tests[~tests["note"].map(blank)].drop_duplicates("characteristic")
            parts += [f"* {r['characteristic']}: {r['note']}." for _, r in warned.iterrows()]
        else:
            parts.append("No test was run (tests are run only when asked for: compare_test).")
    if flagged:
        parts.append(SMALL_FOOTNOTE)
    return " ".join(parts)


LIKERT_COLUMNS = ["Answered", "Missing", "Median (IQR)"] + \
    [f"{level} {LIKERT_LABELS[level].lower()}" for level in LIKERT_LEVELS] + ["Agree (4 or 5), % [95% CI]"]


def _likert_cells(row) -> list[str]:
    median = (REDACTED if _redacted(row["median"]) else
              # Levels of the scale (helpers.analysis.stats.observed_quantile): whole numbers.
              f"{number(row['median'])}{NBSP}({number(row['q1'])}\u2013{number(row['q3'])})"
              if not blank(row["median"]) else "")
    agree = REDACTED if _redacted(row["pct_agree"]) else (
        f"{decimal1(row['pct_agree'])} [{interval(row['ci_low'], row['ci_high'])}]"
        if not blank(row["pct_agree"]) else "")
    return [number(row["n"]), number(row["missing"]), median] + \
        [number(row[f"n_{level}"]) for level in LIKERT_LEVELS] + [agree]


def likert(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    return ["Item"] + LIKERT_COLUMNS, [Row([item_label(r["item"])] + _likert_cells(r)) for _, r in frame.iterrows()]


def likert_by_role(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    """Per item and role group: answered, missing, median (IQR) and % agreeing; the counts per
    level are in the figure beside it and in tables/likert_by_role.csv."""
    keep = [0, 1, 2, len(LIKERT_COLUMNS) - 1]
    rows: list[Row | str] = []
    for item, part in frame.groupby("item", sort=False):
        rows.append(item_label(item))
        rows += [Row([group_label(r["role_group"])] + [_likert_cells(r)[i] for i in keep], level=1,
                     note=SMALL_MARK if small(r["n"]) else "") for _, r in part.iterrows()]
    return ["Item and role group"] + [LIKERT_COLUMNS[i] for i in keep], rows


def themes(themes_: pd.DataFrame, subthemes: pd.DataFrame, codes: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    """Theme > subtheme > code, each with references n (%) [95% CI], sources and participants."""
    def cells(r) -> list[str]:
        return [n_pct(r["references"], r["pct_references"], r["ci_low"], r["ci_high"]), number(r["sources"]),
                number(r["participants"])]

    # A codebook may have no subthemes (the column is optional): codes then sit under their theme.
    subthemes = subthemes.assign(subtheme=subthemes["subtheme"].map(lambda v: "" if blank(v) else str(v)))
    codes = codes.assign(subtheme=codes["subtheme"].map(lambda v: "" if blank(v) else str(v)))
    rows: list[Row | str] = []
    for _, theme in themes_.iterrows():
        rows.append(Row([theme["theme"]] + cells(theme), bold=True))
        for _, sub in subthemes[subthemes["theme"] == theme["theme"]].iterrows():
            if sub["subtheme"]:
                rows.append(Row([sub["subtheme"]] + cells(sub), level=1))
            under = codes[(codes["theme"] == theme["theme"]) & (codes["subtheme"] == sub["subtheme"])]
            level = 2 if sub["subtheme"] else 1
            rows += [Row([code["code"]] + cells(code), level=level) for _, code in under.iterrows()]
    return ["Theme, subtheme and code", "References, n (%) [95% CI]", "Sources", "Participants"], rows


def crosstab(frame: pd.DataFrame, column: str, pct: str, sizes: dict[str, str] | None = None
             ) -> tuple[list[str], list[Row | str]]:
    """Rows themes, a column per category: `n (%)` of the category's references."""
    categories = list(dict.fromkeys(frame[column]))
    # A role group of fewer than SMALL_N people carries the mark in its header, as in every table.
    header = [group_label(c) + (f" (n = {sizes[c]}){SMALL_MARK if small(sizes[c]) else ''}" if sizes and c in sizes
                                else "") for c in categories]
    rows = []
    for theme, part in frame.groupby("theme", sort=False):
        by = part.set_index(column)
        rows.append(Row([theme] + [n_pct(by.at[c, "references"], by.at[c, pct]) for c in categories]))
    return ["Theme"] + header, rows


def theme_participants(frame: pd.DataFrame) -> tuple[list[str], list[Row | str], bool]:
    groups = list(dict.fromkeys(frame["role_group"]))
    sizes = frame.drop_duplicates("role_group").set_index("role_group")["role_group_n"]
    flagged = [g for g in groups if small(sizes[g])]
    header = [f"{group_label(g)} (n = {number(sizes[g])}){SMALL_MARK if g in flagged else ''}" for g in groups]
    rows = []
    for theme, part in frame.groupby("theme", sort=False):
        by = part.set_index("role_group")
        # The interval for all participants; each role group's is in tables/theme_participants.csv.
        rows.append(Row([theme] + [n_pct(by.at[g, "participants"], by.at[g, "pct_of_role_group"],
                                         *((by.at[g, "ci_low"], by.at[g, "ci_high"]) if i == 0 else ()))
                                   for i, g in enumerate(groups)]))
    header[0] += " [95% CI]"
    return ["Theme"] + header, rows, bool(flagged)


def estimate(value, low, high) -> str:
    """A coefficient with its 95% interval: `0.48 [-0.16 to 1.00]`; undefined as an en dash."""
    if _redacted(value):
        return REDACTED
    shown = coefficient(value)
    if blank(low) or shown == "\u2013" or _redacted(low, high):
        return shown
    return f"{shown} [{coefficient(low)} to {coefficient(high)}]"


AGREEMENT_FOOTNOTE = ("Prevalence: % of decisions that applied the code. Intervals: 95%, from Gwet's variance "
                      "estimators (as the irrCAC package computes them), treating decisions as independent units. "
                      "PABAK (prevalence- and bias-adjusted kappa) is 2 \u00d7 raw agreement \u2212 1; Gwet's AC1 "
                      "takes chance agreement from how often a code is used, so neither collapses for a rarely "
                      "applied code as kappa and alpha do.")


def agreement(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    """Pooled rows first, then the per-code rows shown (codes the reading explains), under their coders."""
    def cells(r, header: str) -> Row:
        return Row([header, number(r["sources"]), number(r["units"]), decimal1(r["agreement_pct"]),
                    decimal1(r["prevalence_pct"]),
                    estimate(r["cohen_kappa"], r["cohen_kappa_low"], r["cohen_kappa_high"]),
                    estimate(r["krippendorff_alpha"], r["krippendorff_alpha_low"], r["krippendorff_alpha_high"]),
                    estimate(r["pabak"], r["pabak_low"], r["pabak_high"]),
                    estimate(r["gwet_ac1"], r["gwet_ac1_low"], r["gwet_ac1_high"])], level=1)

    pooled = frame[frame["code"] == "(all codes pooled)"]
    codes = frame[frame["code"] != "(all codes pooled)"]
    rows: list[Row | str] = ["All codes pooled"] + [cells(r, r["coders"]) for _, r in pooled.iterrows()]
    for coders, part in codes.groupby("coders", sort=False):
        rows += [f"High raw agreement but low \u03ba or \u03b1: {coders}"]
        rows += [cells(r, r["code"]) for _, r in part.iterrows()]
    return ["Coders or code", "Sources", "Decisions", "Raw agreement, %", "Prevalence, %",
            "Cohen's \u03ba [95% CI]", "Krippendorff's \u03b1 [95% CI]", "PABAK [95% CI]", "Gwet's AC1 [95% CI]"], rows


def cooccurrence(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    rows = [Row([f"{r['code_a']} + {r['code_b']}", number(r["segments"]), number(r["participants"])])
            for _, r in frame.iterrows()]
    return ["Pair of codes", "Segments coded with both", "Participants who raised both"], rows


def saturation(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    rows = [Row([number(r["order"]), r["source_id"], number(r["new_codes"]), number(r["cumulative_codes"])])
            for _, r in frame.iterrows()]
    return ["Interview (date order)", "Source", "New codes", "Codes found so far"], rows


def generic(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    """Any table of the list that has no layout of its own: columns as words, shares to one
    decimal, counts as whole numbers, text as written."""
    def cell(column: str, value) -> str:
        if isinstance(value, str) and not blank(value) and pd.isna(pd.to_numeric(value, errors="coerce")):
            return group_label(value) if column == frame.columns[0] else value
        if column.startswith("pct") or column in ("ci_low", "ci_high"):
            return decimal1(value)
        return number(value)

    def label(column: str) -> str:
        if column == "pct":
            return "%"
        if column in ("ci_low", "ci_high"):
            return f"95% CI {column[3:]}"
        if column.startswith("pct_"):
            return "% " + column[4:].replace("_", " ")
        return column.replace("_", " ").capitalize()

    columns = [label(str(c)) for c in frame.columns]
    rows = [Row([cell(c, r[c]) for c in frame.columns]) for _, r in frame.iterrows()]
    return columns, rows


def counts(frame: pd.DataFrame, label: str, key: str, columns: dict[str, str]) -> tuple[list[str], list[Row | str]]:
    rows = [Row([group_label(str(r[key]))] + [number(r[c]) for c in columns]) for _, r in frame.iterrows()]
    return [label] + list(columns.values()), rows


CLUSTER_CI_FOOTNOTE = ("95% CI of a share of references: a percentile interval of a cluster bootstrap over sources "
                       "(sources resampled with all their references, 2,000 resamples, fixed seed), since references "
                       "are clustered within sources and participants; 0\u20130 where a share is 0. (Over "
                       "2,000 sources: the cluster-robust linearisation interval.)")


def project_focus(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    """The project-focus codes: references in dissertations, n (% of the coded dissertation
    references) [95% CI], dissertations and participants."""
    rows: list[Row | str] = [Row([r["code"], n_pct(r["references"], r["pct_of_dissertation_references"],
                                                   r["ci_low"], r["ci_high"]),
                                  number(r["sources"]), number(r["participants"])]) for _, r in frame.iterrows()]
    total = number(frame["dissertation_references"].iloc[0]) if len(frame) else ""
    return ["Code", f"References in dissertations (of {total}), n (%) [95% CI]", "Dissertations",
            "Participants"], rows


def _said_by(row, prefix: str) -> str:
    """Who said a quote, as its table may show it: source type, role group, participant."""
    parts = [str(row.get(f"{prefix}{c}", "")) for c in ("source_type", "role_group", "participant")]
    parts = [group_label(p).lower() if i == 0 else p for i, p in enumerate(parts) if not blank(p)]
    return " \u00b7 ".join(parts)


def quote_cell(text, said_by: str) -> str:
    """A quote in curly quotes, followed by who said it in parentheses; blank stays blank."""
    if blank(text) or not str(text).strip():
        return ""
    return f"\u201c{text}\u201d" + (f" ({said_by})" if said_by else "")


def codebook(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    """Theme as a heading, subtheme as a row under it, each code with its definition, references,
    participants and exemplar quote."""
    rows: list[Row | str] = []
    frame = frame.assign(subtheme=frame["subtheme"].map(lambda v: "" if blank(v) else str(v)))
    for theme, part in frame.groupby("theme", sort=False):
        rows.append(theme)
        for subtheme, codes in part.groupby("subtheme", sort=False):
            if subtheme:
                rows.append(Row([subtheme, "", "", "", ""], level=1, bold=True))
            rows += [Row([r["code"], "" if blank(r["definition"]) else str(r["definition"]), number(r["references"]),
                          number(r["participants"]), quote_cell(r["exemplar"], _said_by(r, "exemplar_"))],
                         level=2 if subtheme else 1) for _, r in codes.iterrows()]
    return ["Theme, subtheme and code", "Definition", "References", "Participants", "Exemplar quote"], rows


def joint_display(frame: pd.DataFrame) -> tuple[list[str], list[Row | str]]:
    """An item and its theme as a heading; a row per group shown: agreement and the theme's reach
    side by side, the quote on the item's first row."""
    def agree(r) -> str:
        if _redacted(r["agree"]):
            return REDACTED
        return f"{number(r['agree'])}/{number(r['answered'])}{NBSP}({decimal1(r['pct_agree'])}) " \
               f"[{interval(r['ci_low'], r['ci_high'])}]"

    def raised(r) -> str:
        if blank(r["raised"]) or str(r["raised"]) == "":
            return "\u2013"
        if _redacted(r["raised"]):
            return REDACTED
        return f"{number(r['raised'])}/{number(r['role_group_n'])}{NBSP}({decimal1(r['pct_raised'])})"

    rows: list[Row | str] = []
    for item, part in frame.groupby("item", sort=False):
        theme = part["theme"].iloc[0]
        rows.append(f"{item_label(item)} \u2192 " + (theme if not blank(theme) and str(theme) else
                                                      "no theme paired"))
        rows += [Row([group_label(r["role_group"]), agree(r), raised(r), quote_cell(r["quote"], _said_by(r, "quote_"))],
                     level=1) for _, r in part.iterrows()]
    return ["Item and group", "Agree (4 or 5), n/N (%) [95% CI]", "Raised the paired theme, n/N (%)",
            "Illustrative quote"], rows
