"""Measures of the wood, computed every turn."""

from __future__ import annotations


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values (0: all equal; near 1: one holds everything)."""
    n = len(values)
    if n == 0:
        return 0.0
    xs = sorted(max(0.0, v) for v in values)
    total = sum(xs)
    if total <= 0:
        return 0.0
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * weighted) / (n * total) - (n + 1) / n
