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
    beside: str = ""     # for a figure: the numbered table it is shown beside in the report
    # For a figure: the journal column width of its manuscript files (helpers.report.manuscript):
    # "single" (84 mm) or "double" (174 mm), by how much it must hold to stay legible.
    column: str = "single"

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

# In the order the report shows them. Figures are numbered in the order of the tables they
# sit beside.
OUTPUTS: tuple[Output, ...] = (
    table("reproduction_check", REPORT, "Reproduction check",
          "Each published figure, the value this run computed, that value at the precision the paper printed "
          "(half-up rounding), and whether they agree exactly, only under the stated assumption, or differ.",
          disclosure=PUBLISHED_FIGURES, numbered=False),
    table("participant_characteristics", DESCRIBE, "Participant characteristics",
          "Questionnaire responses received and excluded by the cleaning rules, participants analysed by role "
          "group (n, % of participants analysed and its 95% Wilson interval) and sources by type, per cohort.",
          reading="participants"),
    table("likert_summary", DESCRIBE, "Questionnaire items",
          "Answers to each Likert item (1 = strongly disagree to 5 = strongly agree): answered n, missing answers "
          "(counted, not dropped), median and interquartile range, count per level, and % agreeing (4 or 5) of "
          "those who answered with its 95% Wilson interval.", reading="likert"),
    table("likert_by_role", DESCRIBE, "Questionnaire items by role group",
          "The same summaries within each role group; the count per level is in the figure and in "
          "<code>tables/likert_by_role.csv</code>.", reading="likert_by_role", continues=True),
    table("theme_tallies", TALLIES, "Themes, subthemes and codes",
          "Coded references per theme, subtheme and code (every code of the codebook, zeros included): n, % of "
          "all references in the run with its 95% Wilson interval, and the distinct sources and participants "
          "among them.", reading="themes"),
    table("theme_by_role_group", TALLIES, "Themes by role group",
          "References per theme within each role group: n (% of that role group's references). Unattributed "
          "focus-group talk is left out.", reading="theme_by_role_group"),
    table("theme_by_source_type", TALLIES, "Themes by source type",
          "References per theme within each kind of source: n (% of that kind's references)."),
    table("theme_participants", TALLIES, "Participants, not only references",
          "Participants who raised each theme, of all participants (n (%) [95% Wilson interval]) and of each role "
          "group (n (%); each interval is in <code>tables/theme_participants.csv</code>), so that one talkative "
          "participant cannot carry a theme.", reading="theme_participants"),
    table("agreement", TALLIES, "Inter-coder agreement",
          "Agreement on the sources coded by two or more coders: raw agreement, Cohen's kappa per pair of coders "
          "and Krippendorff's alpha (nominal) across all coders. A decision is one segment's yes/no for one code; "
          "pooled rows stack every code used in the shared sources. Every row per code is in "
          "<code>tables/agreement.csv</code>.", reading="agreement"),
    table("cooccurrence", TALLIES, "Co-occurrence",
          "Pairs of codes applied to the same segment (up to ten, most frequent first; pairs never applied "
          "together are not listed), and how many participants raised both anywhere. Every pair is in "
          "<code>tables/cooccurrence.csv</code>.", reading="cooccurrence"),
    table("saturation", TALLIES, "Saturation",
          "Codes found in each interview, in date order: the new ones and the running total.",
          reading="saturation"),
    # Written for analysts and for the report's text, not shown as numbered tables: their
    # numbers are in the tables above (Table 1 holds the source counts and the cleaning flow;
    # the themes table holds every theme and subtheme).
    table("theme_summary", TALLIES, "Themes", numbered=False, reading="themes"),
    table("subtheme_tallies", TALLIES, "Subthemes", numbered=False),
    table("participants_by_role", DESCRIBE, "Participants by role group", numbered=False, reading="participants"),
    table("coding_by_source_type", DESCRIBE, "Sources by type and coding", numbered=False, reading="sources"),
    table("code_by_source_type", TALLIES, "Codes by source type", numbered=False),
    table("cleaning_log_counts", CLEAN, "Cleaning log", "Rows dropped by each cleaning rule.", numbered=False),
    table("quotes", TALLIES, "Illustrative quotes", numbered=False, disclosure=TEXT),
    table("totals", TALLIES, "Participants, sources and references", numbered=False),
    table("sources_by_type", DESCRIBE, "Sources by type (counts only)", numbered=False),
    table("cleaning_log", CLEAN, "Every dropped row with its file and row", numbered=False, disclosure=ROW_LEVEL),
    table("input_notes", CLEAN, "Notes on the input files", numbered=False, disclosure=TEXT),

    figure("role_groups", "participants_by_role", "Participants by role group",
           "Share of participants analysed in each role group, with 95% Wilson intervals; bars of groups with "
           "fewer than 5 people are hatched.", beside="participant_characteristics"),
    figure("likert", "likert_summary", "Questionnaire items",
           "Distribution of answers to each item as diverging stacked bars (disagreement left of zero, agreement "
           "right, neutral split at zero).", beside="likert_summary", column="double"),
    figure("likert_by_role", "likert_by_role", "Questionnaire items by role group",
           "The same bars within each role group; groups with fewer than 5 answers are marked and not "
           "interpreted.", beside="likert_by_role", column="double"),
    figure("theme_tallies", "theme_summary", "References per theme",
           "Coded references per theme, with the share of all references in the run.", beside="theme_tallies",
           plot=("bars", "theme", "references", "pct_references", "Coded references")),
    figure("code_tallies", "theme_tallies", "References per code",
           "Coded references per code, coloured by theme, in codebook order.", beside="theme_tallies",
           column="double"),
    figure("theme_by_role_group", "theme_by_role_group", "Themes by role group",
           "Share of each role group's coded references that fall under each theme (each column sums to 100%; "
           "unattributed focus-group talk excluded).", beside="theme_by_role_group",
           column="double"),
    figure("theme_participants", "theme_participants", "Participants per theme",
           "Share of all participants who raised each theme, with 95% Wilson intervals.",
           beside="theme_participants"),
    figure("cooccurrence", "cooccurrence", "Co-occurrence of codes",
           "Segments coded with both codes of a pair, for the codes of the pairs most often applied together "
           "(blank: never together; R: redacted small count).", beside="cooccurrence",
           column="double"),
    figure("saturation", "saturation", "Saturation",
           "Codes found so far (line) and new codes (bars) with each interview, in date order.",
           beside="saturation"),
)

# Groups smaller than this are marked in tables and figures and never headlined by a
# reading: a share of 1 or 2 people reads as a finding it is not. Every step that shows
# groups reads this module, so changing it rebuilds them.
SMALL_N = 5
SMALL_MARK = "\u2020"  # dagger

COOCCURRENCE_ROWS = 10  # pairs the report lists (its caption says so); all are in the CSV

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


def figure_numbering() -> dict[str, int]:
    """Report number of every figure: in the order of the tables they sit beside, then list order."""
    tables_order = {entry.name: i for i, entry in enumerate(tables())}
    ordered = sorted(figures(), key=lambda f: tables_order.get(f.beside, len(tables_order)))
    return {entry.name: i for i, entry in enumerate(ordered, 1)}


def figures_beside(table_name: str) -> list[Output]:
    return [f for f in figures() if f.beside == table_name]
