"""The joint display: each questionnaire item's result beside the theme it speaks to.

The standard way to show how a mixed-methods study integrates its strands (Guetterman,
Fetters & Creswell, Ann Fam Med 2015;13:554-61): per questionnaire item, the share agreeing,
the share of participants who raised the paired theme, per role group where n allows, and one
illustrative quote from that theme. Which theme an item speaks to is a decision of the
study, declared once, here (ITEM_THEMES); the report's caption and the tests read it from here.
"""
from __future__ import annotations

import pandas as pd

from helpers.data.store import Cleaned

from . import stats
from .disclosure import OFF, SMALL_N, Disclosure, protect

# Questionnaire item (its column without the q_ prefix) -> the theme of the codebook it speaks to.
# An item of the run not listed here, or paired with a theme the codebook lacks, is shown
# without a theme: its result stands alone. recommend_programme asks for an overall judgement
# that no single theme holds, so it is left unpaired on purpose.
ITEM_THEMES: dict[str, str] = {
    "confidence_leading_change": "Leadership identity",
    "network_value": "Network of change agents",
    "project_impact": "Loco-regional digitisation",
}
ALL = "all participants"


def shown_groups(cleaned: Cleaned) -> list[str]:
    """The run as a whole, then each role group with at least SMALL_N participants: a share of
    fewer people is not compared (and would point at them)."""
    sizes = cleaned.participants["role_group"].value_counts()
    return [ALL] + [g for g in cleaned.role_groups if sizes.get(g, 0) >= SMALL_N]


def joint_display_table(refs: pd.DataFrame, cleaned: Cleaned, quotes: pd.DataFrame,
                        rules: Disclosure = OFF) -> pd.DataFrame:
    """joint_display.csv: one row per questionnaire item and shown group (all participants,
    then each role group of at least SMALL_N): answered, agreeing (4 or 5) n, % and 95% Wilson
    interval, exactly as in the questionnaire tables; the paired theme, participants in the group
    and how many of them raised it; and, on the item's first row, one illustrative quote from
    that theme (`quotes`: one candidate per theme as chosen by helpers.analysis.themes, already
    scrubbed and labelled)."""
    from .themes import theme_participants_table

    likert = stats.likert_summary(cleaned.participants).assign(role_group=ALL)
    by_role = stats.likert_by_role(cleaned.participants, cleaned.role_groups)
    answers = pd.concat([likert, by_role], ignore_index=True).set_index(["item", "role_group"])
    raised = theme_participants_table(refs, cleaned).set_index(["theme", "role_group"])
    themes = set(cleaned.codebook["theme"])
    quote_of = quotes.drop_duplicates("theme").set_index("theme") if len(quotes) else None
    rows = []
    for item in likert["item"]:
        theme = ITEM_THEMES.get(item, "")
        theme = theme if theme in themes else ""
        for i, group in enumerate(shown_groups(cleaned)):
            answer = answers.loc[(item, group)]
            row = {"item": item, "theme": theme, "role_group": group, "answered": int(answer["n"]),
                   "agree": int(answer["n_4"] + answer["n_5"]), "pct_agree": answer["pct_agree"]}
            if theme and (theme, group) in raised.index:
                found = raised.loc[(theme, group)]
                row.update(role_group_n=int(found["role_group_n"]), raised=int(found["participants"]),
                           pct_raised=found["pct_of_role_group"])
            else:
                size = len(cleaned.participants) if group == ALL else \
                    int((cleaned.participants["role_group"] == group).sum())
                row.update(role_group_n=size, raised=0, pct_raised=float("nan"))
            quote = quote_of.loc[theme] if (i == 0 and theme and quote_of is not None and theme in quote_of.index) \
                else None
            row["quote"] = "" if quote is None else quote["quote"]
            for column in (c for c in quotes.columns if c not in ("theme", "code", "quote")):
                row[f"quote_{column}"] = "" if quote is None else quote[column]
            rows.append(row)
    columns = ["item", "theme", "role_group", "answered", "agree", "pct_agree", "role_group_n", "raised",
               "pct_raised", "quote"] + [f"quote_{c}" for c in quotes.columns if c not in ("theme", "code", "quote")]
    table = pd.DataFrame(rows, columns=columns)
    table = protect(table, rules, {"answered": {}, "agree": {"pct_agree": table["answered"]}, "role_group_n": {},
                                   "raised": {"pct_raised": table["role_group_n"]}})
    unpaired = table["theme"] == ""
    table["raised"] = table["raised"].astype(object).where(~unpaired, "")
    table["pct_raised"] = table["pct_raised"].astype(object).where(~unpaired, "")
    shown_answered = pd.to_numeric(table["answered"], errors="coerce").fillna(0)
    return stats.add_ci(table, "agree", shown_answered, after="pct_agree")
