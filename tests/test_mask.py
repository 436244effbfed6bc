"""The action mask lists only the legal choices of one creature on one turn, from one description
(:mod:`engine.minds.choices`) rendered both as a JSON Schema and as a GBNF grammar."""

from __future__ import annotations

import json

from engine.economy.settlement import leave
from engine.minds.allowance import plan_answer
from engine.minds.choices import Limits
from engine.minds.legal import legal_choices, loan_terms, qty_price
from engine.minds.mask import mask_schema
from engine.turn import actions as A
from engine.turn.observe import observe_all
from engine.turn.purse import Terms
from tests.helpers import act, tiny_game

LIMITS = Limits(actions=6, thinking=40, message=60)


def branches(schema: dict) -> dict[str, list[dict]]:
    """The schema's action branches by type, each as its properties (shared ones looked up)."""
    defs = schema.get("$defs", {})

    def look(s: dict) -> dict:
        return defs[s["$ref"].rsplit("/", 1)[1]] if "$ref" in s else s

    out: dict[str, list[dict]] = {}
    for c in schema["properties"]["actions"]["items"]["anyOf"]:
        out.setdefault(c["properties"]["type"]["const"], []).append({k: look(v) for k, v in c["properties"].items()})
    return out


def obs_of(game, name):
    w = game.wood
    return next(o for o in observe_all(w, w.alive(), {}) if o.name == name)


def test_mask_lists_only_legal_choices() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Cy", A.MakeOffer(to="Bo", give={"jam": 1}, get={"nuts": 2}))
    leave(w, w.by_name["Ada"])
    c = branches(mask_schema(legal_choices(obs_of(g, "Bo"), g.scenario, LIMITS)))
    buys = [b for b in c["order"] if b["side"]["const"] == "buy"]
    sells = [b for b in c["order"] if b["side"]["const"] == "sell"]
    assert all("nuts" not in b["good"]["enum"] for b in buys)  # Bo makes nuts: never buys them
    assert all(b["qty"]["maximum"] * b["price"]["maximum"] <= 40 for b in buys)  # within its 40 pebbles
    most = {g: max(b["qty"]["maximum"] for b in sells if g in b["good"]["enum"]) for g in ("nuts", "jam", "firewood")}
    assert most == {"nuts": 14, "jam": 2, "firewood": 4}  # what it holds; of nuts, also the 4 it makes this turn
    assert {to for b in c["offer"] for to in b["to"]["enum"]} == {"Cy"}  # not itself, not Ada who left
    offer_id = next(iter(w.deals.offers))
    assert c["accept"][0]["id"]["enum"] == [offer_id]
    assert c["counter"][0]["id"]["enum"] == [offer_id]
    assert c["produce"][0]["qty"] == {"type": "integer", "minimum": 1, "maximum": 4}  # up to its capacity
    assert any("due" in b for b in c["offer"]) and any("due" not in b for b in c["offer"])  # forward or spot
    assert "repay" not in c and "cancel" not in c  # nothing to repay or cancel yet


def test_mask_choices_are_actions_the_schema_and_rules_accept() -> None:
    g = tiny_game()
    c = branches(mask_schema(legal_choices(obs_of(g, "Bo"), g.scenario, LIMITS)))
    sell = next(b for b in c["order"] if b["side"]["const"] == "sell")
    answer = {"actions": [{"type": "order", "side": "sell", "good": sell["good"]["enum"][0], "qty": 1, "price": 3}]}
    actions, problems, _ = A.parse_decision(json.dumps(answer), 6)
    assert problems == []
    assert act(g, "Bo", actions[0]) is None


def test_bids_are_bounded_by_the_purse_exactly() -> None:
    """Every (qty, price) with qty x price within the purse, and no other."""
    for worth in (1, 7, 40, 300):
        got = set()
        for qty, price in qty_price(20, 1, 50, worth):
            got |= {(q, p) for q in range(qty.value.lo, qty.value.hi + 1) for p in range(price.value.lo, price.value.hi + 1)}
        assert got == {(q, p) for q in range(1, 21) for p in range(1, 51) if q * p <= worth}


def test_loan_interest_stays_within_the_cap_and_close_to_it() -> None:
    for pct in (0, 10, 40, 50, 150):
        groups = loan_terms(5000, Terms(order_fee=0, fee_pct=0, max_qty=100, max_price=1000, max_interest_pct=pct, max_term=10))
        assert len(groups) <= 45
        covered = 0
        for pebbles, interest in groups:
            lo, hi = pebbles.value.lo, pebbles.value.hi
            assert lo == covered + 1
            covered = hi
            assert interest.value.hi == lo * pct // 100  # within the cap of every principal in the group
            assert interest.value.hi >= hi * pct // 100 * 0.8 - 1  # and at most ~20% below it
        assert covered == 5000


def test_answers_may_hold_the_scenarios_actions_not_three() -> None:
    """The answer's action count comes from the scenario's budget (max_actions), not a fixed 3;
    a static plan (for servers) fits as many as its allowance holds at their longest."""
    g = tiny_game()
    o = obs_of(g, "Bo")
    assert o.max_actions == 6
    closing = plan_answer(o, g.scenario, 600, 1000)
    assert closing.choices.actions == 6 and closing.closing
    schema = closing.schema()
    assert schema["properties"]["actions"]["maxItems"] == 6
    static = plan_answer(o, g.scenario, 600, 1000, closing=False)
    assert 1 <= static.choices.actions <= 6 and not static.closing
