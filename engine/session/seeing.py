"""Views copied out of a game between turns (:mod:`engine.session.views` says what each holds).

Call these only from the thread that plays the turns, after a turn has finished and before the
next one starts: they read the live wood once and keep nothing of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.minds.brains.models import shown_name
from engine.minds.factory import model_cards
from engine.session.views import (
    CreatureView,
    DecidedView,
    EventView,
    InboxView,
    LegendView,
    MapView,
    OfferView,
    PromptView,
    ResultView,
    TileView,
    TurnEvents,
    TurnPoint,
    WoodView,
    frozen,
    printable,
)
from engine.turn.brain import Brain
from engine.turn.game import Game
from engine.turn.memory import recall
from engine.turn.report import Decided, TurnReport
from engine.world.creatures import Creature
from engine.world.wood import Wood

RECALLED = 8
"""Memories a creature's view holds (the most salient)."""
HEAD_KEYS = ("model", "latency_ms", "seed", "max_tokens")
"""What a model brain measured that the inspector shows above the prompt."""
MOST_LISTED = 50
"""Prompt sections and answer problems a view keeps of one answer."""


def decided_view(d: Decided, turn: int, brain: str) -> DecidedView:
    """One creature's turn, as a view (its free text made :func:`printable`)."""
    meta = d.answer.meta
    pt, at = _count(meta.get("prompt_tokens")), _count(meta.get("answer_tokens"))
    return DecidedView(
        turn=turn, brain=brain,
        results=tuple(ResultView(a, None if reason is None else printable(reason)) for a, reason in d.results),
        problems=tuple(printable(p) for p in d.answer.problems[:MOST_LISTED]),
        raw=None if d.answer.raw is None else printable(d.answer.raw), thinking=printable(d.answer.thinking),
        prompt=_prompt_view(meta, pt, at) if "prompt" in meta else None,
        tokens=None if pt is None else pt + (at or 0),
    )


def _count(value: object) -> int | None:
    """A token count the brain recorded (``None`` when it recorded none, or something else: a
    save from someone else may hold any JSON there)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _prompt_view(meta: Mapping[str, Any], prompt_tokens: int | None, answer_tokens: int | None) -> PromptView:
    sections = meta.get("sections")
    pairs = list(sections.items())[:MOST_LISTED] if isinstance(sections, Mapping) else []
    return PromptView(
        text=printable(str(meta.get("prompt", ""))),
        sections=tuple((printable(str(k), 80), printable(str(v), 80)) for k, v in pairs),
        prompt_tokens=prompt_tokens, answer_tokens=answer_tokens,
        head=tuple((k, printable(str(meta[k]), 200)) for k in HEAD_KEYS if k in meta),
    )


def turn_point(report: TurnReport) -> TurnPoint:
    """A turn's numbers for the charts (Gini rounded as the run's JSON rounds it)."""
    return TurnPoint(report.turn, round(report.gini, 4), report.trees, report.trades, report.alive,
                     frozen(report.prices), frozen(report.reference))


def turn_events(report: TurnReport) -> TurnEvents:
    return TurnEvents(report.turn, tuple(EventView(e.kind, printable(e.text)) for e in report.events))


def _debts(w: Wood, c: Creature) -> tuple[int, int]:
    owes = owed = 0
    for k in w.deals.of(c.id):
        for leg in k.legs:
            n = sum(leg.bundle.values())
            if leg.obligor == c.id:
                owes += n
            elif leg.creditor == c.id:
                owed += n
    return owes, owed


def creature_view(w: Wood, c: Creature, brain: str, decided: DecidedView | None) -> CreatureView:
    """One creature, copied."""
    owes, owed = _debts(w, c)
    return CreatureView(
        id=c.id, name=c.name, species=c.species, glyph=c.glyph, colour=c.colour, role=c.role, makes=c.makes,
        capacity=c.capacity, den=c.den, alive=c.alive, health=c.health, hungry=c.hungry, cold=c.cold,
        credit=c.credit, holdings=frozen({a: c.total(a) for a in w.assets}), owes=owes, owed=owed, brain=brain,
        notes=tuple(printable(n) for n in c.notes), memories=tuple(printable(m) for m in recall(c.memories, w.turn, RECALLED)),
        trust=tuple((name, v[0], v[1]) for name, v in sorted(c.trust.items())),
        inbox=tuple(InboxView(i.turn, i.kind, printable(i.sender), printable(i.text)) for i in c.inbox), decided=decided,
    )


def map_view(w: Wood) -> MapView:
    m = w.scenario.map
    height = max(t.y for t in w.tiles) + 1 if w.tiles else m.height
    width = max(t.x for t in w.tiles) + 1 if w.tiles else m.width
    tiles = tuple(TileView(t.x, t.y, t.kind, t.trees, bool(t.collapsed_until) and t.collapsed_until > w.turn, t.felled)
                  for t in w.tiles)
    return MapView(width, height, m.tree_capacity, tiles)


def offer_views(w: Wood) -> tuple[OfferView, ...]:
    name = [c.name for c in w.creatures]
    return tuple(OfferView(o.id, o.kind, name[o.sender], name[o.to], frozen(o.give), frozen(o.get), o.principal, o.interest, o.due)
                 for o in w.deals.offers.values())


def minds_line(brains: Mapping[str, Brain]) -> str:
    """The models that think for the wood, each with its adapter, once each (empty when only rules
    and the player decide): what the header shows, e.g. ``SmolLM2-135M-Instruct + adapter wood``."""
    seen: list[str] = []
    for c in model_cards(brains):
        adapter = c.get("adapter")
        line = shown_name(c) + (f" + adapter {adapter.get('name')}" if isinstance(adapter, dict) else "")
        if line not in seen:
            seen.append(line)
    return ", ".join(seen)


def wood_view(game: Game, *, brains: Mapping[str, str], decided: Mapping[str, DecidedView],
              history: Sequence[TurnPoint], recent: Sequence[TurnEvents], notices: Sequence[str] = ()) -> WoodView:
    """The wood as it stands between turns. ``brains``: each creature's own kind of brain (what
    decides for it when the player does not); ``decided``: each creature's latest turn."""
    w = game.wood
    sc = game.scenario
    return WoodView(
        turn=w.turn, season=w.season, goods=tuple(w.goods), reference=frozen({g: w.price(g) for g in w.goods}),
        creatures=tuple(creature_view(w, c, brains[c.name], decided.get(c.name)) for c in w.creatures),
        offers=offer_views(w), map=map_view(w), history=tuple(history), recent=tuple(recent),
        legends=tuple(LegendView(lg.id, lg.name, lg.description) for lg in sc.legends if lg.when.on_demand),
        pending_legends=tuple(w.pending_legends), max_health=sc.needs.max_health, token_budget=sc.budget.tokens,
        notices=tuple(printable(n) for n in notices),
    )
