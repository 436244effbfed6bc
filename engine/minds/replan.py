"""The rest of an answer, planned again after each action with what that action spent.

A turn's choices (:mod:`engine.minds.legal`) make every action legal on its own, on the purse and
the goods the creature holds when it starts to answer. The rules resolve an answer's actions in
order, so two bids that each fit the purse can together exceed it, and the second is refused. A
decoder that follows the answer (the llama brain) asks :class:`Replanner` at the end of each
action for the grammar of the rest: the same choices, computed on what is left (pebbles spent on
bids, fees and loans; goods given in asks and offers; no second ``produce``), for the actions that
remain. The answer then never spends a pebble twice, nor closes an order or offer twice.

An offer's goods are spent when they are written, and whether it is a forward offer (which gives
later, and so needs nothing now) is said after them (``due``): so the rest of an answer admits a
spot offer of what is left, and a forward offer of up to what the creature held when the answer
began (:attr:`~engine.minds.choices.Limits.promise`). What an accepted offer pays the creature
at once (a spot swap's goods, a loan's pebbles) is its to spend in the rest of the answer.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from engine.core.assets import PEBBLES
from engine.minds.allowance import CLOSE, AnswerPlan
from engine.minds.choices import Limits
from engine.minds.grammar import Lit, Node, Rep, action_node, seq
from engine.minds.legal import NEW, held, legal_choices, order_fee, own_open, promisable
from engine.minds.matcher import Matcher, derive_text
from engine.scenario import Scenario
from engine.turn.observation import Observation, OfferView, OrderView

_HEAD = '"actions":['


def spend(o: Observation, sc: Scenario, action: dict[str, Any]) -> Observation:
    """What ``o`` holds free once ``action`` (as the answer spells it) has resolved, as far as the
    choices look: pebbles and goods it pays, gives or gets back (what it gives of its own good
    beyond what it holds comes out of this turn's making), ``produce`` used up, orders and offers
    it closed (no second cancel, accept or reject of the same id), and the orders and offers it
    opened (they count toward the open-order and open-offer limits, and no later order of the
    answer may cross its own new ones)."""
    free = dict(o.free)
    can_make = o.can_make

    def pay(bundle: dict[str, Any], sign: int = 1) -> None:
        nonlocal can_make
        for asset, qty in bundle.items():
            if isinstance(qty, int):
                left = free.get(asset, 0) - sign * qty
                if left < 0 and asset == o.makes:
                    can_make = max(0, can_make + left)  # the rest came from what it makes this turn
                free[asset] = max(0, left)

    kind, ref = action.get("type"), action.get("id")
    if kind == "produce":  # what it makes this turn: at least its share of the full yield
        qty = action.get("qty")
        made = o.can_make * qty // o.capacity if isinstance(qty, int) and 0 < qty < o.capacity else o.can_make
        return replace(o, capacity=0, can_make=made)
    orders, offers = list(o.my_orders), list(o.my_offers)
    if kind == "order":
        qty, price = action.get("qty", 0), action.get("price", 0)
        if isinstance(qty, int) and isinstance(price, int):
            pay({PEBBLES: order_fee(o, sc, qty * price)})
            pay({PEBBLES: qty * price} if action.get("side") == "buy" else {str(action.get("good")): qty})
            orders.append(OrderView(NEW, str(action.get("side")), str(action.get("good")), qty, price, 0))
    elif kind in ("offer", "counter", "lend", "borrow"):
        offers.append(_opened(o, kind, action))
    if kind in ("offer", "counter") and action.get("due") is None:  # a forward offer gives later
        pay(action.get("give") or {})
    elif kind in ("lend", "repay"):
        pay({PEBBLES: action.get("pebbles")})
    elif kind == "cancel":  # what the order or offer held comes back
        for x in own_open(o):
            if x.id == ref:
                pay(held(x), -1)
    elif kind == "accept":
        for y in o.offers_to_me:
            if y.id != ref:
                continue
            if y.kind == "borrow":  # it lends
                pay({PEBBLES: y.principal})
            elif y.kind == "lend":  # it borrows: pledges the collateral, gets the pebbles now
                pay(y.collateral)
                pay({PEBBLES: y.principal}, -1)
            elif y.due is None:  # a spot swap: pays what is asked, gets what is given now
                pay(y.get)
                pay(y.give, -1)
    closed = ref if kind in ("cancel", "accept", "reject", "counter") else None
    return replace(o, free=free, can_make=can_make, my_orders=[x for x in orders if x.id != closed],
                   my_offers=[y for y in offers if y.id != closed],
                   offers_to_me=[y for y in o.offers_to_me if y.id != closed])


def _opened(o: Observation, kind: str, action: dict[str, Any]) -> OfferView:
    """The offer an action of the answer opens, as the rest of the answer sees it (no id yet)."""
    def bundle(key: str) -> dict[str, int]:
        got = action.get(key)
        return {k: v for k, v in got.items() if isinstance(v, int)} if isinstance(got, dict) else {}

    due = action.get("due")
    pebbles, interest = action.get("pebbles"), action.get("interest")
    return OfferView(NEW, "trade" if kind in ("offer", "counter") else kind, o.name, str(action.get("to", "")),
                     bundle("give"), bundle("get"), due if isinstance(due, int) else None,
                     pebbles if isinstance(pebbles, int) else 0, interest if isinstance(interest, int) else 0,
                     bundle("collateral"))


def rest_node(o: Observation, sc: Scenario, plan: AnswerPlan, left: int,
              promise: tuple[tuple[str, int], ...] = ()) -> Node:
    """After an action: up to ``left`` more (chosen on ``o``; a forward offer may ``promise`` what
    the creature held when the answer began), then the close."""
    c = plan.choices
    limits = Limits(left, c.thinking, c.message, locked=False, promise=promise)
    rest = legal_choices(o, sc, limits) if left > 0 else None
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
        rest = rest_node(o, self.sc, self.plan, self.plan.choices.actions - len(acts), promisable(self.o))
        return derive_text(rest, piece[cut:])


    def follow(self, matcher: Matcher, before: str, piece: str) -> bool | None:
        """:func:`take` with this replanner (a :data:`~engine.minds.allowance.Step`)."""
        return take(matcher, self, before, piece)


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
