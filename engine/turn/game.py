"""The orchestrator: one game, advanced one turn at a time.

A turn: the world advances (legends, expiries, trees, spoilage, meals and fire); every living
creature observes and decides (each brain gets all its creatures at once, so it can batch);
actions are validated and resolved round-robin in a seeded order; the book clears; due
contracts settle or default; the turn's metrics are reported.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from engine.core.errors import TTWoodError, check_seed
from engine.economy import legends, nature
from engine.economy.metrics import gini
from engine.economy.settlement import leave, settle_due
from engine.scenario import LegendSpec, Scenario
from engine.turn import memory, progress
from engine.turn.brain import Answer, Brain, Foresees
from engine.turn.observe import observe_all
from engine.turn.report import Decided, TurnReport
from engine.turn.rules import resolve
from engine.world.ledger import asset_totals, check_no_negative
from engine.world.lifecycle import OfferStatus
from engine.world.market import Trade
from engine.world.state import GameState, Layout, StateError, check_covered, take
from engine.world.wood import Wood


class Game:
    """One game of Thousand Token Wood."""

    def __init__(self, scenario: Scenario, seed: int, brains: Brain | Mapping[str, Brain]) -> None:
        """``brains``: one brain for every creature, or a map from creature name to brain with
        ``"*"`` as the default."""
        self.wood = Wood(scenario, check_seed(seed))
        self.scenario = scenario
        self.seed = seed
        self._brain_of: list[Brain] = self._assign(brains)
        self._rejections: dict[int, list[str]] = {}
        self.reports: list[TurnReport] = []
        for b in {id(b): b for b in self._brain_of}.values():
            if isinstance(b, Foresees):
                b.watch(self)

    def _assign(self, brains: Brain | Mapping[str, Brain]) -> list[Brain]:
        """Each creature's brain, in creature order (see :meth:`__init__`)."""
        out = []
        for c in self.wood.creatures:
            if isinstance(brains, Mapping):
                b = brains.get(c.name) or brains.get("*")
                if b is None:
                    raise TTWoodError(f"no brain given for {c.name}")
            else:
                b = brains
            out.append(b)
        return out

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
        if isinstance(brain, Foresees):
            brain.watch(self)

    def inject(self, legend_id: str) -> None:
        """Ask for an on-demand legend; it fires at the start of the next turn."""
        ids = {lg.id for lg in self.scenario.legends}
        if legend_id not in ids:
            raise TTWoodError(f"no legend {legend_id!r} in this scenario (known: {', '.join(sorted(ids)) or 'none'})")
        self.wood.pending_legends.append(legend_id)

    # ------------------------------------------------------------------ the loop
    def run(self, turns: int, on_turn: Callable[[TurnReport], bool | None] | None = None, *,
            before: Callable[[int], None] | None = None) -> list[TurnReport]:
        """Play ``turns`` turns, calling ``on_turn`` with each turn's report as soon as it is made.

        The one game loop: the command line, the benches, the session, the UI and replay all play
        through it. ``before`` is called with a turn's number before it is played (replay puts
        the legends a player asked for then); ``on_turn`` returning ``True`` stops the game there
        (replay stops at the first turn that differs from the save).
        """
        out: list[TurnReport] = []
        for _ in range(turns):
            if before is not None:
                before(self.wood.turn + 1)
            report = self.step()
            out.append(report)
            if on_turn is not None and on_turn(report):
                break
        return out

    # ------------------------------------------------------------------ the turn
    def step(self) -> TurnReport:
        """Play one turn, phase by phase in the order below, and return its report.

        The cyclic garbage collector waits for the end of the turn (:func:`collector_held`)."""
        with collector_held():
            defaults_before = self.wood.defaults_total
            self._begin()
            fired = self._advance_world()
            return self._finish(fired, defaults_before)

    def finish_turn(self) -> TurnReport:
        """Play the rest of a turn whose world has advanced, from its creatures' decisions on.

        For a copy of a game made while its creatures decide (a brain looking ahead,
        :mod:`engine.elders.foresight`): the copy plays its turn on from there, as the game it
        was copied from would with the same answers. Its report lists no legends fired this turn,
        and counts only the defaults from here on."""
        return self._finish([], self.wood.defaults_total)

    def _finish(self, fired: list[LegendSpec], defaults_before: int) -> TurnReport:
        decided, think = self._decide()
        valid, rejected = self._resolve(decided)
        trades, prices = self._clear_and_settle()
        memory.remember(self.wood)
        report = self._report(fired, decided, trades, prices, valid, rejected, think, defaults_before)
        self.reports.append(report)
        return report

    def _begin(self) -> None:
        w = self.wood
        w.turn += 1
        w.events = []
        w.offer_trades = []

    def _advance_world(self) -> list[LegendSpec]:
        """1. The world advances: legends, expiries, trees, spoilage, meals and fire."""
        w = self.wood
        legends.expire_modifiers(w)
        previous_gini = self.reports[-1].gini if self.reports else 0.0
        fired = legends.due_legends(w, previous_gini)
        for lg in fired:
            legends.fire(w, lg)
        legends.find_out(w)
        w.book.expire(w.turn, w.creatures, w.ledger)
        for off in [o for o in w.deals.offers.values() if o.expires <= w.turn]:
            w.deals.close_offer(off, OfferStatus.EXPIRED, w.turn, w.creatures, w.ledger)
        nature.grow_trees(w)
        nature.spoil(w)
        for c in nature.feed_and_warm(w):
            leave(w, c)
        return fired

    def _decide(self) -> tuple[list[Decided], float]:
        """2–3. Every living creature observes and decides, each brain for all its creatures at once.

        Returns each creature's decision and the wall time the brains took. Whoever watches the turn
        (:mod:`engine.turn.progress`) hears each creature wait, think and be done."""
        living = self.wood.alive()
        observations = observe_all(self.wood, living, self._rejections)
        groups: dict[int, list[int]] = {}
        for i, c in enumerate(living):
            groups.setdefault(id(self._brain_of[c.id]), []).append(i)
        answers: list[Answer | None] = [None] * len(living)
        think = 0.0
        watch = progress.current()
        if watch is not None:
            watch.waiting(c.name for c in living)
        for idxs in groups.values():
            brain = self._brain_of[living[idxs[0]].id]
            if watch is not None:
                watch.thinking(living[i].name for i in idxs)
            t0 = time.perf_counter()
            got = brain.decide([observations[i] for i in idxs])
            think += time.perf_counter() - t0
            if len(got) != len(idxs):
                raise TTWoodError(f"brain {brain.name} answered {len(got)} times for {len(idxs)} creatures")
            if watch is not None:
                watch.answered([living[i].name for i in idxs], got)
            for i, a in zip(idxs, got, strict=True):
                answers[i] = a
        return [Decided(c.name, a or Answer([]), held=o.free) for c, a, o in zip(living, answers, observations, strict=True)], think

    def _resolve(self, decided: list[Decided]) -> tuple[int, int]:
        """4–5. Validate and resolve every action, round-robin in a seeded order.

        Returns the counts of applied and refused actions; refusals are kept for next turn's
        observations."""
        w = self.wood
        living = w.alive()
        order = list(range(len(living)))
        w.rng.shuffle(order)
        produced: set[int] = set()
        limit = self.scenario.budget.max_actions
        queues = [list(d.answer.actions[:limit]) for d in decided]
        rejections: dict[int, list[str]] = {}
        valid = rejected = 0
        for c, d in zip(living, decided, strict=True):
            if d.answer.problems:
                rejections.setdefault(c.id, []).extend(d.answer.problems)
                rejected += len(d.answer.problems)
            extra = len(d.answer.actions) - limit
            if extra > 0:
                rejections.setdefault(c.id, []).append(f"only {limit} actions a turn; {extra} ignored")
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
        return valid, rejected

    def _clear_and_settle(self) -> tuple[list[Trade], dict[str, int | None]]:
        """5. The market clears; due contracts settle or default. Returns the turn's trades and
        each good's average traded price."""
        w = self.wood
        trades = w.book.clear(w.turn, w.creatures, w.ledger) + w.offer_trades
        for t in trades:
            w.event("trade", f"{w.creatures[t.seller].name} sold {t.qty} {t.good} to "
                    f"{w.creatures[t.buyer].name} at {t.price}", good=t.good, qty=t.qty, price=t.price,
                    buyer=w.creatures[t.buyer].name, seller=w.creatures[t.seller].name, via=t.via)
        prices = w.book.record([t for t in trades if t.price > 0], w.turn)
        settle_due(w)
        return trades, prices

    def _report(self, fired: list[LegendSpec], decided: list[Decided], trades: list[Trade], prices: dict[str, int | None],
                valid: int, rejected: int, think: float, defaults_before: int) -> TurnReport:
        """6. The turn's metrics, after memory has updated."""
        w = self.wood
        alive = w.alive()
        reference = {g: w.price(g) for g in w.goods}
        return TurnReport(
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

    # ------------------------------------------------------------------ saving
    def get_state(self) -> GameState:
        """The game's carry-over between turns (its wood gives its own; see :mod:`engine.world.state`)."""
        check_covered(self, ("_rejections",), ("wood", "scenario", "seed", "_brain_of", "reports"))
        return {
            "_rejections": [(cid, list(why)) for cid, why in self._rejections.items()],
            "last_gini": self.reports[-1].gini if self.reports else 0.0,
        }

    def set_state(self, state: Mapping[str, object], layout: Layout | None = None) -> None:
        """Take back what :meth:`get_state` gave (validated; raises ``StateError``).

        ``reports`` are the game's history, not its state: set them first (a save rebuilds them
        from its turns); the state's Gini must be the last report's."""
        rejections = take(state, "_rejections", list[tuple[int, list[str]]], layout, "game")
        if not all(0 <= cid < len(self.wood.creatures) for cid, _ in rejections):
            raise StateError("a refusal belongs to no creature")
        if take(state, "last_gini", float, layout, "game") != (self.reports[-1].gini if self.reports else 0.0):
            raise StateError(f"turn {self.turn}'s Gini does not match the game's reports")
        self._rejections = dict(rejections)


@contextmanager
def collector_held() -> Iterator[None]:
    """Hold Python's cyclic garbage collector off while a turn is played, then collect once if due.

    A turn makes tens of containers per creature and keeps many (the report, the books, the
    memories). Left alone, the collector runs every few hundred of them, and every tenth of its
    middle runs sweeps the whole heap, which holds every turn played: so the sweeps grow with
    the cast twice over, in how often and in how much (at 1,000 creatures they were about a third
    of a turn). Held off, it runs at most once a turn, and the generation it sweeps is chosen by
    its own counts and thresholds (less its rule that a whole sweep waits until a quarter of the
    heap is new, which this only makes run sooner). The game's moves never depend on it; what
    other threads leave for it waits for the end of the turn. Does nothing if it is switched off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        _collect_if_due()


def _collect_if_due() -> None:
    """The collection the collector would start on its next allocation, if one is due."""
    count, threshold = gc.get_count(), gc.get_threshold()
    if threshold[0] <= 0 or count[0] <= threshold[0]:
        return
    generation = next((g for g in (2, 1) if count[g] > threshold[g]), 0)
    gc.collect(generation)


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

