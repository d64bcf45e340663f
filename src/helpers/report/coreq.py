"""The COREQ checklist (Tong, Sainsbury & Craig, Int J Qual Health Care 2007;19:349-57), drafted
from a run's published tables.

Each of the 32 items is answered from the tables where the data can answer it, naming the
table (and its number in the report) each answer came from; every other item, and every
part of an item the data cannot answer, says "For the authors to complete:" and what is
needed. Nothing is answered that the data do not hold: an answer is built only from the
values in reports/<cohort>/tables, as printed there (a [REDACTED] value stays redacted,
and is never summed).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.analysis.disclosure import OFF, REDACTED, Disclosure
from helpers.data.contract import ALL_CODERS, POOLED
from helpers.data.store import read_table

from . import outputs, readings
from .tables import group_label

AUTHORS = "For the authors to complete:"
FROM_DATA, PARTLY, FOR_AUTHORS = "from the data", "partly from the data", "for the authors to complete"


@dataclass
class Answer:
    text: str                      # what the data say, values as printed in the tables
    sources: list[str]             # the tables (file names in tables/) the text was read from


@dataclass
class Item:
    number: int
    domain: str
    group: str
    topic: str
    question: str                  # the checklist's guide question
    needed: str = ""               # what the authors must add; "" when the data answer it in full
    answer: Callable[[Tables], Answer | None] | None = None
    if_none: str = ""              # what the authors must add when the data hold nothing to answer with
    prefix: str = ""               # before the number as the checklist prints it (SRQR's "S1")

    @property
    def label(self) -> str:
        return f"{self.prefix}{self.number}"

    def draft(self, tables: Tables) -> Drafted:
        found = self.answer(tables) if self.answer else None
        return Drafted(self, found)


@dataclass
class Drafted:
    item: Item
    found: Answer | None

    @property
    def status(self) -> str:
        if self.found is None:
            return FOR_AUTHORS
        return PARTLY if self.item.needed else FROM_DATA

    @property
    def text(self) -> str:
        """The answer as the checklist prints it: the data's part, then what the authors must add."""
        parts = [self.found.text] if self.found else []
        if self.item.needed or self.found is None:
            parts.append(f"{AUTHORS} {self.item.needed or self.item.if_none}")
        return " ".join(parts)

    @property
    def sources(self) -> list[str]:
        return self.found.sources if self.found else []


@dataclass
class Tables:
    """The run's published tables, each read once; `cite` names a table as the checklist does.
    `rules`: the disclosure control they were written with."""
    folder: Path
    rules: Disclosure = OFF
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __call__(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = read_table(self.folder, f"{name}.csv")
        return self._cache[name]

    def has(self, name: str) -> bool:
        return (self.folder / f"{name}.csv").is_file()

    @staticmethod
    def cite(name: str, shown_in: str = "") -> str:
        """`Table 3 (tables/x.csv)`: the file, and the report's table that shows it (`shown_in`, for a
        file such as theme_summary.csv whose values the numbered themes table prints)."""
        number = outputs.numbering().get(shown_in or name)
        return f"Table {number} (tables/{name}.csv)" if number else f"tables/{name}.csv"


def _redacted(value) -> bool:
    return str(value) == REDACTED


def _run_column(frame: pd.DataFrame) -> pd.DataFrame:
    """Table 1's rows for the run as a whole: its last cohort column (the pooled `all cohorts`
    column of a pooled run, else the one cohort)."""
    return frame[frame["cohort"] == list(dict.fromkeys(frame["cohort"]))[-1]]


def _characteristics(t: Tables) -> pd.DataFrame:
    return _run_column(t("participant_characteristics")).set_index("characteristic")


# --- answers, one function per item the data can answer ------------------------------------

def sample_size(t: Tables) -> Answer:
    table = _characteristics(t)
    return Answer(f"{table.at['Participants analysed', 'n']} participants were analysed (questionnaire responses "
                  f"kept by the cleaning rules); {table.at['Responses received', 'n']} responses were received.",
                  [t.cite("participant_characteristics")])


def non_participation(t: Tables) -> Answer:
    table = _characteristics(t)
    excluded = table[table.index.str.startswith("Excluded: ")]
    reasons = "; ".join(f"{reason.removeprefix('Excluded: ')}: {row['n']}" for reason, row in excluded.iterrows())
    counts = [table.at["Responses received", "n"], table.at["Participants analysed", "n"]]
    cited = [t.cite("participant_characteristics"), t.cite("cleaning_log_counts")]
    # A redacted count is not a number to subtract from, nor is a difference of rounded counts a count
    # the tables show (30 - 30 = 0 when 1 was excluded): under disclosure control none is worked out.
    if t.rules.active or any(_redacted(c) for c in counts):
        return Answer(f"Of {counts[0]} questionnaire responses received, {counts[1]} were analysed (counts as the "
                      f"tables show them; the number excluded is not worked out from them under disclosure "
                      f"control). Responses excluded by the cleaning rules, by reason: {reasons}.", cited)
    total = int(float(counts[0])) - int(float(counts[1]))
    return Answer(f"{total} of {counts[0]} questionnaire responses were excluded by the cleaning rules, by reason: "
                  f"{reasons}.", cited)


def sample_description(t: Tables) -> Answer:
    table = _run_column(t("participant_characteristics"))
    roles = table[table["section"] == "Role group"]
    sources = table[table["section"] == "Sources"]
    role_text = "; ".join(f"{row.characteristic} {row.n}" + ("" if _redacted(row.n) else f" ({row.pct}%)")
                          for row in roles.itertuples())
    source_text = "; ".join(f"{group_label(row.characteristic).lower()} {row.n}" for row in sources.itertuples())
    text = f"Role group, n (%): {role_text}. Sources: {source_text}."
    cited = [t.cite("participant_characteristics")]
    if t.has("saturation") and len(t("saturation")) and "date" in t("saturation"):
        dates = sorted(d for d in t("saturation")["date"].astype(str) if d not in ("", "nan", REDACTED))
        if dates:
            text += f" Interviews were held from {dates[0]} to {dates[-1]}."
            cited.append(t.cite("saturation"))
    return Answer(text, cited)


def saturation(t: Tables) -> Answer | None:
    table = t("saturation")
    if table.empty:
        return None
    return Answer(f"Yes, by the codes found in each interview in date order: {readings.saturation(table, t.rules)}",
                  [t.cite("saturation")])


def coders(t: Tables) -> Answer | None:
    table = t("agreement")
    if table.empty:
        return None
    pairs = [p for p in dict.fromkeys(table["coders"]) if p != ALL_CODERS]
    names = sorted({name.strip() for pair in pairs for name in str(pair).split("&")})
    double = _characteristics(t).at["Coded by two or more coders", "n"]
    return Answer(f"At least {len(names)} coders ({', '.join(names)}) coded the sources coded by two or more "
                  f"coders ({double} sources). {readings.agreement(table[table['code'] == POOLED])}",
                  [t.cite("agreement"), t.cite("participant_characteristics")])


def coding_tree(t: Tables) -> Answer:
    codes = t("theme_tallies")
    subthemes = codes["subtheme"].astype(str).replace("nan", "")
    tree = "; ".join(
        f"{theme} ({', '.join(s for s in dict.fromkeys(subthemes[part.index]) if s) or 'no subthemes'})"
        for theme, part in codes.groupby("theme", sort=False))
    return Answer(f"Yes: {codes['theme'].nunique()} themes, {subthemes[subthemes != ''].nunique()} subthemes and "
                  f"{len(codes)} codes, each with its coded references, sources and participants. Themes "
                  f"(subthemes): {tree}.", [t.cite("theme_tallies")])


def quotations(t: Tables) -> Answer | None:
    quotes = t("quotes")
    if quotes.empty:
        return None
    shown = [c for c in ("source_type", "role_group", "participant") if c in quotes]
    words = {"source_type": "source type", "role_group": "role group (not named for a group of fewer than "
             f"{outputs.SMALL_N})", "participant": "short participant label (P01…)"}
    # Every quotation the report prints: the illustrative quotes, the codebook's exemplars and the
    # joint display's; each is chosen to appear once, and the count is of distinct words.
    elsewhere = [(name, column) for name, column in (("codebook", "exemplar"), ("joint_display", "quote"))
                 if t.has(name)]
    said = {name: [q for q in t(name)[column].fillna("").astype(str) if q.strip()] for name, column in elsewhere}
    every = list(quotes["quote"].astype(str)) + [q for texts in said.values() for q in texts]
    distinct = len(dict.fromkeys(" ".join(q.split()).casefold() for q in every))
    parts = [f"{len(quotes)} illustrative quotations across {quotes['theme'].nunique()} themes"]
    parts += [f"{len(texts)} in {t.cite(name)}" for name, texts in said.items() if texts]
    return Answer(f"Yes: {distinct} quotations, each shown once ({'; '.join(parts)}), each identified by "
                  f"{', '.join(words[c] for c in shown)}"
                  + ("" if "participant" in quotes else " only (disclosure control on: no pseudonym or role group)")
                  + ".", [t.cite("quotes")] + [t.cite(name) for name in said if said[name]])


def _theme_lines(t: Tables, summary: pd.DataFrame) -> list[str]:
    people = t("theme_participants")
    overall = people[people["role_group"] == "all participants"].set_index("theme")
    lines = []
    for row in summary.itertuples():
        raised = (f"; raised by {overall.at[row.theme, 'participants']} of {overall.at[row.theme, 'role_group_n']} "
                  f"participants" if row.theme in overall.index else "")
        share = "" if _redacted(row.references) else f" ({row.pct_references}% of references)"
        lines.append(f"{row.theme}: {row.references} references{share}{raised}")
    return lines


def major_themes(t: Tables) -> Answer:
    summary = t("theme_summary")
    return Answer(f"Yes: {len(summary)} themes, each with its coded references, sources and participants: "
                  + "; ".join(_theme_lines(t, summary)) + ".",
                  [t.cite("theme_summary", shown_in="theme_tallies"), t.cite("theme_participants")])


def minor_themes(t: Tables) -> Answer:
    codes = t("theme_tallies")
    refs = pd.to_numeric(codes["references"].where(codes["references"].astype(str) != REDACTED), errors="coerce")
    shown = codes.assign(_n=refs).dropna(subset=["_n"]).sort_values("_n", kind="mergesort")
    fewest = shown.head(3)
    text = ("The codes with the fewest coded references: "
            + "; ".join(f"{r.code} ({r.theme}): {r.references}" for r in fewest.itertuples()) + ".")
    if refs.isna().any():
        text += f" {int(refs.isna().sum())} codes have a redacted count and are not ranked."
    return Answer(text, [t.cite("theme_tallies")])


def software(t: Tables) -> Answer:
    from .page import software as used  # the versions the report's Provenance lists, from the steps' records

    versions = used(t.folder.parent)[0]
    listed = ", ".join(f"{name} {versions[name].partition(' (')[0]}"
                       for name in ("pandas", "statsmodels", "krippendorff") if name in versions)
    return Answer(f"The coded data were tallied and analysed in Python {versions['python']} ({listed}), by this "
                  f"project's pipeline; every version is listed under Provenance in the report.", ["report.html"])


# --- the 32 items ---------------------------------------------------------------------------

D1, D2, D3 = "Domain 1: Research team and reflexivity", "Domain 2: Study design", "Domain 3: Analysis and findings"
ITEMS: tuple[Item, ...] = (
    Item(1, D1, "Personal characteristics", "Interviewer/facilitator",
         "Which author/s conducted the interview or focus group?",
         "which author(s) conducted each interview and focus group."),
    Item(2, D1, "Personal characteristics", "Credentials", "What were the researcher's credentials? E.g. PhD, MD",
         "each interviewer's and facilitator's credentials."),
    Item(3, D1, "Personal characteristics", "Occupation", "What was their occupation at the time of the study?",
         "each researcher's occupation at the time of the study."),
    Item(4, D1, "Personal characteristics", "Gender", "Was the researcher male or female?",
         "the researchers' gender."),
    Item(5, D1, "Personal characteristics", "Experience and training",
         "What experience or training did the researcher have?",
         "the researchers' experience and training in qualitative methods."),
    Item(6, D1, "Relationship with participants", "Relationship established",
         "Was a relationship established prior to study commencement?",
         "whether the researchers knew the participants before the study (e.g. as programme faculty)."),
    Item(7, D1, "Relationship with participants", "Participant knowledge of the interviewer",
         "What did the participants know about the researcher? e.g. personal goals, reasons for doing the research",
         "what participants were told about the researchers and the reasons for the research."),
    Item(8, D1, "Relationship with participants", "Interviewer characteristics",
         "What characteristics were reported about the interviewer/facilitator? e.g. Bias, assumptions, reasons and "
         "interests in the research topic", "the interviewers' assumptions and interests in the topic (reflexivity)."),
    Item(9, D2, "Theoretical framework", "Methodological orientation and Theory",
         "What methodological orientation was stated to underpin the study? e.g. grounded theory, discourse "
         "analysis, ethnography, phenomenology, content analysis",
         "the methodological orientation (e.g. thematic analysis with a constructivist approach)."),
    Item(10, D2, "Participant selection", "Sampling",
         "How were participants selected? e.g. purposive, convenience, consecutive, snowball",
         "how participants were selected for the questionnaire, the interviews and the focus groups."),
    Item(11, D2, "Participant selection", "Method of approach",
         "How were participants approached? e.g. face-to-face, telephone, mail, email",
         "how participants were approached."),
    Item(12, D2, "Participant selection", "Sample size", "How many participants were in the study?",
         answer=sample_size),
    Item(13, D2, "Participant selection", "Non-participation",
         "How many people refused to participate or dropped out? Reasons?",
         "how many people were invited and did not respond, and refusals or drop-outs of interviews and focus "
         "groups, with reasons (only the questionnaire responses received are in the data).", non_participation),
    Item(14, D2, "Setting", "Setting of data collection", "Where was the data collected? e.g. home, clinic, workplace",
         "where (or by what medium, e.g. video call) the interviews and focus groups took place."),
    Item(15, D2, "Setting", "Presence of non-participants",
         "Was anyone else present besides the participants and researchers?",
         "whether anyone else was present."),
    Item(16, D2, "Setting", "Description of sample",
         "What are the important characteristics of the sample? e.g. demographic data, date",
         "other characteristics of the sample (e.g. years since the programme, organisation type), if reported.",
         sample_description),
    Item(17, D2, "Data collection", "Interview guide",
         "Were questions, prompts, guides provided by the authors? Was it pilot tested?",
         "the interview and focus-group guide (as a supplementary file) and whether it was pilot tested."),
    Item(18, D2, "Data collection", "Repeat interviews", "Were repeat interviews carried out? If yes, how many?",
         "whether any participant was interviewed more than once, and how many times."),
    Item(19, D2, "Data collection", "Audio/visual recording",
         "Did the research use audio or visual recording to collect the data?",
         "whether interviews and focus groups were audio or video recorded and transcribed."),
    Item(20, D2, "Data collection", "Field notes",
         "Were field notes made during and/or after the interview or focus group?",
         "whether field notes were made."),
    Item(21, D2, "Data collection", "Duration", "What was the duration of the interviews or focus group?",
         "the duration of the interviews and focus groups (range or mean)."),
    Item(22, D2, "Data collection", "Data saturation", "Was data saturation discussed?", answer=saturation,
         if_none="whether and how saturation was assessed (the data hold no interviews to trace it over)."),
    Item(23, D2, "Data collection", "Transcripts returned",
         "Were transcripts returned to participants for comment and/or correction?",
         "whether transcripts were returned to participants."),
    Item(24, D3, "Data analysis", "Number of data coders", "How many data coders coded the data?",
         "how many coders coded all the data (the tables name only the coders of the sources coded by two or "
         "more) and each coder's role.", coders),
    Item(25, D3, "Data analysis", "Description of the coding tree",
         "Did authors provide a description of the coding tree?", answer=coding_tree),
    Item(26, D3, "Data analysis", "Derivation of themes", "Were themes identified in advance or derived from the data?",
         "whether the codebook was defined in advance, derived from the data, or both."),
    Item(27, D3, "Data analysis", "Software", "What software, if applicable, was used to manage the data?",
         "the software used to code the transcripts (e.g. NVivo, QualCoder, Taguette) and to manage the data.",
         software),
    Item(28, D3, "Data analysis", "Participant checking", "Did participants provide feedback on the findings?",
         "whether participants gave feedback on the findings."),
    Item(29, D3, "Reporting", "Quotations presented",
         "Were participant quotations presented to illustrate the themes/findings? Was each quotation identified? "
         "e.g. participant number", answer=quotations,
         if_none="the quotations and how each is identified (no coded segment in the data has text to quote)."),
    Item(30, D3, "Reporting", "Data and findings consistent",
         "Was there consistency between the data presented and the findings?",
         "whether the manuscript's findings are consistent with the data presented (every value in the tables, "
         "figures and numbers.json is read from the pipeline's output files, so cite them rather than retype them)."),
    Item(31, D3, "Reporting", "Clarity of major themes", "Were major themes clearly presented in the findings?",
         answer=major_themes),
    Item(32, D3, "Reporting", "Clarity of minor themes",
         "Is there a description of diverse cases or discussion of minor themes?",
         "a description of diverse cases and a discussion of the minor themes.", minor_themes),
)


def draft(tables_folder: Path, rules: Disclosure = OFF) -> list[Drafted]:
    """Every item of the checklist, answered from the tables in `tables_folder` (written under the
    disclosure control `rules`) where they can."""
    tables = Tables(Path(tables_folder), rules)
    return [item.draft(tables) for item in ITEMS]


TITLE = "COREQ checklist"
ABOUT = ("Consolidated criteria for reporting qualitative research (Tong, Sainsbury & Craig, Int J Qual Health "
         "Care 2007;19:349-57).")


def markdown(drafted: list[Drafted], cohort: str, disclosure: str, title: str = TITLE, about: str = ABOUT) -> str:
    """The checklist as Markdown: by domain, each item with its answer, status and sources."""
    lines = [f"# {title}, drafted from the data ({cohort})", "",
             f"{about} Items the data answer cite the table each answer came from; the rest say "
             f"\"{AUTHORS}\" and what is needed. Disclosure control: {disclosure}.", ""]
    domain = group = None
    for entry in drafted:
        item = entry.item
        if item.domain != domain:
            domain, group = item.domain, None
            lines += [f"## {domain}", ""]
        if item.group != group:
            group = item.group
            lines += [f"### {group}", ""] if group else []
        lines += [f"**{item.label}. {item.topic}**: {item.question}", "",
                  f"{entry.text}", "",
                  f"*Status: {entry.status}.*" + (f" *Source: {'; '.join(entry.sources)}.*" if entry.sources else ""),
                  ""]
    return "\n".join(lines)
