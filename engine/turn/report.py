"""What a turn reports (:class:`TurnReport`, each creature's :class:`Decided`), and whole-run
reports: the JSON of ``ttwood run --json`` and the readable summary's numbers."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.turn.actions import Action
from engine.turn.brain import Answer
from engine.turn.honesty import speech_audit
from engine.world.creatures import Creature
from engine.world.wood import Event

if TYPE_CHECKING:
    from engine.turn.game import Game


@dataclass(slots=True)
class Decided:
    """One creature's turn: what its brain answered and what the rules made of each action."""

    creature: str
    answer: Answer
    results: list[tuple[Action, str | None]] = field(default_factory=list)
    """Each action with ``None`` (applied) or the reason it was refused."""
    held: dict[str, int] = field(default_factory=dict, compare=False)
    """What it held free when it decided (for the speech audit; empty in a turn read back from a
    save, and so left out when two turns are compared)."""


MESSAGE_EVENTS = frozenset({"say", "whisper"})
"""Event kinds that count as messages (engine.turn.rules: ``say`` and ``whisper``)."""
OFFER_EVENTS = frozenset({"offer"})
"""Every offer, counter, ``lend`` and ``borrow`` the rules accept emits one ``offer`` event."""
DEAL_EVENTS = frozenset({"contract"})
"""An accepted forward offer or loan emits one ``contract`` event (a spot swap is a ``deal``)."""
LIVELINESS = ("messages", "offers", "deals")
"""The per-turn counts of talk and dealing in ``ttwood run --json``, summed in its totals."""


@dataclass(slots=True)
class TurnReport:
    """Everything that happened in one turn, for the command line, the UI and the save."""

    turn: int
    season: str
    trades: int
    volume: int
    """Units of goods that changed hands."""
    value: int
    """Pebbles that changed hands for goods."""
    gini: float
    prices: dict[str, int | None]
    """This turn's average traded price per good (``None``: no trade)."""
    reference: dict[str, int]
    defaults: int
    trees: int
    valid_actions: int
    rejected_actions: int
    alive: int
    hungry: int
    cold: int
    open_orders: int
    open_contracts: int
    legends: list[str]
    events: list[Event]
    decided: list[Decided]
    think_seconds: float = 0.0
    """Wall time the brains took to decide this turn."""

    @property
    def messages(self) -> int:
        """Says and whispers this turn."""
        return sum(1 for e in self.events if e.kind in MESSAGE_EVENTS)

    @property
    def offers(self) -> int:
        """Offers made this turn: trade offers, counters, loan offers and loan requests."""
        return sum(1 for e in self.events if e.kind in OFFER_EVENTS)

    @property
    def deals(self) -> int:
        """Forward contracts and loans signed this turn."""
        return sum(1 for e in self.events if e.kind in DEAL_EVENTS)

    @property
    def tokens_max(self) -> int | None:
        """The largest prompt + answer of any creature this turn (``None``: no model brain)."""
        sizes = [d.answer.meta["prompt_tokens"] + d.answer.meta["answer_tokens"] for d in self.decided
                 if "prompt_tokens" in d.answer.meta and "answer_tokens" in d.answer.meta]
        return max(sizes) if sizes else None

    def summary(self) -> dict[str, Any]:
        """The per-turn record of ``ttwood run --json``."""
        return {
            "turn": self.turn,
            "season": self.season,
            "trades": self.trades,
            "volume": self.volume,
            "value": self.value,
            "gini": round(self.gini, 4),
            "prices": self.prices,
            "reference_prices": self.reference,
            "defaults": self.defaults,
            "trees": self.trees,
            "valid_actions": self.valid_actions,
            "rejected_actions": self.rejected_actions,
            "alive": self.alive,
            "hungry": self.hungry,
            "cold": self.cold,
            "open_orders": self.open_orders,
            "open_contracts": self.open_contracts,
            "legends": self.legends,
            "tokens_max": self.tokens_max,
            "messages": self.messages,
            "offers": self.offers,
            "deals": self.deals,
            "rumours_found_false": sum(1 for e in self.events if e.kind == "rumour"),
        }


def season_prices(reports: list[TurnReport], good: str) -> dict[str, float | None]:
    """Volume-weighted average traded price of a good in each season over a run: sales for pebbles
    only (a goods-for-goods swap has no price, as the turn's own prices leave it out)."""
    qty: dict[str, int] = {}
    value: dict[str, int] = {}
    for r in reports:
        p = r.prices.get(good)
        if p is None:
            continue
        sales = [e.data for e in r.events if e.kind == "trade" and e.data.get("good") == good and e.data.get("price", 0) > 0]
        qty[r.season] = qty.get(r.season, 0) + sum(d.get("qty", 0) for d in sales)
        value[r.season] = value.get(r.season, 0) + sum(d.get("qty", 0) * d["price"] for d in sales)
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


def deaths(game: Game) -> list[dict[str, Any]]:
    """Who left the wood, when, and why: ``cause`` is what hurt most on its last turn (``hunger``
    or ``cold``), ``causes`` everything that did, with ``debt`` when it died owing a loan."""
    w, needs = game.wood, game.scenario.needs
    out = []
    for c in w.creatures:
        if c.alive or c.left_turn is None:
            continue
        hurt = {"hunger": c.hungry * needs.hunger_damage, "cold": c.cold * needs.cold_damage}
        causes = [k for k, v in sorted(hurt.items(), key=lambda kv: -kv[1]) if v > 0]
        if any(k.kind == "loan" and k.legs and k.legs[0].obligor == c.id and k.history and k.history[-1][0] == c.left_turn
               for k in w.deals.finished):
            causes.append("debt")
        out.append({"name": c.name, "role": c.role, "turn": c.left_turn, "cause": causes[0] if causes else "unknown", "causes": causes})
    return sorted(out, key=lambda d: (d["turn"], d["name"]))


def survival(reports: list[TurnReport], year_length: int) -> list[dict[str, Any]]:
    """Creatures alive at the end of each season of the run (year 1 first)."""
    out: list[dict[str, Any]] = []
    for r in reports:
        year = (r.turn - 1) // max(1, year_length) + 1
        if out and out[-1]["season"] == r.season and out[-1]["year"] == year:
            out[-1]["to"], out[-1]["alive"] = r.turn, r.alive
        else:
            out.append({"year": year, "season": r.season, "from": r.turn, "to": r.turn, "alive": r.alive})
    return out


def kept_word(creatures: list[Creature], name: str) -> dict[str, int]:
    """How often ``name`` kept its word and broke it, by the books of everyone it dealt with:
    ``kept`` contracts it was a party to that settled, ``broken`` the ones it defaulted on."""
    kept = broken = 0
    for other in creatures:
        seen = other.trust.get(name) if other.name != name else None
        if seen:
            kept += seen[0]
            broken += seen[1]
    return {"kept": kept, "broken": broken}


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
            **{key: sum(getattr(r, key) for r in reports) for key in LIVELINESS},
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
                    **kept_word(w.creatures, c.name),
                }
                for c in w.creatures
            ],
        },
        "conservation": {"ok": ok, "detail": detail},
        "deaths": deaths(game),
        "survival": survival(reports, game.scenario.year_length),
        "speech": speech_audit(reports, w.food, w.fuel, int(game.scenario.needs.meal_size)),
        "model": {**(model or {}), **model_card(reports, (model or {}).get("name", brain))},
    }
