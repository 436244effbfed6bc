"""Price sparklines: each good's traded price over the recent turns."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Sparkline

from engine.session import TurnPoint, WoodView

WINDOW = 40
"""Turns of history each sparkline shows."""


def price_series(history: Sequence[TurnPoint], good: str, window: int = WINDOW) -> list[float]:
    """Reference price of a good per turn (the last ``window`` turns)."""
    return [float(h.reference.get(good, 0)) for h in history[-window:]]


class PriceRow(Horizontal):
    """One good: its name and price, then its sparkline."""

    DEFAULT_CSS = """
    PriceRow { height: 1; }
    PriceRow Label { width: 18; }
    PriceRow Sparkline { width: 1fr; }
    """

    def __init__(self, good: str) -> None:
        super().__init__(id=f"price-{good}")
        self.good = good

    def compose(self) -> ComposeResult:
        yield Label(self.good)
        yield Sparkline([], summary_function=max)

    def show(self, series: list[float], traded: int | None) -> None:
        last = int(series[-1]) if series else 0
        trend = ""
        if len(series) >= 2:
            trend = "▲" if series[-1] > series[-2] else ("▼" if series[-1] < series[-2] else "=")
        mark = "" if traded is None else " •"
        self.query_one(Label).update(f"{self.good[:10]:<10}{last:>4} {trend}{mark}")
        self.query_one(Sparkline).data = series or [0.0]


class PriceSparklines(VerticalScroll):
    """A sparkline per good; a dot marks goods that traded this turn."""

    DEFAULT_CSS = """
    PriceSparklines { height: auto; max-height: 100%; }
    """

    def __init__(self, goods: Sequence[str], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.goods = tuple(goods)

    def compose(self) -> ComposeResult:
        for g in self.goods:
            yield PriceRow(g)

    def show(self, wood: WoodView) -> None:
        last = wood.history[-1].prices if wood.history else {}
        for row in self.query(PriceRow):
            series = price_series(wood.history, row.good) or [float(wood.reference[row.good])]
            row.show(series, last.get(row.good))
