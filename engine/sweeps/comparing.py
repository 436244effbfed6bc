"""A comparison's folder in a report: which two games it holds, which is which, and their
difference turn by turn (:func:`engine.sweeps.plots.difference_chart` draws it).

A folder is a comparison when it holds two finished games of one scenario and one seed that differ
in their group (a legend set or a brain set), as ``ttwood compare`` writes them; its
``compare.json`` (when it can be read) says which run is the first and gives the verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from engine.sweeps.plots import Difference

Row = dict[str, Any]
COMPARE_JSON = "compare.json"
LARGEST_JSON = 64 * 1024 * 1024
"""A ``compare.json`` larger than this is not read (the verdict is left out)."""
SERIES = (("gini", "Gini of wealth", "Gini"), ("trades", "Trades per turn", "trades"), ("trees", "Trees standing", "trees"),
          ("alive", "Creatures alive", "alive"))


@dataclass(slots=True)
class Pair:
    """The two games of a comparison, the first first."""

    games: tuple[str, str]
    """Their ``game`` column."""
    labels: tuple[str, str]
    """What each is called: ``with``/``without`` a legend, ``a``/``b`` for two brain sets, else its group."""
    verdict: str | None
    """``ttwood compare``'s verdict, when its ``compare.json`` says it."""


def comparison(folder: Path, results: list[Row], label_of: Callable[[Row], str]) -> Pair | None:
    """The folder's two games when it is a comparison, else ``None``."""
    done = [r for r in results if r.get("status") == "done"]
    if len(done) != 2 or len({(r.get("scenario"), r.get("seed"), r.get("turns")) for r in done}) != 1:
        return None
    first, second = sorted(done, key=label_of)
    if label_of(first) == label_of(second):
        return None
    labels = (label_of(first), label_of(second))
    saved = _compare_json(folder / COMPARE_JSON)
    verdict = None
    if saved is not None:
        names = [k for k in saved if k not in ("diff", "verdict")]
        stems = {k: Path(str(saved[k].get("save", ""))).stem for k in names if isinstance(saved[k], dict)}
        by_name = {r.get("name"): r for r in done}
        if len(names) == 2 and all(stems.get(k) in by_name for k in names):
            first, second = by_name[stems[names[0]]], by_name[stems[names[1]]]
            labels = (f"{names[0]} ({label_of(first)})", f"{names[1]} ({label_of(second)})")
        text = saved.get("verdict", {}).get("text") if isinstance(saved.get("verdict"), dict) else None
        verdict = text if isinstance(text, str) else None
    return Pair((str(first["game"]), str(second["game"])), labels, verdict)


def _compare_json(path: Path) -> dict[str, Any] | None:
    """``compare.json``, or ``None`` when it is missing, too large or not the object it should be."""
    try:
        if path.stat().st_size > LARGEST_JSON:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _column(r: Row, key: str) -> Any:
    return r.get(key)


def differences(turns: list[Row], pair: Pair, goods: list[str], defaults: dict[tuple[str, int], int]) -> list[Difference]:
    """Per series (each good's traded price, Gini, trades, defaults so far, trees, creatures
    alive): the first game's number minus the second's, per turn both played."""
    by = {g: {r["turn"]: r for r in turns if r["game"] == g} for g in pair.games}
    a, b = by[pair.games[0]], by[pair.games[1]]
    common = sorted(set(a) & set(b))

    def diff(value: Callable[[Row], Any]) -> list[float]:
        out = []
        for t in common:
            x, y = value(a[t]), value(b[t])
            out.append(math.nan if x is None or y is None else float(x) - float(y))
        return out

    panels = [Difference(f"Price of {g}", "pebbles", common, diff(partial(_column, key=f"price_{g}"))) for g in goods]
    panels += [Difference(title, unit, common, diff(partial(_column, key=key))) for key, title, unit in SERIES]
    panels.append(Difference("Defaults so far", "defaults", common, diff(lambda r: defaults.get((r["game"], r["turn"])))))
    return panels
