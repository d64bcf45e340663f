"""The pipeline's plan: every output declared once, and every step with what it reads and writes.

Everything else is derived from this module: the run order and the edges between steps
(helpers.runner.steps), which files a step is given and which it may write (the runner
refuses a step that writes a file it does not declare), what a notebook may write
(`run.write(plan.THEME_TALLIES, table)` refuses an output its step does not declare), the
published folder of a run, and the tests that check every notebook against this plan.
How an output is shown (title, caption, reading, number) is helpers.report.outputs' concern.

Paths of outputs are relative to the cohort's folder of their tree: `reports/<cohort>/` for
the report's files, `data/processed/<cohort>/` for the cleaned data. This module imports
nothing heavy: the runner's no-op check reads it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# The two trees a run writes: its report folder and its processed-data folder.
REPORTS, PROCESSED = "reports", "processed"

# Kinds of output.
TABLE, FIGURE, DATA, PAGE_KIND, DOCUMENT, NOTEBOOK = "table", "figure", "data", "page", "document", "notebook"
RECORD = "record"  # a JSON record about the run: packages imported, the data dictionary, the RO-Crate

# How disclosure control (MIN_COUNT, ROUND_TO) treats an output.
CONTROLLED = "controlled"          # small counts redacted, others rounded
ROW_LEVEL = "row-level log of dropped rows: published only when disclosure control is off"
PUBLISHED_FIGURES = "published figures and the values computed from controlled tables"
TEXT = "text: quotes and notes, scrubbed; role group and participant dropped when control is on"
BUILT_FROM = "built from the controlled tables and figures above"
EXECUTED = "executed notebook: published only when disclosure control is off (cells may print exact counts)"
INPUTS = "file names and SHA-256 of the raw files; parameters, commit, lock hash and packages of the run"
ABOUT_THE_RUN = "names and versions of software, the commit; column names and meanings: nothing from the data"


class PlanError(Exception):
    """A notebook read or wrote something its step (or its figure) does not declare here."""


@dataclass(frozen=True)
class Output:
    """One thing a run writes, in one place."""

    name: str
    kind: str
    files: tuple[str, ...]          # in the cohort's folder of `tree`; a name ending in "/" is a folder
    tree: str = REPORTS
    disclosure: str = CONTROLLED
    when: str = ""                  # blank: always written; else the condition under which it is
    reads: tuple[Output, ...] = ()  # for a figure: the tables it is drawn from, its source first

    @property
    def file(self) -> str:
        """The output's main file: the table's CSV, the figure's PNG."""
        return self.files[0].rpartition("/")[2] if self.kind in (TABLE, FIGURE) else self.files[0]

    @property
    def source(self) -> Output | None:
        return self.reads[0] if self.reads else None

    def paths(self, cohort: str) -> tuple[str, ...]:
        """The output's files as the runner names them: '<tree>/<cohort>/<file>'."""
        return tuple(f"{self.tree}/{cohort}/{name}" for name in self.files)

    def holds(self, relative: str) -> bool:
        """Whether a file (as named in the cohort's folder of its tree) belongs to this output."""
        return any(relative == name or (name.endswith("/") and relative.startswith(name)) for name in self.files)


def table(name: str, **more) -> Output:
    return Output(name, TABLE, (f"tables/{name}.csv",), **more)


def imports(stem: str) -> Output:
    """The record of the packages a notebook step's kernel imported (helpers.data.provenance)."""
    return Output(f"imports of {stem}", RECORD, (f"provenance/{stem}.json",), disclosure=ABOUT_THE_RUN)


def figure(name: str, reads: tuple[Output, ...], **more) -> Output:
    return Output(name, FIGURE, (f"figures/{name}.png", f"figures/{name}.svg"), reads=reads, **more)


@dataclass(frozen=True)
class Step:
    """One step: a notebook (run by papermill in a fresh kernel) or a function of the runner."""

    name: str                       # the notebook's file name, or the step's own name
    reads: tuple[Output, ...]
    writes: tuple[Output, ...]
    notebook: bool = True
    function: str = ""              # for a function step: 'module:function' (see helpers.runner.tasks)
    on_request: bool = False        # run only once asked for (make pdf, make manuscript), then kept
    about: str = ""
    executed: tuple[Output, ...] = field(default=(), compare=False)

    def __post_init__(self):
        if self.notebook:  # its executed copy, and that copy as HTML, are outputs of the step too
            stem = self.name.rpartition(".")[0]
            copy = Output(f"{stem} (executed)", NOTEBOOK, (f"notebooks/{self.name}", f"notebooks/{stem}.html"),
                          disclosure=EXECUTED)
            object.__setattr__(self, "executed", (copy,))

    @property
    def outputs(self) -> tuple[Output, ...]:
        return self.writes + self.executed

    @property
    def stem(self) -> str:
        return self.name.rpartition(".")[0] or self.name


# --- outputs ------------------------------------------------------------------------------

# 01 clean
CLEANED = Output("cleaned", DATA, ("participants.parquet", "sources.parquet", "segments.parquet",
                                   "codebook.parquet", "cleaning_log.parquet", "run.json"), tree=PROCESSED,
                 disclosure="row-level analysis data: never published in the report folder")
PROVENANCE = Output("provenance", DATA, ("provenance.json",), disclosure=INPUTS)
INPUT_NOTES = table("input_notes", disclosure=TEXT)
CLEANING_LOG = table("cleaning_log", disclosure=ROW_LEVEL, when="disclosure control is off")
CLEANING_LOG_COUNTS = table("cleaning_log_counts")
CLEAN_IMPORTS = imports("01_clean")
# 02 describe
PARTICIPANT_CHARACTERISTICS = table("participant_characteristics")
PARTICIPANTS_BY_ROLE = table("participants_by_role")
SOURCES_BY_TYPE = table("sources_by_type")
CODING_BY_SOURCE_TYPE = table("coding_by_source_type")
LIKERT_SUMMARY = table("likert_summary")
LIKERT_BY_ROLE = table("likert_by_role")
DESCRIBE_IMPORTS = imports("02_describe")
CHARACTERISTICS_COMPARISON = table("characteristics_comparison")
# 03 thematic tallies
TOTALS = table("totals")
THEME_TALLIES = table("theme_tallies")
SUBTHEME_TALLIES = table("subtheme_tallies")
THEME_SUMMARY = table("theme_summary")
THEME_BY_ROLE_GROUP = table("theme_by_role_group")
THEME_BY_SOURCE_TYPE = table("theme_by_source_type")
CODE_BY_SOURCE_TYPE = table("code_by_source_type")
QUOTES = table("quotes", disclosure=TEXT)
THEME_PARTICIPANTS = table("theme_participants")
AGREEMENT = table("agreement")
COOCCURRENCE = table("cooccurrence")
SATURATION = table("saturation")
CODEBOOK = table("codebook", disclosure=CONTROLLED + "; exemplar quotes: " + TEXT)
JOINT_DISPLAY = table("joint_display", disclosure=CONTROLLED + "; quotes: " + TEXT)
PARTICIPANT_LABELS = Output("participant labels", DATA, ("participant_labels.csv",), tree=PROCESSED,
                            disclosure="the key from the quotes' labels (P01...) to pseudonyms: never published")
TALLIES_IMPORTS = imports("03_thematic_tallies")
PROJECT_FOCUS = table("project_focus")
DISAGREEMENTS = Output("disagreements", DATA, ("disagreements.csv",), tree=PROCESSED,
                       disclosure="coders' decisions on participants' words, for consensus meetings: never published")
# 04 figures: each drawn from the tables it names (the first is its source)
ROLE_GROUPS_FIGURE = figure("role_groups", (PARTICIPANTS_BY_ROLE,))
LIKERT_FIGURE = figure("likert", (LIKERT_SUMMARY,), when="the questionnaire has Likert items")
LIKERT_BY_ROLE_FIGURE = figure("likert_by_role", (LIKERT_BY_ROLE,), when="the questionnaire has Likert items")
THEME_TALLIES_FIGURE = figure("theme_tallies", (THEME_SUMMARY,))
CODE_TALLIES_FIGURE = figure("code_tallies", (THEME_TALLIES,))
THEME_BY_ROLE_GROUP_FIGURE = figure("theme_by_role_group", (THEME_BY_ROLE_GROUP, THEME_SUMMARY, PARTICIPANTS_BY_ROLE))
THEME_PARTICIPANTS_FIGURE = figure("theme_participants", (THEME_PARTICIPANTS,))
COOCCURRENCE_FIGURE = figure("cooccurrence", (COOCCURRENCE, THEME_TALLIES), when="two or more codes co-occur")
SATURATION_FIGURE = figure("saturation", (SATURATION, THEME_TALLIES), when="the run has interviews")
FIGURES_IMPORTS = imports("04_figures")
# 05 report
REPRODUCTION_CHECK = table("reproduction_check", disclosure=PUBLISHED_FIGURES)
PAGE = Output("report", PAGE_KIND, ("report.html",), disclosure=BUILT_FROM)
REPORT_IMPORTS = imports("05_report")
# The codebook for coding tools: REFI-QDA's codebook exchange file, from tables/codebook.csv.
CODEBOOK_QDC = Output("codebook.qdc", DOCUMENT, ("codebook.qdc",),
                      disclosure="the codebook's themes, subthemes, codes and definitions: nothing from the data")
# The data dictionary of the tables (Frictionless Data Package) and the folder's RO-Crate metadata.
DATA_PACKAGE = Output("datapackage", RECORD, ("datapackage.json",), disclosure=ABOUT_THE_RUN)
RO_CRATE = Output("ro-crate", RECORD, ("ro-crate-metadata.json",), disclosure=PROVENANCE.disclosure)
# Asked for by make pdf and make manuscript
PDF = Output("report.pdf", DOCUMENT, ("report.pdf",), disclosure=BUILT_FROM)
MANUSCRIPT = Output("manuscript", DOCUMENT, ("manuscript/",), disclosure=BUILT_FROM)

# --- steps, in run order -------------------------------------------------------------------

CLEAN = Step("01_clean.ipynb", reads=(),
             writes=(INPUT_NOTES, CLEANING_LOG, CLEANING_LOG_COUNTS, CLEANED, PROVENANCE, CLEAN_IMPORTS),
             about="raw exports to analysis-ready tables")
DESCRIBE = Step("02_describe.ipynb", reads=(CLEANED,),
                writes=(PARTICIPANT_CHARACTERISTICS, PARTICIPANTS_BY_ROLE, SOURCES_BY_TYPE, CODING_BY_SOURCE_TYPE,
                        LIKERT_SUMMARY, LIKERT_BY_ROLE, DESCRIBE_IMPORTS, CHARACTERISTICS_COMPARISON),
                about="participants, sources and questionnaire items")
TALLIES = Step("03_thematic_tallies.ipynb", reads=(CLEANED,),
               writes=(TOTALS, THEME_TALLIES, SUBTHEME_TALLIES, THEME_SUMMARY, THEME_BY_ROLE_GROUP,
                       THEME_BY_SOURCE_TYPE, CODE_BY_SOURCE_TYPE, QUOTES, THEME_PARTICIPANTS, AGREEMENT, COOCCURRENCE,
                       SATURATION, TALLIES_IMPORTS, PROJECT_FOCUS, DISAGREEMENTS, CODEBOOK, JOINT_DISPLAY,
                       PARTICIPANT_LABELS),
               about="references, sources and participants per code, subtheme and theme")
FIGURE_OUTPUTS = (ROLE_GROUPS_FIGURE, LIKERT_FIGURE, LIKERT_BY_ROLE_FIGURE, THEME_TALLIES_FIGURE, CODE_TALLIES_FIGURE,
                  THEME_BY_ROLE_GROUP_FIGURE, THEME_PARTICIPANTS_FIGURE, COOCCURRENCE_FIGURE, SATURATION_FIGURE)
FIGURES = Step("04_figures.ipynb",
               reads=tuple(dict.fromkeys(t for f in FIGURE_OUTPUTS for t in f.reads)),
               writes=FIGURE_OUTPUTS + (FIGURES_IMPORTS,), about="paper-ready PNG and SVG")
# The page shows every table and figure, the provenance and the input notes.
REPORT = Step("05_report.ipynb",
              reads=tuple(o for step in (CLEAN, DESCRIBE, TALLIES, FIGURES) for o in step.writes
                          # the cleaned data, the coders' working lists and the label key stay out
                          if o.tree != PROCESSED),
              writes=(REPRODUCTION_CHECK, REPORT_IMPORTS, DATA_PACKAGE, RO_CRATE, PAGE, CODEBOOK_QDC),
              about="one self-contained HTML page")
PRINT_PDF = Step("report.pdf", reads=(PAGE,), writes=(PDF,), notebook=False, on_request=True,
                 function="helpers.report.pdf:step", about="the page printed to A4 by headless Chromium")
WRITE_MANUSCRIPT = Step("manuscript", notebook=False, on_request=True, function="helpers.report.manuscript:step",
                        reads=tuple(o for o in REPORT.reads + REPORT.writes if o.kind in (TABLE, FIGURE)
                                    or o.files[0].startswith("provenance/")),  # the versions COREQ item 32 names
                        writes=(MANUSCRIPT,),
                        about="Word tables, journal figures, COREQ draft and numbers.json")

STEPS: tuple[Step, ...] = (CLEAN, DESCRIBE, TALLIES, FIGURES, REPORT, PRINT_PDF, WRITE_MANUSCRIPT)
# The steps every run has; the others run once asked for, by the short name given here.
ALWAYS: tuple[Step, ...] = tuple(s for s in STEPS if not s.on_request)
ON_REQUEST: dict[str, Step] = {"pdf": PRINT_PDF, "manuscript": WRITE_MANUSCRIPT}
NOTEBOOKS: tuple[str, ...] = tuple(s.name for s in STEPS if s.notebook)
OUTPUTS: tuple[Output, ...] = tuple(o for s in STEPS for o in s.writes)
BY_NAME: dict[str, Step] = {s.name: s for s in STEPS}


def imports_of(of: Step) -> Output:
    """The record of the packages `of`'s kernel imported: one of its outputs."""
    return next(o for o in of.writes if o.kind == RECORD and o.files[0].startswith("provenance/"))


def step(name: str) -> Step:
    """The step of this name (a notebook's file name, or 'report.pdf', 'manuscript')."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no step {name!r} in helpers.data.plan (steps: {', '.join(BY_NAME)})") from None


def output(name: str, kind: str = TABLE) -> Output:
    """The output of this name and kind; KeyError names the outputs that exist."""
    for entry in OUTPUTS:
        if entry.name == name and entry.kind == kind:
            return entry
    known = ", ".join(o.name for o in OUTPUTS if o.kind == kind)
    raise KeyError(f"no {kind} {name!r} in helpers.data.plan (known: {known})")


def producer(entry: Output) -> Step:
    """The one step that writes `entry`."""
    return next(s for s in STEPS if entry in s.writes)


def parents(of: Step) -> tuple[Step, ...]:
    """The steps whose outputs `of` reads, in run order (derived from the reads)."""
    made_by = {producer(entry) for entry in of.reads}
    return tuple(s for s in STEPS if s in made_by)


def ancestors(of: Step) -> tuple[Step, ...]:
    found: set[Step] = set()
    todo = list(parents(of))
    while todo:
        parent = todo.pop()
        if parent not in found:
            found.add(parent)
            todo.extend(parents(parent))
    return tuple(s for s in STEPS if s in found)


def descendants(of: Step, among: tuple[Step, ...] = STEPS) -> tuple[Step, ...]:
    return tuple(s for s in among if of in ancestors(s))


def active(requested: set[str] | frozenset[str] = frozenset()) -> tuple[Step, ...]:
    """The steps of a run: every notebook step and the on-request steps asked for (by step name),
    with whatever they read; in run order."""
    chosen = set(ALWAYS) | {BY_NAME[name] for name in requested}
    for entry in list(chosen):
        chosen |= set(ancestors(entry))
    return tuple(s for s in STEPS if s in chosen)


# --- the published folder of a run ----------------------------------------------------------

# A folder name of a disclosure-controlled run ends like this: 'cohort1-min7-round5'.
SETTINGS_SUFFIX = re.compile(r"-(min\d+|round\d+)(-round\d+)?$")


def published_name(cohort: str, min_count: int = 0, round_to: int = 0) -> str:
    """The folder of reports/ (and data/processed/) a run publishes to: the cohort's own name
    without disclosure control, and the cohort with its settings with it, so that a shareable
    report never replaces the full one (or the other way round)."""
    parts = [cohort] + ([f"min{min_count}"] if min_count > 0 else []) + ([f"round{round_to}"] if round_to > 1 else [])
    return "-".join(parts)


def settings_of(name: str) -> tuple[str, int, int]:
    """(cohort, min_count, round_to) of a published folder name: published_name's inverse."""
    match = SETTINGS_SUFFIX.search(name)
    if not match:
        return name, 0, 0
    cohort, settings = name[: match.start()], name[match.start() + 1:].split("-")
    values = {word: int(number) for word, number in (re.fullmatch(r"([a-z]+)(\d+)", p).groups() for p in settings)}
    return cohort, values.get("min", 0), values.get("round", 0)
