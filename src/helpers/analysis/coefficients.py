"""Chance-corrected agreement coefficients of yes/no decisions, each with its 95% interval.

Cohen's kappa (Conger's generalisation, which is Cohen's for two coders), Gwet's AC1, the
Brennan-Prediger coefficient (PABAK: for two categories it is 2 x raw agreement - 1) and
Krippendorff's alpha (nominal), with the variance estimators of Gwet (*Handbook of
Inter-Rater Reliability*, 4th ed., 2014) that the irrCAC package implements: the interval is
the coefficient +/- t(n - 1) standard errors, its upper end capped at 1, with n the units.

Why not call irrCAC itself: its releases pin scipy to one old version (1.12.0) and list a
test tool among their runtime dependencies, so installing it would hold the whole
environment back (and has no wheels for newer Pythons). These functions follow its code line
for line for the unweighted two-category case, and tests/test_agreement_coefficients.py
checks every value against irrCAC's own, installed for that test without its pins.

A matrix is units x coders: 1 (applied the code), 0 (did not), NaN (no decision). Units
with fewer than two decisions add nothing to raw agreement, as in irrCAC.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORIES = (0.0, 1.0)
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A coefficient with its 95% interval (NaN where undefined)."""

    value: float
    low: float
    high: float


NAN = Estimate(float("nan"), float("nan"), float("nan"))


def _counts(ratings: np.ndarray) -> np.ndarray:
    """units x categories: how many coders put the unit in each category."""
    return np.stack([(ratings == c).sum(axis=1) for c in CATEGORIES], axis=1).astype(float)


def _interval(value: float, stderr: float, n: int) -> Estimate:
    from scipy import stats

    stderr = stderr if stderr > 0 else 1e-15  # irrCAC's floor: a degenerate interval at the value
    low, high = stats.t.interval(LEVEL, df=n - 1, scale=stderr, loc=value)
    return Estimate(float(value), float(low), float(min(1.0, high)))


def _pa(agree: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """(decisions per unit, agreeing pairs per unit, raw agreement, units with 2+ decisions)."""
    ri = agree.sum(axis=1)
    sum_q = (agree * (agree - 1)).sum(axis=1)
    two = ri >= 2
    n2more = int(two.sum())
    pa = float((sum_q[two] / (ri[two] * (ri[two] - 1))).sum() / n2more) if n2more else float("nan")
    return ri, sum_q, pa, n2more


def _ready(ratings: np.ndarray) -> np.ndarray | None:
    ratings = np.asarray(ratings, dtype=float)
    ratings = ratings[~np.isnan(ratings).all(axis=1)]  # units nobody decided on
    if ratings.shape[0] < 2 or (_counts(ratings).sum(axis=1) >= 2).sum() == 0:
        return None
    return ratings


def _unit_terms(agree, ri, sum_q, pe, n, n2more):
    den = ri * (ri - 1)
    den = den - (den == 0)
    return (n / n2more) * (sum_q / den - pe * (ri >= 2)) / (1 - pe)


def gwet_ac1(ratings: np.ndarray) -> Estimate:
    """Gwet's AC1: chance agreement from how often a category is used overall (pi (1 - pi))."""
    ratings = _ready(ratings)
    if ratings is None:
        return NAN
    agree, n, q = _counts(ratings), ratings.shape[0], len(CATEGORIES)
    ri, sum_q, pa, n2more = _pa(agree)
    pi = (agree / ri[:, None]).sum(axis=0) / n
    pe = float((pi * (1 - pi)).sum() * q / (q * (q - 1)))
    ac1 = (pa - pe) / (1 - pe)
    terms = _unit_terms(agree, ri, sum_q, pe, n, n2more)
    pe_i = (q / (q * (q - 1))) * (agree @ (1 - pi)) / ri
    terms = terms - 2 * (1 - ac1) * (pe_i - pe) / (1 - pe)
    return _interval(ac1, float(np.sqrt(((terms - ac1) ** 2).sum() / (n * (n - 1)))), n)


def pabak(ratings: np.ndarray) -> Estimate:
    """Brennan-Prediger's coefficient: chance agreement 1/q, so with yes/no, PABAK = 2 pa - 1."""
    ratings = _ready(ratings)
    if ratings is None:
        return NAN
    agree, n, q = _counts(ratings), ratings.shape[0], len(CATEGORIES)
    ri, sum_q, pa, n2more = _pa(agree)
    pe = 1 / q
    bp = (pa - pe) / (1 - pe)
    terms = _unit_terms(agree, ri, sum_q, pe, n, n2more)
    return _interval(bp, float(np.sqrt(((terms - bp) ** 2).sum() / (n * (n - 1)))), n)


def krippendorff_alpha(ratings: np.ndarray) -> Estimate:
    """Krippendorff's alpha (nominal), on the units with two or more decisions."""
    ratings = _ready(ratings)
    if ratings is None:
        return NAN
    agree = _counts(ratings)
    ri = agree.sum(axis=1)
    agree, ri = agree[ri >= 2], ri[ri >= 2]
    n = agree.shape[0]
    if n < 2:
        return NAN
    mean = ri.mean()
    eps = 1 / ri.sum()
    sum_q = (agree * (agree - 1)).sum(axis=1)
    pa_prime = (sum_q / (mean * (ri - 1))).sum() / n
    pa = (1 - eps) * pa_prime + eps
    pi = (agree / mean).sum(axis=0) / n
    pe = float(pi @ pi)
    if np.isclose(pe, 1.0):
        return NAN  # one value everywhere: alpha is undefined
    alpha = (pa - pe) / (1 - pe)
    alpha_prime = (pa_prime - pe) / (1 - pe)
    pa_i = sum_q / (mean * (ri - 1)) - pa * (ri - mean) / mean
    pe_i = (agree @ pi) / mean - pe * (ri - mean) / mean
    terms = (pa_i - pe) / (1 - pe) - 2 * (1 - alpha_prime) * (pe_i - pe) / (1 - pe)
    return _interval(alpha, float(np.sqrt(((terms - alpha_prime) ** 2).sum() / (n * (n - 1)))), n)


def cohen_kappa(ratings: np.ndarray) -> Estimate:
    """Cohen's kappa of two coders (Conger's kappa, which for two coders is Cohen's), with
    Gwet's variance; NaN when chance agreement is total (one value everywhere)."""
    ratings = _ready(ratings)
    if ratings is None:
        return NAN
    agree, (n, r), q = _counts(ratings), ratings.shape, len(CATEGORIES)
    ri, sum_q, pa, n2more = _pa(agree)
    decided = ~np.isnan(ratings)
    # classification: coders x categories
    classif = np.stack([(ratings == c).sum(axis=0) for c in CATEGORIES], axis=1).astype(float)
    ng = classif.sum(axis=1, keepdims=True)
    pgk = classif / ng
    p_mean = pgk.sum(axis=0) / r
    s2 = (pgk.T @ pgk - r * np.outer(p_mean, p_mean)) / (r - 1)
    pe = float(np.trace(np.outer(p_mean, p_mean) - s2 / r))  # identity weights: the diagonal
    if np.isclose(pe, 1.0):
        return NAN
    kappa = (pa - pe) / (1 - pe)
    lam = np.zeros((n, r))
    for k in range(q):
        delta = (ratings == CATEGORIES[k]).astype(float)
        term = (delta - (decided - ng.T / n) * pgk[:, k][None, :]) * (n / ng.T)
        lam += term * (r * pgk[:, k].mean() - pgk[:, k][None, :])
    pe_i = lam.sum(axis=1) / (r * (r - 1))
    terms = _unit_terms(agree, ri, sum_q, pe, n, n2more) - 2 * (1 - kappa) * (pe_i - pe) / (1 - pe)
    return _interval(kappa, float(np.sqrt(((terms - kappa) ** 2).sum() / (n * (n - 1)))), n)
