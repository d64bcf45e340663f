"""Names and values of the raw-data contract (data/README.md), importing nothing heavy.

Kept apart from helpers.data.load (which validates with pandera) so that the figures and
the report can name Likert levels or source types without importing a validation library.
"""
SOURCE_TYPES = ("interview", "focus_group", "questionnaire", "dissertation")
ROLE_GROUPS = ("clinician", "management", "data science", "other")
TRUE_WORDS = frozenset({"yes", "true", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "0", "n"})
LIKERT_PREFIX = "q_"
FREE_TEXT_PREFIX = "text_"
# Why cleaning dropped a row: the reasons of cleaning_log.csv and Table 1's flow.
REASON_NO_CONSENT = "no consent"
REASON_NOT_FINISHED = "questionnaire not finished"
REASON_DUPLICATE = "earlier submission of a repeated participant_id"
REASON_EXCLUDED_PARTICIPANT = "coded segment of a participant excluded by cleaning"

# Rows of agreement.csv that summarise: every code pooled, and every coder together.
POOLED = "(all codes pooled)"
ALL_CODERS = "all coders"
LIKERT_LEVELS = (1, 2, 3, 4, 5)
LIKERT_LABELS = {1: "Strongly disagree", 2: "Disagree", 3: "Neutral", 4: "Agree", 5: "Strongly agree"}

# The text of the SYNTHETIC marker file that `make synthetic` writes next to the bundled
# cohorts: only data carrying exactly this note are said to reproduce the papers.
SYNTHETIC_NOTE = (
    "The cohorts in this folder are synthetic, written by `make synthetic` (helpers/tools/synthetic.py).\n"
    "No real participant is described. They are built to reproduce the published figures of\n"
    "Acharya et al., BMJ Open 2022 and JMIR Med Educ 2024. Remove this file only for real data.\n"
)
# The notes that mark the bundle: today's, and the one written before the generator moved to
# helpers/tools/ (a copy of the bundle made then is still the bundle).
SYNTHETIC_NOTES = (SYNTHETIC_NOTE, SYNTHETIC_NOTE.replace("helpers/tools/synthetic.py", "helpers/synthetic.py"))
