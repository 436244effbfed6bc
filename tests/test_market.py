"""The order book: escrow, price-time priority, refunds, expiry, self-trades."""

from __future__ import annotations

from engine.turn import actions as A
from engine.world.lifecycle import OrderStatus
from tests.helpers import act, books_ok, tiny_game


def test_bid_locks_pebbles_and_ask_locks_goods() -> None:
    g = tiny_game()
    w = g.wood
    assert act(g, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=3, price=4)) is None
    assert act(g, "Bo", A.PlaceOrder(side="sell", good="nuts", qty=2, price=5)) is None
    assert w.by_name["Ada"].escrow["pebbles"] == 12
    assert w.by_name["Bo"].escrow["nuts"] == 2
    books_ok(g)


def test_price_time_priority_and_refund() -> None:
    g = tiny_game()
    w = g.wood
    ada, bo, cy = (w.by_name[n] for n in ("Ada", "Bo", "Cy"))
    # Two asks: the cheaper fills first even though it came second.
    assert act(g, "Bo", A.PlaceOrder(side="sell", good="nuts", qty=2, price=4)) is None
    assert act(g, "Cy", A.PlaceOrder(side="sell", good="nuts", qty=2, price=3)) is None
    # A later bid at 6 pays the resting asks' prices and gets the rest of its escrow back.
    assert act(g, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=3, price=6)) is None
    before = ada.free["pebbles"] + ada.escrow["pebbles"]
    trades = w.book.clear(1, w.creatures, w.ledger)
    assert [(t.price, t.qty, w.creatures[t.seller].name) for t in trades] == [(3, 2, "Cy"), (4, 1, "Bo")]
    assert ada.free["pebbles"] + ada.escrow["pebbles"] == before - (2 * 3 + 1 * 4)
    assert ada.escrow["pebbles"] == 0  # fully filled: nothing left locked
    assert bo.escrow["nuts"] == 1  # one unit still resting
    assert cy.free["pebbles"] == 106
    books_ok(g)


def test_earlier_bid_sets_the_price() -> None:
    g = tiny_game()
    w = g.wood
    assert act(g, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=1, price=7)) is None
    assert act(g, "Bo", A.PlaceOrder(side="sell", good="nuts", qty=1, price=2)) is None
    (t,) = w.book.clear(1, w.creatures, w.ledger)
    assert t.price == 7


def test_no_trade_when_bid_below_ask() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=1, price=2))
    act(g, "Bo", A.PlaceOrder(side="sell", good="nuts", qty=1, price=3))
    assert w.book.clear(1, w.creatures, w.ledger) == []


def test_orders_expire_and_release_escrow() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Ada", A.PlaceOrder(side="buy", good="nuts", qty=2, price=2))
    order = next(iter(w.book.orders.values()))
    assert w.book.expire(order.expires, w.creatures, w.ledger) == 1
    assert order.status == OrderStatus.EXPIRED
    assert w.by_name["Ada"].escrow["pebbles"] == 0
    books_ok(g)


def test_refusals_say_why_and_change_nothing() -> None:
    g = tiny_game()
    w = g.wood
    snapshot = [(dict(c.free), dict(c.escrow)) for c in w.creatures]
    assert "never buy" in act(g, "Bo", A.PlaceOrder(side="buy", good="nuts", qty=1, price=1))
    assert "needs 5000 pebbles" in act(g, "Ada", A.PlaceOrder(side="buy", good="jam", qty=100, price=50))
    assert act(g, "Bo", A.PlaceOrder(side="sell", good="jam", qty=2, price=1)) is None
    assert "not 99" in act(g, "Bo", A.PlaceOrder(side="sell", good="jam", qty=99, price=1))
    assert "not a good" in act(g, "Ada", A.PlaceOrder(side="buy", good="gold", qty=1, price=1))
    assert "no open order" in act(g, "Ada", A.Cancel(id=999))
    # Bo's legal ask above changed Bo's books; everything else stayed as it was.
    for c, (free, escrow) in zip(w.creatures, snapshot, strict=True):
        if c.name != "Bo":
            assert (c.free, c.escrow) == (free, escrow)
    books_ok(g)


def test_own_orders_never_cross() -> None:
    g = tiny_game()
    assert act(g, "Bo", A.PlaceOrder(side="sell", good="jam", qty=1, price=3)) is None
    assert "your own ask" in act(g, "Bo", A.PlaceOrder(side="buy", good="jam", qty=1, price=4))


def test_cancel_returns_escrow() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Bo", A.PlaceOrder(side="sell", good="nuts", qty=4, price=3))
    oid = next(iter(w.book.orders))
    assert act(g, "Bo", A.Cancel(id=oid)) is None
    assert w.by_name["Bo"].escrow["nuts"] == 0 and w.by_name["Bo"].free["nuts"] == 10
    assert "no open order" in act(g, "Ada", A.Cancel(id=oid))
