"""Which codes travel together: pairs applied to the same segment or the same participant."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

COLUMNS = ["code_a", "code_b", "segments", "participants"]


def _pairs(frame: pd.DataFrame, key: str, order: dict[str, int]) -> pd.Series:
    """Count of distinct `key` values on which each ordered code pair (a before b) occurs."""
    codes = frame["code"].map(order)
    known = codes.notna().to_numpy()
    keys = pd.factorize(frame[key])[0][known]
    columns = codes.to_numpy()[known].astype(int)
    # A key x code 0/1 matrix X (sparse: each key holds a few codes); X'X counts, for every
    # pair of codes, the keys holding both. A self-join would list every pair of every key.
    width = max(order.values(), default=-1) + 1
    cells = sparse.csr_matrix((np.ones(len(keys)), (keys, columns)), shape=(keys.max(initial=-1) + 1, width))
    cells.sum_duplicates()
    cells.data[:] = 1  # a (key, code) repeated counts once
    together = (cells.T @ cells).tocoo()
    upper = (together.row < together.col) & (together.data > 0)
    name = {i: code for code, i in order.items()}
    index = pd.MultiIndex.from_arrays([[name[i] for i in together.row[upper]], [name[j] for j in together.col[upper]]],
                                      names=["code_a", "code_b"])
    return pd.Series(together.data[upper].astype(int), index=index)


def cooccurrence_table(refs: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """cooccurrence.csv: every pair of codes that co-occur at least once, codebook order.

    `segments` counts segments coded with both codes; `participants` counts named
    participants with at least one reference to each code (anywhere in their material).
    """
    order = {code: i for i, code in enumerate(codebook["code"])}
    by_segment = _pairs(refs, "segment_id", order)
    named = refs[refs["participant_id"] != ""]
    by_participant = _pairs(named, "participant_id", order)
    table = pd.concat({"segments": by_segment, "participants": by_participant}, axis=1).fillna(0).astype(int)
    table = table.reset_index().rename(columns={"level_0": "code_a", "level_1": "code_b"})
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    table = table.sort_values(["code_a", "code_b"], key=lambda s: s.map(order), kind="mergesort")
    return table[COLUMNS].reset_index(drop=True)
