"""One-line plain-English readings of the report's tables, written from the tables.

Each function takes a table as the pipeline wrote it (values may be [REDACTED] under
disclosure control) and returns one sentence a reviewer can read without the table.
"""
from __future__ import annotations

import pandas as pd

from helpers.analysis.disclosure import REDACTED
from helpers.data.contract import ALL_CODERS, POOLED

from .outputs import SMALL_N


def _shown(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column].where(frame[column].astype(str) != REDACTED), errors="coerce")


def _ci(row) -> str:
    return f"95% CI {float(row['ci_low']):.1f} to {float(row['ci_high']):.1f}"


def participants(table: pd.DataFrame) -> str:
    n = _shown(table, "n")
    if n.isna().all():
        return "Every role-group count is small enough to be redacted."
    top = table.loc[n.idxmax()]
    return (f"The largest role group was {top['role_group']}: {top['n']} participants "
            f"({float(top['pct']):.1f}%, {_ci(top)}); with n this small, intervals are wide.")


def sources(table: pd.DataFrame) -> str:
    parts = [f"{row.n} {row.source_type.replace('_', ' ')}{'' if str(row.n) == '1' else 's'}"
             for row in table.itertuples() if str(row.n) not in ("0",)]
    double = _shown(table, "double_coded")
    # A redacted cell is not a zero: a sum over it would state a false count.
    coded = (f"{int(double.sum())} sources were coded" if double.notna().all()
             else "the number of sources coded (redacted in some types) is not summed")
    return f"The run holds {', '.join(parts)}; {coded} by two or more coders."


def likert(table: pd.DataFrame) -> str:
    agree = _shown(table, "pct_agree")
    if table.empty or agree.isna().all():
        return "No questionnaire item can be summarised."
    best, worst = table.loc[agree.idxmax()], table.loc[agree.idxmin()]
    missing = _shown(table, "missing")
    # A redacted cell is not a zero: a sum over it would state a false count.
    blank = (f"{int(missing.sum())} answers were left blank and are counted as missing" if missing.notna().all()
             else "blank answers are counted as missing (their number is redacted)")
    return (f"Agreement was highest for {best['item'].replace('_', ' ')} ({float(best['pct_agree']):.1f}% agree, "
            f"{_ci(best)}) and lowest for {worst['item'].replace('_', ' ')} ({float(worst['pct_agree']):.1f}%); "
            f"{blank}.")


def likert_by_role(table: pd.DataFrame) -> str:
    # Only groups of at least SMALL_N answers are headlined: 0% of one person is not a finding.
    agree = _shown(table, "pct_agree").where(_shown(table, "n") >= SMALL_N)
    if table.empty or agree.isna().all():
        return f"No role group gave {SMALL_N} or more answers to an item, so none is compared."
    low = table.loc[agree.idxmin()]
    return (f"Among role groups with at least {SMALL_N} answers, the least agreement was "
            f"{float(low['pct_agree']):.1f}% ({low['role_group']}, {low['item'].replace('_', ' ')}, n = {low['n']}).")


def themes(table: pd.DataFrame) -> str:
    refs = _shown(table, "references")
    top = table.loc[refs.idxmax()]
    return (f"{top['theme']} holds the most coded references ({top['references']}, "
            f"{float(top['pct_references']):.1f}% of all references).")


def theme_by_role_group(table: pd.DataFrame) -> str:
    """Which theme holds the largest share of each role group's references."""
    share = _shown(table, "pct_of_role_group")
    if share.isna().all():
        return "The shares of each role group's references are redacted."
    top = table.assign(_share=share).dropna(subset=["_share"]).sort_values("_share", ascending=False,
                                                                          kind="mergesort")
    top = top[pd.to_numeric(top["references"], errors="coerce") > 0].drop_duplicates("role_group")
    if top.empty:
        return "No attributed references to compare across role groups."
    if top["theme"].nunique() == 1:
        return (f"{top['theme'].iloc[0]} holds the largest share of every role group's references "
                f"({top['_share'].min():.1f}% to {top['_share'].max():.1f}%).")
    parts = [f"{theme} for {', '.join(rows['role_group'])}" for theme, rows in top.groupby("theme", sort=False)]
    return "The theme with the largest share of a role group's references is " + "; ".join(parts) + "."


def theme_participants(table: pd.DataFrame) -> str:
    overall = table[table["role_group"] == "all participants"]  # the whole run: never a small group
    share = _shown(overall, "pct_of_role_group")
    if share.isna().all():
        return "Participant counts per theme are redacted."
    low = overall.loc[share.idxmin()]
    return (f"Every theme was raised by at least {float(low['pct_of_role_group']):.1f}% of participants "
            f"({low['theme']}: {low['participants']} of {low['role_group_n']}, {_ci(low)}), so no theme rests "
            f"on a single voice.") if float(low["participants"]) > 1 else (
            f"{low['theme']} was raised by only {low['participants']} participant(s): read its share with care.")


def agreement(table: pd.DataFrame) -> str:
    if table.empty:
        return "No source was coded by two or more coders, so agreement cannot be measured."
    pooled = table[table["code"] == POOLED]
    pairs = pooled[pooled["coders"] != ALL_CODERS]
    texts = [f"{row.coders}: Cohen's kappa " + (f"{float(row.cohen_kappa):.2f} ({strength(float(row.cohen_kappa))})"
                                                 if str(row.cohen_kappa) != REDACTED else REDACTED)
             + f" over {row.units} decisions in {row.sources} sources" for row in pairs.itertuples()]
    every = pooled[pooled["coders"] == ALL_CODERS]
    if len(every):
        alpha = every["krippendorff_alpha"].iloc[0]
        texts.append("Krippendorff's alpha across all coders "
                     + (REDACTED if str(alpha) == REDACTED else f"{float(alpha):.2f}"))
    return "Pooled agreement: " + "; ".join(texts) + "." + prevalence_effect(table)


def prevalence_effect(table: pd.DataFrame) -> str:
    """One sentence on codes whose raw agreement is high while kappa or alpha is low, or ""."""
    codes = table[(table["code"] != POOLED) & (table["coders"] == ALL_CODERS)]
    raw = pd.to_numeric(codes["agreement_pct"], errors="coerce")
    alpha = pd.to_numeric(codes["krippendorff_alpha"], errors="coerce")
    odd = codes[(raw >= 90) & (alpha.isna() | (alpha < 0.4))]
    if odd.empty:
        return ""
    worst = odd.loc[pd.to_numeric(odd["agreement_pct"]).idxmax()]
    alpha_text = "undefined" if pd.isna(pd.to_numeric(worst["krippendorff_alpha"], errors="coerce")) else \
        f"{float(worst['krippendorff_alpha']):.2f}"
    return (f" {len(odd)} code{'s' if len(odd) != 1 else ''} show high raw agreement but low alpha (for example "
            f"{worst['code']}: {float(worst['agreement_pct']):.1f}% raw agreement, alpha {alpha_text}). That is "
            f"the prevalence effect of a rarely applied code: nearly every decision is 'not applied', so the "
            f"agreement expected by chance is already high and a single disagreement pulls kappa and alpha "
            f"towards zero; read those codes' coefficients with their raw agreement.")


def cooccurrence(table: pd.DataFrame) -> str:
    segs = _shown(table, "segments")
    if table.empty or segs.isna().all() or segs.max() == 0:
        return "No two codes were applied to the same segment."
    top = table.loc[segs.idxmax()]
    return (f"The codes most often applied together were {top['code_a']} and {top['code_b']} "
            f"({top['segments']} segments; {top['participants']} participants raised both).")


def saturation(table: pd.DataFrame) -> str:
    if table.empty:
        return "There are no interviews, so saturation cannot be assessed."
    new = table[_shown(table, "new_codes") > 0]
    if str(table["cumulative_codes"].iloc[-1]) == REDACTED:
        return "The counts of codes per interview are redacted (disclosure control)."
    total = int(table["cumulative_codes"].iloc[-1])
    if new.empty:
        return "No interview was coded."
    last = int(new["order"].iloc[-1])
    tail = len(table) - last
    if tail == 0:
        return (f"New codes were still appearing in the last interview ({last} of {len(table)}), so these "
                f"interviews do not show saturation ({total} codes found).")
    return (f"The last new code appeared in interview {last} of {len(table)}; the {tail} interview"
            f"{'s' if tail != 1 else ''} after it added none ({total} codes found in interviews).")


def strength(value: float) -> str:
    """Landis & Koch's (1977) words for a kappa, as reviewers expect them."""
    if value != value:  # NaN
        return "undefined"
    for limit, word in ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if value <= limit:
            return word
    return "almost perfect"
