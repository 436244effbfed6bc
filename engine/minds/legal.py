"""What the rules accept from one creature this turn, as :class:`~engine.minds.choices.Choices`.

Each kind of action is bounded where :mod:`engine.turn.rules` bounds it: the purse (with the order
fee), free holdings, the wood's price, quantity and bundle caps, the interest cap and the longest
term, the open-order and open-offer limits, no crossing of the creature's own orders, never buying
what it makes, ids that exist, creatures alive other than itself. Every choice is legal on its own
on the observed state, but for these, which the rules settle as the answer resolves in order:

* What the creature gives of its own good may count this turn's making (``can_make``): a sell,
  an offer or a collateral of it is accepted once a ``produce`` at full capacity resolved before it.
* A bid may count the pebbles locked in the creature's own open bids (to bid higher, it cancels
  the old bid first): accepted once those bids were cancelled before it.
* Actions of one answer change what later ones may do (a second ``produce``, pebbles and goods
  already spent, an id already closed); each choice is legal alone, not in every combination.

Where an exact bound would take a grammar too large, the choice is narrowed to a sound part of
what the rules accept: a loan's interest is capped at the cap of the smallest principal in its
group (groups grow by a quarter, so at most ~20% of the cap is lost); an offer gives one asset.
"""

from __future__ import annotations

from engine.core.assets import PEBBLES
from engine.minds.choices import Bundle, Choices, Const, Field, Ints, Kind, Limits, OneOf, Part, Text, cases, optional
from engine.scenario import Scenario
from engine.turn.observation import Observation
from engine.turn.purse import MAX_OPEN_OFFERS, MAX_OPEN_ORDERS, NEW, Terms, costs, own_open, terms_of

LOAN_GROUP_GROWTH = 1.25
"""Principals share an interest cap in groups that grow by this factor (see the module's notes)."""


def legal_choices(o: Observation, sc: Scenario, limits: Limits) -> Choices:
    """Every kind of action the rules accept from this creature now, within ``limits``."""
    terms = terms_of(o, sc)
    kinds = [
        *_produce(o),
        *_orders(o, terms, limits),
        *_cancel(o),
        *_answers(o, terms, limits),
        *_deals(o, terms, limits),
        *_repay(o),
        *_talk(o, sc, limits),
    ]
    speech = min(limits.message, sc.budget.message_chars)
    return Choices(tuple(kinds), limits.actions if kinds else 0, limits.thinking, max(0, speech))


# ------------------------------------------------------------------ what it holds and may reach
def _others(o: Observation) -> tuple[str, ...]:
    return tuple(n.name for n in o.neighbours if n.alive and n.name != o.name)


def _givable(o: Observation) -> dict[str, int]:
    """Goods it may give now: what it holds free, and of its own good what it makes this turn."""
    out = {g: o.free.get(g, 0) for g in o.goods}
    if o.makes in out:
        out[o.makes] += max(0, o.can_make)
    return {g: q for g, q in out.items() if q > 0}


def promisable(o: Observation) -> tuple[tuple[str, int], ...]:
    """What it holds now that a forward offer may promise later in the same answer (see
    :attr:`~engine.minds.choices.Limits.promise`): the goods it may give and its free pebbles."""
    return tuple({**_givable(o), PEBBLES: o.free.get(PEBBLES, 0)}.items())


def qty_price(qty_hi: int, price_lo: int, price_hi: int, worth: int) -> list[tuple[Part, ...]]:
    """``qty`` and ``price`` with ``qty × price ≤ worth``, exactly: one case per run of quantities
    sharing the highest price (about 2·√worth cases)."""
    qty_hi = min(qty_hi, worth // max(1, price_lo))
    out: list[tuple[Part, ...]] = []
    q = 1
    while q <= qty_hi:
        top = min(price_hi, worth // q)
        last = min(qty_hi, worth // top)  # the last quantity with the same highest price
        out.append((Field("qty", Ints(q, last)), Field("price", Ints(price_lo, top))))
        q = last + 1
    return out


def loan_terms(principal_hi: int, terms: Terms) -> list[tuple[Part, ...]]:
    """``pebbles`` and ``interest`` within the purse's interest cap, in growing groups of principals."""
    out: list[tuple[Part, ...]] = []
    pct = terms.max_interest_pct
    p = 1
    while p <= principal_hi:
        cap = terms.interest_cap(p)
        same_cap = ((cap + 1) * 100 - 1) // pct if pct else principal_hi
        last = min(principal_hi, max(same_cap, int(p * LOAN_GROUP_GROWTH)))
        out.append((Field("pebbles", Ints(p, last)), Field("interest", Ints(0, cap))))
        p = last + 1
    return out


# ------------------------------------------------------------------ the kinds
def _produce(o: Observation) -> list[Kind]:
    if not o.makes or o.capacity < 1:
        return []
    return [Kind("produce", (Field("qty", Ints(1, o.capacity)),))]


def _grouped(by: dict[str, tuple[int, int, int]]) -> dict[tuple[int, int, int], tuple[str, ...]]:
    out: dict[tuple[int, int, int], tuple[str, ...]] = {}
    for g, key in by.items():
        out[key] = (*out.get(key, ()), g)
    return out


def _orders(o: Observation, terms: Terms, limits: Limits) -> list[Kind]:
    if len(o.my_orders) >= MAX_OPEN_ORDERS:
        return []
    purse = o.free.get(PEBBLES, 0)
    qcap, pcap = o.market_qty_cap, o.market_price_cap
    # never cross my own orders: asks above my best bid, bids below my best ask
    best_bid = {g: max((x.price for x in o.my_orders if x.side == "buy" and x.good == g), default=0) for g in o.goods}
    best_ask = {g: min((x.price for x in o.my_orders if x.side == "sell" and x.good == g), default=pcap + 1) for g in o.goods}
    out: list[Kind] = []
    ask_worth = terms.order_value_at_most(purse, pays_value=False)
    sells = {g: (min(qcap, q), best_bid[g] + 1, pcap) for g, q in _givable(o).items() if best_bid[g] < pcap}
    if sells and ask_worth >= 1:
        out.append(_order_kind("sell", _grouped(sells), ask_worth))
    in_bids = sum(x.qty * x.price for x in o.my_orders if x.side == "buy") if limits.locked else 0
    bid_worth = terms.order_value_at_most(purse + in_bids, pays_value=True)
    buys = {g: (qcap, 1, min(pcap, best_ask[g] - 1)) for g in o.goods if g not in o.never_buy and best_ask[g] > 1}
    if buys and bid_worth >= 1:
        out.append(_order_kind("buy", _grouped(buys), bid_worth))
    return out


def _order_kind(side: str, groups: dict[tuple[int, int, int], tuple[str, ...]], worth: int) -> Kind:
    """Goods that share their bounds ``(most qty, lowest price, highest price)`` share one case."""
    options = []
    for (qty_hi, price_lo, price_hi), goods in groups.items():
        qp = qty_price(qty_hi, price_lo, price_hi, worth)
        if qp:
            options.append((Field("good", OneOf(goods)), cases(*qp)))
    return Kind("order", (Field("side", Const(side)), cases(*options)))


def _cancel(o: Observation) -> list[Kind]:
    mine = tuple(x.id for x in own_open(o) if x.id != NEW)
    return [Kind("cancel", (Field("id", OneOf(mine)),))] if mine else []


def _acceptable(o: Observation) -> tuple[int, ...]:
    """Offers to it that it can take now: nothing it never buys, and what accepting takes of it
    (the purse's :func:`~engine.turn.purse.costs`: what a swap asks, the pebbles a loan asks of
    it, the collateral a loan to it asks) held free."""
    ok = []
    for x in o.offers_to_me:
        if x.kind == "trade" and any(g in o.never_buy for g in x.give):
            continue
        if all(o.free.get(a, 0) >= q for a, q in costs(x).items()):
            ok.append(x.id)
    return tuple(ok)


def _answers(o: Observation, terms: Terms, limits: Limits) -> list[Kind]:
    out: list[Kind] = []
    payable = _acceptable(o)
    if payable:
        out.append(Kind("accept", (Field("id", OneOf(payable)),)))
    if o.offers_to_me:
        out.append(Kind("reject", (Field("id", OneOf(tuple(x.id for x in o.offers_to_me))),)))
    others = _others(o)
    trades = tuple(x.id for x in o.offers_to_me if x.kind == "trade" and x.sender in others)
    what = _terms(o, terms, limits)
    if trades and what is not None and len(o.my_offers) < MAX_OPEN_OFFERS:
        out.append(Kind("counter", (Field("id", OneOf(trades)), what)))
    return out


def _terms(o: Observation, terms: Terms, limits: Limits) -> Part | None:
    """What an offer trades, and when: one asset it holds for 1..``limits.bundle`` others it may
    get (never what it makes and never buys, never the asset it gives), now or by a due turn; and
    a forward offer (a due turn) may give up to what ``limits.promise`` allows of an asset."""
    cap = terms.bundle_cap
    give = {**_givable(o), PEBBLES: min(cap, o.free.get(PEBBLES, 0))}
    promise = dict(limits.promise)
    gettable = [g for g in o.goods if g not in o.never_buy] + [PEBBLES]
    due = Field("due", Ints(1, terms.max_term))
    options: list[tuple[Part, ...]] = []
    for asset in dict.fromkeys([*give, *promise]):
        get = tuple((a, cap) for a in gettable if a != asset)
        held, later = min(give.get(asset, 0), cap), min(promise.get(asset, 0), cap)
        if not get:
            continue
        if held >= 1:
            options.append((Field("give", Bundle(((asset, held),), 1)), Field("get", Bundle(get, limits.bundle)), optional(due)))
        if later > held:
            options.append((Field("give", Bundle(((asset, later),), 1)), Field("get", Bundle(get, limits.bundle)), due))
    return cases(*options) if options else None


def _deals(o: Observation, terms: Terms, limits: Limits) -> list[Kind]:
    others = _others(o)
    if not others or len(o.my_offers) >= MAX_OPEN_OFFERS:
        return []
    to = Field("to", OneOf(others))
    out: list[Kind] = []
    what = _terms(o, terms, limits)
    if what is not None:
        out.append(Kind("offer", (to, what)))
    cap = terms.bundle_cap
    due = Field("due", Ints(1, terms.max_term))
    lendable = min(cap, o.free.get(PEBBLES, 0))
    # a lender asks for the borrower's goods as collateral; a borrower offers goods it holds
    asked = Bundle(tuple((g, cap) for g in o.goods), limits.bundle)
    if lendable >= 1:
        out.append(Kind("lend", (to, cases(*loan_terms(lendable, terms)), due, optional(Field("collateral", asked)))))
    pledge = [to, cases(*loan_terms(cap, terms)), due]
    held = _givable(o)
    if held:
        pledge.append(optional(Field("collateral", Bundle(tuple((g, min(q, cap)) for g, q in held.items()), limits.bundle))))
    out.append(Kind("borrow", tuple(pledge)))
    return out


def _repay(o: Observation) -> list[Kind]:
    purse = o.free.get(PEBBLES, 0)
    loans = [(ob.id, ob.i_owe[PEBBLES]) for ob in o.obligations if ob.kind == "loan" and ob.i_owe.get(PEBBLES)]
    if not loans or purse < 1:
        return []
    return [Kind("repay", (cases(*[(Field("id", OneOf((i,))), Field("pebbles", Ints(1, min(purse, owed)))) for i, owed in loans]),))]


def _talk(o: Observation, sc: Scenario, limits: Limits) -> list[Kind]:
    most = min(limits.message, sc.budget.message_chars)
    if most < 1:
        return []
    text = Field("text", Text(most, "speech"))
    out = [Kind("say", (text,))]
    others = _others(o)
    if others:
        out.append(Kind("whisper", (Field("to", OneOf(others)), text)))
    if sc.memory.notes > 0:
        out.append(Kind("note", (text,)))
    return out
