"""Charts: prices, Gini, trees and trades over the whole game."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Sparkline

from engine.session import SessionView, TurnPoint

SERIES: dict[str, Callable[[TurnPoint], float]] = {
    "gini": lambda h: h.gini,
    "trees": lambda h: float(h.trees),
    "trades": lambda h: float(h.trades),
    "alive": lambda h: float(h.alive),
}
"""The numbers per turn a chart can show, besides prices."""


def series(history: Sequence[TurnPoint], key: str) -> list[float]:
    """One number per turn: ``gini``, ``trees``, ``trades``, ``alive`` or ``price:GOOD`` (reference price)."""
    if key.startswith("price:"):
        good = key.split(":", 1)[1]
        return [float(h.reference.get(good, 0)) for h in history]
    return [SERIES[key](h) for h in history]


def caption(title: str, values: list[float]) -> str:
    """``honey  min 6 · max 11 · now 9``."""
    if not values:
        return f"{title}: no turns yet"
    fraction = max(values) <= 1

    def fmt(v: float) -> str:
        return f"{v:.3f}" if fraction else f"{v:g}"

    return f"{title}   min {fmt(min(values))} · max {fmt(max(values))} · now {fmt(values[-1])}   (turns 1–{len(values)})"


class Chart(Vertical):
    """A caption over a tall sparkline."""

    DEFAULT_CSS = """
    Chart { height: auto; margin: 0 0 1 0; }
    Chart Label { text-style: bold; }
    Chart Sparkline { height: 4; }
    """

    def __init__(self, title: str, values: list[float], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.title = title
        self.values = values

    def compose(self) -> ComposeResult:
        yield Label(caption(self.title, self.values))
        yield Sparkline(self.values or [0.0], summary_function=max)


class ChartsScreen(Screen[None]):
    """Every series the game records, one chart each."""

    BINDINGS = [Binding("escape,c", "app.pop_screen", "back", id="charts-back", tooltip="Back to the wood.")]

    DEFAULT_CSS = """
    ChartsScreen VerticalScroll { padding: 1 2; }
    """

    def __init__(self, view: SessionView) -> None:
        super().__init__(id="charts")
        self.view = view

    def compose(self) -> ComposeResult:
        h = self.view.wood.history
        with VerticalScroll():
            yield Label(f"[b]{self.view.name}[/b] — {len(h)} turns", id="charts-title")
            for good in self.view.wood.goods:
                yield Chart(f"price of {good}", series(h, f"price:{good}"), id=f"chart-{good}")
            yield Chart("Gini of wealth", series(h, "gini"), id="chart-gini")
            yield Chart("trees standing", series(h, "trees"), id="chart-trees")
            yield Chart("trades per turn", series(h, "trades"), id="chart-trades")
            yield Chart("creatures alive", series(h, "alive"), id="chart-alive")
        yield Footer(compact=True)
