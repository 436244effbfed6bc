"""Offers, forward contracts and loans: settlement, defaults, counters, departures."""

from __future__ import annotations

from engine.economy.settlement import leave, settle_due
from engine.turn import actions as A
from engine.world.lifecycle import ContractStatus, OfferStatus
from tests.helpers import act, books_ok, tiny_game


def offer_id(g, sender: str) -> int:
    return max(o.id for o in g.wood.deals.offers.values() if g.wood.creatures[o.sender].name == sender)


def test_spot_offer_swaps_on_accept() -> None:
    g = tiny_game()
    w = g.wood
    assert act(g, "Bo", A.MakeOffer(to="Cy", give={"nuts": 3}, get={"jam": 2})) is None
    assert w.by_name["Bo"].escrow["nuts"] == 3
    assert act(g, "Cy", A.Accept(id=offer_id(g, "Bo"))) is None
    assert w.by_name["Bo"].free["jam"] == 4 and w.by_name["Cy"].free["nuts"] == 5
    assert w.by_name["Bo"].escrow["nuts"] == 0
    assert len(w.offer_trades) == 2
    books_ok(g)


def test_only_the_addressee_may_answer() -> None:
    g = tiny_game()
    act(g, "Bo", A.MakeOffer(to="Cy", give={"nuts": 1}, get={"pebbles": 3}))
    assert "not addressed to you" in act(g, "Ada", A.Accept(id=offer_id(g, "Bo")))


def test_counter_closes_the_old_offer_and_sends_new_terms() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Bo", A.MakeOffer(to="Cy", give={"nuts": 2}, get={"pebbles": 10}))
    old = offer_id(g, "Bo")
    assert act(g, "Cy", A.Counter(id=old, give={"pebbles": 7}, get={"nuts": 2})) is None
    assert old not in w.deals.offers
    assert w.by_name["Bo"].escrow["nuts"] == 0
    new = w.deals.offers[offer_id(g, "Cy")]
    assert new.reply_to == old and new.to == w.by_name["Bo"].id
    books_ok(g)


def test_refused_counter_changes_nothing() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Bo", A.MakeOffer(to="Cy", give={"nuts": 2}, get={"pebbles": 10}))
    old = offer_id(g, "Bo")
    assert "not a good" in act(g, "Cy", A.Counter(id=old, give={"gold": 1}, get={"nuts": 2}))
    assert w.deals.offers[old].status == OfferStatus.OPEN


def test_forward_contract_settles_on_due_turn() -> None:
    g = tiny_game()
    w = g.wood
    assert act(g, "Cy", A.MakeOffer(to="Ada", give={"pebbles": 20}, get={"firewood": 4}, due=2)) is None
    assert act(g, "Ada", A.Accept(id=offer_id(g, "Cy"))) is None
    (k,) = w.deals.contracts.values()
    assert k.kind == "forward" and k.due == w.turn + 2
    w.turn = k.due
    assert settle_due(w) == 0
    assert k.status == ContractStatus.SETTLED
    assert w.by_name["Cy"].free["firewood"] == 8 and w.by_name["Ada"].free["pebbles"] == 70
    books_ok(g)


def test_forward_default_costs_credit_and_is_announced() -> None:
    g = tiny_game()
    w = g.wood
    ada = w.by_name["Ada"]
    act(g, "Cy", A.MakeOffer(to="Ada", give={"pebbles": 20}, get={"firewood": 30}, due=1))
    act(g, "Ada", A.Accept(id=offer_id(g, "Cy")))
    credit = ada.credit
    w.turn += 1
    assert settle_due(w) == 1
    assert ada.credit == credit - w.scenario.credit.default_drop
    assert w.deals.finished[-1].status == ContractStatus.DEFAULTED
    assert any("DEFAULT" in e.text and "Ada" in e.text for e in w.events)
    assert any(m.kind == "notice" and "Ada" in m.text for m in w.clearing)
    assert ada.free["pebbles"] == 50 - w.scenario.credit.default_penalty  # the fine, a named sink
    books_ok(g)


def test_loan_repaid_with_interest_releases_collateral() -> None:
    g = tiny_game()
    w = g.wood
    bo, cy = w.by_name["Bo"], w.by_name["Cy"]
    assert act(g, "Cy", A.Lend(to="Bo", pebbles=20, interest=4, due=3, collateral={"nuts": 2})) is None
    assert cy.escrow["pebbles"] == 20
    assert act(g, "Bo", A.Accept(id=offer_id(g, "Cy"))) is None
    assert bo.free["pebbles"] == 60 and bo.escrow["nuts"] == 2
    (k,) = w.deals.contracts.values()
    w.turn = k.due
    settle_due(w)
    assert k.status == ContractStatus.SETTLED
    assert cy.free["pebbles"] == 104 and bo.escrow["nuts"] == 0
    books_ok(g)


def test_loan_default_seizes_collateral() -> None:
    g = tiny_game()
    w = g.wood
    bo, cy = w.by_name["Bo"], w.by_name["Cy"]
    act(g, "Bo", A.Borrow(to="Cy", pebbles=30, interest=6, due=2, collateral={"nuts": 5}))
    assert act(g, "Cy", A.Accept(id=offer_id(g, "Bo"))) is None
    # Bo spends everything, so nothing is left to repay with.
    w.ledger.sink(bo, "pebbles", bo.free["pebbles"], "test")
    (k,) = w.deals.contracts.values()
    w.turn = k.due
    assert settle_due(w) == 1
    assert k.status == ContractStatus.DEFAULTED
    assert cy.free["nuts"] == 2 + 5 and bo.escrow["nuts"] == 0
    books_ok(g)


def test_partial_repayment_then_default_pays_what_it_can() -> None:
    g = tiny_game()
    w = g.wood
    bo, cy = w.by_name["Bo"], w.by_name["Cy"]
    act(g, "Cy", A.Lend(to="Bo", pebbles=10, interest=2, due=2))
    act(g, "Bo", A.Accept(id=offer_id(g, "Cy")))
    (k,) = w.deals.contracts.values()
    assert act(g, "Bo", A.Repay(id=k.id, pebbles=5)) is None
    assert k.legs[0].bundle["pebbles"] == 7
    w.ledger.sink(bo, "pebbles", bo.free["pebbles"] - 3, "test")
    w.turn = k.due
    assert settle_due(w) == 1
    assert cy.free["pebbles"] == 90 + 5 + 3
    books_ok(g)


def test_interest_cap_and_term_limit() -> None:
    g = tiny_game()
    assert "above the cap" in act(g, "Cy", A.Lend(to="Bo", pebbles=10, interest=9, due=2))
    assert "too far" in act(g, "Cy", A.Lend(to="Bo", pebbles=10, interest=1, due=99))
    assert "yourself" in act(g, "Cy", A.Lend(to="Cy", pebbles=10, interest=1, due=2))
    assert "no creature" in act(g, "Cy", A.Lend(to="Zed", pebbles=10, interest=1, due=2))


def test_leaving_the_wood_defaults_what_it_owes_and_voids_what_it_is_owed() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Cy", A.Lend(to="Bo", pebbles=10, interest=2, due=4))
    act(g, "Bo", A.Accept(id=offer_id(g, "Cy")))
    act(g, "Ada", A.MakeOffer(to="Bo", give={"firewood": 2}, get={"pebbles": 9}, due=3))
    act(g, "Bo", A.Accept(id=offer_id(g, "Ada")))
    act(g, "Bo", A.PlaceOrder(side="sell", good="nuts", qty=2, price=9))
    bo = w.by_name["Bo"]
    leave(w, bo)
    assert not bo.alive
    assert not w.book.by_owner.get(bo.id)
    assert not w.deals.contracts  # the loan settled from Bo's estate, the forward defaulted
    assert "left the wood" in act(g, "Ada", A.Whisper(to="Bo", text="hello?"))
    books_ok(g)
