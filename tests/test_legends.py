"""Legends fire on a turn, on a condition or on demand, and their effects keep the books."""

from __future__ import annotations

import pytest

from engine.core.errors import TTWoodError
from tests.helpers import TINY, books_ok, tiny_game

LEGENDS = TINY + """
[[legends]]
id = "gift"
name = "A Gift of Jam"
when = { turn = 2 }
effects = [{ kind = "goods", good = "jam", qty = 3, to = ["Bo"] }]

[[legends]]
id = "frost"
name = "Hard Frost"
when = { on_demand = true }
effects = [
  { kind = "rule", rule = "cold", multiply = 3.0, turns = 2 },
  { kind = "rumour", text = "The owl is broke!", true = false, to = ["Ada"] },
]

[[legends]]
id = "clearcut"
name = "Clearcut"
when = { condition = { metric = "turn", op = ">=", value = 3 } }
effects = [{ kind = "goods", good = "nuts", qty = -100 }]
"""


def test_legends_fire_when_they_should() -> None:
    g = tiny_game(text=LEGENDS)
    w = g.wood
    r1 = g.step()
    assert r1.legends == []
    r2 = g.step()
    assert r2.legends == ["gift"]
    assert w.ledger.flows[("jam", "legend")] == 3
    need = w.fuel_need(w.turn + 1)
    g.inject("frost")
    r3 = g.step()
    assert set(r3.legends) == {"frost", "clearcut"}
    assert w.fuel_need(w.turn) == round(3 * need)
    assert any(i.kind == "rumour" and "broke" in i.text for i in w.by_name["Ada"].inbox)
    assert not any(i.kind == "rumour" for i in w.by_name["Bo"].inbox)
    assert w.ledger.flows[("nuts", "legend")] < 0  # the clearcut destroyed every free nut it found
    r4 = g.step()
    assert "clearcut" not in r4.legends  # a condition legend fires once
    g.step()
    g.step()
    assert w.fuel_need(w.turn) == need  # the frost has passed
    books_ok(g)


def test_unknown_legend_is_a_clear_error() -> None:
    g = tiny_game(text=LEGENDS)
    with pytest.raises(TTWoodError, match="no legend 'nope'"):
        g.inject("nope")
