"""Whole-run reports: the JSON of ``ttwood run --json`` and the readable summary's numbers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from engine.turn.game import Game, TurnReport


def run(game: Game, turns: int, on_turn: Callable[[TurnReport], None] | None = None) -> list[TurnReport]:
    """Play ``turns`` turns, calling ``on_turn`` after each."""
    out = []
    for _ in range(turns):
        r = game.step()
        out.append(r)
        if on_turn is not None:
            on_turn(r)
    return out


def season_prices(reports: list[TurnReport], good: str) -> dict[str, float | None]:
    """Volume-weighted average traded price of a good in each season over a run."""
    qty: dict[str, int] = {}
    value: dict[str, int] = {}
    for r in reports:
        p = r.prices.get(good)
        if p is None:
            continue
        q = sum(e.data.get("qty", 0) for e in r.events if e.kind == "trade" and e.data.get("good") == good)
        qty[r.season] = qty.get(r.season, 0) + q
        value[r.season] = value.get(r.season, 0) + sum(
            e.data.get("qty", 0) * e.data.get("price", 0)
            for e in r.events
            if e.kind == "trade" and e.data.get("good") == good
        )
    seasons = list(dict.fromkeys(r.season for r in reports))
    return {s: (round(value[s] / qty[s], 2) if qty.get(s) else None) for s in seasons}


_NUMBER = re.compile(r"#?\d+")


def reason_key(reason: str) -> str:
    """A refusal reason with its numbers and ids taken out, so alike reasons count together."""
    return _NUMBER.sub("N", reason)


def model_card(reports: list[TurnReport], name: str) -> dict[str, Any]:
    """How the brains did: valid answers, actions the rules accepted, why others were refused, speed."""
    answers = [d for r in reports for d in r.decided]
    valid = sum(1 for d in answers if not d.answer.problems)
    actions = sum(len(d.results) + len(d.answer.problems) for d in answers)
    accepted = sum(1 for d in answers for _, why in d.results if why is None)
    rejections: Counter[str] = Counter()
    for d in answers:
        for p in d.answer.problems:
            rejections[reason_key("answer: " + p)] += 1
        for a, why in d.results:
            if why is not None:
                rejections[reason_key(f"{a.type}: {why}")] += 1
    think = sum(r.think_seconds for r in reports)
    return {
        "name": name,
        "answers": len(answers),
        "valid_rate": round(valid / len(answers), 4) if answers else None,
        "actions": actions,
        "accepted_rate": round(accepted / actions, 4) if actions else None,
        "rejections": dict(rejections.most_common()),
        "ms_per_agent_turn": round(1000 * think / len(answers), 2) if answers else None,
        "tokens_max": max((r.tokens_max for r in reports if r.tokens_max is not None), default=None),
    }


def run_json(game: Game, reports: list[TurnReport], *, brain: str, model: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one JSON object ``ttwood run --json`` prints."""
    w = game.wood
    ok, detail = game.conservation()
    ginis = [r.gini for r in reports]
    return {
        "scenario": game.scenario.meta.id,
        "seed": game.seed,
        "turns": len(reports),
        "brain": brain,
        "creatures": [
            {"name": c.name, "species": c.species, "role": c.role, "makes": c.makes, "alive": c.alive}
            for c in w.creatures
        ],
        "per_turn": [r.summary() for r in reports],
        "totals": {
            "trades": sum(r.trades for r in reports),
            "turns_with_trades": sum(1 for r in reports if r.trades > 0),
            "defaults": sum(r.defaults for r in reports),
            "gini_min": round(min(ginis), 4) if ginis else None,
            "gini_max": round(max(ginis), 4) if ginis else None,
            "valid_actions": sum(r.valid_actions for r in reports),
            "rejected_actions": sum(r.rejected_actions for r in reports),
            "season_prices": {g: season_prices(reports, g) for g in w.goods},
            "alive": len(w.alive()),
        },
        "final": {
            "turn": w.turn,
            "creatures": [
                {
                    "name": c.name,
                    "alive": c.alive,
                    "health": c.health,
                    "credit": c.credit,
                    "wealth": w.wealth(c),
                    "holdings": {a: c.total(a) for a in w.assets if c.total(a)},
                }
                for c in w.creatures
            ],
        },
        "conservation": {"ok": ok, "detail": detail},
        "model": {**(model or {}), **model_card(reports, (model or {}).get("name", brain))},
    }
