"""The report's charts, drawn with matplotlib (no screen needed: the Agg backend writes PNGs).

Each chart takes :class:`Band` series: per group of games (the labels that vary in the folder),
the mean over its seeds per turn and the band from the lowest to the highest seed. A turn where no
game of a group has a number (no trade of a good) is NaN: a gap in the line, never a line drawn
across it. A comparison (two runs of one seed) gets :func:`difference_chart`: the first run minus
the second, turn by turn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110


@dataclass(slots=True)
class Band:
    """One group's path: turns, the mean over seeds, the lowest and highest seed, how many seeds."""

    label: str
    turns: list[int]
    mean: list[float]
    """NaN where no game of the group has a number that turn."""
    low: list[float]
    high: list[float]
    seeds: int


def _figure(rows: int, cols: int, width: float = 11.0, height: float = 3.2) -> tuple[Figure, list[Axes]]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(width, height * rows), squeeze=False, layout="constrained")
    return fig, [ax for row in axes for ax in row]


def _save(fig: Figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


SHOWN_CHARS = 60
"""The most characters of a label a chart shows (a folder from someone else may hold any text)."""


def plain(text: object) -> str:
    """A label as a chart shows it: at most :data:`SHOWN_CHARS` characters, one line, and no
    matplotlib mathtext (``$...$`` in a label is drawn as dollars, not parsed as math)."""
    s = " ".join(str(text).split())
    if len(s) > SHOWN_CHARS:
        s = s[: SHOWN_CHARS - 1] + "…"
    return s.replace("$", r"\$")


STYLES = ("-", "--", ":", "-.")
"""Line styles by group, so paths that coincide (a comparison before its paths part) stay visible."""
MARKS: dict[int, str] = {}
"""Turns to mark with a vertical line on every chart (the legends placed), set by the report."""


def _gappy(values: list[float]) -> bool:
    return any(math.isnan(v) for v in values)


def _draw(ax: Axes, bands: list[Band], colors: dict[str, Any], title: str, ylabel: str, *, from_zero: bool = False) -> None:
    for i, b in enumerate(bands):
        c = colors[b.label]
        # a number between two gaps is a point of its own: a marker shows it
        ax.plot(b.turns, b.mean, color=c, lw=1.8, ls=STYLES[i % len(STYLES)], marker="." if _gappy(b.mean) else None,
                markersize=4, label=f"{plain(b.label)} ({b.seeds} seed{'s' if b.seeds != 1 else ''})")
        if b.seeds > 1:
            ax.fill_between(b.turns, b.low, b.high, color=c, alpha=0.18, lw=0)
    _finish(ax, title, ylabel)
    turns = [t for b in bands for t in b.turns]
    if turns:  # every turn played, those without a number at either end too
        ax.set_xlim(min(turns) - 0.25, max(turns) + 0.25)
    if from_zero:
        ax.set_ylim(bottom=0)


def _finish(ax: Axes, title: str, ylabel: str) -> None:
    for turn, what in MARKS.items():
        ax.axvline(turn, color="0.35", lw=0.9, ls=":")
        ax.annotate(plain(what), (turn, 1.0), xycoords=("data", "axes fraction"), fontsize=8, color="0.3",
                    xytext=(3, -10), textcoords="offset points")
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel("turn")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.margins(x=0)


def colors_for(labels: list[str]) -> dict[str, Any]:
    """A stable colour per group."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {label: cmap(i % 10) for i, label in enumerate(labels)}


def price_chart(by_good: dict[str, list[Band]], colors: dict[str, Any], path: Path) -> Path:
    """One panel per good: the mean traded price per turn, shaded from the lowest to the highest seed."""
    goods = [g for g, bands in by_good.items() if bands]
    cols = 2 if len(goods) > 1 else 1
    fig, axes = _figure(max(1, math.ceil(len(goods) / cols)), cols)
    for ax, good in zip(axes, goods, strict=False):
        _draw(ax, by_good[good], colors, f"price of {plain(good)}", "pebbles")
    for ax in axes[len(goods):]:
        ax.set_visible(False)
    if goods:
        _legend(fig, axes[0])
    several = any(b.seeds > 1 for bands in by_good.values() for b in bands)
    title = "Prices: mean over seeds, band from the lowest to the highest seed" if several else "Prices per turn"
    fig.suptitle(f"{title} (a gap: no trade that turn)", fontsize=12)
    return _save(fig, path)


def _legend(fig: Figure, ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, max(1, len(labels))), fontsize=9, frameon=False)


def line_chart(bands: list[Band], colors: dict[str, Any], path: Path, title: str, ylabel: str, *, from_zero: bool = False) -> Path:
    """One series per group over the turns (Gini, trades, defaults, ...); ``from_zero``: the axis
    starts at 0 (a count whose fall towards 0 is the story, as creatures alive)."""
    fig, axes = _figure(1, 1, height=4.2)
    _draw(axes[0], bands, colors, title, ylabel, from_zero=from_zero)
    _legend(fig, axes[0])
    return _save(fig, path)


@dataclass(slots=True)
class Difference:
    """One panel of a comparison: the first run's number minus the second's, per turn (NaN where
    either has none)."""

    title: str
    ylabel: str
    turns: list[int]
    values: list[float]


def difference_chart(panels: list[Difference], labels: tuple[str, str], path: Path) -> Path:
    """A comparison: per series, the first run minus the second, turn by turn, as bars about a
    zero line (above: the first run has more)."""
    cols = 2
    fig, axes = _figure(max(1, math.ceil(len(panels) / cols)), cols, height=2.8)
    for ax, d in zip(axes, panels, strict=False):
        colours = ["#0072B2" if v >= 0 else "#D55E00" for v in (0.0 if math.isnan(v) else v for v in d.values)]
        ax.bar(d.turns, [0.0 if math.isnan(v) else v for v in d.values], color=colours, width=0.8)
        gaps = [t for t, v in zip(d.turns, d.values, strict=True) if math.isnan(v)]
        if gaps:
            ax.plot(gaps, [0.0] * len(gaps), ls="none", marker="x", color="0.55", markersize=4)
        ax.axhline(0, color="0.2", lw=0.8)
        _finish(ax, plain(d.title), d.ylabel)
        if d.turns:
            ax.set_xlim(min(d.turns) - 0.6, max(d.turns) + 0.6)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(f"{plain(labels[0])} minus {plain(labels[1])}, turn by turn (× : a turn where either has no number)", fontsize=12)
    return _save(fig, path)


def league_chart(rows: list[dict[str, Any]], path: Path) -> Path:
    """The league: per brain set, horizontal bars of its mean trades, survival, valid and accepted
    rates and speed, best first by trades."""
    metrics = [("trades", "trades per game"), ("survival", "survival"), ("valid_rate", "valid answers"),
               ("accepted_rate", "actions accepted"), ("ms_per_agent_turn", "ms per agent-turn")]
    fig, axes = _figure(1, len(metrics), width=13.0, height=max(2.4, 0.5 * len(rows) + 1.4))
    names = [r["label"] for r in rows]
    colors = colors_for(names)
    shown_names = [plain(n) for n in names]
    for i, (ax, (key, title)) in enumerate(zip(axes, metrics, strict=True)):
        values = [r.get(key) for r in rows]
        shown = [v if v is not None else 0.0 for v in values]
        ax.barh(range(len(rows)), shown, color=[colors[n] for n in names])
        for y, v in enumerate(values):
            ax.text(shown[y], y, f" {v:.3g}" if v is not None else " —", va="center", fontsize=9)
        ax.set_yticks(range(len(rows)), shown_names if i == 0 else [""] * len(rows))
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.margins(x=0.25)
    fig.suptitle("League of brains: means over their games", fontsize=12)
    return _save(fig, path)


def seat_league_chart(rows: list[dict[str, Any]], path: Path) -> Path:
    """A league of seat swaps: per scenario, candidate and seat, the mean difference from the
    reference in wealth, holdings and health, each with its 95% interval as a bar across the point
    (green: the interval is above 0, red: below, grey: it holds 0)."""
    metrics = [("wealth", "wealth (market prices)"), ("holdings", "holdings (reference prices)"), ("health", "health")]
    fig, axes = _figure(1, len(metrics), width=13.0, height=max(2.4, 0.4 * len(rows) + 1.4))
    names = [plain(f"{r['scenario']} · {r['candidate']} · {r['seat']}") for r in rows]
    for i, (ax, (key, title)) in enumerate(zip(axes, metrics, strict=True)):
        for y, r in enumerate(rows):
            mean, low, high = r.get(f"{key}_diff"), r.get(f"{key}_low"), r.get(f"{key}_high")
            if mean is None or low is None or high is None:
                continue
            color = "#2a9d3f" if low > 0 else "#c0392b" if high < 0 else "#777777"
            ax.errorbar([mean], [y], xerr=[[mean - low], [high - mean]], fmt="o", color=color, capsize=3,
                        markersize=6 if r["seat"] == "every seat" else 4)
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.set_yticks(range(len(rows)), names if i == 0 else [""] * len(rows))
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("League of seat swaps: each seat's difference, candidate − reference, with its 95% interval", fontsize=12)
    return _save(fig, path)
