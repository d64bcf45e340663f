"""Inter-coder agreement on double-coded sources (Cohen's kappa, Krippendorff's alpha).

Unit of analysis: a segment of a source that two or more coders coded. For each code,
each coder's decision on a unit is 1 (applied the code) or 0 (did not); a coder who did
not code that source has no decision (missing). Per code, the units are every segment
of the shared sources; the pooled figure stacks the (segment, code) decisions of every
code applied at least once in shared material, so codes nobody used there do not
inflate agreement with empty (0, 0) pairs.

Cohen's kappa (statsmodels) is computed per pair of coders; Krippendorff's alpha at the
nominal level (the `krippendorff` package) across all coders, missing decisions allowed.
Beside them, the coefficients that do not collapse when a code is rarely applied (the
prevalence paradox): PABAK (Brennan-Prediger) and Gwet's AC1; each of the four with its 95%
interval (helpers.analysis.coefficients), and the prevalence (the share of decisions that
applied the code) that explains why they part.
"""
from __future__ import annotations

from itertools import combinations

import krippendorff
import numpy as np
import pandas as pd

from helpers.data.contract import ALL_CODERS, POOLED

from . import coefficients

COLUMNS = ["code", "coders", "sources", "units", "agreement_pct", "cohen_kappa", "krippendorff_alpha"]
# Added after the first columns, so that those keep their positions in agreement.csv.
COEFFICIENTS = ("cohen_kappa", "krippendorff_alpha", "pabak", "gwet_ac1")
MORE = ["prevalence_pct", "cohen_kappa_low", "cohen_kappa_high", "krippendorff_alpha_low", "krippendorff_alpha_high",
        "pabak", "pabak_low", "pabak_high", "gwet_ac1", "gwet_ac1_low", "gwet_ac1_high"]


def decisions(segments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(decision matrix, source coders) for sources coded by two or more coders.

    The matrix has one row per (segment_id, code) and one column per coder: 1 applied,
    0 not applied (the coder coded the source), NaN (the coder did not code the source).
    """
    coded = segments[["source_id", "coder"]].drop_duplicates()
    coders = coded.groupby("source_id")["coder"].size()
    coded = coded[coded["source_id"].isin(coders.index[coders >= 2])]
    # Only the shared sources (a few per cent) get a Python tuple of their coders.
    shared = coded.groupby("source_id")["coder"].agg(lambda c: tuple(sorted(c)))
    seg = segments[segments["source_id"].isin(shared.index)]
    if seg.empty:
        return pd.DataFrame(), shared
    coders = sorted(seg["coder"].unique())
    codes = seg["code"].unique()
    units = seg[["segment_id", "source_id"]].drop_duplicates()
    grid = units.merge(pd.DataFrame({"code": codes}), how="cross")
    applied = seg.assign(applied=1.0).drop_duplicates(["segment_id", "code", "coder"]).pivot_table(
        index=["segment_id", "code"], columns="coder", values="applied", aggfunc="max")
    matrix = grid.set_index(["segment_id", "code"]).join(applied).reindex(columns=["source_id"] + coders)
    # A coder who coded the source but not this code on this segment decided "no".
    for coder in coders:
        coded_source = matrix["source_id"].isin(coded.loc[coded["coder"] == coder, "source_id"])
        matrix[coder] = matrix[coder].where(~coded_source | matrix[coder].notna(), 0.0)
        matrix.loc[~coded_source, coder] = np.nan
    return matrix, shared


def kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two 0/1 decision vectors; NaN when chance agreement is total."""
    # Imported here: statsmodels takes 0.9 s to import, and only the agreement table needs it.
    from statsmodels.stats.inter_rater import cohens_kappa

    table = np.array([[np.sum((a == i) & (b == j)) for j in (0, 1)] for i in (0, 1)], dtype=float)
    expected = (table.sum(axis=1) @ table.sum(axis=0)) / table.sum() ** 2
    if table.sum() == 0 or np.isclose(expected, 1.0):
        return float("nan")
    with np.errstate(invalid="ignore"):  # its standard errors can be undefined; kappa is not
        return float(cohens_kappa(table).kappa)


def alpha(matrix: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of a coders x units matrix with NaN for missing."""
    values = matrix[~np.isnan(matrix)]
    if values.size == 0 or np.unique(values).size < 2:
        return float("nan")  # one value everywhere: alpha is undefined
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def _row(code: str, sources: int, block: pd.DataFrame, pair: tuple[str, str] | None) -> dict:
    columns = list(pair) if pair else [c for c in block.columns if c != "source_id"]
    # Units with at least two decisions: both coders of a pair, or any two of all coders.
    both = block[columns].dropna() if pair else block[columns][block[columns].notna().sum(axis=1) >= 2]
    # The unit's decisions agree when they are all equal: max == min (NaN skipped), which is
    # nunique(axis=1) == 1 without a Python call per unit.
    agree = (both.max(axis=1) == both.min(axis=1)).mean() * 100 if len(both) else float("nan")
    agreeing = int((both.max(axis=1) == both.min(axis=1)).sum())
    applied = int(np.nansum(both.to_numpy()))  # "yes" decisions on the units compared
    decided = int(both.notna().to_numpy().sum())
    if pair:  # the smallest cell of the 2x2 table that kappa is computed from
        a, b = both[pair[0]].to_numpy(), both[pair[1]].to_numpy()
        smallest = min(int(np.sum((a == i) & (b == j))) for i in (0, 1) for j in (0, 1))
    else:
        smallest = min(agreeing, len(both) - agreeing)
    ratings = both.to_numpy(dtype=float)
    kappa_ci = coefficients.cohen_kappa(ratings) if pair else coefficients.NAN
    alpha_ci = coefficients.krippendorff_alpha(block[columns].to_numpy(dtype=float))
    pabak, ac1 = coefficients.pabak(ratings), coefficients.gwet_ac1(ratings)
    return {
        "_agreeing": agreeing, "_smallest_cell": smallest, "_applied": applied, "_decided": decided,
        "prevalence_pct": round(100 * applied / decided, 1) if decided else float("nan"),
        "cohen_kappa_low": kappa_ci.low, "cohen_kappa_high": kappa_ci.high,
        "krippendorff_alpha_low": alpha_ci.low, "krippendorff_alpha_high": alpha_ci.high,
        "pabak": pabak.value, "pabak_low": pabak.low, "pabak_high": pabak.high,
        "gwet_ac1": ac1.value, "gwet_ac1_low": ac1.low, "gwet_ac1_high": ac1.high,
        "code": code, "coders": " & ".join(pair) if pair else ALL_CODERS, "sources": sources,
        "units": int(len(both)),
        "agreement_pct": round(float(agree), 1) if len(both) else float("nan"),
        "cohen_kappa": kappa(both[pair[0]].to_numpy(), both[pair[1]].to_numpy()) if pair else float("nan"),
        "krippendorff_alpha": alpha(block[columns].to_numpy(dtype=float).T),
    }


def agreement_table(segments: pd.DataFrame, codebook: pd.DataFrame, cells: bool = False) -> pd.DataFrame:
    """agreement.csv: per coder pair and for all coders, per code and pooled.

    cells=True adds `_agreeing` (units whose decisions agree), `_smallest_cell` (the
    smallest count the statistics are built on), `_applied` and `_decided` (the "yes"
    decisions and all decisions, behind the prevalence), for disclosure control to work from.
    """
    columns = COLUMNS + MORE + (["_agreeing", "_smallest_cell", "_applied", "_decided"] if cells else [])
    matrix, shared = decisions(segments)
    if matrix.empty:
        return pd.DataFrame(columns=columns)
    coders = [c for c in matrix.columns if c != "source_id"]
    rows = []
    pairs = [p for p in combinations(coders, 2) if matrix[list(p)].notna().all(axis=1).any()]
    for pair in pairs + [None]:
        if pair:
            block = matrix[matrix[list(pair)].notna().all(axis=1)]
            n_sources = int(block["source_id"].nunique())
        else:
            block, n_sources = matrix, int(len(shared))
        # Only codes someone applied in this block: unused codes add nothing but (0, 0) pairs.
        used = block[list(pair) if pair else coders].fillna(0).max(axis=1).groupby(level="code").max()
        codes = [c for c in codebook["code"] if used.get(c, 0) > 0]
        pooled = block[block.index.get_level_values("code").isin(codes)]
        rows.append(_row(POOLED, n_sources, pooled, pair))
        for code in codes:
            rows.append(_row(code, n_sources, block.xs(code, level="code", drop_level=False), pair))
    table = pd.DataFrame(rows, columns=columns)
    for column in [c for c in table.columns if c.startswith(COEFFICIENTS)]:
        table[column] = table[column].astype(float).round(3) + 0.0  # + 0.0: no "-0.0" in the CSV
    return table


DISAGREEMENT_COLUMNS = ["source_id", "segment_id", "code", "coders", "applied_by", "not_applied_by", "text"]


def disagreements(segments: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """The decisions coders disagreed on, for a consensus meeting: one row per segment and code
    where the coders of its source did not all decide alike, with who applied the code and who
    did not, and the segment's words. For the study team only (it quotes participants and
    names coders): written to the processed folder, never published."""
    matrix, _ = decisions(segments)
    if matrix.empty:
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    coders = [c for c in matrix.columns if c != "source_id"]
    values = matrix[coders]
    split = values.max(axis=1) != values.min(axis=1)  # NaN skipped: only coders who decided
    rows = matrix[split]
    decided = values[split]
    names = lambda mask: [" & ".join(c for c, on in zip(coders, row) if on) for row in mask.to_numpy()]  # noqa: E731
    text = segments.drop_duplicates("segment_id").set_index("segment_id")["text"]
    order = {code: i for i, code in enumerate(codebook["code"])}
    out = pd.DataFrame({
        "source_id": rows["source_id"].to_numpy(),
        "segment_id": rows.index.get_level_values("segment_id"),
        "code": rows.index.get_level_values("code"),
        "coders": names(decided.notna()),
        "applied_by": names(decided == 1),
        "not_applied_by": names(decided == 0),
    })
    out["text"] = out["segment_id"].map(text).fillna("").to_numpy()
    out = out.assign(_order=out["code"].map(order)).sort_values(["source_id", "segment_id", "_order"], kind="mergesort")
    return out.drop(columns="_order").reset_index(drop=True)
