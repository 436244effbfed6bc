"""The purse: what an action costs, locks and frees, worked out in one place.

Everyone who must know what acting costs asks this module: the rules (:mod:`engine.turn.rules`)
when they take it, the legal choices (:mod:`engine.minds.legal`) when they bound what a creature
may say, the re-planner (:mod:`engine.minds.replan`) and the answer allowance
(:mod:`engine.minds.allowance`) as an answer grows, and the scripted elders (:mod:`engine.elders`)
as they plan. So there is one order-fee formula, one interest cap, one set of open-order and
open-offer limits, and one account of what each action takes from a creature's free holdings.

:class:`Terms` are the wood's prices of acting this turn (a legend may change the fee); they are
read from the wood (:func:`terms_of_wood`) by the rules and from the observation
(:func:`terms_of`) by the minds, which see the same numbers. :func:`spend` says what a creature
holds free once one action has resolved, as the rules resolve it; a property test holds the two
together (``tests/test_purse.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.core.assets import PEBBLES
from engine.scenario import Scenario
from engine.turn import actions as A
from engine.turn.observation import ObligationView, Observation, OfferView, OrderView
from engine.world.wood import Wood

MAX_OPEN_ORDERS = 8
"""Open orders one creature may have resting at once."""
MAX_OPEN_OFFERS = 4
"""Open offers one creature may have waiting at once."""
NEW = 0
"""The id of an order or offer opened earlier in the same answer: it counts toward the limits
but cannot be named, so it is never cancelled or answered."""


@dataclass(frozen=True, slots=True)
class Terms:
    """The wood's prices and caps on acting, as they stand this turn."""

    order_fee: float
    """The flat fee of placing an order, in pebbles (a legend may change it)."""
    fee_pct: float
    """The fee in percent of an order's value (qty × price)."""
    max_qty: int
    """The most units in one order."""
    max_price: int
    """The highest price of one unit."""
    max_interest_pct: int
    """A loan's interest at most, in percent of its principal."""
    max_term: int
    """The longest a contract or loan may run, in turns."""

    def fee(self, value: int) -> int:
        """Pebbles it costs to place an order worth ``value`` (qty × price): a ``fee`` sink."""
        return max(0, int(self.order_fee + value * self.fee_pct / 100))

    def order_cost(self, side: str, good: str, qty: int, price: int) -> dict[str, int]:
        """What placing an order takes from the free purse: a bid its value and the fee (the value
        locked in escrow, the fee gone), an ask its goods (locked) and the fee."""
        fee = self.fee(qty * price)
        if side == "buy":
            return {PEBBLES: qty * price + fee}
        return {good: qty, PEBBLES: fee} if fee else {good: qty}

    @property
    def bundle_cap(self) -> int:
        """The most of any one asset in an offer, a loan or a collateral."""
        return self.max_qty * self.max_price

    def interest_cap(self, principal: int) -> int:
        """The most interest a loan of ``principal`` pebbles may ask."""
        return principal * self.max_interest_pct // 100

    def order_value_at_most(self, purse: int, *, pays_value: bool) -> int:
        """The largest order value (qty × price) ``purse`` pays for, fee included (-1: none).
        ``pays_value``: a bid pays its value and the fee; an ask only the fee."""
        lo, hi = -1, self.bundle_cap
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if (mid if pays_value else 0) + self.fee(mid) <= purse:
                lo = mid
            else:
                hi = mid - 1
        return lo


def terms_of(o: Observation, sc: Scenario | None = None) -> Terms:
    """The terms a creature sees this turn: the observation carries the fee in force (an
    observation built without it falls back on the scenario's ``sc``, else no fee)."""
    flat = o.order_fee if o.order_fee is not None else (sc.market.order_fee if sc is not None else 0.0)
    pct = o.fee_pct if o.fee_pct is not None else (sc.market.fee_pct if sc is not None else 0.0)
    return Terms(
        order_fee=float(flat), fee_pct=float(pct), max_qty=o.market_qty_cap, max_price=o.market_price_cap,
        max_interest_pct=o.max_interest_pct, max_term=o.max_term,
    )


def terms_of_wood(wood: Wood) -> Terms:
    """The terms the rules apply this turn (a legend may have changed the fee)."""
    sc = wood.scenario
    return Terms(
        order_fee=float(wood.rule("market.order_fee", sc.market.order_fee)),
        fee_pct=float(wood.rule("market.fee_pct", sc.market.fee_pct)),
        max_qty=sc.market.max_qty, max_price=sc.market.max_price,
        max_interest_pct=sc.credit.max_interest_pct, max_term=sc.credit.max_term,
    )


# ------------------------------------------------------------------ what is held back and paid
def held(x: OrderView | OfferView) -> dict[str, int]:
    """What one of a creature's own open orders or offers holds back, and a cancel gives back: a
    bid its pebbles, an ask its goods, a spot swap what it gives, a loan offered its principal (a
    forward offer or a request to borrow holds nothing)."""
    if isinstance(x, OrderView):
        return {PEBBLES: x.qty * x.price} if x.side == "buy" else {x.good: x.qty}
    if x.kind == "lend":
        return {PEBBLES: x.principal} if x.principal else {}
    return dict(x.give) if x.kind == "trade" and x.due is None else {}


def pays(y: OfferView) -> dict[str, int]:
    """What accepting the offer ``y`` (addressed to the creature) pays it at once."""
    if y.kind == "lend":
        return {PEBBLES: y.principal}
    return dict(y.give) if y.kind == "trade" and y.due is None else {}


def costs(y: OfferView) -> dict[str, int]:
    """What accepting the offer ``y`` takes from the creature's free holdings at once: the pebbles
    a loan asked of it, the collateral of a loan to it (locked), what a spot swap asks."""
    if y.kind == "borrow":
        return {PEBBLES: y.principal}
    if y.kind == "lend":
        return dict(y.collateral)
    return dict(y.get) if y.due is None else {}


def own_open(o: Observation) -> list[OrderView | OfferView]:
    """A creature's own open orders and offers."""
    return [*o.my_orders, *o.my_offers]


# ------------------------------------------------------------------ one action
def spend(o: Observation, terms: Terms, action: A.Action) -> Observation:
    """What ``o`` holds free once ``action`` has resolved, as the rules resolve it: pebbles and
    goods it pays, locks or gives, and what it gets back or is paid; ``produce`` used up (what it
    gives of its own good beyond what it holds comes out of this turn's making, ``can_make``);
    orders and offers it closed (no second cancel, accept or reject of the same id), and those it
    opened (they count toward the open limits; their ids are :data:`NEW`).

    A refused action changes nothing in the rules; ``spend`` assumes the action is accepted."""
    free = dict(o.free)
    can_make = o.can_make

    def pay(bundle: dict[str, int], sign: int = 1) -> None:
        nonlocal can_make
        for asset, qty in bundle.items():
            left = free.get(asset, 0) - sign * qty
            if left < 0 and asset == o.makes:
                can_make = max(0, can_make + left)  # the rest came from what it makes this turn
            free[asset] = max(0, left)

    if isinstance(action, A.Produce):  # what it makes this turn: at least its share of the full yield
        made = o.can_make * action.qty // o.capacity if 0 < action.qty < o.capacity else o.can_make
        return replace(o, capacity=0, can_make=made)
    orders, offers, obligations = list(o.my_orders), list(o.my_offers), list(o.obligations)
    closed: int | None = None
    if isinstance(action, A.PlaceOrder):
        pay(terms.order_cost(action.side, action.good, action.qty, action.price))
        orders.append(OrderView(NEW, action.side, action.good, action.qty, action.price, 0))
    elif isinstance(action, A.MakeOffer | A.Counter):
        if action.due is None:  # a forward offer gives later
            pay(action.give)
        offers.append(OfferView(NEW, "trade", o.name, _to(o, action), dict(action.give), dict(action.get),
                                action.due, 0, 0, {}))
    elif isinstance(action, A.Lend | A.Borrow):
        if isinstance(action, A.Lend):
            pay({PEBBLES: action.pebbles})
        offers.append(OfferView(NEW, action.type, o.name, action.to, {}, {}, action.due, action.pebbles,
                                action.interest, dict(action.collateral)))
    elif isinstance(action, A.Repay):
        paid, back, obligations = _repaid(o, action)
        pay({PEBBLES: paid})
        pay(back, -1)
    elif isinstance(action, A.Cancel):  # what the order or offer held comes back
        for x in own_open(o):
            if x.id == action.id:
                pay(held(x), -1)
    elif isinstance(action, A.Accept):
        for y in o.offers_to_me:
            if y.id == action.id:
                pay(costs(y))
                pay(pays(y), -1)
    if isinstance(action, A.Cancel | A.Accept | A.Reject | A.Counter):
        closed = action.id
    return replace(o, free=free, can_make=can_make, obligations=obligations, my_orders=[x for x in orders if x.id != closed],
                   my_offers=[y for y in offers if y.id != closed],
                   offers_to_me=[y for y in o.offers_to_me if y.id != closed])


def _repaid(o: Observation, action: A.Repay) -> tuple[int, dict[str, int], list[ObligationView]]:
    """A repayment: the pebbles it pays (no more than is owed), the collateral it frees (paid in
    full), and the obligations after it (the loan gone, or what is still owed on it)."""
    ob = next((x for x in o.obligations if x.id == action.id), None)
    if ob is None:
        return action.pebbles, {}, list(o.obligations)
    owed = ob.i_owe.get(PEBBLES, 0)
    if action.pebbles >= owed:
        return owed, dict(ob.collateral), [x for x in o.obligations if x.id != ob.id]
    left = replace(ob, i_owe={**ob.i_owe, PEBBLES: owed - action.pebbles})
    return action.pebbles, {}, [left if x.id == ob.id else x for x in o.obligations]


def _to(o: Observation, action: A.MakeOffer | A.Counter) -> str:
    if isinstance(action, A.MakeOffer):
        return action.to
    return next((y.sender for y in o.offers_to_me if y.id == action.id), "")
