"""The published tables of notebook 03: references, sources and participants per code,
subtheme and theme, by role group and source type, quotes, agreement, co-occurrence and
saturation, built from the cleaned data of one run.

Each function returns the table as it is written to tables/, with small-number
disclosure control applied (helpers.analysis.disclosure; off by default).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data import privacy
from helpers.data.contract import SOURCE_TYPES
from helpers.data.store import Cleaned

from . import agreement, bootstrap, cooccurrence, saturation, stats, tally
from .disclosure import OFF, REDACTED, SMALL_N, Disclosure, protect, round_counts
from .rounding import pct_half_up

QUOTES_PER_THEME = 3


def references(cleaned: Cleaned) -> pd.DataFrame:
    return tally.references(cleaned.segments, cleaned.codebook, cleaned.sources, cleaned.participants)


# Shares of references carry a cluster-bootstrap interval over sources (helpers.analysis.bootstrap),
# not a Wilson interval: references are clustered within sources and participants.

def _protect_tallies(table: pd.DataFrame, rules: Disclosure, total: int, refs: pd.DataFrame,
                     keys: list[str]) -> pd.DataFrame:
    table = protect(table, rules, {"references": {"pct_references": total}, "sources": {}, "participants": {}})
    # At the end, so the contract's columns of theme_tallies.csv keep their positions.
    return bootstrap.add_share_ci(table, refs, keys, "references")


def code_table(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    return _protect_tallies(tally.code_tallies(refs, cleaned.codebook), rules, len(refs), refs, ["code"])


def group_table(refs: pd.DataFrame, cleaned: Cleaned, level: str, rules: Disclosure = OFF) -> pd.DataFrame:
    keys = ["theme"] if level == "theme" else ["theme", "subtheme"]
    return _protect_tallies(tally.group_tallies(refs, cleaned.codebook, level), rules, len(refs), refs, keys)


def _protect_crosstab(table: pd.DataFrame, column: str, rules: Disclosure, refs: pd.DataFrame,
                      level: str = "theme") -> pd.DataFrame:
    pct = "pct_of_" + column.replace(" ", "_")
    per_category = table.groupby(column)["references"].transform("sum")
    table = protect(table, rules, {"references": {pct: per_category}, "sources": {}, "participants": {}})
    return bootstrap.add_share_ci(table, refs, [level, column], "references", within=column, after=pct)


def theme_by_role_group(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """Theme x role group; unattributed focus-group talk is left out of the role-group shares."""
    attributed = refs[refs["role_group"] != tally.UNATTRIBUTED]
    table = tally.theme_by(attributed, cleaned.codebook, "role_group", cleaned.role_groups)
    return _protect_crosstab(table, "role_group", rules, attributed)


def theme_by_source_type(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    table = tally.theme_by(refs, cleaned.codebook, "source_type", list(SOURCE_TYPES))
    return _protect_crosstab(table, "source_type", rules, refs)


def code_by_source_type(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """code_by_source_type.csv: references per code within each source type, so a share of
    one kind of material (paper 1's dissertation-project focus) is read from a table."""
    table = tally.theme_by(refs, cleaned.codebook, "source_type", list(SOURCE_TYPES), level="code")
    table.insert(0, "subtheme", table["code"].map(cleaned.codebook.set_index("code")["subtheme"]))
    table.insert(0, "theme", table["code"].map(cleaned.codebook.set_index("code")["theme"]))
    return _protect_crosstab(table, "source_type", rules, refs, level="code")


def _quotable(refs: pd.DataFrame, cleaned: Cleaned, redact_names: list[str]) -> pd.DataFrame:
    """The references that have words to quote, scrubbed, in codebook order, with `_key`: the
    scrubbed words with their spacing folded, so the same words coded twice are one quote."""
    order = {code: i for i, code in enumerate(cleaned.codebook["code"])}
    quoted = refs[refs["text"].fillna("").str.strip() != ""].copy()
    quoted["quote"] = privacy.scrub(quoted["text"], redact_names).to_numpy()
    quoted["_key"] = quoted["quote"].str.split().str.join(" ").str.casefold()
    quoted["_order"] = quoted["code"].map(order)
    return quoted.sort_values(["_order", "segment_id"], kind="mergesort")


def small_groups(cleaned: Cleaned) -> set[str]:
    """Role groups with fewer than SMALL_N participants: never named on a quote."""
    sizes = cleaned.participants["role_group"].value_counts()
    return {group for group in cleaned.role_groups if sizes.get(group, 0) < SMALL_N}


def participant_labels(cleaned: Cleaned) -> pd.DataFrame:
    """participant_labels.csv, the private key: each participant's short label (P01, P02...) as
    quotes carry it, numbered in the order of the keyed pseudonyms, so the same key and the same
    participants give the same labels. Kept in the processed folder, never published: a reader
    of the report or the manuscript sees P07, never the pseudonym that other tables could join."""
    ids = sorted(set(cleaned.participants["participant_id"]))
    width = max(2, len(str(len(ids))))
    return pd.DataFrame({"participant_id": ids, "label": [f"P{i:0{width}d}" for i in range(1, len(ids) + 1)]})


def _attribution(chosen: pd.DataFrame, cleaned: Cleaned, rules: Disclosure, prefix: str = "") -> pd.DataFrame:
    """Who said a quote, as a reader may see it: the source type always; the role group unless
    it has fewer than SMALL_N people (a quote from the one member of a group names them) and
    the participant's short label (participant_labels), both only without disclosure control.
    Unattributed focus-group talk has no label."""
    small = small_groups(cleaned)
    labels = participant_labels(cleaned).set_index("participant_id")["label"]
    out = pd.DataFrame({f"{prefix}source_type": chosen["source_type"].to_numpy(),
                        f"{prefix}role_group": chosen["role_group"].where(~chosen["role_group"].isin(small), "")
                        .to_numpy(),
                        f"{prefix}participant": chosen["participant_id"].map(labels).fillna("").to_numpy()})
    if rules.active:
        out = out.drop(columns=[f"{prefix}role_group", f"{prefix}participant"])
    return out


def _rank(candidates: pd.DataFrame, by: str) -> pd.DataFrame:
    """Candidates for quotes within each `by`: a new participant first, then a code not yet
    quoted, then codebook order."""
    candidates = candidates.assign(_repeat_participant=candidates.groupby([by, "participant_id"]).cumcount(),
                                   _repeat_code=candidates.groupby([by, "code"]).cumcount())
    return candidates.sort_values(["_repeat_participant", "_repeat_code", "_order", "segment_id"], kind="mergesort")


def _unused(quoted: pd.DataFrame, taken) -> pd.DataFrame:
    keys = {" ".join(str(q).split()).casefold() for q in taken}
    return quoted[~quoted["_key"].isin(keys)]


def illustrative_quotes(refs: pd.DataFrame, cleaned: Cleaned, redact_names: list[str],
                        rules: Disclosure = OFF, per_theme: int = QUOTES_PER_THEME, taken=()) -> pd.DataFrame:
    """Up to `per_theme` quotes per theme, from different participants where possible,
    in codebook order, scrubbed of contact details, NHS numbers and listed names. Each quote
    is shown once: words coded under two themes go to the first theme that picks them, and
    the quotes in `taken` (shown elsewhere in the report) are not picked again.

    A quote from a role group of fewer than SMALL_N people carries no role group; with
    disclosure control on, quotes carry only their source type.
    """
    quoted = _unused(_quotable(refs, cleaned, redact_names), taken)
    picked, used = [], set()
    for theme in dict.fromkeys(cleaned.codebook["theme"]):
        candidates = quoted[(quoted["theme"] == theme) & ~quoted["_key"].isin(used)].drop_duplicates("_key")
        chosen = _rank(candidates, "theme").head(per_theme)
        used |= set(chosen["_key"])
        picked.append(chosen.sort_values(["_order", "segment_id"], kind="mergesort"))
    chosen = pd.concat(picked) if picked else quoted.head(0)
    who = _attribution(chosen, cleaned, rules)
    out = pd.concat([pd.DataFrame({"theme": chosen["theme"].to_numpy(), "code": chosen["code"].to_numpy()}), who],
                    axis=1)
    out["quote"] = chosen["quote"].to_numpy()
    return out


def codebook_table(refs: pd.DataFrame, cleaned: Cleaned, redact_names: list[str], rules: Disclosure = OFF,
                   taken=()) -> pd.DataFrame:
    """codebook.csv: every code of the codebook with its theme, subtheme and definition, its
    references and participants, and one exemplar quote, scrubbed and labelled as the
    illustrative quotes are (no small role group; source type only under disclosure control)
    and never one of the quotes in `taken` (those shown elsewhere in the report), so that each
    quote appears once. A code with nothing left to quote has no exemplar."""
    counts = tally.code_tallies(refs, cleaned.codebook).set_index("code")
    book = cleaned.codebook
    optional = {name: (book[name] if name in book else pd.Series("", index=book.index)).fillna("").astype(str)
                for name in ("subtheme", "description")}
    table = pd.DataFrame({"theme": book["theme"].to_numpy(), "subtheme": optional["subtheme"].to_numpy(),
                          "code": book["code"].to_numpy(), "definition": optional["description"].to_numpy()})
    table["references"] = table["code"].map(counts["references"]).fillna(0).astype(int).to_numpy()
    table["participants"] = table["code"].map(counts["participants"]).fillna(0).astype(int).to_numpy()
    quoted = _unused(_quotable(refs, cleaned, redact_names), taken).drop_duplicates("_key")
    # One per code, each from a participant not yet used where possible; greedy in codebook order.
    picked, used_keys, used_people = {}, set(), set()
    for code in table["code"]:
        candidates = quoted[(quoted["code"] == code) & ~quoted["_key"].isin(used_keys)]
        if candidates.empty:
            continue
        fresh = candidates[~candidates["participant_id"].isin(used_people)]
        row = (fresh if len(fresh) else candidates).iloc[0]
        picked[code] = row
        used_keys.add(row["_key"])
        used_people.add(row["participant_id"])
    chosen = pd.DataFrame([picked[c] for c in table["code"] if c in picked])
    table = protect(table, rules, {"references": {}, "participants": {}})
    table["exemplar"] = table["code"].map({c: r["quote"] for c, r in picked.items()}).fillna("")
    if len(chosen):
        who = _attribution(chosen, cleaned, rules, prefix="exemplar_").set_index(chosen["code"].to_numpy())
    else:
        who = _attribution(quoted.head(0), cleaned, rules, prefix="exemplar_")
    for column in who.columns:
        table[column] = table["code"].map(who[column]).fillna("").to_numpy() if len(who) else ""
    return table


def totals_table(cleaned: Cleaned, refs: pd.DataFrame, rules: Disclosure = OFF) -> pd.DataFrame:
    """totals.csv: the run's headline counts, read by the report's header."""
    table = pd.DataFrame({
        "measure": ["participants", "sources", "references"],
        "n": [len(cleaned.participants), len(cleaned.sources), len(refs)],
    })
    return protect(table, rules, {"n": {}})


def theme_participants_table(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """theme_participants.csv: per theme, how many participants mention it, overall and as a
    share of each role group, so that one talkative participant cannot carry a theme."""
    named = refs[refs["participant_id"] != ""][["theme", "participant_id", "role_group"]].drop_duplicates()
    themes = list(dict.fromkeys(cleaned.codebook["theme"]))
    groups = ["all participants"] + list(cleaned.role_groups)
    sizes = cleaned.participants["role_group"].value_counts().reindex(cleaned.role_groups, fill_value=0)
    sizes = pd.concat([pd.Series({"all participants": len(cleaned.participants)}), sizes])
    per_group = named.groupby(["theme", "role_group"])["participant_id"].nunique()
    overall = named.groupby("theme")["participant_id"].nunique()
    grid = pd.MultiIndex.from_product([themes, groups], names=["theme", "role_group"])
    table = grid.to_frame(index=False)
    table["participants"] = [
        int(overall.get(t, 0)) if g == "all participants" else int(per_group.get((t, g), 0))
        for t, g in grid]
    table["role_group_n"] = table["role_group"].map(sizes).astype(int)
    table["pct_of_role_group"] = pct_half_up(table["participants"], table["role_group_n"])
    table = protect(table, rules, {"participants": {"pct_of_role_group": table["role_group_n"]}, "role_group_n": {}})
    den = pd.to_numeric(table["role_group_n"], errors="coerce").fillna(0).to_numpy()
    return stats.add_ci(table, "participants", den, after="pct_of_role_group")


def agreement_table(cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """agreement.csv, under disclosure control like every published table.

    Decisions are a coder's on one person's words, so a small count of them is as telling as
    any: units and sources are redacted or rounded as counts, and the agreement, kappa and
    alpha of a row are redacted unless every count they are computed from (units, agreeing
    and disagreeing units, each cell of a pair's 2x2 table) is above min_count. With
    rounding, the agreement percentage is recomputed from the rounded counts.
    """
    table = agreement.agreement_table(cleaned.segments, cleaned.codebook, cells=True)
    hidden = ["_agreeing", "_smallest_cell", "_applied", "_decided"]
    if not rules.active or table.empty:
        return table.drop(columns=hidden)
    units = table["units"].to_numpy(dtype="int64")
    out = protect(table, rules, {"units": {}, "sources": {}})
    if rules.round_to > 1:
        shown = pct_half_up(round_counts(table["_agreeing"], rules.round_to), round_counts(units, rules.round_to))
        out["agreement_pct"] = pd.Series(shown, index=table.index, dtype=object).where(units > 0, float("nan"))
        # PABAK is 2 x raw agreement - 1, so it would give the exact agreeing count away: from the rounded too.
        out["pabak"] = pd.Series(np.round(2 * np.asarray(shown, dtype=float) / 100 - 1, 3) + 0.0, index=table.index,
                                 dtype=object).where(units > 0, float("nan"))
        decided = table["_decided"].to_numpy(dtype="int64")
        shown = pct_half_up(round_counts(table["_applied"], rules.round_to), round_counts(decided, rules.round_to))
        out["prevalence_pct"] = pd.Series(shown, index=table.index, dtype=object).where(decided > 0, float("nan"))
    if rules.min_count > 0:
        few = (units <= rules.min_count) | (table["_smallest_cell"].to_numpy() <= rules.min_count)
        # The prevalence is built on the "yes" decisions too, which may be few where the cells are not.
        few_yes = few | (table["_applied"].to_numpy() <= rules.min_count) | (
            (table["_decided"] - table["_applied"]).to_numpy() <= rules.min_count)
        statistics = ["agreement_pct"] + [c for c in table.columns if c.startswith(agreement.COEFFICIENTS)]
        for column in statistics:
            out[column] = out[column].astype(object).where(~few, REDACTED)
        out["prevalence_pct"] = out["prevalence_pct"].astype(object).where(~few_yes, REDACTED)
    return out.drop(columns=hidden)


def cooccurrence_table(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    table = cooccurrence.cooccurrence_table(refs, cleaned.codebook)
    return protect(table, rules, {"segments": {}, "participants": {}})


def saturation_table(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """saturation.csv, under disclosure control: each row is one interview, that is one person,
    so its counts of codes are redacted or rounded like any count (the running total too,
    with its share of the codes found recomputed from the rounded counts)."""
    table = saturation.saturation_table(refs, cleaned.sources)
    if table.empty:
        return table
    total = int(table["cumulative_codes"].iloc[-1])
    return protect(table, rules, {"codes": {}, "new_codes": {},
                                  "cumulative_codes": {"pct_of_codes_found": total}})


# Paper 1's "dissertation project focus": the codes of the codebook's subtheme of this name,
# as shares of every coded reference in the run's dissertations.
PROJECT_FOCUS_SUBTHEME = "Dissertation project focus"
DISSERTATION = "dissertation"


def project_focus_table(refs: pd.DataFrame, cleaned: Cleaned, rules: Disclosure = OFF) -> pd.DataFrame:
    """project_focus.csv: for each code of the project-focus subtheme, its references in
    dissertations and their share of all coded dissertation references (the denominator,
    `dissertation_references`, on every row), with a cluster-bootstrap interval over the
    dissertations, and the dissertations and participants behind it. No rows when the codebook
    has no such subtheme."""
    book = cleaned.codebook
    focus = book[book["subtheme"].fillna("").str.strip().str.casefold() == PROJECT_FOCUS_SUBTHEME.casefold()]
    dissertations = refs[refs["source_type"] == DISSERTATION]
    total = len(dissertations)
    table = tally.code_tallies(dissertations, book)
    table = table[table["code"].isin(focus["code"])].reset_index(drop=True)
    table = table.rename(columns={"pct_references": "pct_of_dissertation_references"})
    table.insert(table.columns.get_loc("pct_of_dissertation_references") + 1, "dissertation_references", total)
    table = protect(table, rules, {"references": {"pct_of_dissertation_references": total}, "sources": {},
                                   "participants": {}, "dissertation_references": {}})
    return bootstrap.add_share_ci(table, dissertations, ["code"], "references",
                                  after="pct_of_dissertation_references")
