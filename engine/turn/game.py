"""The orchestrator: one game, advanced one turn at a time.

A turn: the world advances (legends, expiries, trees, spoilage, meals and fire); every living
creature observes and decides (each brain gets all its creatures at once, so it can batch);
actions are validated and resolved round-robin in a seeded order; the book clears; due
contracts settle or default; the turn's metrics are reported.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import TTWoodError
from engine.economy import legends, nature
from engine.economy.metrics import gini
from engine.economy.settlement import leave, settle_due
from engine.scenario import Scenario
from engine.turn import memory
from engine.turn.actions import Action
from engine.turn.brain import Answer, Brain
from engine.turn.observe import observe_all
from engine.turn.rules import resolve
from engine.world.ledger import asset_totals, check_no_negative
from engine.world.lifecycle import OfferStatus
from engine.world.wood import Event, Wood


@dataclass(slots=True)
class Decided:
    """One creature's turn: what its brain answered and what the rules made of each action."""

    creature: str
    answer: Answer
    results: list[tuple[Action, str | None]] = field(default_factory=list)
    """Each action with ``None`` (applied) or the reason it was refused."""


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
        }


class Game:
    """One game of Thousand Token Wood."""

    def __init__(self, scenario: Scenario, seed: int, brains: Brain | Mapping[str, Brain]) -> None:
        """``brains``: one brain for every creature, or a map from creature name to brain with
        ``"*"`` as the default."""
        self.wood = Wood(scenario, seed)
        self.scenario = scenario
        self.seed = seed
        self._brain_of: list[Brain] = []
        for c in self.wood.creatures:
            if isinstance(brains, Mapping):
                b = brains.get(c.name) or brains.get("*")
                if b is None:
                    raise TTWoodError(f"no brain given for {c.name}")
            else:
                b = brains
            self._brain_of.append(b)
        self._rejections: dict[int, list[str]] = {}
        self.reports: list[TurnReport] = []

    @property
    def turn(self) -> int:
        return self.wood.turn

    def brain_of(self, name: str) -> Brain:
        return self._brain_of[self.wood.by_name[name].id]

    def set_brain(self, name: str, brain: Brain) -> None:
        """Hand one creature to another brain from the next turn on (the player taking it over)."""
        if name not in self.wood.by_name:
            raise TTWoodError(f"no creature called {name!r}")
        self._brain_of[self.wood.by_name[name].id] = brain

    def inject(self, legend_id: str) -> None:
        """Ask for an on-demand legend; it fires at the start of the next turn."""
        ids = {lg.id for lg in self.scenario.legends}
        if legend_id not in ids:
            raise TTWoodError(f"no legend {legend_id!r} in this scenario (known: {', '.join(sorted(ids)) or 'none'})")
        self.wood.pending_legends.append(legend_id)

    # ------------------------------------------------------------------ the turn
    def step(self) -> TurnReport:
        """Play one turn and return its report."""
        w = self.wood
        w.turn += 1
        w.events = []
        w.offer_trades = []
        defaults_before = w.defaults_total

        # 1. The world advances.
        legends.expire_modifiers(w)
        previous_gini = self.reports[-1].gini if self.reports else 0.0
        fired = legends.due_legends(w, previous_gini)
        for lg in fired:
            legends.fire(w, lg)
        w.book.expire(w.turn, w.creatures, w.ledger)
        for off in [o for o in w.deals.offers.values() if o.expires <= w.turn]:
            w.deals.close_offer(off, OfferStatus.EXPIRED, w.turn, w.creatures, w.ledger)
        nature.grow_trees(w)
        nature.spoil(w)
        for c in nature.feed_and_warm(w):
            leave(w, c)

        # 2–3. Every living creature observes and decides, each brain for all its creatures at once.
        living = w.alive()
        observations = observe_all(w, living, self._rejections)
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(living):
            groups.setdefault(id(self._brain_of[c.id]), []).append(i)
        answers: list[Answer | None] = [None] * len(living)
        think = 0.0
        for idxs in groups.values():
            brain = self._brain_of[living[idxs[0]].id]
            t0 = time.perf_counter()
            got = brain.decide([observations[i] for i in idxs])
            think += time.perf_counter() - t0
            if len(got) != len(idxs):
                raise TTWoodError(f"brain {brain.name} answered {len(got)} times for {len(idxs)} creatures")
            for i, a in zip(idxs, got):
                answers[i] = a

        # 4–5. Validate and resolve, round-robin in a seeded order.
        decided = [Decided(c.name, a or Answer([])) for c, a in zip(living, answers)]
        order = list(range(len(living)))
        w.rng.shuffle(order)
        produced: set[int] = set()
        limit = self.scenario.budget.max_actions
        queues = [list(decided[i].answer.actions[:limit]) for i in range(len(living))]
        rejections: dict[int, list[str]] = {}
        valid = rejected = 0
        for i, d in enumerate(decided):
            if d.answer.problems:
                rejections.setdefault(living[i].id, []).extend(d.answer.problems)
                rejected += len(d.answer.problems)
            extra = len(d.answer.actions) - limit
            if extra > 0:
                rejections.setdefault(living[i].id, []).append(f"only {limit} actions a turn; {extra} ignored")
                rejected += extra
        for step in range(max((len(q) for q in queues), default=0)):
            for i in order:
                if step >= len(queues[i]):
                    continue
                c, action = living[i], queues[i][step]
                reason = resolve(w, c, action, produced)
                decided[i].results.append((action, reason))
                if reason is None:
                    valid += 1
                else:
                    rejected += 1
                    rejections.setdefault(c.id, []).append(f"{action.type}: {reason}")
        self._rejections = rejections

        # The market clears; due contracts settle or default.
        trades = w.book.clear(w.turn, w.creatures, w.ledger) + w.offer_trades
        for t in trades:
            w.event("trade", f"{w.creatures[t.seller].name} sold {t.qty} {t.good} to "
                    f"{w.creatures[t.buyer].name} at {t.price}", good=t.good, qty=t.qty, price=t.price,
                    buyer=w.creatures[t.buyer].name, seller=w.creatures[t.seller].name, via=t.via)
        prices = w.book.record([t for t in trades if t.price > 0], w.turn)
        settle_due(w)
        memory.remember(w)

        alive = w.alive()
        reference = {g: w.price(g) for g in w.goods}
        report = TurnReport(
            turn=w.turn,
            season=w.season,
            trades=len(trades),
            volume=sum(t.qty for t in trades),
            value=sum(t.qty * t.price for t in trades),
            gini=gini([w.wealth(c, reference) for c in alive if c.role != "patron"]),
            prices=prices,
            reference=reference,
            defaults=w.defaults_total - defaults_before,
            trees=w.trees(),
            valid_actions=valid,
            rejected_actions=rejected,
            alive=len(alive),
            hungry=sum(c.hungry for c in alive),
            cold=sum(c.cold for c in alive),
            open_orders=len(w.book.orders),
            open_contracts=len(w.deals.contracts),
            legends=[lg.id for lg in fired],
            events=list(w.events),
            decided=decided,
            think_seconds=think,
        )
        self.reports.append(report)
        return report

    # ------------------------------------------------------------------ the books
    def conservation(self) -> tuple[bool, dict[str, Any]]:
        """Whether every asset is conserved except through named sources and sinks, and escrow
        matches what open orders, offers and contracts lock."""
        w = self.wood
        now = asset_totals(w.creatures, w.assets)
        detail: dict[str, Any] = {"assets": {}, "problems": []}
        ok = True
        for a in w.assets:
            flows = {r: v for (asset, r), v in w.ledger.flows.items() if asset == a and v}
            expected = w.initial[a] + sum(flows.values())
            detail["assets"][a] = {"start": w.initial[a], "flows": flows, "now": now[a]}
            if now[a] != expected:
                ok = False
                detail["problems"].append(f"{a}: expected {expected}, found {now[a]}")
        negatives = check_no_negative(w.creatures)
        escrow = escrow_problems(w)
        detail["problems"] += negatives + escrow
        ok = ok and not negatives and not escrow
        return ok, detail


def expected_escrow(w: Wood) -> dict[int, dict[str, int]]:
    """What each creature's escrow must hold, from its open orders, offers and contracts."""
    exp: dict[int, dict[str, int]] = {c.id: {} for c in w.creatures}
    for o in w.book.orders.values():
        a, q = o.locked
        exp[o.owner][a] = exp[o.owner].get(a, 0) + q
    for off in w.deals.offers.values():
        for a, q in off.locked.items():
            exp[off.sender][a] = exp[off.sender].get(a, 0) + q
    for k in w.deals.contracts.values():
        if k.collateral_owner is not None:
            for a, q in k.collateral.items():
                exp[k.collateral_owner][a] = exp[k.collateral_owner].get(a, 0) + q
    return exp


def escrow_problems(w: Wood) -> list[str]:
    """Every mismatch between a creature's escrow and what its commitments lock."""
    exp = expected_escrow(w)
    out = []
    for c in w.creatures:
        for a in w.assets:
            if c.escrow.get(a, 0) != exp[c.id].get(a, 0):
                out.append(f"{c.name} escrow {a}: holds {c.escrow.get(a, 0)}, commitments lock {exp[c.id].get(a, 0)}")
    return out

