"""The SRQR checklist (Standards for Reporting Qualitative Research; O'Brien, Harris, Beckman,
Reed & Cook, Acad Med 2014;89:1245-51), drafted from a run's published tables, beside COREQ.

Built as COREQ is (helpers.report.coreq): each of the 21 standards is answered from the tables
where the data can answer it, with the same answer functions, so the two checklists never
disagree; every other standard says "For the authors to complete:" and what is needed.
"""
from __future__ import annotations

from pathlib import Path

from helpers.analysis.disclosure import OFF, Disclosure

from .coreq import (
    Answer,
    Drafted,
    Item,
    Tables,
    coders,
    coding_tree,
    major_themes,
    non_participation,
    quotations,
    sample_description,
    sample_size,
    saturation,
    software,
)

PREFIX = "S"  # SRQR numbers its standards S1-S21
TITLE = "SRQR checklist"
ABOUT = ("Standards for Reporting Qualitative Research (O'Brien, Harris, Beckman, Reed & Cook, Acad Med "
         "2014;89:1245-51).")


def collection(t: Tables) -> Answer:
    """What was collected: the kinds of source and the questionnaire's items."""
    text = sample_description(t).text.partition("Sources: ")[2] or "see Table 1."
    items = list(t("likert_summary")["item"]) if t.has("likert_summary") else []
    if items:
        text += (f" The questionnaire asked {len(items)} Likert items (1-5): "
                 + ", ".join(i.replace("_", " ") for i in items) + ".")
    return Answer(f"Sources analysed: {text}", [t.cite("participant_characteristics")]
                  + ([t.cite("likert_summary")] if items else []))


def processing(t: Tables) -> Answer:
    """What happened to the data between collection and analysis, as the pipeline did it."""
    labelled = t.has("quotes") and "participant" in t("quotes")
    return Answer("Participants appear only as keyed pseudonyms in the analysis, "
                  + ("and quotes carry short labels (P01...) whose key is not published; " if labelled else
                     "and quotes carry only their kind of source (disclosure control); ")
                  + "quotes are scrubbed of e-mail addresses, telephone and NHS numbers and listed names. "
                  + non_participation(t).text + " " + software(t).text,
                  non_participation(t).sources + software(t).sources)


def analysis(t: Tables) -> Answer:
    parts = [coding_tree(t)] + ([Answer(f"The codebook, with each code's definition and an exemplar quote, is "
                                        f"{t.cite('codebook')}.", [t.cite("codebook")])] if t.has("codebook") else [])
    return Answer(" ".join(p.text.removeprefix("Yes: ") for p in parts), [s for p in parts for s in p.sources])


def trustworthiness(t: Tables) -> Answer | None:
    parts = [p for p in (coders(t), saturation(t)) if p]
    if t.has("joint_display"):
        parts.append(Answer(f"The questionnaire's results are set beside the themes they speak to in "
                            f"{t.cite('joint_display')} (triangulation across the two strands).",
                            [t.cite("joint_display")]))
    return Answer(" ".join(p.text for p in parts), [s for p in parts for s in p.sources]) if parts else None


def synthesis(t: Tables) -> Answer:
    found = major_themes(t)
    if t.has("joint_display"):
        return Answer(f"{found.text} Integration with the questionnaire: {t.cite('joint_display')}.",
                      found.sources + [t.cite("joint_display")])
    return found


# The checklist's sections.
TA, IN, ME, RE, DI, OT = (
    "Title and abstract", "Introduction", "Methods", "Results/findings", "Discussion", "Other")
ITEMS: tuple[Item, ...] = tuple(Item(number, group, "", topic, question, needed, answer, if_none, prefix=PREFIX)
                                for number, group, topic, question, needed, answer, if_none in (
    (1, TA, "Title", "Concise description of the nature and topic of the study, identifying the study as "
     "qualitative or indicating the approach or data collection methods.", "the title.", None, ""),
    (2, TA, "Abstract", "Summary of key elements of the study using the abstract format of the intended publication.",
     "the abstract.", None, ""),
    (3, IN, "Problem formulation", "Description and significance of the problem/phenomenon studied; review of "
     "relevant theory and empirical work; problem statement.", "the problem and its significance.", None, ""),
    (4, IN, "Purpose or research question", "Purpose of the study and specific objectives or questions.",
     "the purpose and research questions.", None, ""),
    (5, ME, "Qualitative approach and research paradigm", "Qualitative approach and guiding theory if appropriate; "
     "identifying the research paradigm is also recommended; rationale.",
     "the approach (e.g. thematic analysis) and paradigm, with the rationale.", None, ""),
    (6, ME, "Researcher characteristics and reflexivity", "Researchers' characteristics that may influence the "
     "research; potential or actual interaction between researchers' characteristics and the research.",
     "the researchers' characteristics, relationships with participants and reflexivity (COREQ items 1-8).",
     None, ""),
    (7, ME, "Context", "Setting/site and salient contextual factors; rationale.",
     "the setting (the programme, the organisations) and contextual factors.", None, ""),
    (8, ME, "Sampling strategy", "How and why research participants, documents, or events were selected; criteria "
     "for deciding when no further sampling was necessary; rationale.",
     "how and why participants were selected, and when sampling stopped.", sample_size, ""),
    (9, ME, "Ethical issues pertaining to human subjects", "Documentation of approval by an appropriate ethics review "
     "board and participant consent, or explanation for lack thereof; other confidentiality and data security "
     "issues.", "the ethics approval (board and reference) and how consent was obtained.",
     non_participation, ""),
    (10, ME, "Data collection methods", "Types of data collected; details of data collection procedures; "
     "iterative process; triangulation of sources/methods; modification of procedures in response to findings; "
     "rationale.", "the procedures of each kind of data collection, and any change to them.", collection, ""),
    (11, ME, "Data collection instruments and technologies", "Description of instruments (e.g. interview guides, "
     "questionnaires) and devices used for data collection; if/how the instruments changed over the course of "
     "the study.", "the interview and focus-group guides and the questionnaire (as supplementary files), and "
     "recording devices.", None, ""),
    (12, ME, "Units of study", "Number and relevant characteristics of participants, documents, or events included "
     "in the study; level of participation.", "", sample_description, ""),
    (13, ME, "Data processing", "Methods for processing data prior to and during analysis, including transcription, "
     "data entry, data management and security, verification of data integrity, data coding, and anonymisation/"
     "de-identification of excerpts.", "transcription and how data were stored and kept secure.", processing, ""),
    (14, ME, "Data analysis", "Process by which inferences, themes, etc., were identified and developed, including "
     "the researchers involved in data analysis; usually references a specific paradigm or approach; rationale.",
     "how themes were developed and who took part in the analysis.", analysis, ""),
    (15, ME, "Techniques to enhance trustworthiness", "Techniques to enhance trustworthiness and credibility of data "
     "analysis (e.g. member checking, audit trail, triangulation); rationale.",
     "member checking and any other technique used.", trustworthiness,
     "the techniques used (no source was coded by two coders and there are no interviews to trace saturation)."),
    (16, RE, "Synthesis and interpretation", "Main findings (e.g. interpretations, inferences, and themes); might "
     "include development of a theory or model, or integration with prior research or theory.",
     "the interpretation of the themes.", synthesis, ""),
    (17, RE, "Links to empirical data", "Evidence (e.g. quotes, field notes, text excerpts, photographs) to "
     "substantiate analytic findings.", "", quotations,
     "the evidence for each finding (no coded segment in the data has text to quote)."),
    (18, DI, "Integration with prior work, implications, transferability, and contribution(s) to the field",
     "Short summary of main findings; explanation of how findings and conclusions connect to, support, elaborate "
     "on, or challenge conclusions of earlier scholarship; discussion of scope of application/generalizability; "
     "identification of unique contribution(s) to scholarship in a discipline or field.",
     "the discussion of the findings against earlier work and their transferability.", None, ""),
    (19, DI, "Limitations", "Trustworthiness and limitations of findings.", "the limitations.", None, ""),
    (20, OT, "Conflicts of interest", "Potential sources of influence or perceived influence on study conduct and "
     "conclusions; how these were managed.", "the conflicts of interest and how they were managed.", None, ""),
    (21, OT, "Funding", "Sources of funding and other support; role of funders in data collection, interpretation, "
     "and reporting.", "the funding and the funders' role.", None, ""),
))


def draft(tables_folder: Path, rules: Disclosure = OFF) -> list[Drafted]:
    """Every standard of SRQR, answered from the tables in `tables_folder` (written under the
    disclosure control `rules`, as COREQ's) where they can."""
    tables = Tables(Path(tables_folder), rules)
    return [item.draft(tables) for item in ITEMS]
