"""Counterfactuals: the same wood and seed played twice, differing in one thing (a legend, or the
brains), turn by turn, with a short verdict: the largest effect and the turn where the paths part.

Both games are saves that replay, and their rows go into ``results.parquet``/``turns.parquet``
like a sweep's, so ``ttwood report`` draws a comparison as it draws a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from engine.sweeps.cluster import Sweep
from engine.sweeps.spec import GameSpec, SweepError

METRICS = ("gini", "trades", "volume", "defaults", "deals", "offers", "messages", "trees", "alive", "hungry")
"""Per-turn numbers compared besides the prices."""
_NAMES = {"gini": "the Gini of wealth", "trades": "trades per turn", "volume": "goods traded per turn",
          "defaults": "defaults per turn", "deals": "deals per turn", "offers": "offers per turn",
          "messages": "messages per turn", "trees": "trees standing", "alive": "creatures alive", "hungry": "hungry creatures"}


@dataclass(slots=True)
class Comparison:
    """Two runs of one seed, their per-turn differences and the verdict."""

    labels: tuple[str, str]
    """``("with", "without")`` for a legend, ``("a", "b")`` for two brains."""
    runs: tuple[dict[str, Any], dict[str, Any]]
    """Each as ``ttwood run --json`` prints it (plus ``"save"``)."""
    diff: list[dict[str, Any]]
    verdict: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {self.labels[0]: self.runs[0], self.labels[1]: self.runs[1], "diff": self.diff, "verdict": self.verdict}


def compare(specs: tuple[GameSpec, GameSpec], labels: tuple[str, str], out: Path, what: str, client: Any = None) -> Comparison:
    """Play both games into ``out`` (on ``client``'s cluster, side by side, when given; else one
    after the other here) and compare them; ``what`` says in words what differs (for the verdict).
    Games ``out`` already holds finished are read back, not played again."""
    if specs[0].id == specs[1].id:
        raise SweepError("the two runs would be the same game: change the legend or the brains")
    sweep = Sweep(out, list(specs))
    if client is not None:
        sweep.run(client, verify=True)
    else:
        sweep.play_here()
    runs = []
    for spec in specs:
        data = sweep.run_data(spec)
        if data is None:
            raise SweepError(f"{spec.name}: the game failed ({sweep.error_of(spec)})")
        runs.append(data | {"save": str(out / "saves" / f"{spec.name}.ttwood")})
    diff = per_turn_diff(runs[0]["per_turn"], runs[1]["per_turn"])
    return Comparison(labels, (runs[0], runs[1]), diff, verdict(runs[0]["per_turn"], runs[1]["per_turn"], labels, what))


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 4)


def per_turn_diff(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per turn: the first run's number minus the second's (``None`` where either has none)."""
    out = []
    for x, y in zip(a, b, strict=True):
        row: dict[str, Any] = {"turn": x["turn"], "season": x["season"]}
        row |= {k: _sub(x[k], y[k]) for k in METRICS}
        row["prices"] = {g: _sub(x["prices"].get(g), y["prices"].get(g)) for g in x["prices"]}
        out.append(row)
    return out


def _series(per_turn: list[dict[str, Any]], key: str) -> list[float | None]:
    if key.startswith("price:"):
        return [p["prices"].get(key[6:]) for p in per_turn]
    return [p[key] for p in per_turn]


def parting_turn(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> int | None:
    """The first turn whose prices or numbers differ between the runs (``None``: they never do)."""
    for x, y in zip(a, b, strict=True):
        if x["prices"] != y["prices"] or any(x[k] != y[k] for k in METRICS) or x["reference_prices"] != y["reference_prices"]:
            return int(x["turn"])
    return None


def effects(a: list[dict[str, Any]], b: list[dict[str, Any]], since: int) -> list[dict[str, Any]]:
    """For each series, the mean of each run from turn ``since`` on (over the turns both have a
    number), ``change`` (the first against the second, as a fraction of the second) and ``relative``
    (the difference over the larger mean, which ranks them), largest first."""
    keys = [*(f"price:{g}" for g in a[0]["prices"]), *METRICS] if a else []
    found = []
    for key in keys:
        pairs = [(x, y) for t, x, y in zip(range(1, len(a) + 1), _series(a, key), _series(b, key), strict=True)
                 if t >= since and x is not None and y is not None]
        if not pairs:
            continue
        ma, mb = fmean(p[0] for p in pairs), fmean(p[1] for p in pairs)
        scale = max(abs(ma), abs(mb))
        rel = (ma - mb) / scale if scale else 0.0
        change = round((ma - mb) / abs(mb), 4) if mb else None
        found.append({"series": key, "mean_a": round(ma, 4), "mean_b": round(mb, 4), "relative": round(rel, 4), "change": change,
                      "turns": len(pairs)})
    return sorted(found, key=lambda e: -abs(e["relative"]))


def _name(series: str) -> str:
    return f"the price of {series[6:]}" if series.startswith("price:") else _NAMES.get(series, series)


def _change(e: dict[str, Any]) -> str:
    return f"{e['change']:+.0%}" if e["change"] is not None else f"from 0 to {e['mean_a']:.4g}"


def verdict(a: list[dict[str, Any]], b: list[dict[str, Any]], labels: tuple[str, str], what: str) -> dict[str, Any]:
    """The largest effect and the turn where the paths part, in numbers and in one sentence."""
    parted = parting_turn(a, b)
    if parted is None:
        return {"parted_at": None, "largest": None, "effects": [], "text": f"{what} changed nothing: both runs are the same, turn by turn"}
    ranked = [e for e in effects(a, b, parted) if e["relative"] != 0]
    if not ranked:
        return {"parted_at": parted, "largest": None, "effects": [],
                "text": f"the paths part at turn {parted}, but no number moved on average: {what} changed little"}
    top = ranked[0]
    direction = "raised" if top["relative"] > 0 else "lowered"
    text = (f"{what} {direction} {_name(top['series'])} most: {top['mean_a']:.4g} on average from turn {parted} "
            f"({labels[0]}) against {top['mean_b']:.4g} ({labels[1]}), {_change(top)}; the paths part at turn {parted}")
    more = [f"{_name(e['series'])} {_change(e)}" for e in ranked[1:4]]
    if more:
        text += "; next: " + ", ".join(more)
    shocks = price_shocks(a, b, parted)
    if shocks:
        also = [f"{s['series'][6:]} {s['change']:+.0%} on turn {s['turn']}" for s in shocks[1:3]]
        text = (_shock_text(shocks[0], what, labels) + (f" (also: {', '.join(also)})" if also else "")
                + ". Over the whole run: " + text)
    return {"parted_at": parted, "largest": top, "effects": ranked, "shocks": shocks, "text": text}


SHOCK_TURNS = 3
"""A shock is a price's largest move within this many turns of the paths parting."""
SHOCK_AT_LEAST = 0.15
"""Smaller moves (as a share of the other run's price) are not called shocks."""
BACK_WITHIN = 0.1
"""A price has come back once it is within this share of the other run's again."""


def price_shocks(a: list[dict[str, Any]], b: list[dict[str, Any]], since: int) -> list[dict[str, Any]]:
    """Per good, the largest move of its traded price within :data:`SHOCK_TURNS` turns of ``since``
    (the first run against the second, on turns both traded it), and the turn it came back, largest
    first; with the turn a rumour was found false in the first run, if one was."""
    if not a:
        return []
    out = []
    for good in a[0]["prices"]:
        moves = [(x["turn"], x["prices"].get(good), y["prices"].get(good)) for x, y in zip(a, b, strict=True)
                 if since <= x["turn"] <= since + SHOCK_TURNS]
        moves = [(t, pa, pb) for t, pa, pb in moves if pa is not None and pb]
        if not moves:
            continue
        turn, pa, pb = max(moves, key=lambda m: abs(m[1] / m[2] - 1))
        change = pa / pb - 1
        if abs(change) < SHOCK_AT_LEAST:
            continue
        found = next((x["turn"] for x in a if x["turn"] >= since and x.get("rumours_found_false")), None)
        out.append({"series": f"price:{good}", "turn": turn, "with": pa, "without": pb, "change": round(change, 4),
                    "back_at": _came_back(a, b, good, turn, change), "found_false_at": found})
    return sorted(out, key=lambda s: -abs(s["change"]))


def _came_back(a: list[dict[str, Any]], b: list[dict[str, Any]], good: str, turn: int, change: float) -> int | None:
    """The first turn after ``turn`` when both runs traded ``good`` and the first run's price was
    within :data:`BACK_WITHIN` of the second's again, or past it the other way."""
    for x, y in zip(a, b, strict=True):
        pa, pb = x["prices"].get(good), y["prices"].get(good)
        if x["turn"] <= turn or pa is None or not pb:
            continue
        if abs(pa / pb - 1) <= BACK_WITHIN or (pa - pb) * change < 0:
            return int(x["turn"])
    return None


def _shock_text(s: dict[str, Any], what: str, labels: tuple[str, str]) -> str:
    good = s["series"][6:]
    text = (f"{what} moved the traded price of {good} {s['change']:+.0%} within {SHOCK_TURNS} turns "
            f"({s['with']:g} {labels[0]} against {s['without']:g} {labels[1]} on turn {s['turn']})")
    found = s["found_false_at"]
    if found is not None:
        text += f"; the rumour was found false on turn {found}"
    if s["back_at"] is not None:
        text += f"; the price came back on turn {s['back_at']}"
    else:
        text += "; the price had not come back by the end"
    return text
