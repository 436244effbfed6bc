"""The action mask lists only the legal choices of one creature on one turn."""

from __future__ import annotations

from engine.economy.settlement import leave
from engine.minds.mask import mask_schema
from engine.turn import actions as A
from engine.turn.observe import observe_all
from tests.helpers import act, tiny_game


def choices(schema: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for c in schema["properties"]["actions"]["items"]["anyOf"]:
        out.setdefault(c["properties"]["type"]["const"], []).append(c)
    return out


def obs_of(game, name):
    w = game.wood
    return next(o for o in observe_all(w, w.alive(), {}) if o.name == name)


def test_mask_lists_only_legal_choices() -> None:
    g = tiny_game()
    w = g.wood
    act(g, "Cy", A.MakeOffer(to="Bo", give={"jam": 1}, get={"nuts": 2}))
    leave(w, w.by_name["Ada"])
    c = choices(mask_schema(obs_of(g, "Bo")))
    buy = next(x for x in c["order"] if x["properties"]["side"]["const"] == "buy")
    sell = next(x for x in c["order"] if x["properties"]["side"]["const"] == "sell")
    assert "nuts" not in buy["properties"]["good"]["enum"]  # Bo makes nuts: never buys them
    assert set(sell["properties"]["good"]["enum"]) == {"nuts", "jam", "firewood"}
    assert sell["properties"]["qty"]["maximum"] == 10
    assert c["offer"][0]["properties"]["to"]["enum"] == ["Cy"]  # not itself, not Ada who left
    offer_id = next(iter(w.deals.offers))
    assert c["accept"][0]["properties"]["id"]["enum"] == [offer_id]
    assert c["produce"][0]["properties"]["qty"]["maximum"] == 4
    assert "repay" not in c and "cancel" not in c  # nothing to repay or cancel yet


def test_mask_choices_are_actions_the_schema_and_rules_accept() -> None:
    g = tiny_game()
    schema = mask_schema(obs_of(g, "Bo"))
    c = choices(schema)
    sell = next(x for x in c["order"] if x["properties"]["side"]["const"] == "sell")
    good = sell["properties"]["good"]["enum"][0]
    answer = {"actions": [{"type": "order", "side": "sell", "good": good, "qty": 1, "price": 3}]}
    import json

    actions, problems, _ = A.parse_decision(json.dumps(answer), 6)
    assert problems == []
    assert act(g, "Bo", actions[0]) is None
