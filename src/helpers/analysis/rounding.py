"""Half-up rounding, the papers' rule, in one place.

Python's round() and numpy round half to even, and binary floats hide exact halves
(2.675 is stored as 2.67499...). Every percentage, interval and reproduced figure is
rounded here instead: ratios of counts in exact integer arithmetic, other values through
their shortest decimal text, so 12.25 rounds to 12.3 as a reader would expect.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np


def pct_half_up(numerator, denominator, decimals: int = 1) -> np.ndarray | float:
    """100 * numerator / denominator, rounded half-up, in exact integer arithmetic.

    A zero denominator gives 0.0.
    """
    num = np.asarray(numerator, dtype=np.int64)
    den = np.asarray(denominator, dtype=np.int64)
    scale = 10 ** decimals
    safe = np.where(den == 0, 1, den)
    scaled = (2 * 100 * scale * num + safe) // (2 * safe)
    result = np.where(den == 0, 0, scaled) / scale
    return float(result) if result.ndim == 0 else result


def half_up(value: float, decimals: int) -> Decimal:
    """One value rounded half-up to `decimals` places, through its shortest decimal text."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def half_up_array(values, decimals: int = 1) -> np.ndarray:
    """half_up of every value as floats; NaN stays NaN."""
    return np.array([np.nan if np.isnan(v) else float(half_up(v, decimals))
                     for v in np.asarray(values, dtype=float)])
