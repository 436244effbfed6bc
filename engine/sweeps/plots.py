"""The report's charts, drawn with matplotlib (no screen needed: the Agg backend writes PNGs).

Each chart takes :class:`Band` series: per group of games (the labels that vary in the folder),
the mean over its seeds per turn and the band from the lowest to the highest seed.
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


def _draw(ax: Axes, bands: list[Band], colors: dict[str, Any], title: str, ylabel: str) -> None:
    for i, b in enumerate(bands):
        c = colors[b.label]
        ax.plot(b.turns, b.mean, color=c, lw=1.8, ls=STYLES[i % len(STYLES)],
                label=f"{plain(b.label)} ({b.seeds} seed{'s' if b.seeds != 1 else ''})")
        if b.seeds > 1:
            ax.fill_between(b.turns, b.low, b.high, color=c, alpha=0.18, lw=0)
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
    fig.suptitle("Prices: mean over seeds, band from the lowest to the highest seed" if several else "Prices per turn", fontsize=12)
    return _save(fig, path)


def _legend(fig: Figure, ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, max(1, len(labels))), fontsize=9, frameon=False)


def line_chart(bands: list[Band], colors: dict[str, Any], path: Path, title: str, ylabel: str) -> Path:
    """One series per group over the turns (Gini, trades, defaults, ...)."""
    fig, axes = _figure(1, 1, height=4.2)
    _draw(axes[0], bands, colors, title, ylabel)
    _legend(fig, axes[0])
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
