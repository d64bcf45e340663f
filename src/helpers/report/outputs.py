"""Every table and figure the pipeline publishes, declared once.

Each entry says which file it is, which notebook (step) writes it, its title and caption,
the reading the report prints under it, and how disclosure control treats it. The
report's numbering, captions and order, the figures step, the index page and the tests
read this list; nothing else names an output's caption or number.

Adding a table with its figure: write its function (helpers.analysis), call it in a
notebook cell that writes the file, and add its entries here (README, "Adding a table
or a figure").
"""
from __future__ import annotations

from dataclasses import dataclass

# How disclosure control (MIN_COUNT, ROUND_TO) treats an output.
CONTROLLED = "controlled"          # small counts redacted, others rounded
NOT_PEOPLE = "exempt: counts of coding decisions or codes, not of people"
ROW_LEVEL = "row-level log of dropped rows: published only when disclosure control is off"
PUBLISHED_FIGURES = "published figures and the values computed from controlled tables"
TEXT = "text: quotes and notes, scrubbed; role group and participant dropped when control is on"


@dataclass(frozen=True)
class Output:
    name: str            # file stem: tables/<name>.csv, or figures/<name>.png and .svg
    kind: str            # "table" or "figure"
    step: str            # the notebook that writes it
    title: str
    caption: str = ""    # the report's caption; HTML written here, never data
    reading: str = ""    # function of helpers.report.readings printed under it in the report
    disclosure: str = CONTROLLED
    numbered: bool = True    # shown in the report as a numbered table or figure
    continues: bool = False  # numbered as a part of the table before it ("5b")
    source: str = ""     # for a figure: the table it is drawn from
    # For a figure drawn by a standard chart rather than a function of its own in
    # helpers.report.figures: ("bars", label column, count column, percent column, axis label)
    # draws one labelled bar per row of the source table.
    plot: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        return f"{self.name}.csv" if self.kind == "table" else f"{self.name}.png"

    @property
    def files(self) -> tuple[str, ...]:
        return (self.file,) if self.kind == "table" else (f"{self.name}.png", f"{self.name}.svg")


def table(name: str, step: str, title: str, caption: str = "", **more) -> Output:
    return Output(name, "table", step, title, caption, **more)


def figure(name: str, source: str, title: str, caption: str, **more) -> Output:
    return Output(name, "figure", "04_figures.ipynb", title, caption, source=source, **more)


CLEAN, DESCRIBE, TALLIES, REPORT = "01_clean.ipynb", "02_describe.ipynb", "03_thematic_tallies.ipynb", "05_report.ipynb"

# In the order the report shows them.
OUTPUTS: tuple[Output, ...] = (
    table("reproduction_check", REPORT, "Reproduction check",
          "Published figures and the values this run computed.", disclosure=PUBLISHED_FIGURES),
    table("cleaning_log_counts", CLEAN, "Cleaning log", "Rows dropped by each cleaning rule."),
    table("participants_by_role", DESCRIBE, "Participants by role group",
          "Cleaned participants by role group; pct is the share of cleaned participants, with its 95% Wilson "
          "interval.", reading="participants"),
    table("coding_by_source_type", DESCRIBE, "Sources by type",
          "Sources by type: n sources, how many were coded, and how many by two or more coders.",
          reading="sources"),
    table("likert_summary", DESCRIBE, "Questionnaire items",
          "Likert items (1 = strongly disagree to 5 = strongly agree): answered n, missing answers, median and "
          "quartiles, count per level, and % agreeing (4 or 5) of those who answered, with its 95% Wilson interval.",
          reading="likert"),
    table("likert_by_role", DESCRIBE, "Questionnaire items by role group",
          "The same summaries within each role group.", reading="likert_by_role", continues=True),
    table("theme_summary", TALLIES, "Themes",
          "Tallies per theme; 95% CI is the Wilson interval of the share of references.", reading="themes"),
    table("subtheme_tallies", TALLIES, "Subthemes", "Tallies per subtheme."),
    table("theme_tallies", TALLIES, "Codes", "Tallies per code (every code in the codebook)."),
    table("theme_by_role_group", TALLIES, "Themes by role group",
          "References and participants per theme and role group; pct_of_role_group is the share of that role "
          "group's references."),
    table("theme_by_source_type", TALLIES, "Themes by source type",
          "References per theme and source type; pct_of_source_type is the share of that source type's "
          "references."),
    table("theme_participants", TALLIES, "Participants, not only references",
          "Participants who raised each theme, overall and within each role group (pct_of_role_group, with its "
          "95% Wilson interval), so that one talkative participant cannot carry a theme.",
          reading="theme_participants"),
    table("agreement", TALLIES, "Inter-coder agreement",
          "Agreement on the sources coded by two or more coders: Cohen's kappa per pair of coders and "
          "Krippendorff's alpha (nominal) across all coders. A unit is one segment's yes/no decision for one code; "
          "pooled rows stack every code used in the shared sources. All rows per coder pair are in "
          "<code>tables/agreement.csv</code>.", reading="agreement"),
    table("cooccurrence", TALLIES, "Co-occurrence",
          "The fifteen pairs of codes most often applied to the same segment, and how many participants raised "
          "both anywhere; every pair is in <code>tables/cooccurrence.csv</code>.", reading="cooccurrence"),
    table("saturation", TALLIES, "Saturation",
          "Codes found in each interview, in date order, the new ones, and the running total.",
          reading="saturation"),
    # Written for analysts and for the report's text, not shown as numbered tables.
    table("quotes", TALLIES, "Illustrative quotes", numbered=False, disclosure=TEXT),
    table("totals", TALLIES, "Participants, sources and references", numbered=False),
    table("sources_by_type", DESCRIBE, "Sources by type (counts only)", numbered=False),
    table("cleaning_log", CLEAN, "Every dropped row with its file and row", numbered=False, disclosure=ROW_LEVEL),
    table("input_notes", CLEAN, "Notes on the input files", numbered=False, disclosure=TEXT),

    figure("role_groups", "participants_by_role", "Participants by role group",
           "Participants by role group (n and % of cleaned participants)."),
    figure("theme_tallies", "theme_summary", "References per theme",
           "Coded references per theme, with the share of all references in the run.",
           plot=("bars", "theme", "references", "pct_references", "Coded references")),
    figure("code_tallies", "theme_tallies", "References per code",
           "Coded references per code, coloured by theme, in codebook order."),
    figure("theme_by_role_group", "theme_by_role_group", "Themes by role group",
           "Share of each role group's coded references that fall under each theme (each column sums to 100%; "
           "unattributed focus-group talk excluded)."),
    figure("likert", "likert_summary", "Questionnaire items",
           "Questionnaire items: distribution of answers as diverging stacked bars (disagreement left, agreement "
           "right, neutral split at zero)."),
    figure("likert_by_role", "likert_by_role", "Questionnaire items by role group",
           "Questionnaire items within each role group, as diverging stacked bars."),
    figure("theme_participants", "theme_participants", "Participants per theme",
           "Share of all participants who raised each theme, with 95% Wilson intervals."),
    figure("cooccurrence", "cooccurrence", "Co-occurrence of codes",
           "Segments coded with both codes of a pair, for the twelve codes with most references (blank: never "
           "together; R: redacted small count)."),
    figure("saturation", "saturation", "Saturation",
           "Saturation: codes found so far (line) and new codes (bars) with each interview, in date order."),
)

BY_NAME: dict[tuple[str, str], Output] = {(o.kind, o.name): o for o in OUTPUTS}


def get(name: str, kind: str = "table") -> Output:
    """The entry of one output; KeyError names the outputs that exist."""
    try:
        return BY_NAME[(kind, name)]
    except KeyError:
        known = ", ".join(o.name for o in OUTPUTS if o.kind == kind)
        raise KeyError(f"no {kind} {name!r} in helpers.report.outputs (known: {known})") from None


def tables(step: str | None = None) -> list[Output]:
    return [o for o in OUTPUTS if o.kind == "table" and (step is None or o.step == step)]


def figures() -> list[Output]:
    return [o for o in OUTPUTS if o.kind == "figure"]


def numbering() -> dict[str, str]:
    """Report number of every numbered table, in list order: "1", "2", ..., "5b" for a continuation."""
    numbers: dict[str, str] = {}
    n, part = 0, 0
    for entry in tables():
        if not entry.numbered:
            continue
        if entry.continues:
            part += 1
            numbers[entry.name] = f"{n}{chr(ord('a') + part)}"
        else:
            n, part = n + 1, 0
            numbers[entry.name] = str(n)
    return numbers
