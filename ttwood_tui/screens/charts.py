"""Charts: prices, Gini, trees, trades and creatures alive over the whole game, drawn with axes
and several series (textual-plotext)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label
from textual_plotext import PlotextPlot

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
    """A caption over a plot with axes: one or more series against the turn."""

    DEFAULT_CSS = """
    Chart { height: 16; width: 1fr; margin: 0 1 1 0; }
    Chart.wide { height: 20; }
    Chart Label { text-style: bold; }
    Chart PlotextPlot { height: 1fr; }
    """

    def __init__(self, title: str, turns: list[int], lines: dict[str, list[float]], *, kind: str = "line",
                 id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self.title = title
        self.turns = turns
        self.lines = lines
        self.kind = kind

    def compose(self) -> ComposeResult:
        first = next(iter(self.lines.values()), [])
        yield Label(caption(self.title, first) if len(self.lines) == 1 else f"{self.title}   (turns 1–{len(self.turns)})")
        yield PlotextPlot()

    def on_mount(self) -> None:
        plt = self.query_one(PlotextPlot).plt
        plt.clear_figure()
        plt.xlabel("turn")
        if not self.turns:
            plt.title("no turns yet")
            return
        for name, values in self.lines.items():
            label = name if len(self.lines) > 1 else None
            if self.kind == "bar":
                plt.bar(self.turns, values, label=label)
            else:
                plt.plot(self.turns, values, label=label, marker="braille")
        step = max(1, -(-len(self.turns) // 6))
        plt.xticks(self.turns[::step])
        if len(self.turns) == 1:
            plt.xlim(0, 2)


class ChartsScreen(Screen[None]):
    """Every series the game records: the prices together, then Gini, trees, trades and creatures alive."""

    BINDINGS = [Binding("escape,c", "app.pop_screen", "back", id="charts-back", tooltip="Back to the wood.")]

    DEFAULT_CSS = """
    ChartsScreen VerticalScroll { padding: 0 1; }
    ChartsScreen Horizontal { height: auto; }
    """

    def __init__(self, view: SessionView) -> None:
        super().__init__(id="charts")
        self.view = view

    def compose(self) -> ComposeResult:
        h = self.view.wood.history
        turns = [p.turn for p in h]
        with VerticalScroll():
            yield Label(f"[b]{self.view.name}[/b] — {len(h)} turns", id="charts-title")
            prices = {good: series(h, f"price:{good}") for good in self.view.wood.goods}
            yield Chart("reference price of each good, in pebbles", turns, prices, id="chart-prices", classes="wide")
            with Horizontal():
                yield Chart("Gini of wealth", turns, {"gini": series(h, "gini")}, id="chart-gini")
                yield Chart("trees standing", turns, {"trees": series(h, "trees")}, id="chart-trees")
            with Horizontal():
                yield Chart("trades per turn", turns, {"trades": series(h, "trades")}, kind="bar", id="chart-trades")
                yield Chart("creatures alive", turns, {"alive": series(h, "alive")}, id="chart-alive")
        yield Footer(compact=True)
