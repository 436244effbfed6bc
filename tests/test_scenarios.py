"""Scenario schema: the [memory] table, market fees, errors with lines, the JSON Schema."""

from __future__ import annotations

import pytest

from engine import scenario as scenarios
from engine.core.errors import ScenarioError
from engine.turn import actions as A
from tests.helpers import TINY, act, books_ok, tiny_game


def test_memory_table_has_bounded_defaults_and_can_be_set() -> None:
    sc = scenarios.parse(TINY, "tiny.toml")
    assert (sc.memory.notes, sc.memory.events, sc.memory.messages) == (5, 6, 6)
    sc = scenarios.parse(TINY + "\n[memory]\nnotes = 2\nevents = 9\nmessages = 0\n", "tiny.toml")
    assert (sc.memory.notes, sc.memory.events, sc.memory.messages) == (2, 9, 0)
    with pytest.raises(ScenarioError, match=r"tiny.toml:\d+: memory.notes: Input should be less than or equal to 50"):
        scenarios.parse(TINY + "\n[memory]\nnotes = 500\n", "tiny.toml")


def test_notes_kept_follow_the_memory_table() -> None:
    game = tiny_game(text=TINY + "\n[memory]\nnotes = 2\n")
    for i in range(4):
        assert act(game, "Ada", A.Note(text=f"note {i}")) is None
    assert game.wood.by_name["Ada"].notes == ["note 2", "note 3"]
    none = tiny_game(text=TINY + "\n[memory]\nnotes = 0\n")
    assert act(none, "Ada", A.Note(text="remember")) == "this wood keeps no notes"
    assert none.wood.by_name["Ada"].notes == []


def test_order_fees_are_a_named_sink_and_the_books_balance() -> None:
    game = tiny_game(text=TINY.replace("[needs]", "[market]\norder_fee = 2\nfee_pct = 10\n\n[needs]"))
    bo = game.wood.by_name["Bo"]
    before = bo.free["pebbles"]
    # 3 nuts at 5: value 15, fee 2 + 10% of 15 = 3 (rounded down).
    assert act(game, "Bo", A.PlaceOrder(side="sell", good="nuts", qty=3, price=5)) is None
    assert bo.free["pebbles"] == before - 3
    assert game.wood.ledger.flows[("pebbles", "fee")] == -3
    cy = game.wood.by_name["Cy"]
    assert cy.free["pebbles"] == 100
    # 10 at 9 locks 90 but costs 2 + 9 in fees: 101, one more than Cy holds.
    refused = act(game, "Cy", A.PlaceOrder(side="buy", good="nuts", qty=10, price=9))
    assert refused is not None and "with the 11 pebble fee" in refused
    assert cy.free["pebbles"] == 100
    assert act(game, "Cy", A.PlaceOrder(side="buy", good="nuts", qty=2, price=4)) is None
    assert cy.free["pebbles"] == 100 - 8 - 2
    books_ok(game)
    for _ in range(5):
        game.step()
    books_ok(game)
    assert game.wood.ledger.flows[("pebbles", "fee")] < -5


def test_errors_carry_file_line_and_key_path() -> None:
    text = TINY.replace("capacity = 4", "capacity = -4")
    line = text.splitlines().index("capacity = -4") + 1
    with pytest.raises(ScenarioError) as exc:
        scenarios.parse(text, "mods/broken.toml")
    assert str(exc.value) == (
        f"mods/broken.toml:{line}: creatures.1.capacity: Input should be greater than or equal to 0 (got -4)"
    )
