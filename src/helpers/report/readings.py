"""One-line plain-English readings of the report's tables, written from the tables.

Each function takes a table as the pipeline wrote it (values may be [REDACTED] under
disclosure control) and returns one sentence a reviewer can read without the table.

Every value a sentence quotes goes in by name (`_say`), so the same values can be listed
by name for a manuscript (`collect()`, numbers.json): what an author cites is what the
report printed, never worked out a second time.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar

import pandas as pd

from helpers.analysis.disclosure import OFF, REDACTED, Disclosure, shown_count
from helpers.data.contract import ALL_CODERS, POOLED

from .outputs import SMALL_N
from .tables import coefficient

# Where the values quoted by the readings go while a `collect()` block runs.
_collected: ContextVar[dict | None] = ContextVar("readings_collected", default=None)


@contextmanager
def collect():
    """Within the block, every value a reading quotes is recorded as `<reading>.<name>` ->
    the value as printed, in the dict yielded."""
    values: dict[str, str] = {}
    token = _collected.set(values)
    try:
        yield values
    finally:
        _collected.reset(token)


def slug(text) -> str:
    """A name part from a label: 'AA & AS' -> 'aa_as', 'data science' -> 'data_science'."""
    return re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_") or "blank"


def _say(reading: str, template: str, **values) -> str:
    """The sentence `template` with `values` put in (each as printed), recorded by name; a name
    starting with `_` is a piece of wording (a plural ending, a clause), not recorded."""
    shown = {name: str(value) for name, value in values.items()}
    for name, value in shown.items():
        if not name.startswith("_"):
            _record(reading, name, value)
    return template.format(**shown)


def _named(reading: str, name: str, value) -> str:
    """One value as printed, recorded as `<reading>.<name>` (for names made from the data)."""
    return _record(reading, name, str(value))


def _record(reading: str, name: str, value: str) -> str:
    store = _collected.get()
    if store is not None:
        store[f"{reading}.{name}"] = value
    return value


def _shown(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column].where(frame[column].astype(str) != REDACTED), errors="coerce")


def _ci(reading: str, row, prefix: str = "") -> str:
    low, high = (_named(reading, prefix + end, f"{float(row[end]):.1f}") for end in ("ci_low", "ci_high"))
    return f"95% CI {low} to {high}"


def _listed(names) -> str:
    """Names as a sentence lists them: 'A', 'A and B', 'A, B and C'."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _leaders(table: pd.DataFrame, values: pd.Series, highest: bool = True) -> pd.DataFrame:
    """The rows that share the highest (or lowest) value: more than one is a tie, and a reading
    names it as one rather than headlining whichever row came first."""
    best = values.max() if highest else values.min()
    return table[values == best]


def participants(table: pd.DataFrame) -> str:
    n = _shown(table, "n")
    if n.isna().all():
        return "Every role-group count is small enough to be redacted."
    if not (n >= SMALL_N).any():  # a "largest" group of three people is not a finding, and points at them
        return _say("participants", "Every role group has fewer than {small_n} participants, so none is singled "
                    "out; with n this small, intervals are wide.", small_n=SMALL_N)
    tied = _leaders(table, n)
    if len(tied) > 1:
        top = tied.iloc[0]
        return _say("participants", "The largest role groups were {largest_groups}, tied at {largest_group_n} "
                    "participants each ({largest_group_pct}%, {_ci}); with n this small, intervals are wide.",
                    largest_groups=_listed(tied["role_group"]), largest_group_n=top["n"],
                    largest_group_pct=f"{float(top['pct']):.1f}", _ci=_ci("participants", top, "largest_group_"))
    top = table.loc[n.idxmax()]
    return _say("participants", "The largest role group was {largest_group}: {largest_group_n} participants "
                "({largest_group_pct}%, {_ci}); with n this small, intervals are wide.",
                largest_group=top["role_group"], largest_group_n=top["n"], largest_group_pct=f"{float(top['pct']):.1f}",
                _ci=_ci("participants", top, "largest_group_"))


def sources(table: pd.DataFrame) -> str:
    parts = [f"{_named('sources', slug(row.source_type), row.n)} "
             f"{row.source_type.replace('_', ' ')}{'' if str(row.n) == '1' else 's'}"
             for row in table.itertuples() if str(row.n) not in ("0",)]
    double = _shown(table, "double_coded")
    # A redacted cell is not a zero: a sum over it would state a false count.
    coded = (_say("sources", "{double_coded} sources were coded", double_coded=int(double.sum()))
             if double.notna().all() else "the number of sources coded (redacted in some types) is not summed")
    return f"The run holds {', '.join(parts)}; {coded} by two or more coders."


def likert(table: pd.DataFrame) -> str:
    agree = _shown(table, "pct_agree")
    if table.empty or agree.isna().all():
        return "No questionnaire item can be summarised."
    best, worst = table.loc[agree.idxmax()], table.loc[agree.idxmin()]
    top, bottom = _leaders(table, agree), _leaders(table, agree, highest=False)
    missing = _shown(table, "missing")
    # A redacted cell is not a zero: a sum over it would state a false count.
    blank = (_say("likert", "{missing} answers were left blank and are counted as missing", missing=int(missing.sum()))
             if missing.notna().all() else "blank answers are counted as missing (their number is redacted)")
    if len(top) > 1 or len(bottom) > 1:  # ties named as ties, never one of them picked silently
        each = lambda rows: " each" if len(rows) > 1 else ""  # noqa: E731
        return _say("likert", "Agreement was highest for {highest_item} ({highest_pct_agree}% agree{_each_high}) "
                    "and lowest for {lowest_item} ({lowest_pct_agree}%{_each_low}); {_blank}.",
                    highest_item=_listed(top["item"].str.replace("_", " ")),
                    highest_pct_agree=f"{float(best['pct_agree']):.1f}", _each_high=each(top),
                    lowest_item=_listed(bottom["item"].str.replace("_", " ")),
                    lowest_pct_agree=f"{float(worst['pct_agree']):.1f}", _each_low=each(bottom), _blank=blank)
    return _say("likert", "Agreement was highest for {highest_item} ({highest_pct_agree}% agree, {_ci}) and lowest "
                "for {lowest_item} ({lowest_pct_agree}%); {_blank}.",
                highest_item=best["item"].replace("_", " "), highest_pct_agree=f"{float(best['pct_agree']):.1f}",
                _ci=_ci("likert", best, "highest_"), lowest_item=worst["item"].replace("_", " "),
                lowest_pct_agree=f"{float(worst['pct_agree']):.1f}", _blank=blank)


def likert_by_role(table: pd.DataFrame) -> str:
    # Only groups of at least SMALL_N answers are headlined: 0% of one person is not a finding.
    agree = _shown(table, "pct_agree").where(_shown(table, "n") >= SMALL_N)
    if table.empty or agree.isna().all():
        return f"No role group gave {SMALL_N} or more answers to an item, so none is compared."
    low = table.loc[agree.idxmin()]
    tied = _leaders(table, agree, highest=False)
    if len(tied) > 1:
        return _say("likert_by_role", "Among role groups with at least {small_n} answers, the least agreement, "
                    "{lowest_pct_agree}%, is a tie between {lowest_tied}.", small_n=SMALL_N,
                    lowest_pct_agree=f"{float(low['pct_agree']):.1f}",
                    lowest_tied=_listed(f"{r.role_group} ({r.item.replace('_', ' ')}, n = {r.n})"
                                        for r in tied.itertuples()))
    return _say("likert_by_role", "Among role groups with at least {small_n} answers, the least agreement was "
                "{lowest_pct_agree}% ({lowest_role_group}, {lowest_item}, n = {lowest_n}).", small_n=SMALL_N,
                lowest_pct_agree=f"{float(low['pct_agree']):.1f}", lowest_role_group=low["role_group"],
                lowest_item=low["item"].replace("_", " "), lowest_n=low["n"])


def themes(table: pd.DataFrame) -> str:
    refs = _shown(table, "references")
    top = table.loc[refs.idxmax()]
    tied = _leaders(table, refs)
    if len(tied) > 1:
        return _say("themes", "{largest_themes} tie for the most coded references ({largest_theme_references} each, "
                    "{largest_theme_pct_references}% of all references).", largest_themes=_listed(tied["theme"]),
                    largest_theme_references=top["references"],
                    largest_theme_pct_references=f"{float(top['pct_references']):.1f}")
    return _say("themes", "{largest_theme} holds the most coded references ({largest_theme_references}, "
                "{largest_theme_pct_references}% of all references).", largest_theme=top["theme"],
                largest_theme_references=top["references"],
                largest_theme_pct_references=f"{float(top['pct_references']):.1f}")


def theme_by_role_group(table: pd.DataFrame) -> str:
    """Which theme holds the largest share of each role group's references."""
    share = _shown(table, "pct_of_role_group")
    if share.isna().all():
        return "The shares of each role group's references are redacted."
    if "role_group_n" in table:  # the page passes the groups' sizes: a group under SMALL_N is never headlined
        small = _shown(table, "role_group_n") < SMALL_N
        share = share.where(~small)
        if share.isna().all():
            return _say("theme_by_role_group", "Every role group has fewer than {small_n} participants, so none is "
                        "compared.", small_n=SMALL_N)
    ranked = table.assign(_share=share).dropna(subset=["_share"])
    ranked = ranked[pd.to_numeric(ranked["references"], errors="coerce") > 0]
    # A group whose largest share is held by two themes is named with both: a tie, not a pick.
    best = ranked.groupby("role_group", sort=False)["_share"].transform("max")
    ties = ranked[ranked["_share"] == best].groupby("role_group", sort=False)["theme"].agg(list)
    tied = {group: themes for group, themes in ties.items() if len(themes) > 1}
    top = ranked.sort_values("_share", ascending=False, kind="mergesort").drop_duplicates("role_group")
    top = top[~top["role_group"].isin(tied)]
    if tied:
        parts = [f"{_named('theme_by_role_group', 'top_theme_' + '_'.join(slug(g) for g in rows['role_group']), theme)}"
                 f" for {', '.join(rows['role_group'])}" for theme, rows in top.groupby("theme", sort=False)]
        parts += [f"a tie between {_named('theme_by_role_group', 'tied_themes_' + slug(group), _listed(themes))} "
                  f"for {group}" for group, themes in tied.items()]
        return "The theme with the largest share of a role group's references is " + "; ".join(parts) + "."
    if top.empty:
        return "No attributed references to compare across role groups."
    if top["theme"].nunique() == 1:
        compared = "every role group" if share.notna().sum() == _shown(table, "pct_of_role_group").notna().sum() \
            else f"every role group of at least {SMALL_N} people"
        return _say("theme_by_role_group", "{top_theme} holds the largest share of the references of {_compared} "
                    "({lowest_share}% to {highest_share}%).", top_theme=top["theme"].iloc[0], _compared=compared,
                    lowest_share=f"{top['_share'].min():.1f}", highest_share=f"{top['_share'].max():.1f}")
    parts = [f"{_named('theme_by_role_group', 'top_theme_' + '_'.join(slug(g) for g in rows['role_group']), theme)} "
             f"for {', '.join(rows['role_group'])}"
             for theme, rows in top.groupby("theme", sort=False)]
    return "The theme with the largest share of a role group's references is " + "; ".join(parts) + "."


def theme_participants(table: pd.DataFrame) -> str:
    overall = table[table["role_group"] == "all participants"]  # the whole run: never a small group
    share = _shown(overall, "pct_of_role_group")
    if share.isna().all():
        return "Participant counts per theme are redacted."
    low = overall.loc[share.idxmin()]
    if float(low["participants"]) > 1:
        return _say("theme_participants", "Every theme was raised by at least {least_raised_pct}% of participants "
                    "({least_raised_theme}: {least_raised_n} of {participants}, {_ci}), so no theme rests on a single "
                    "voice.", least_raised_pct=f"{float(low['pct_of_role_group']):.1f}",
                    least_raised_theme=low["theme"], least_raised_n=low["participants"],
                    participants=low["role_group_n"], _ci=_ci("theme_participants", low, "least_raised_"))
    return _say("theme_participants", "{least_raised_theme} was raised by only {least_raised_n} participant(s): read "
                "its share with care.", least_raised_theme=low["theme"], least_raised_n=low["participants"])


def agreement(table: pd.DataFrame) -> str:
    if table.empty:
        return "No source was coded by two or more coders, so agreement cannot be measured."
    pooled = table[table["code"] == POOLED]
    pairs = pooled[pooled["coders"] != ALL_CODERS]
    texts = []
    for row in pairs.itertuples():
        pair = slug(row.coders)
        kappa = (f"{_named('agreement', f'kappa_{pair}', coefficient(row.cohen_kappa))} "
                 f"({_named('agreement', f'strength_{pair}', strength(float(row.cohen_kappa)))})"
                 if str(row.cohen_kappa) != REDACTED else _named("agreement", f"kappa_{pair}", REDACTED))
        texts.append(f"{_named('agreement', f'coders_{pair}', row.coders)}: Cohen's kappa {kappa} over "
                     f"{_named('agreement', f'decisions_{pair}', row.units)} decisions in "
                     f"{_named('agreement', f'sources_{pair}', row.sources)} sources")
    every = pooled[pooled["coders"] == ALL_CODERS]
    if len(every):
        alpha = every["krippendorff_alpha"].iloc[0]
        texts.append(_say("agreement", "Krippendorff's alpha across all coders {alpha}",
                          alpha=REDACTED if str(alpha) == REDACTED else coefficient(alpha)))
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
        coefficient(worst['krippendorff_alpha'])
    # The coefficients that resist the paradox, and the prevalence behind it, where the table has them.
    beside = {} if "gwet_ac1" not in worst else {
        "prevalence_example_ac1": coefficient(worst["gwet_ac1"]),
        "prevalence_example_pabak": coefficient(worst["pabak"]),
        "prevalence_example_prevalence_pct": worst["prevalence_pct"]}
    numbers = (", but AC1 {prevalence_example_ac1} and PABAK {prevalence_example_pabak}, with the code applied in only "
               "{prevalence_example_prevalence_pct}% of decisions") if beside else ""
    resisting = (", while AC1 and PABAK, which do not take chance agreement from the rarity of the code, stay near the "
                 "raw agreement; read those codes' coefficients side by side.") if beside else \
        "; read those codes' coefficients with their raw agreement."
    return _say("agreement", " {prevalence_codes} code{_s} show high raw agreement but low alpha (for example "
                "{prevalence_example}: {prevalence_example_agreement_pct}% raw agreement, alpha "
                "{prevalence_example_alpha}" + numbers + "). That is the prevalence effect of a rarely applied code: "
                "nearly every decision is 'not applied', so the agreement expected by chance is already high and a "
                "single disagreement pulls kappa and alpha towards zero" + resisting,
                prevalence_codes=len(odd), _s="s" if len(odd) != 1 else "", prevalence_example=worst["code"],
                prevalence_example_agreement_pct=f"{float(worst['agreement_pct']):.1f}",
                prevalence_example_alpha=alpha_text, **beside)


def cooccurrence(table: pd.DataFrame) -> str:
    segs = _shown(table, "segments")
    if table.empty or segs.isna().all() or segs.max() == 0:
        return "No two codes were applied to the same segment."
    top = table.loc[segs.idxmax()]
    return _say("cooccurrence", "The codes most often applied together were {top_code_a} and {top_code_b} "
                "({top_segments} segments; {top_participants} participants raised both).", top_code_a=top["code_a"],
                top_code_b=top["code_b"], top_segments=top["segments"], top_participants=top["participants"])


def saturation(table: pd.DataFrame, rules: Disclosure = OFF) -> str:
    """Where the last new code appeared. Under disclosure control (`rules`, as the table was
    written with) the codes each interview added are redacted or rounded: a redacted 3 and a
    rounded 2 (shown as 0) both read as "none", so no interview is named as the last to add one,
    and the number of interviews is the one the tables show (rounded, or redacted), never the
    count of the table's rows."""
    if table.empty:
        return "There are no interviews, so saturation cannot be assessed."
    new = table[_shown(table, "new_codes") > 0]
    if str(table["cumulative_codes"].iloc[-1]) == REDACTED:
        return "The counts of codes per interview are redacted (disclosure control)."
    total = int(table["cumulative_codes"].iloc[-1])
    if rules.active:
        return _say("saturation", "Under disclosure control the codes each interview added are redacted or rounded, "
                    "so the interview where the last new code appeared is not stated ({interviews} interviews; "
                    "{codes_found} codes found in interviews, as the tables show them).",
                    interviews=shown_count(len(table), rules), codes_found=total)
    if new.empty:
        return "No interview was coded."
    last = int(new["order"].iloc[-1])
    tail = len(table) - last
    if tail == 0:
        return _say("saturation", "New codes were still appearing in the last interview ({last_new_code_interview} "
                    "of {interviews}), so these interviews do not show saturation ({codes_found} codes found).",
                    last_new_code_interview=last, interviews=len(table), codes_found=total)
    return _say("saturation", "The last new code appeared in interview {last_new_code_interview} of {interviews}; "
                "the {interviews_after} interview{_s} after it added none ({codes_found} codes found in interviews).",
                last_new_code_interview=last, interviews=len(table), interviews_after=tail,
                _s="s" if tail != 1 else "", codes_found=total)


# Readings whose sentence quotes a count the table holds only as its number of rows (interviews):
# they are told the disclosure rules, to quote it as the tables show it.
TOLD_RULES = ("saturation",)


def read(name: str, table: pd.DataFrame, rules: Disclosure = OFF) -> str:
    """The reading `name` of `table` (a table written under `rules`)."""
    function = globals()[name]
    return function(table, rules) if name in TOLD_RULES else function(table)


def strength(value: float) -> str:
    """Landis & Koch's (1977) words for a kappa, as reviewers expect them."""
    if value != value:  # NaN
        return "undefined"
    for limit, word in ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if value <= limit:
            return word
    return "almost perfect"


def project_focus(table: pd.DataFrame) -> str:
    """The largest project focus among the dissertations' coded references."""
    share = _shown(table, "pct_of_dissertation_references")
    if table.empty:
        return "The codebook has no dissertation project-focus subtheme, so there is nothing to show."
    if share.isna().all():
        return "Every project-focus count is small enough to be redacted."
    top = table.loc[share.idxmax()]
    return _say("project_focus", "The most frequent project focus in the dissertations was {top_code} "
                "({top_pct}% of {dissertation_references} coded dissertation references, 95% interval {top_low} to "
                "{top_high}).", top_code=top["code"], top_pct=f"{float(top['pct_of_dissertation_references']):.1f}",
                dissertation_references=top["dissertation_references"], top_low=f"{float(top['ci_low']):.1f}",
                top_high=f"{float(top['ci_high']):.1f}")


def codebook(table: pd.DataFrame) -> str:
    """How many codes the codebook holds, how many were used and quoted, and the most used."""
    refs = _shown(table, "references")
    quoted = int((table["exemplar"].fillna("").astype(str).str.strip() != "").sum())
    text = _say("codebook", "The codebook holds {codes} codes under {themes} themes; {codes_with_exemplar} have an "
                "exemplar quote that the report shows nowhere else.", codes=len(table),
                themes=table["theme"].nunique(), codes_with_exemplar=quoted)
    if refs.isna().all() or refs.max() == 0:
        return text
    tied = _leaders(table, refs)
    return text + _say("codebook", " The most referenced {_code} {top_code} ({top_code_references} "
                       "references{_each}).", _code="codes are" if len(tied) > 1 else "code is",
                       top_code=_listed(tied["code"]), top_code_references=tied["references"].iloc[0],
                       _each=" each" if len(tied) > 1 else "")


def joint_display(table: pd.DataFrame) -> str:
    """For all participants: each paired item's agreement beside the share raising its theme."""
    overall = table[(table["role_group"] == "all participants") & (table["theme"].fillna("").astype(str) != "")]
    if overall.empty:
        return "No questionnaire item of this run is paired with a theme of its codebook."
    parts = []
    for row in overall.itertuples():
        key = slug(row.item)
        agree = _named("joint_display", f"{key}_pct_agree", row.pct_agree if str(row.pct_agree) == REDACTED
                       else f"{float(row.pct_agree):.1f}")
        raised = _named("joint_display", f"{key}_pct_raised", row.pct_raised if str(row.pct_raised) == REDACTED
                        else f"{float(row.pct_raised):.1f}")
        parts.append(f"{row.item.replace('_', ' ')}: {agree}% agreed, and {raised}% raised {row.theme}")
    return "Across all participants, " + "; ".join(parts) + "."
