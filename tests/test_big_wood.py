"""A big wood stays cheap without playing another game: each shortcut that keeps the cost per
creature flat gives exactly what its plain definition gives.

The plain definitions are the engine's rules as first written (one creature at a time, scanning
the whole wood); Hypothesis throws woods, memories, events and maps at both. A save replays its
turns and checks every state hash, so a shortcut that differed in one memory's order would stop
old saves from opening.
"""

from __future__ import annotations

import copy
import gc
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import scenario as scenarios
from engine.elders.mind import Town
from engine.elders.scripted import ScriptedBrain
from engine.saves import state_hash
from engine.turn import memory
from engine.turn.game import Game, collector_held
from engine.turn.memory import IMPORTANCE, KEPT, MIN_IMPORTANCE, PUBLIC, salience
from engine.world.tiles import Tile, TileKind
from engine.world.wood import PATCH_TILES, Event, Wood
from tests.helpers import TINY

BIG_TINY = scenarios.parse(TINY, "tiny.toml").scaled(40)
"""40 creatures: "Ada 1" is in "Ada 12 and Bo signed", as the rules have always read it."""
NAMES = [c.name for c in BIG_TINY.expanded_cast()]


# ------------------------------------------------------------------ memory
def remember_one_by_one(wood: Wood) -> None:
    """:func:`engine.turn.memory.remember` as first written: each event told to each creature in
    turn, the least salient memory forgotten whenever one holds too many (and trust in a
    defaulter lost; these woods have no finished contract to be trusted for)."""
    for e in wood.events:
        importance = IMPORTANCE.get(e.kind, 1)
        if importance < MIN_IMPORTANCE:
            continue
        if e.kind in PUBLIC:
            involved = [c.id for c in wood.creatures if c.alive]
        else:
            names = {v for k, v in e.data.items() if k in ("creature", "to", "debtor", "creditor") and isinstance(v, str)}
            ids = {wood.by_name[n].id for n in names if n in wood.by_name}
            if not names:
                ids |= {c.id for c in wood.creatures if c.name in e.text}
            involved = sorted(ids)
        for cid in involved:
            c = wood.creatures[cid]
            c.memories.append((e.turn, importance, e.text[:160]))
            if len(c.memories) > KEPT:
                weakest = min(range(len(c.memories)),
                              key=lambda i: (salience(wood.turn, c.memories[i][0], c.memories[i][1]), c.memories[i][0]))
                del c.memories[weakest]
        if e.kind == "default":
            debtor, creditor = e.data.get("debtor"), e.data.get("creditor")
            if debtor in wood.by_name and creditor in wood.by_name:
                wood.by_name[creditor].trust.setdefault(debtor, [0, 0])[1] += 1


KINDS = sorted(IMPORTANCE) + ["mystery"]
TIED = ["left", "left", "default", "legend", "settled", "whisper"]
"""Kinds drawn half the time: mostly public ones, so that many memories tie in salience and turn."""


def some_events(rng: random.Random, now: int, n: int) -> list[Event]:
    out = []
    for _ in range(n):
        kind = rng.choice(TIED if rng.random() < 0.5 else KINDS)
        named = rng.sample([*NAMES, "Zed"], rng.randint(0, 3))
        text = f"{' and '.join(named) or 'someone'} {kind} #{rng.randint(0, 99)}" + "x" * rng.choice([0, 170])
        data: dict[str, object] = {}
        if named and rng.random() < 0.5:
            data[rng.choice(["creature", "to", "debtor", "creditor"])] = named[0]
        if kind == "default" and len(named) >= 2:
            data.update(debtor=named[0], creditor=named[1])
        out.append(Event(now, kind, text, data))
    return out


def some_memories(rng: random.Random, now: int, sizes: list[int]) -> list[tuple[int, int, str]]:
    return [(rng.randint(max(1, now - 3), now), rng.choice([4, 6, 7, 9]), f"m{i}") for i in range(rng.choice(sizes))]


@given(
    now=st.integers(1, 12),
    dead=st.sets(st.integers(0, len(NAMES) - 1), max_size=12),
    sizes=st.lists(st.sampled_from([0, 3, KEPT - 1, KEPT, KEPT + 4]), min_size=1, max_size=3),
    n_events=st.sampled_from([0, 1, 5, 20, 40, 60]),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=100, deadline=None)
def test_memory_keeps_what_telling_each_event_in_turn_kept(now: int, dead: set[int], sizes: list[int], n_events: int, seed: int) -> None:
    """Ties in salience and turn, public news by the dozen, memories longer than KEPT (kept at
    their length), names inside other names, dead creatures: the same memories, in the same order."""
    rng = random.Random(seed)
    wood = Wood(BIG_TINY, 1)
    wood.turn = now
    for c in wood.creatures:
        c.memories = some_memories(rng, now, sizes)
    for cid in dead:
        wood.creatures[cid].alive = False
    wood.events = some_events(rng, now, n_events)
    plain = copy.deepcopy(wood)
    memory.remember(wood)
    remember_one_by_one(plain)
    assert [c.memories for c in wood.creatures] == [c.memories for c in plain.creatures]
    assert [c.trust for c in wood.creatures] == [c.trust for c in plain.creatures]


# ------------------------------------------------------------------ a woodcutter's patch
@given(
    forest=st.sets(st.tuples(st.integers(0, 14), st.integers(0, 9)), max_size=80),
    den=st.tuples(st.integers(-3, 17), st.integers(-3, 12)),
)
@settings(max_examples=300, deadline=None)
def test_a_patch_is_the_nearest_forest_however_it_is_found(forest: set[tuple[int, int]], den: tuple[int, int]) -> None:
    wood = Wood(BIG_TINY, 1)
    wood.forest = [Tile(x, y, TileKind.FOREST, 3) for y in range(10) for x in range(15) if (x, y) in forest]
    wood.forest_at = {(t.x, t.y): t for t in wood.forest}
    x0, y0 = den
    plain = sorted(wood.forest, key=lambda t: (abs(t.x - x0) + abs(t.y - y0), t.y, t.x))[:PATCH_TILES]
    assert [(t.x, t.y) for t in wood._nearest_forest(x0, y0)] == [(t.x, t.y) for t in plain]


# ------------------------------------------------------------------ partners and offers
@given(names=st.lists(st.sampled_from(NAMES), unique=True, max_size=8), me=st.sampled_from(NAMES), k=st.integers(0, 60))
def test_a_partner_is_the_kth_of_the_others(names: list[str], me: str, k: int) -> None:
    others = [n for n in names if n != me] if me in names else names
    assert Town.pick(names, me, k) == (others[k % len(others)] if others else None)


def test_each_creatures_offers_are_the_open_offers_it_sent() -> None:
    game = Game(BIG_TINY, 3, ScriptedBrain())
    seen = 0
    for _ in range(12):
        game.step()
        deals = game.wood.deals
        for c in game.wood.creatures:
            mine = deals.sent_by(c.id)
            assert mine == [o for o in deals.offers.values() if o.sender == c.id]
            seen += len(mine)
    assert seen > 0, "no offer was open after any turn: the index went untested"


# ------------------------------------------------------------------ the collector
def test_a_big_wood_plays_the_same_game_twice() -> None:
    """Two games of one seed, one of them with the collector left alone: the same states."""
    sc = scenarios.load(None)[0].scaled(150)
    a, b = Game(sc, 7, ScriptedBrain()), Game(sc, 7, ScriptedBrain())
    a.run(6)
    gc.disable()  # held off already: the turn leaves it as it was
    try:
        b.run(6)
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert state_hash(a) == state_hash(b)
    assert [r.summary() for r in a.reports] == [r.summary() for r in b.reports]
    assert max(len(c.memories) for c in a.wood.creatures) == KEPT, "no memory filled: forgetting went untested"


def test_the_collector_is_back_after_a_turn_that_failed() -> None:
    with pytest.raises(RuntimeError), collector_held():
        assert not gc.isenabled()
        raise RuntimeError("a brain failed")
    assert gc.isenabled()


@given(now=st.integers(1, 14), seed=st.integers(0, 2**32), size=st.sampled_from([0, 1, 5, KEPT, KEPT + 4]), n=st.integers(0, 8))
def test_recall_is_the_most_salient_oldest_first(now: int, seed: int, size: int, n: int) -> None:
    """Ties in salience and turn keep the order remembered, as a sort by (salience, turn) keeps them."""
    mems = some_memories(random.Random(seed), now, [size])
    best = sorted(mems, key=lambda m: (salience(now, m[0], m[1]), m[0]), reverse=True)[:n]
    assert memory.recall(mems, now, n) == [f"turn {t}: {text}" for t, _, text in sorted(best, key=lambda m: m[0])]
