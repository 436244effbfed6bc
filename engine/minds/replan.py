"""The rest of an answer, planned again after each action with what that action spent.

A turn's choices (:mod:`engine.minds.legal`) make every action legal on its own, on the purse and
the goods the creature holds when it starts to answer. The rules resolve an answer's actions in
order, so two bids that each fit the purse can together exceed it, and the second is refused. A
decoder that follows the answer (the llama brain) asks :class:`Replanner` at the end of each
action for the grammar of the rest: the same choices, computed on what is left (pebbles spent on
bids, fees and loans; goods given in asks and offers; no second ``produce``), for the actions that
remain. The answer then never spends a pebble twice, nor closes an order or offer twice.

This narrows a little more than the rules do: an offer's goods are spent when they are written,
and whether it is a forward offer (which gives later, and so needs nothing now) is said after
them (``due``); a forward offer of what an earlier action spent is not admitted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from engine.core.assets import PEBBLES
from engine.minds.allowance import CLOSE, AnswerPlan
from engine.minds.choices import Limits
from engine.minds.grammar import Lit, Node, Rep, action_node, seq
from engine.minds.legal import fee, legal_choices
from engine.minds.matcher import Matcher, derive_text
from engine.scenario import Scenario
from engine.turn.observation import Observation

_HEAD = '"actions":['


def spend(o: Observation, sc: Scenario, action: dict[str, Any]) -> Observation:
    """What ``o`` holds free once ``action`` (as the answer spells it) has resolved, as far as the
    choices look: pebbles and goods it pays, gives or gets back, ``produce`` used up, and orders
    and offers it closed (no second cancel, accept or reject of the same id)."""
    free = dict(o.free)

    def pay(bundle: dict[str, Any], sign: int = 1) -> None:
        for asset, qty in bundle.items():
            if isinstance(qty, int):
                free[asset] = max(0, free.get(asset, 0) - sign * qty)

    kind, ref = action.get("type"), action.get("id")
    if kind == "produce":
        return replace(o, capacity=0)
    if kind == "order":
        qty, price = action.get("qty", 0), action.get("price", 0)
        if isinstance(qty, int) and isinstance(price, int):
            pay({PEBBLES: fee(sc.market.order_fee, sc.market.fee_pct, qty * price)})
            pay({PEBBLES: qty * price} if action.get("side") == "buy" else {str(action.get("good")): qty})
    elif kind in ("offer", "counter") and action.get("due") is None:  # a forward offer gives later
        pay(action.get("give") or {})
    elif kind in ("lend", "repay"):
        pay({PEBBLES: action.get("pebbles")})
    elif kind == "cancel":  # what the order or offer held comes back
        for x in o.my_orders:
            if x.id == ref:
                pay({PEBBLES: x.qty * x.price} if x.side == "buy" else {x.good: x.qty}, -1)
        for y in o.my_offers:
            if y.id == ref and y.kind == "trade" and y.due is None:
                pay(y.give, -1)
    elif kind == "accept":
        for y in o.offers_to_me:
            if y.id == ref:
                pay({PEBBLES: y.principal} if y.kind == "borrow" else y.collateral if y.kind == "lend" else
                    y.get if y.due is None else {})
    closed = ref if kind in ("cancel", "accept", "reject", "counter") else None
    return replace(o, free=free, my_orders=[x for x in o.my_orders if x.id != closed],
                   my_offers=[y for y in o.my_offers if y.id != closed],
                   offers_to_me=[y for y in o.offers_to_me if y.id != closed])


def rest_node(o: Observation, sc: Scenario, plan: AnswerPlan, left: int) -> Node:
    """After an action: up to ``left`` more (chosen on ``o``), then the close."""
    c = plan.choices
    rest = legal_choices(o, sc, Limits(left, c.thinking, c.message, locked=False)) if left > 0 else None
    if rest is None or not rest.kinds:
        return Lit(CLOSE)
    return seq(Rep(seq(",", action_node(rest)), 0, left), CLOSE)


def _actions(text: str) -> list[dict[str, Any]] | None:
    """The complete actions of an answer that has just finished one."""
    at = text.find(_HEAD)
    if at < 0:
        return None
    try:
        got = json.loads(text + CLOSE)
    except json.JSONDecodeError:
        return None
    acts = got.get("actions") if isinstance(got, dict) else None
    return [a for a in acts if isinstance(a, dict)] if isinstance(acts, list) else None


class Replanner:
    """Plans the rest of one creature's answer again at the end of each of its actions."""

    def __init__(self, o: Observation, sc: Scenario, plan: AnswerPlan) -> None:
        self.o, self.sc, self.plan = o, sc, plan
        self.done = 0
        """Actions planned for so far."""

    def after(self, before: Matcher, text: str, piece: str) -> Node | None:
        """The grammar of what is left after ``piece`` when an action of the answer ends inside it
        (``text``: the answer before ``piece``; ``before``: the matcher there), else ``None``."""
        if self.plan.choices.actions <= 1 or "}" not in piece:
            return None
        cut = before.end_point(piece, CLOSE)
        if cut is None:
            return None
        acts = _actions(text + piece[:cut])
        if not acts or len(acts) <= self.done:
            return None
        o = self.o
        for a in acts:
            o = spend(o, self.sc, a)
        self.done = len(acts)
        return derive_text(rest_node(o, self.sc, self.plan, self.plan.choices.actions - len(acts)), piece[cut:])


def take(matcher: Matcher, replan: Replanner | None, before: str, piece: str) -> bool | None:
    """Follow ``piece`` of an answer (``before``: the answer so far) with ``matcher``, planning the
    rest again when an action ends in it: ``None`` when the grammar refuses the piece (the
    matcher is then unchanged), ``True`` when the rest was planned again, else ``False``."""
    node = matcher.node
    if not matcher.advance(piece):
        return None
    rest = replan.after(Matcher(node), before, piece) if replan is not None else None
    if rest is None:
        return False
    matcher.node = rest
    return True
