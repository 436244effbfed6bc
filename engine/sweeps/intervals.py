"""Means with 95% intervals: Student's t over independent differences (a league's pairs).

No statistics package is needed: the t distribution's quantile is found by bisection on its
distribution function, integrated with Simpson's rule (exact to far more digits than a league's
few dozen seeds can tell).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from statistics import fmean, stdev

LEVEL = 0.95
"""The intervals' coverage."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean and its 95% interval (``low == high == mean`` from a single value: no interval)."""

    mean: float
    low: float
    high: float
    n: int
    """How many independent values it is made of."""


def _t_pdf(x: float, df: int) -> float:
    c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(c - (df + 1) / 2 * math.log1p(x * x / df))


def _t_cdf(x: float, df: int, steps: int = 2000) -> float:
    """P(T <= x) for x >= 0, by Simpson's rule from 0 (the distribution is symmetric)."""
    h = x / steps
    total = _t_pdf(0.0, df) + _t_pdf(x, df)
    total += sum((4 if i % 2 else 2) * _t_pdf(i * h, df) for i in range(1, steps))
    return 0.5 + total * h / 3


@cache
def t_quantile(df: int, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom
    (``t_quantile(19)`` ≈ 2.093)."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    target = 0.5 + level / 2
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < target:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_cdf(mid, df) < target else (lo, mid)
    return (lo + hi) / 2


def interval(values: list[float]) -> Interval:
    """The mean of independent ``values`` with its 95% t interval."""
    if not values:
        raise ValueError("no values to average")
    m = fmean(values)
    if len(values) < 2:
        return Interval(m, m, m, len(values))
    half = t_quantile(len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return Interval(m, m - half, m + half, len(values))
