"""Charts: prices, Gini, trees, trades and creatures alive over the whole game, drawn with axes
and several series (textual-plotext). A price is the turn's average traded price: a turn with no
trade of a good is a gap in its line, not a line drawn across it."""

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


GOOD_COLOURS: tuple[tuple[int, int, int], ...] = (
    (213, 94, 0), (240, 228, 66), (86, 180, 233), (204, 121, 167), (0, 158, 115), (230, 159, 0), (0, 114, 178),
)
"""Colours of the goods' lines, in the scenario's order (Okabe and Ito's palette, told apart with
most kinds of colour blindness); more goods than colours repeat them."""

Series = list[float | None]
"""One number per turn; ``None`` where there is none (a good that did not trade)."""


def series(history: Sequence[TurnPoint], key: str) -> Series:
    """One number per turn: ``gini``, ``trees``, ``trades``, ``alive`` or ``price:GOOD`` (the average
    traded price, ``None`` for a turn without a trade of it)."""
    if key.startswith("price:"):
        good = key.split(":", 1)[1]
        return [None if (p := h.prices.get(good)) is None else float(p) for h in history]
    return [SERIES[key](h) for h in history]


def runs(turns: Sequence[int], values: Series) -> list[tuple[list[int], list[float]]]:
    """The stretches of consecutive turns that have a number, each drawn as its own line (so a
    turn without one is a gap)."""
    out: list[tuple[list[int], list[float]]] = []
    for turn, v in zip(turns, values, strict=True):
        if v is None:
            if out and out[-1][0]:
                out.append(([], []))
            continue
        if not out:
            out.append(([], []))
        out[-1][0].append(turn)
        out[-1][1].append(v)
    return [r for r in out if r[0]]


def caption(title: str, values: Series) -> str:
    """``honey  min 6 · max 11 · now 9``."""
    known = [v for v in values if v is not None]
    if not values:
        return f"{title}: no turns yet"
    if not known:
        return f"{title}: none yet   (turns 1–{len(values)})"
    fraction = max(known) <= 1

    def fmt(v: float | None) -> str:
        if v is None:
            return "—"
        return f"{v:.3f}" if fraction else f"{v:g}"

    return f"{title}   min {fmt(min(known))} · max {fmt(max(known))} · now {fmt(values[-1])}   (turns 1–{len(values)})"


class Chart(Vertical):
    """A caption over a plot with axes: one or more series against the turn."""

    DEFAULT_CSS = """
    Chart { height: 16; width: 1fr; margin: 0 1 1 0; }
    Chart.wide { height: 20; }
    Chart Label { text-style: bold; }
    Chart PlotextPlot { height: 1fr; }
    """

    def __init__(self, title: str, turns: list[int], lines: dict[str, Series], *, kind: str = "line",
                 colours: Sequence[tuple[int, int, int]] = (), from_zero: bool = False,
                 id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        """``colours``: of the lines in order (plotext's own when empty); ``from_zero``: the axis
        starts at 0 (a count that falling towards 0 is the story)."""
        super().__init__(id=id, classes=classes)
        self.title = title
        self.turns = turns
        self.lines = lines
        self.kind = kind
        self.colours = tuple(colours)
        self.from_zero = from_zero

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
        highest = 0.0
        for i, (name, values) in enumerate(self.lines.items()):
            label = name if len(self.lines) > 1 else None
            colour = self.colours[i % len(self.colours)] if self.colours else None
            highest = max([highest, *(v for v in values if v is not None)])
            if self.kind == "bar":
                plt.bar(self.turns, [v or 0.0 for v in values], label=label, color=colour)
                continue
            for turns, known in runs(self.turns, values):
                plt.plot(turns, known, label=label, marker="braille", color=colour)
                label = None  # one entry in the legend per series
        step = max(1, -(-len(self.turns) // 6))
        plt.xticks(self.turns[::step])
        if len(self.turns) == 1:
            plt.xlim(0, 2)
        if self.from_zero:
            plt.ylim(0, max(1.0, highest * 1.1))


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
            yield Chart("average traded price of each good, in pebbles (a gap: no trade that turn)", turns, prices,
                        colours=GOOD_COLOURS, id="chart-prices", classes="wide")
            with Horizontal():
                yield Chart("Gini of wealth", turns, {"gini": series(h, "gini")}, id="chart-gini")
                yield Chart("trees standing", turns, {"trees": series(h, "trees")}, id="chart-trees")
            with Horizontal():
                yield Chart("trades per turn", turns, {"trades": series(h, "trades")}, kind="bar", id="chart-trades")
                yield Chart("creatures alive", turns, {"alive": series(h, "alive")}, from_zero=True, id="chart-alive")
        yield Footer(compact=True)
