"""The state contract (``engine.world.state``): every object gives its state and takes it back.

For every stateful object (the wood, its ledger, order book and deals, the game) and every record
(creature, tile, inbox item, order, trade, offer, leg, contract, event, modifier): its state goes
through JSON, into a fresh object with ``set_state`` (or ``from_state``), and comes back equal.
A whole game checkpointed and restored into a new ``Game`` plays on exactly as the game that was
never interrupted.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from engine import scenario as scenarios
from engine.core.errors import EngineBug
from engine.elders.scripted import ScriptedBrain
from engine.saves import state_hash
from engine.saves.snapshot import RECORDS, SnapshotError, Snapshotter, field_names, restore
from engine.turn import actions as A
from engine.turn.game import Game
from engine.world.contracts import Deals, Offer
from engine.world.ledger import Ledger
from engine.world.market import OrderBook
from engine.world.state import Record, StateError, current_layout
from engine.world.wood import Wood
from tests.helpers import TINY, act

CHECKPOINTS = [("credit-crunch", 3, 6), ("credit-crunch", 3, 10), ("credit-crunch", 3, 35), (None, 7, 12), ("tiny", 1, 9), (None, 7, 10)]
"""(scenario, seed, turn): between them every record kind is held (legends in force, spot swaps
through offers (the default wood's turn 10), loans with collateral, finished contracts, refusals,
creatures gone)."""
PLAY_ON = 15


def _scenario(name: str | None) -> scenarios.Scenario:
    if name == "tiny":
        return scenarios.parse(TINY, "tiny.toml")
    return scenarios.load(name)[0]


def _played(name: str | None, seed: int, turns: int) -> Game:
    """A game after ``turns`` scripted turns, with a note written and a legend asked for."""
    sc = _scenario(name)
    game = Game(sc, seed, ScriptedBrain())
    game.run(turns)
    first = game.wood.alive()[0]
    assert act(game, first.name, A.Note(text="remember the flood")) is None
    on_demand = [lg.id for lg in sc.legends if lg.when.on_demand]
    if on_demand:
        game.inject(on_demand[0])
    return game


def _json(state: Any) -> Any:
    """A state as it comes back from JSON (what a save file gives ``set_state``)."""
    return orjson.loads(orjson.dumps(state))


def _same(a: Any, b: Any) -> None:
    assert orjson.dumps(a) == orjson.dumps(b)


def _records(game: Game) -> Iterator[Record]:
    w = game.wood
    yield from w.tiles
    for c in w.creatures:
        yield c
        yield from c.inbox
    yield from w.book.orders.values()
    yield from w.offer_trades
    yield from w.deals.offers.values()
    for k in [*w.deals.contracts.values(), *w.deals.finished]:
        yield k
        yield from k.legs
    yield from w.events
    yield from w.modifiers
    yield from w.clearing


@pytest.fixture(scope="module", params=CHECKPOINTS, ids=lambda c: f"{c[0] or 'default'}-{c[1]}@{c[2]}")
def played(request: pytest.FixtureRequest) -> Game:
    return _played(*request.param)


# ------------------------------------------------------------------ every object on its own
def test_every_record_round_trips(played: Game) -> None:
    for r in _records(played):
        state = r.get_state()
        back = type(r).from_state(_json(state))
        assert back == r and back is not r
        _same(back.get_state(), state)
        other = copy.deepcopy(r)
        other.set_state(_json(state))
        assert other == r


def test_the_snapshot_header_names_every_record_a_state_can_hold() -> None:
    reachable = {name for cls in RECORDS for name in current_layout(cls)}
    assert reachable == set(field_names()) == {cls.__name__ for cls in RECORDS}


def test_between_the_checkpoints_every_record_kind_is_held() -> None:
    held = {type(r) for c in CHECKPOINTS for r in _records(_played(*c))}
    assert held == set(RECORDS), f"no checkpoint holds a {sorted(c.__name__ for c in set(RECORDS) - held)}"


def test_the_wood_round_trips_into_a_fresh_wood(played: Game) -> None:
    w = played.wood
    state = w.get_state()
    fresh = Wood(w.scenario, w.seed)
    creatures, tiles = list(fresh.creatures), list(fresh.tiles)
    fresh.set_state(_json(state))
    _same(fresh.get_state(), state)
    # Restored in place: every index still points at the wood's own creatures and tiles.
    assert all(a is b for a, b in zip(fresh.creatures, creatures, strict=True))
    assert all(a is b for a, b in zip(fresh.tiles, tiles, strict=True))
    assert all(fresh.by_name[c.name] is c for c in fresh.creatures)
    assert fresh.rng.getstate() == w.rng.getstate() != Wood(w.scenario, w.seed).rng.getstate()


def test_the_generator_is_restored_exactly(played: Game) -> None:
    w = played.wood
    fresh = Wood(w.scenario, w.seed)
    fresh.set_state(_json(w.get_state()))
    mine, theirs = copy.deepcopy(w.rng), fresh.rng
    assert [mine.random() for _ in range(5)] == [theirs.random() for _ in range(5)]


@pytest.mark.parametrize("part", ["ledger", "book", "deals"])
def test_the_woods_parts_round_trip_into_fresh_ones(played: Game, part: str) -> None:
    w = played.wood
    fresh: Ledger | OrderBook | Deals = {
        "ledger": Ledger(), "book": OrderBook(list(w.goods), w.scenario.market.price_window), "deals": Deals(),
    }[part]
    state = getattr(w, part).get_state()
    fresh.set_state(_json(state))
    _same(fresh.get_state(), state)
    if isinstance(fresh, OrderBook):
        assert {o: list(d) for o, d in fresh.by_owner.items() if d} == {o: list(d) for o, d in w.book.by_owner.items() if d}
        assert all(d[i] is fresh.orders[i] for d in fresh.by_owner.values() for i in d)


def test_the_games_carry_over_round_trips(played: Game) -> None:
    state = played.get_state()
    fresh = Game(played.scenario, played.seed, ScriptedBrain())
    fresh.reports = list(played.reports)
    fresh.set_state(_json(state))
    _same(fresh.get_state(), state)


# ------------------------------------------------------------------ a whole game
def _checkpoint(game: Game) -> dict[str, Any]:
    """The whole game as its objects give it, through JSON."""
    w = game.wood
    return _json({"wood": w.get_state(), "ledger": w.ledger.get_state(), "book": w.book.get_state(),
                  "deals": w.deals.get_state(), "game": game.get_state()})


def _restored(game: Game, cp: dict[str, Any]) -> Game:
    """A new game given the checkpoint's states (and the reports, which are its history)."""
    fresh = Game(game.scenario, game.seed, ScriptedBrain())
    fresh.reports = list(game.reports)
    fresh.wood.set_state(cp["wood"])
    fresh.wood.ledger.set_state(cp["ledger"])
    fresh.wood.book.set_state(cp["book"])
    fresh.wood.deals.set_state(cp["deals"])
    fresh.set_state(cp["game"])
    return fresh


@pytest.mark.parametrize("how", ["objects", "snapshot"])
@pytest.mark.parametrize("where", CHECKPOINTS, ids=lambda c: f"{c[0] or 'default'}-{c[1]}@{c[2]}")
def test_a_restored_game_plays_on_as_the_uninterrupted_one(where: tuple[str | None, int, int], how: str) -> None:
    game = _played(*where)
    if how == "objects":
        fresh = _restored(game, _checkpoint(game))
    else:
        fresh = Game(game.scenario, game.seed, ScriptedBrain())
        fresh.reports = list(game.reports)
        restore(fresh, Snapshotter().state(game), _json([k.get_state() for k in game.wood.deals.finished]))
    assert state_hash(fresh) == state_hash(game)
    for _ in range(PLAY_ON):
        mine, theirs = game.step(), fresh.step()
        assert theirs.summary() == mine.summary()
        assert state_hash(fresh) == state_hash(game)
    assert fresh.conservation()[0]


# ------------------------------------------------------------------ refusals
def test_unknown_attributes_make_get_state_fail(default_scenario: scenarios.Scenario) -> None:
    """Every object lists each attribute as saved or derived; a new one must be taught to it."""
    game = Game(default_scenario, 1, ScriptedBrain())
    game.step()
    w = game.wood
    for obj in (game, w, w.ledger, w.book, w.deals):
        obj.mood = "sunny"  # type: ignore[union-attr]
        with pytest.raises(EngineBug, match=rf"{type(obj).__name__}\.mood is neither saved nor derived"):
            obj.get_state()
        del obj.mood  # type: ignore[union-attr]
        obj.get_state()


def test_bad_states_are_refused_naming_where(played: Game) -> None:
    w = played.wood
    state = _json(w.get_state())

    def refused(change: dict[str, Any], match: str) -> None:
        with pytest.raises(StateError, match=match):
            Wood(w.scenario, w.seed).set_state({**state, **change})

    refused({"turn": "soon"}, r"wood\.turn: Input should be a valid integer")
    refused({"seed": w.seed + 1}, "another seed")
    refused({"rng": [3, [1, 2], None]}, r"wood\.rng")
    refused({"rng": [3, [-1] * 624 + [0], None]}, r"wood\.rng: not a generator state")
    refused({"creatures": state["creatures"][:-1]}, "not the scenario's cast")
    refused({"tiles": [state["tiles"][1], state["tiles"][0], *state["tiles"][2:]]}, "not the scenario's tile")
    refused({"events": [[1, 2]]}, r"wood\.events: a Event must be a list of 4 values")
    with pytest.raises(StateError, match=r"wood\.modifiers is missing"):
        Wood(w.scenario, w.seed).set_state({k: v for k, v in state.items() if k != "modifiers"})
    offer = Offer(id=1, kind="trade", sender=0, to=1, give={"nuts": 2}, get={"pebbles": 5}, due=None, created=1, expires=4)
    deals = {"offers": [offer.get_state()], "contracts": [], "closed_offers": 0, "finished": []}
    Deals().set_state(_json(deals))
    deals["offers"][0][4] = "lots"
    with pytest.raises(StateError, match=r"deals\.offers\.0\.give: Input should be a valid dictionary"):
        Deals().set_state(_json(deals))
    fresh = Game(played.scenario, played.seed, ScriptedBrain())
    with pytest.raises(StateError, match="Gini does not match"):
        fresh.set_state(_json(played.get_state()))  # its reports were not given first
    fresh.reports = list(played.reports)
    with pytest.raises(StateError, match="refusal belongs to no creature"):
        fresh.set_state({**_json(played.get_state()), "_rejections": [[99, ["no"]]]})


# ------------------------------------------------------------------ older layouts
def test_a_state_from_before_a_field_existed_still_reads() -> None:
    """A snapshot names the fields its records list; one without a field that has a default
    (as if written before the field was added) restores with the default."""
    game = _played("credit-crunch", 3, 6)
    s = orjson.loads(Snapshotter().state(game))
    at = s["fields"]["Tile"].index("felled")
    s["fields"]["Tile"].pop(at)
    for t in s["wood"]["tiles"]:
        t.pop(at)
    fresh = Game(game.scenario, game.seed, ScriptedBrain())
    fresh.reports = list(game.reports)
    finished = _json([k.get_state() for k in game.wood.deals.finished])
    restore(fresh, orjson.dumps(s), finished)
    assert all(t.felled == 0 for t in fresh.wood.tiles)
    assert [(t.x, t.y, t.trees) for t in fresh.wood.tiles] == [(t.x, t.y, t.trees) for t in game.wood.tiles]
    # A field this version does not know, or a missing one without a default, is refused.
    s["fields"]["Tile"].append("moss")
    with pytest.raises(SnapshotError, match=r"Tile\.moss is not a field this version knows"):
        restore(Game(game.scenario, game.seed, ScriptedBrain()), orjson.dumps(s), finished)
    s["fields"]["Tile"] = ["y", "kind", "trees"]
    with pytest.raises(SnapshotError, match=r"Tile\.x is missing from the snapshot"):
        restore(Game(game.scenario, game.seed, ScriptedBrain()), orjson.dumps(s), finished)
