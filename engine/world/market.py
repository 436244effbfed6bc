"""The order book: escrowed limit orders per good, price-time priority, cleared every turn.

A bid locks ``qty × limit`` pebbles; an ask locks ``qty`` of the good. When the book clears, the
best bid meets the best ask while the bid's limit reaches the ask's; the trade happens at the
price of the earlier order (the one that was resting), and a buyer who pays less than its limit
gets the difference back from escrow.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from engine.core.assets import PEBBLES
from engine.world.creatures import Creature
from engine.world.ledger import Ledger
from engine.world.lifecycle import OrderStatus, advance
from engine.world.state import Json, Layout, Record, StateError, check_covered, states, take


@dataclass(slots=True)
class Order(Record):
    """A limit order resting in one good's book."""

    id: int
    owner: int
    side: str
    """``buy`` or ``sell``."""
    good: str
    qty: int
    """Units still wanted or offered."""
    price: int
    """Limit price per unit, in pebbles."""
    placed: int
    expires: int
    """First turn on which the order is gone if still unfilled."""
    seq: int
    """Time priority: lower is earlier."""
    original_qty: int = 0
    status: OrderStatus = OrderStatus.OPEN
    history: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def locked(self) -> tuple[str, int]:
        """The asset and amount this order holds in escrow."""
        if self.side == "buy":
            return PEBBLES, self.qty * self.price
        return self.good, self.qty


@dataclass(slots=True)
class Trade(Record):
    """A fill between a buyer and a seller."""

    turn: int
    good: str
    qty: int
    price: int
    buyer: int
    seller: int
    via: str = "book"
    """``book`` for the order book, ``offer`` for an accepted bilateral offer."""


class BookState(TypedDict):
    """What :meth:`OrderBook.get_state` gives."""

    orders: list[list[Json]]
    """Every open order's state, in the order they were placed."""
    history: dict[str, list[tuple[int, int, int]]]
    last_price: dict[str, int | None]
    _seq: int
    """The last time-priority number handed out."""


class OrderBook:
    """All open orders, with an index per owner and a price history per good."""

    SAVED = ("orders", "history", "last_price", "_seq")
    DERIVED = ("goods", "window", "by_owner")
    """From the scenario (``goods``, ``window``) or an index over the orders (``by_owner``)."""

    def __init__(self, goods: list[str], window: int) -> None:
        self.goods = goods
        self.orders: dict[int, Order] = {}
        self.by_owner: dict[int, dict[int, Order]] = {}
        self.window = window
        self.history: dict[str, deque[tuple[int, int, int]]] = {g: deque() for g in goods}
        """Recent ``(turn, qty, value)`` per good, for the reference price."""
        self.last_price: dict[str, int | None] = dict.fromkeys(goods)
        self._seq = 0

    @property
    def last_seq(self) -> int:
        """The last time-priority number handed out (orders placed so far)."""
        return self._seq

    def get_state(self) -> BookState:
        """The open orders, the price history and the counter (see :mod:`engine.world.state`)."""
        check_covered(self, self.SAVED, self.DERIVED)
        return {
            "orders": states(self.orders.values()),
            "history": {g: list(h) for g, h in self.history.items()},
            "last_price": dict(self.last_price),
            "_seq": self._seq,
        }

    def set_state(self, state: Mapping[str, object], layout: Layout | None = None) -> None:
        """Take back what :meth:`get_state` gave (validated; raises ``StateError``)."""
        orders: list[Order] = take(state, "orders", list[Order], layout, "book")
        history = take(state, "history", dict[str, list[tuple[int, int, int]]], layout, "book")
        if set(history) != set(self.goods):
            raise StateError("book.history does not list the scenario's goods")
        self.last_price = take(state, "last_price", dict[str, int | None], layout, "book")
        self._seq = take(state, "_seq", int, layout, "book")
        self.history = {g: deque(history[g]) for g in self.goods}
        self.orders = {o.id: o for o in orders}
        self.by_owner = {}
        for o in orders:
            self.by_owner.setdefault(o.owner, {})[o.id] = o

    def place(self, order: Order, owner: Creature, ledger: Ledger) -> None:
        """Add a validated order to the book, locking its escrow."""
        self._seq += 1
        order.seq = self._seq
        order.original_qty = order.qty
        order.history.append((order.placed, str(OrderStatus.OPEN), ""))
        asset, amount = order.locked
        ledger.lock(owner, asset, amount)
        self.orders[order.id] = order
        self.by_owner.setdefault(order.owner, {})[order.id] = order

    def close(self, order: Order, owner: Creature, status: OrderStatus, turn: int, ledger: Ledger) -> None:
        """Take an order off the book, releasing what it still locks."""
        asset, amount = order.locked
        ledger.unlock(owner, asset, amount)
        advance(order, status, turn)
        self.orders.pop(order.id, None)
        mine = self.by_owner.get(order.owner)
        if mine is not None:
            mine.pop(order.id, None)

    def owned(self, owner: int) -> list[Order]:
        """Open orders of one creature, oldest first."""
        return sorted(self.by_owner.get(owner, {}).values(), key=lambda o: o.seq)

    def clear(self, turn: int, creatures: list[Creature], ledger: Ledger) -> list[Trade]:
        """Match every good's book; return the trades in the order they happened."""
        trades: list[Trade] = []
        bids: dict[str, list[Order]] = {g: [] for g in self.goods}
        asks: dict[str, list[Order]] = {g: [] for g in self.goods}
        for o in self.orders.values():
            (bids if o.side == "buy" else asks)[o.good].append(o)
        for good in self.goods:
            b, a = bids[good], asks[good]
            if not b or not a:
                continue
            b.sort(key=lambda o: (-o.price, o.seq))
            a.sort(key=lambda o: (o.price, o.seq))
            i = j = 0
            while i < len(b) and j < len(a) and b[i].price >= a[j].price:
                bid, ask = b[i], a[j]
                qty = min(bid.qty, ask.qty)
                price = bid.price if bid.seq < ask.seq else ask.price
                buyer, seller = creatures[bid.owner], creatures[ask.owner]
                ledger.move(seller, buyer, good, qty, from_escrow=True)
                ledger.move(buyer, seller, PEBBLES, qty * price, from_escrow=True)
                ledger.unlock(buyer, PEBBLES, qty * (bid.price - price))
                bid.qty -= qty
                ask.qty -= qty
                trades.append(Trade(turn, good, qty, price, bid.owner, ask.owner))
                if bid.qty == 0:
                    self.close(bid, buyer, OrderStatus.FILLED, turn, ledger)
                    i += 1
                if ask.qty == 0:
                    self.close(ask, seller, OrderStatus.FILLED, turn, ledger)
                    j += 1
        return trades

    def expire(self, turn: int, creatures: list[Creature], ledger: Ledger) -> int:
        """Close every order whose time is up. Returns how many expired."""
        gone = [o for o in self.orders.values() if o.expires <= turn]
        for o in gone:
            self.close(o, creatures[o.owner], OrderStatus.EXPIRED, turn, ledger)
        return len(gone)

    def record(self, trades: list[Trade], turn: int) -> dict[str, int | None]:
        """Fold a turn's trades into the price history; return this turn's price per good."""
        qty: dict[str, int] = {}
        value: dict[str, int] = {}
        for t in trades:
            qty[t.good] = qty.get(t.good, 0) + t.qty
            value[t.good] = value.get(t.good, 0) + t.qty * t.price
            self.last_price[t.good] = t.price
        prices: dict[str, int | None] = {}
        for g in self.goods:
            h = self.history[g]
            if g in qty:
                h.append((turn, qty[g], value[g]))
                prices[g] = round(value[g] / qty[g])
            else:
                prices[g] = None
            while h and h[0][0] <= turn - self.window:
                h.popleft()
        return prices

    def reference(self, good: str, fallback: int) -> int:
        """The recent traded price (volume-weighted over the window), else the last, else ``fallback``."""
        h = self.history[good]
        if h:
            q = sum(x[1] for x in h)
            return max(1, round(sum(x[2] for x in h) / q))
        last = self.last_price[good]
        return last if last is not None else fallback

    def best(self, good: str) -> tuple[int | None, int | None]:
        """Best bid and best ask price now resting for a good."""
        bid = ask = None
        for o in self.orders.values():
            if o.good != good:
                continue
            if o.side == "buy" and (bid is None or o.price > bid):
                bid = o.price
            if o.side == "sell" and (ask is None or o.price < ask):
                ask = o.price
        return bid, ask
