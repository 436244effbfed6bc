"""The action mask: one creature's decision schema for one turn, listing only legal choices.

The closed action set (:mod:`engine.turn.actions`) says what an action looks like; this narrows it to
what *this* creature may do *now*: goods it holds to sell (up to what it holds), goods it may buy
(never what it makes), creatures that exist other than itself, offer ids addressed to it, its own
order and offer ids, its loans, quantities and prices within range. A model brain turns this
schema into a grammar, so a creature cannot even say an illegal choice; the rules still check
everything again (grammars do not enforce every number, and the world moves during a turn).
"""

from __future__ import annotations

from typing import Any

from engine.core.assets import PEBBLES
from engine.turn.observation import Observation


def _enum(values: list[Any]) -> dict[str, Any]:
    return {"enum": values}


def _int(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": max(lo, hi)}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required if required is not None else list(props),
        "additionalProperties": False,
    }


def _bundle(assets: list[str], hi: int) -> dict[str, Any]:
    return {"type": "object", "properties": {a: _int(0, hi) for a in assets}, "additionalProperties": False}


def mask_schema(o: Observation, *, max_price: int = 1000, max_qty: int = 100) -> dict[str, Any]:
    """The JSON schema of a legal decision for this creature this turn."""
    me = o.name
    others = [n.name for n in o.neighbours if n.alive and n.name != me]
    sellable = {g: o.free.get(g, 0) for g in o.goods if o.free.get(g, 0) > 0}
    buyable = [g for g in o.goods if g not in o.never_buy]
    pebbles = o.free.get(PEBBLES, 0)
    choices: list[dict[str, Any]] = []

    if o.makes and o.capacity > 0:
        choices.append(_obj({"type": {"const": "produce"}, "qty": _int(0, o.capacity)}))
    if sellable:
        choices.append(
            _obj({
                "type": {"const": "order"},
                "side": {"const": "sell"},
                "good": _enum(sorted(sellable)),
                "qty": _int(1, min(max_qty, max(sellable.values()))),
                "price": _int(1, max_price),
            })
        )
    if buyable and pebbles > 0:
        choices.append(
            _obj({
                "type": {"const": "order"},
                "side": {"const": "buy"},
                "good": _enum(buyable),
                "qty": _int(1, min(max_qty, pebbles)),
                "price": _int(1, min(max_price, pebbles)),
            })
        )
    mine = [x.id for x in o.my_orders] + [x.id for x in o.my_offers]
    if mine:
        choices.append(_obj({"type": {"const": "cancel"}, "id": _enum(mine)}))
    to_me = [x.id for x in o.offers_to_me]
    if to_me:
        for kind in ("accept", "reject"):
            choices.append(_obj({"type": {"const": kind}, "id": _enum(to_me)}))
        trade_ids = [x.id for x in o.offers_to_me if x.kind == "trade"]
        if trade_ids:
            choices.append(
                _obj(
                    {
                        "type": {"const": "counter"},
                        "id": _enum(trade_ids),
                        "give": _bundle([PEBBLES, *sellable], max_qty * max_price),
                        "get": _bundle(buyable + [PEBBLES], max_qty * max_price),
                        "due": _int(1, o.max_term),
                    },
                    ["type", "id", "give", "get"],
                )
            )
    if others:
        giveable = ([PEBBLES] if pebbles else []) + sorted(sellable)
        if giveable:
            choices.append(
                _obj(
                    {
                        "type": {"const": "offer"},
                        "to": _enum(others),
                        "give": _bundle(giveable, max_qty * max_price),
                        "get": _bundle(buyable + [PEBBLES], max_qty * max_price),
                        "due": _int(1, o.max_term),
                    },
                    ["type", "to", "give", "get"],
                )
            )
        loan = {
            "to": _enum(others),
            "interest": _int(0, max(0, pebbles * o.max_interest_pct // 100)),
            "due": _int(1, o.max_term),
        }
        if pebbles > 0:
            choices.append(
                _obj({"type": {"const": "lend"}, "pebbles": _int(1, pebbles), **loan}, ["type", "to", "pebbles", "interest", "due"])
            )
        choices.append(
            _obj(
                {"type": {"const": "borrow"}, "pebbles": _int(1, max_qty * max_price), **loan, "interest": _int(0, max_qty * max_price),
                 "collateral": _bundle(sorted(sellable), max_qty)},
                ["type", "to", "pebbles", "interest", "due"],
            )
        )
        choices.append(_obj({"type": {"const": "whisper"}, "to": _enum(others), "text": {"type": "string", "maxLength": 160}}))
    loans = [ob.id for ob in o.obligations if ob.kind == "loan" and ob.i_owe.get(PEBBLES)]
    if loans and pebbles > 0:
        choices.append(_obj({"type": {"const": "repay"}, "id": _enum(loans), "pebbles": _int(1, pebbles)}))
    for kind in ("say", "note"):
        choices.append(_obj({"type": {"const": kind}, "text": {"type": "string", "maxLength": 160}}))

    return _obj(
        {
            "thinking": {"type": "string", "maxLength": 300},
            "actions": {"type": "array", "items": {"anyOf": choices}, "maxItems": o.max_actions},
        },
        ["actions"],
    )
