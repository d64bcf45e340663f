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

With more than MAX_BOOTSTRAP_SOURCES sources (no interview study has them; generated cohorts
for benchmarks do) 2,000 resamples would take minutes, and the bootstrap is then no better
than its large-sample equivalent: the cluster-robust (linearisation) interval of a ratio,
share +/- 1.96 standard errors with var = S/(S-1) sum_i (y_i - share n_i)^2 / N^2 over the S
sources, y_i and n_i a source's references in the cell and in the denominator.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .rounding import half_up_array

SEED = 20220301  # any fixed number: what matters is that every run draws the same resamples
RESAMPLES = 2000
CLUSTER = "source_id"
CELLS_PER_BLOCK = 4_000_000  # weights drawn at once (resamples x sources): about 32 MB
MAX_BOOTSTRAP_SOURCES = 2_000
METHOD = (f"95% percentile interval of a cluster bootstrap over sources ({RESAMPLES:,} resamples of the sources, "
          f"each with all its references; seed {SEED})")


def share_intervals(refs: pd.DataFrame, keys: list[str], within: str | None = None,
                    cluster: str = CLUSTER, resamples: int = RESAMPLES, seed: int = SEED,
                    max_bootstrap: int = MAX_BOOTSTRAP_SOURCES) -> pd.DataFrame:
    """(ci_low, ci_high) in percent, indexed by `keys`, of each cell's share of the references:
    of all references (within=None) or of the references of the cell's `within` category (a
    role group, a source type). Cells are the combinations of `keys` present in `refs`; a cell
    absent from a resample counts 0 there."""
    empty = pd.DataFrame({"ci_low": pd.Series(dtype=float), "ci_high": pd.Series(dtype=float)})
    if refs.empty:
        return empty
    # Cells (and categories) sorted, sources in any order: they are put in the order of their
    # counts below, so neither the rows' order nor the sources' names matter.
    cells = refs.groupby(keys, sort=True, dropna=False)
    cell, index = cells.ngroup().to_numpy(), cells.size().index
    position, clusters = pd.factorize(refs[cluster])
    counts = _tally(position, cell, len(clusters), len(index))
    if within is None:
        group_of_cell = np.zeros(len(index), dtype=int)
        totals = counts.sum(axis=1, keepdims=True)
    else:
        group, groups = pd.factorize(refs[within], sort=True)
        group_of_cell = pd.Index(groups).get_indexer(index.get_level_values(within) if len(keys) > 1 else index)
        totals = _tally(position, group, len(clusters), len(groups))
    if len(clusters) > max_bootstrap:
        return _linearised(counts, totals, group_of_cell, index)
    # Sources in the order of their counts: identical sources are interchangeable, so the draw
    # depends on the data alone.
    order = np.lexsort(np.hstack([counts, totals]).T[::-1])
    counts, totals = counts[order], totals[order]
    rng = np.random.default_rng(seed)
    numerators = np.empty((resamples, counts.shape[1]))
    sums = np.empty((resamples, totals.shape[1]))
    # In blocks of resamples, so that memory stays bounded with many sources (the weights of one
    # block are block x sources); each resample draws every source's count of copies at once.
    block = max(1, min(resamples, CELLS_PER_BLOCK // max(1, len(clusters))))
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        weights = _draws(rng, size, len(clusters))
        numerators[start:start + size] = weights @ counts
        sums[start:start + size] = weights @ totals
    denominators = sums[:, group_of_cell]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(denominators > 0, numerators / denominators * 100, np.nan)
    # A resample without any reference of the category has no share: left out of the percentiles.
    low, high = (np.nanpercentile(shares, q, axis=0) for q in (2.5, 97.5))
    return pd.DataFrame({"ci_low": half_up_array(low), "ci_high": half_up_array(high)}, index=index)


def _tally(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> np.ndarray:
    """n_rows x n_columns counts of the (row, column) pairs."""
    flat = np.bincount(rows.astype(np.int64) * n_columns + columns, minlength=n_rows * n_columns)
    return flat.reshape(n_rows, n_columns).astype(float)


def _linearised(counts: np.ndarray, totals: np.ndarray, group_of_cell: np.ndarray, index) -> pd.DataFrame:
    """The cluster-robust 95% interval of each cell's share (see the module's docstring)."""
    sources = counts.shape[0]
    denominators = totals[:, group_of_cell]
    total = denominators.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts.sum(axis=0) / total
        residuals = counts - share * denominators
        se = np.sqrt(sources / (sources - 1) * (residuals ** 2).sum(axis=0)) / total
    low, high = (np.clip(share + sign * 1.959964 * se, 0, 1) * 100 for sign in (-1, 1))
    return pd.DataFrame({"ci_low": half_up_array(low), "ci_high": half_up_array(high)}, index=index)


def _draws(rng: np.random.Generator, resamples: int, clusters: int) -> np.ndarray:
    """resamples x clusters: how many times each source is drawn in each resample (sources drawn
    with replacement, as many as there are): a multinomial draw, made by counting uniform picks,
    which is much faster than numpy's multinomial sampler over thousands of sources."""
    picks = rng.integers(0, clusters, size=(resamples, clusters))
    picks += np.arange(resamples)[:, None] * clusters
    return np.bincount(picks.ravel(), minlength=resamples * clusters).reshape(resamples, clusters).astype(float)


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
