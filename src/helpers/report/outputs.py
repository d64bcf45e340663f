"""How every table and figure of the plan is shown: title, caption, reading, number, place.

What each output is (its files, the step that writes it, how disclosure control treats it)
is declared once in helpers.data.plan; this list says how the report presents it. The
report's numbering, captions and order, the manuscript, the index page and the tests read
this list; nothing else names an output's caption or number. Every table and figure of the
plan has exactly one entry here (a test checks it).

Adding a table with its figure: write its function (helpers.analysis), declare it in
helpers.data.plan (and its step's writes), write it from a notebook cell
(`run.write(plan.NEW_TABLE, ...)`) and add its entries here (README, "Adding a table or a
figure").
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.analysis import disclosure
from helpers.data import plan


@dataclass(frozen=True)
class Output:
    """How one output of the plan is shown."""

    output: plan.Output
    title: str
    caption: str = ""    # the report's caption; HTML written here, never data
    reading: str = ""    # function of helpers.report.readings printed under it in the report
    numbered: bool = True    # shown in the report as a numbered table or figure
    continues: bool = False  # numbered as a part of the table before it ("5b")
    # For a figure drawn by a standard chart rather than a function of its own in
    # helpers.report.figures: ("bars", label column, count column, percent column, axis label)
    # draws one labelled bar per row of the source table.
    plot: tuple[str, ...] = ()
    beside: str = ""     # for a figure: the numbered table it is shown beside in the report
    # For a figure: the journal column width of its manuscript files (helpers.report.manuscript):
    # "single" (84 mm) or "double" (174 mm), by how much it must hold to stay legible.
    column: str = "single"

    # What the plan says of it.
    @property
    def name(self) -> str:
        return self.output.name

    @property
    def kind(self) -> str:
        return self.output.kind

    @property
    def step(self) -> str:
        return plan.producer(self.output).name

    @property
    def disclosure(self) -> str:
        return self.output.disclosure

    @property
    def source(self) -> str:
        """For a figure: the table it is drawn from."""
        return self.output.source.name if self.output.source else ""

    @property
    def file(self) -> str:
        return self.output.file

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(name.rpartition("/")[2] for name in self.output.files)


def table(output: plan.Output, title: str, caption: str = "", **more) -> Output:
    return Output(output, title, caption, **more)


def figure(output: plan.Output, title: str, caption: str, **more) -> Output:
    return Output(output, title, caption, **more)


# In the order the report shows them. Figures are numbered in the order of the tables they
# sit beside.
OUTPUTS: tuple[Output, ...] = (
    table(plan.REPRODUCTION_CHECK, "Reproduction check",
          "Each published figure, the value this run computed, that value at the precision the paper printed "
          "(half-up rounding), and whether they agree exactly, only under the stated assumption, or differ.",
          numbered=False),
    table(plan.PARTICIPANT_CHARACTERISTICS, "Participant characteristics",
          "Questionnaire responses received and excluded by the cleaning rules, participants analysed by role "
          "group (n, % of participants analysed and its 95% Wilson interval), their answers to each questionnaire "
          "item (median and quartiles, and the missing answers) and sources by type, per cohort; when the run "
          "pools cohorts, the standardised mean difference (SMD) between them.",
          reading="participants"),
    table(plan.LIKERT_SUMMARY, "Questionnaire items",
          "Answers to each Likert item (1 = strongly disagree to 5 = strongly agree): answered n, missing answers "
          "(counted, not dropped), median and interquartile range, count per level, and % agreeing (4 or 5) of "
          "those who answered with its 95% Wilson interval.", reading="likert"),
    table(plan.LIKERT_BY_ROLE, "Questionnaire items by role group",
          "The same summaries within each role group; the count per level is in the figure and in "
          "<code>tables/likert_by_role.csv</code>.", reading="likert_by_role", continues=True),
    table(plan.THEME_TALLIES, "Themes, subthemes and codes",
          "Coded references per theme, subtheme and code (every code of the codebook, zeros included): n, % of "
          "all references in the run with its 95% interval (a cluster bootstrap over sources), and the distinct "
          "sources and participants among them.", reading="themes"),
    table(plan.THEME_BY_ROLE_GROUP, "Themes by role group",
          "References per theme within each role group: n (% of that role group's references). Unattributed "
          "focus-group talk is left out.", reading="theme_by_role_group"),
    table(plan.THEME_BY_SOURCE_TYPE, "Themes by source type",
          "References per theme within each kind of source: n (% of that kind's references)."),
    table(plan.THEME_PARTICIPANTS, "Participants, not only references",
          "Participants who raised each theme, of all participants (n (%) [95% Wilson interval]) and of each role "
          "group (n (%); each interval is in <code>tables/theme_participants.csv</code>), so that one talkative "
          "participant cannot carry a theme.", reading="theme_participants"),
    table(plan.AGREEMENT, "Inter-coder agreement",
          "Agreement on the sources coded by two or more coders: raw agreement, the prevalence of the code (% of "
          "decisions that applied it), Cohen's kappa per pair of coders, Krippendorff's alpha (nominal), PABAK and "
          "Gwet's AC1, each with its 95% interval. A decision is one segment's yes/no for one code; pooled rows "
          "stack every code used in the shared sources. Every row per code is in "
          "<code>tables/agreement.csv</code>.", reading="agreement"),
    table(plan.COOCCURRENCE, "Co-occurrence",
          "Pairs of codes applied to the same segment (up to ten, most frequent first; pairs never applied "
          "together are not listed), and how many participants raised both anywhere. Every pair is in "
          "<code>tables/cooccurrence.csv</code>.", reading="cooccurrence"),
    table(plan.SATURATION, "Saturation",
          "Codes found in each interview, in date order: the new ones and the running total.",
          reading="saturation"),
    table(plan.CODEBOOK, "Codebook",
          "Every code under its theme and subtheme: its definition, coded references and the participants among "
          "them, and one exemplar quote, quoted nowhere else in the report (scrubbed as every quote is; no role "
          "group of fewer than 5 people is named, and under disclosure control only the kind of source). The "
          "same codebook for NVivo, ATLAS.ti, MAXQDA or QualCoder: <code>codebook.qdc</code> (REFI-QDA).",
          reading="codebook"),
    table(plan.JOINT_DISPLAY, "Joint display: questionnaire items beside themes",
          "Each questionnaire item's result beside the theme it speaks to: answers agreeing (4 or 5), n of those "
          "who answered (%) [95% Wilson interval], and participants who raised the theme, n of the group (%), for "
          "all participants and each role group of at least 5 people, with one illustrative quote from the theme "
          "that the report shows nowhere else. Which theme each item speaks to is declared once, in "
          "<code>helpers/analysis/joint.py</code>.", reading="joint_display"),
    # Written for analysts and for the report's text, not shown as numbered tables: their
    # numbers are in the tables above (Table 1 holds the source counts and the cleaning flow;
    # the themes table holds every theme and subtheme).
    table(plan.THEME_SUMMARY, "Themes", numbered=False, reading="themes"),
    table(plan.SUBTHEME_TALLIES, "Subthemes", numbered=False),
    table(plan.PARTICIPANTS_BY_ROLE, "Participants by role group", numbered=False, reading="participants"),
    table(plan.CODING_BY_SOURCE_TYPE, "Sources by type and coding", numbered=False, reading="sources"),
    table(plan.CODE_BY_SOURCE_TYPE, "Codes by source type", numbered=False),
    table(plan.CLEANING_LOG_COUNTS, "Cleaning log", "Rows dropped by each cleaning rule.", numbered=False),
    table(plan.QUOTES, "Illustrative quotes", numbered=False),
    table(plan.TOTALS, "Participants, sources and references", numbered=False),
    table(plan.SOURCES_BY_TYPE, "Sources by type (counts only)", numbered=False),
    table(plan.CLEANING_LOG, "Every dropped row with its file and row", numbered=False),
    table(plan.INPUT_NOTES, "Notes on the input files", numbered=False),
    table(plan.PROJECT_FOCUS, "Dissertation project focus",
          "The codes of the project-focus subtheme in the dissertations: references, % of all coded dissertation "
          "references with its 95% interval (cluster bootstrap over dissertations), and the dissertations and "
          "participants behind them. Paper 1 reports these shares as the dissertations' project focus.",
          reading="project_focus"),
    # Shown inside Table 1 (its SMD and test columns).
    table(plan.CHARACTERISTICS_COMPARISON, "Comparison of cohorts", numbered=False),

    figure(plan.ROLE_GROUPS_FIGURE, "Participants by role group",
           "Share of participants analysed in each role group, with 95% Wilson intervals; bars of groups with "
           "fewer than 5 people are hatched.", beside="participant_characteristics"),
    figure(plan.LIKERT_FIGURE, "Questionnaire items",
           "Distribution of answers to each item as diverging stacked bars (disagreement left of zero, agreement "
           "right, neutral split at zero).", beside="likert_summary", column="double"),
    figure(plan.LIKERT_BY_ROLE_FIGURE, "Questionnaire items by role group",
           "The same bars within each role group; groups with fewer than 5 answers are marked and not "
           "interpreted.", beside="likert_by_role", column="double"),
    figure(plan.THEME_TALLIES_FIGURE, "References per theme",
           "Coded references per theme, with the share of all references in the run.", beside="theme_tallies",
           plot=("bars", "theme", "references", "pct_references", "Coded references")),
    figure(plan.CODE_TALLIES_FIGURE, "References per code",
           "Coded references per code, coloured by theme, in codebook order.", beside="theme_tallies",
           column="double"),
    figure(plan.THEME_BY_ROLE_GROUP_FIGURE, "Themes by role group",
           "Share of each role group's coded references that fall under each theme (each column sums to 100%; "
           "unattributed focus-group talk excluded).", beside="theme_by_role_group",
           column="double"),
    figure(plan.THEME_PARTICIPANTS_FIGURE, "Participants per theme",
           "Share of all participants who raised each theme, with 95% Wilson intervals.",
           beside="theme_participants"),
    figure(plan.COOCCURRENCE_FIGURE, "Co-occurrence of codes",
           "Segments coded with both codes of a pair, for the codes of the pairs most often applied together "
           "(blank: never together; R: redacted small count).", beside="cooccurrence",
           column="double"),
    figure(plan.SATURATION_FIGURE, "Saturation",
           "Codes found so far (line) and new codes (bars) with each interview, in date order.",
           beside="saturation"),
)

# Groups smaller than this are marked in tables and figures and never headlined by a
# reading: a share of 1 or 2 people reads as a finding it is not. Every step that shows
# groups reads this module, so changing it rebuilds them.
SMALL_N = disclosure.SMALL_N  # declared with disclosure control: quotes are labelled by it too
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
