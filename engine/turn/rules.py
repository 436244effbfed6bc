"""The rules of the wood: whether an action is legal now, and what it does.

:func:`resolve` is the only way an action changes the world. It checks the action against the
current state and either applies it or returns the reason it was refused (shown to the creature
next turn). Nothing refused changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.core.assets import PEBBLES
from engine.core.text import clean_text
from engine.economy.nature import produce
from engine.economy.settlement import settle
from engine.turn import actions as A
from engine.turn.purse import MAX_OPEN_OFFERS, MAX_OPEN_ORDERS, terms_of_wood
from engine.world.contracts import Offer, bundle_text, can_pay
from engine.world.creatures import Creature
from engine.world.lifecycle import OfferStatus, OrderStatus
from engine.world.market import Order, Trade
from engine.world.wood import Wood


class Refused(Exception):
    """An action broke a rule; the message is the reason the creature sees."""


def resolve(wood: Wood, c: Creature, action: A.Action, produced: set[int]) -> str | None:
    """Apply ``action`` for ``c`` if it is legal. Returns ``None`` when applied, else the reason."""
    handler = _HANDLERS.get(type(action))
    if handler is None:
        return f"unknown action {type(action).__name__}"
    if not c.alive:
        return "you have left the wood"
    try:
        handler(wood, c, action, produced)
    except Refused as exc:
        return str(exc)
    return None


# ------------------------------------------------------------------ helpers


def _other(wood: Wood, c: Creature, name: str) -> Creature:
    target = wood.by_name.get(name)
    if target is None:
        raise Refused(f"there is no creature called {name!r}")
    if target.id == c.id:
        raise Refused("you cannot deal with yourself")
    if not target.alive:
        raise Refused(f"{name} has left the wood")
    return target


def _bundle(wood: Wood, b: dict[str, int], what: str) -> dict[str, int]:
    out = {}
    limit = terms_of_wood(wood).bundle_cap
    for a, q in b.items():
        if a not in wood.assets:
            raise Refused(f"{what} names {a!r}, which is not a good or pebbles")
        if q > limit:
            raise Refused(f"{what} asks for {q} {a}, more than the wood allows ({limit})")
        if q:
            out[a] = q
    return out


def _due(wood: Wood, due: int) -> int:
    longest = terms_of_wood(wood).max_term
    if due > longest:
        raise Refused(f"due in {due} turns is too far: at most {longest}")
    return wood.turn + due


def _my_offer_to(wood: Wood, c: Creature, oid: int) -> Offer:
    off = wood.deals.offers.get(oid)
    if off is None:
        raise Refused(f"there is no open offer #{oid}")
    if off.to != c.id:
        raise Refused(f"offer #{oid} is not addressed to you")
    return off


def _open_offers(wood: Wood, c: Creature) -> None:
    if len(wood.deals.sent_by(c.id)) >= MAX_OPEN_OFFERS:
        raise Refused(f"you already have {MAX_OPEN_OFFERS} offers waiting; cancel one first")


# ------------------------------------------------------------------ handlers


def _produce(wood: Wood, c: Creature, a: A.Produce, produced: set[int]) -> None:
    if not c.makes:
        raise Refused("you make nothing")
    if c.id in produced:
        raise Refused("you already produced this turn")
    if a.qty > c.capacity:
        raise Refused(f"you can make at most {c.capacity} {c.makes} a turn")
    produced.add(c.id)
    made = produce(wood, c, a.qty)
    if c.role == "woodcutter" and made:
        wood.event("fell", f"{c.name} felled {made} trees", creature=c.name, qty=made)


def _order(wood: Wood, c: Creature, a: A.PlaceOrder, produced: set[int]) -> None:
    terms = terms_of_wood(wood)
    if a.good not in wood.goods:
        raise Refused(f"{a.good!r} is not a good of this wood")
    if a.qty > terms.max_qty:
        raise Refused(f"at most {terms.max_qty} units per order")
    if a.price > terms.max_price:
        raise Refused(f"price {a.price} is above the wood's limit {terms.max_price}")
    mine = wood.book.by_owner.get(c.id, {})
    if len(mine) >= MAX_OPEN_ORDERS:
        raise Refused(f"you already have {MAX_OPEN_ORDERS} open orders; cancel one first")
    fee = terms.fee(a.qty * a.price)
    if a.side == "buy":
        if a.good in c.never_buy:
            raise Refused(f"you make {a.good}: never buy it, sell it")
        cost = terms.order_cost("buy", a.good, a.qty, a.price)[PEBBLES]
        if c.free.get(PEBBLES, 0) < cost:
            with_fee = f" (with the {fee} pebble fee)" if fee else ""
            raise Refused(f"buying {a.qty} {a.good} at {a.price} needs {cost} pebbles{with_fee}; you have {c.free.get(PEBBLES, 0)} free")
        if any(o.good == a.good and o.side == "sell" and o.price <= a.price for o in mine.values()):
            raise Refused(f"that bid would trade with your own ask for {a.good}; cancel the ask first")
    else:
        if c.free.get(a.good, 0) < a.qty:
            raise Refused(f"you hold {c.free.get(a.good, 0)} {a.good} free, not {a.qty}")
        if c.free.get(PEBBLES, 0) < fee:
            raise Refused(f"placing this order costs a fee of {fee} pebbles; you have {c.free.get(PEBBLES, 0)} free")
        if any(o.good == a.good and o.side == "buy" and o.price >= a.price for o in mine.values()):
            raise Refused(f"that ask would trade with your own bid for {a.good}; cancel the bid first")
    expiry = int(wood.rule("market.order_expiry", wood.scenario.market.order_expiry))
    order = Order(wood.next_id(), c.id, a.side, a.good, a.qty, a.price, wood.turn, wood.turn + max(1, expiry), 0)
    wood.ledger.sink(c, PEBBLES, fee, "fee")
    wood.book.place(order, c, wood.ledger)


def _cancel(wood: Wood, c: Creature, a: A.Cancel, produced: set[int]) -> None:
    order = wood.book.orders.get(a.id)
    if order is not None and order.owner == c.id:
        wood.book.close(order, c, OrderStatus.CANCELLED, wood.turn, wood.ledger)
        return
    off = wood.deals.offers.get(a.id)
    if off is not None and off.sender == c.id:
        wood.deals.close_offer(off, OfferStatus.CANCELLED, wood.turn, wood.creatures, wood.ledger)
        return
    raise Refused(f"you have no open order or offer #{a.id}")


def _check_trade_offer(
    wood: Wood, c: Creature, to: str, give: dict[str, int], get: dict[str, int], due: int | None
) -> tuple[Creature, dict[str, int], dict[str, int], int | None]:
    target = _other(wood, c, to)
    give = _bundle(wood, give, "give")
    get = _bundle(wood, get, "get")
    if not give and not get:
        raise Refused("an offer must give or get something")
    if set(give) & set(get):
        raise Refused("the same thing cannot be on both sides of an offer")
    for g in get:
        if g in c.never_buy:
            raise Refused(f"you make {g}: never buy it")
    due_turn = _due(wood, due) if due is not None else None
    if due_turn is None and not can_pay(c, give):
        raise Refused(f"you do not hold {bundle_text(give)} free to give")
    _open_offers(wood, c)
    return target, give, get, due_turn


def _open_trade_offer(
    wood: Wood, c: Creature, target: Creature, give: dict[str, int], get: dict[str, int], due_turn: int | None,
    reply_to: int | None,
) -> None:
    expires = wood.turn + wood.scenario.market.offer_expiry
    off = Offer(wood.next_id(), "trade", c.id, target.id, give, get, due_turn, wood.turn, expires, reply_to=reply_to)
    wood.deals.open_offer(off, c, wood.ledger)
    when = f" by turn {due_turn}" if due_turn else ""
    wood.tell(target, "offer", c.name, f"offer #{off.id}: I give {bundle_text(give)} for {bundle_text(get)}{when}")
    wood.event("offer", f"{c.name} offers {target.name} {bundle_text(give)} for {bundle_text(get)}{when}", offer=off.id)


def _offer(wood: Wood, c: Creature, a: A.MakeOffer, produced: set[int]) -> None:
    terms = _check_trade_offer(wood, c, a.to, a.give, a.get, a.due)
    _open_trade_offer(wood, c, *terms, None)


def _accept(wood: Wood, c: Creature, a: A.Accept, produced: set[int]) -> None:
    off = _my_offer_to(wood, c, a.id)
    sender = wood.creatures[off.sender]
    if not sender.alive:
        raise Refused(f"{sender.name} has left the wood")
    if off.kind == "trade":
        for g in off.give:
            if g in c.never_buy:
                raise Refused(f"you make {g}: never buy it")
        if off.due is None and not can_pay(c, off.get):
            raise Refused(f"you do not hold {bundle_text(off.get)} free to pay")
    else:
        lender, borrower = wood.creatures[off.lender], wood.creatures[off.borrower]
        if off.kind == "borrow" and lender.free.get(PEBBLES, 0) < off.principal:
            raise Refused(f"you do not hold {off.principal} pebbles free to lend")
        if not can_pay(borrower, off.collateral):
            who = "you do" if borrower is c else f"{borrower.name} does"
            raise Refused(f"{who} not hold the collateral {bundle_text(off.collateral)} free")
    contract = wood.deals.accept(off, wood.turn, wood.creatures, wood.ledger, wood.next_id())
    if contract is None:
        for good, qty in off.give.items():
            if good != PEBBLES:
                _record_offer_trade(wood, good, qty, off.get.get(PEBBLES, 0), buyer=c, seller=sender)
        for good, qty in off.get.items():
            if good != PEBBLES:
                _record_offer_trade(wood, good, qty, off.give.get(PEBBLES, 0), buyer=sender, seller=c)
        text = f"{c.name} accepted {sender.name}'s offer #{off.id}: {bundle_text(off.give)} for {bundle_text(off.get)}"
        wood.event("deal", text, offer=off.id)
    else:
        what = "loan" if contract.kind == "loan" else "forward contract"
        wood.event("contract", f"{c.name} and {sender.name} signed {what} #{contract.id}, due turn {contract.due}", contract=contract.id)
    wood.tell(sender, "notice", c.name, f"{c.name} accepted your offer #{off.id}")


def _record_offer_trade(wood: Wood, good: str, qty: int, pebbles: int, buyer: Creature, seller: Creature) -> None:
    """A spot swap counts as a trade of each good in it (priced when pebbles are the other side)."""
    price = round(pebbles / qty) if pebbles and qty else 0
    wood.offer_trades.append(Trade(wood.turn, good, qty, price, buyer.id, seller.id, via="offer"))


def _reject(wood: Wood, c: Creature, a: A.Reject, produced: set[int]) -> None:
    off = _my_offer_to(wood, c, a.id)
    wood.deals.close_offer(off, OfferStatus.REJECTED, wood.turn, wood.creatures, wood.ledger)
    wood.tell(wood.creatures[off.sender], "notice", c.name, f"{c.name} rejected your offer #{off.id}")


def _counter(wood: Wood, c: Creature, a: A.Counter, produced: set[int]) -> None:
    off = _my_offer_to(wood, c, a.id)
    if off.kind != "trade":
        raise Refused("only trade offers can be countered; reject the loan and send lend or borrow")
    sender = wood.creatures[off.sender]
    # Check the new terms before the old offer closes, so a refused counter changes nothing.
    terms = _check_trade_offer(wood, c, sender.name, a.give, a.get, a.due)
    wood.deals.close_offer(off, OfferStatus.COUNTERED, wood.turn, wood.creatures, wood.ledger)
    _open_trade_offer(wood, c, *terms, off.id)


def _loan(wood: Wood, c: Creature, a: A.Lend | A.Borrow, produced: set[int]) -> None:
    target = _other(wood, c, a.to)
    terms = terms_of_wood(wood)
    cap = terms.interest_cap(a.pebbles)
    if a.interest > cap:
        raise Refused(f"interest {a.interest} is above the cap of {terms.max_interest_pct}% ({cap} pebbles)")
    collateral = _bundle(wood, a.collateral, "collateral")
    if PEBBLES in collateral:
        raise Refused("collateral must be goods, not pebbles")
    due_turn = _due(wood, a.due)
    borrower = target if isinstance(a, A.Lend) else c
    if a.pebbles > terms.bundle_cap:
        raise Refused("that loan is larger than the wood allows")
    if isinstance(a, A.Lend) and c.free.get(PEBBLES, 0) < a.pebbles:
        raise Refused(f"you hold {c.free.get(PEBBLES, 0)} pebbles free, not {a.pebbles}")
    if borrower is c and not can_pay(c, collateral):
        raise Refused(f"you do not hold the collateral {bundle_text(collateral)} free")
    _open_offers(wood, c)
    kind = "lend" if isinstance(a, A.Lend) else "borrow"
    expires = wood.turn + wood.scenario.market.offer_expiry
    off = Offer(
        wood.next_id(), kind, c.id, target.id, {}, {}, due_turn, wood.turn, expires,
        principal=a.pebbles, interest=a.interest, collateral=collateral,
    )
    wood.deals.open_offer(off, c, wood.ledger)
    verb = "offers to lend you" if kind == "lend" else "asks to borrow"
    coll = f", collateral {bundle_text(collateral)}" if collateral else ""
    wood.tell(target, "offer", c.name,
              f"offer #{off.id}: {c.name} {verb} {a.pebbles} pebbles, repay {a.pebbles + a.interest} by turn {due_turn}{coll}")
    wood.event("offer", f"{c.name} {verb.replace('you', target.name)} {a.pebbles} pebbles at {a.interest} interest", offer=off.id)


def _repay(wood: Wood, c: Creature, a: A.Repay, produced: set[int]) -> None:
    k = wood.deals.contracts.get(a.id)
    if k is None or k.kind != "loan" or k.legs[0].obligor != c.id:
        raise Refused(f"you owe no loan #{a.id}")
    owed = k.legs[0].bundle.get(PEBBLES, 0)
    pay = min(a.pebbles, owed)
    if c.free.get(PEBBLES, 0) < pay:
        raise Refused(f"you hold {c.free.get(PEBBLES, 0)} pebbles free, not {pay}")
    if pay == owed:
        settle(wood, k)
        return
    wood.ledger.move(c, wood.creatures[k.legs[0].creditor], PEBBLES, pay)
    k.legs[0].bundle[PEBBLES] = owed - pay


def _say(wood: Wood, c: Creature, a: A.Say, produced: set[int]) -> None:
    text = clean_text(a.text, wood.scenario.budget.message_chars)
    if not text:
        raise Refused("nothing to say")
    wood.announce(c.name, text)
    wood.event("say", f"{c.name}: {text}", creature=c.name)


def _whisper(wood: Wood, c: Creature, a: A.Whisper, produced: set[int]) -> None:
    target = _other(wood, c, a.to)
    text = clean_text(a.text, wood.scenario.budget.message_chars)
    if not text:
        raise Refused("nothing to whisper")
    wood.tell(target, "whisper", c.name, text)
    wood.event("whisper", f"{c.name} → {target.name}: {text}", creature=c.name, to=target.name)


def _note(wood: Wood, c: Creature, a: A.Note, produced: set[int]) -> None:
    kept = wood.scenario.memory.notes
    if kept <= 0:
        raise Refused("this wood keeps no notes")
    text = clean_text(a.text, wood.scenario.budget.message_chars)
    if not text:
        raise Refused("empty note")
    c.notes.append(text)
    del c.notes[:-kept]


# Each handler takes its own action class; the table is keyed by that class, so the dispatch is exact.
_HANDLERS: dict[type[A.Action], Callable[[Wood, Creature, Any, set[int]], None]] = {
    A.Produce: _produce,
    A.PlaceOrder: _order,
    A.Cancel: _cancel,
    A.MakeOffer: _offer,
    A.Accept: _accept,
    A.Reject: _reject,
    A.Counter: _counter,
    A.Lend: _loan,
    A.Borrow: _loan,
    A.Repay: _repay,
    A.Say: _say,
    A.Whisper: _whisper,
    A.Note: _note,
}
