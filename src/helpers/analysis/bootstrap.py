"""95% intervals for shares of coded references that respect their clustering.

References are not independent draws: one source (an interview, a dissertation) holds many
of them, and one talkative participant can hold many of a code. A Wilson interval, which
treats every reference as its own observation, is then too narrow. Here the sources are
resampled instead (a cluster bootstrap: sources drawn with replacement, each bringing all of
its references), the share recomputed in every resample, and the 2.5th and 97.5th
percentiles of those shares taken (the percentile interval).

The resamples are drawn from a fixed seed, so a run gives the same intervals every time, and
the sources are put in an order given by their contents (their counts), not by their names or
rows, so neither the input's row order nor the pseudonyms (which change with the key) can
change them.
A share of 0 (or 100) references gets 0-0 (or 100-100): a bootstrap cannot see beyond
the data, which the report's footnote says.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .rounding import half_up_array

SEED = 20220301  # any fixed number: what matters is that every run draws the same resamples
RESAMPLES = 2000
CLUSTER = "source_id"
METHOD = (f"95% percentile interval of a cluster bootstrap over sources ({RESAMPLES:,} resamples of the sources, "
          f"each with all its references; seed {SEED})")


def share_intervals(refs: pd.DataFrame, keys: list[str], within: str | None = None,
                    cluster: str = CLUSTER, resamples: int = RESAMPLES, seed: int = SEED) -> pd.DataFrame:
    """(ci_low, ci_high) in percent, indexed by `keys`, of each cell's share of the references:
    of all references (within=None) or of the references of the cell's `within` category (a
    role group, a source type). Cells are the combinations of `keys` present in `refs`; a cell
    absent from a resample counts 0 there."""
    index = pd.MultiIndex.from_frame(refs[keys].drop_duplicates()) if len(keys) > 1 else \
        pd.Index(refs[keys[0]].drop_duplicates(), name=keys[0])
    index = index.sort_values()  # cells, and below categories, in one order whatever the rows' order
    empty = pd.DataFrame({"ci_low": pd.Series(dtype=float), "ci_high": pd.Series(dtype=float)})
    if refs.empty:
        return empty
    clusters = np.sort(refs[cluster].astype(str).unique())
    position = pd.Index(clusters).get_indexer(refs[cluster].astype(str))
    cell = index.get_indexer(pd.MultiIndex.from_frame(refs[keys]) if len(keys) > 1 else refs[keys[0]])
    counts = np.zeros((len(clusters), len(index)))
    np.add.at(counts, (position, cell), 1)
    if within is None:
        group_of_cell = np.zeros(len(index), dtype=int)
        totals = counts.sum(axis=1, keepdims=True)
    else:
        groups = pd.Index(refs[within].drop_duplicates()).sort_values()
        group_of_cell = groups.get_indexer(index.get_level_values(within) if len(keys) > 1 else index)
        totals = np.zeros((len(clusters), len(groups)))
        np.add.at(totals, (position, groups.get_indexer(refs[within])), 1)
    # Sources in the order of their counts: identical sources are interchangeable, so the draw
    # depends on the data alone.
    order = np.lexsort(np.hstack([counts, totals]).T[::-1])
    counts, totals = counts[order], totals[order]
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(clusters), np.full(len(clusters), 1 / len(clusters)), size=resamples)
    numerators = weights @ counts
    denominators = (weights @ totals)[:, group_of_cell]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(denominators > 0, numerators / denominators * 100, np.nan)
    # A resample without any reference of the category has no share: left out of the percentiles.
    low, high = (np.nanpercentile(shares, q, axis=0) for q in (2.5, 97.5))
    return pd.DataFrame({"ci_low": half_up_array(low), "ci_high": half_up_array(high)}, index=index)


def add_share_ci(table: pd.DataFrame, refs: pd.DataFrame, keys: list[str], count: str, within: str | None = None,
                 after: str | None = None) -> pd.DataFrame:
    """Add ci_low and ci_high (percent) after column `after`, or at the end: the cluster-bootstrap
    interval of each row's share (share_intervals); a redacted count keeps its interval redacted,
    and a row with no references gets 0-0."""
    from .disclosure import REDACTED

    intervals = share_intervals(refs, keys, within)
    rows = pd.MultiIndex.from_frame(table[keys]) if len(keys) > 1 else pd.Index(table[keys[0]])
    found = intervals.reindex(rows)
    low = found["ci_low"].fillna(0.0).to_numpy()
    high = found["ci_high"].fillna(0.0).to_numpy()
    redacted = table[count].astype(str) == REDACTED
    out = table.copy()
    at = out.columns.get_loc(after) + 1 if after else len(out.columns)
    if redacted.any():
        out.insert(at, "ci_low", pd.Series(low, index=out.index, dtype=object).where(~redacted, REDACTED))
        out.insert(at + 1, "ci_high", pd.Series(high, index=out.index, dtype=object).where(~redacted, REDACTED))
    else:
        out.insert(at, "ci_low", low)
        out.insert(at + 1, "ci_high", high)
    return out
