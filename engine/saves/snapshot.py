"""The whole state of a game as canonical JSON, and back: the objects' states, composed.

A snapshot is everything a :class:`~engine.turn.game.Game` needs to play its next turn exactly
as it would have. Each object gives and takes its own state (:mod:`engine.world.state`); this
module only puts them side by side, in the stored order::

    {"v": 1, "fields": <layout>, "wood": Wood, "ledger": Ledger, "book": OrderBook,
     "deals": Deals (finished contracts as a count and a running digest), "game": Game}

``fields`` names every record's fields in the order its state lists them, so a snapshot
written before a field was added still reads. Finished contracts only grow, so a snapshot holds
their count and a running digest; the contracts themselves go to the ``contracts`` table once,
when they finish.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
import typing
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson

from engine.core.errors import EngineBug
from engine.turn.game import Game
from engine.world.contracts import Contract, Leg, Offer
from engine.world.creatures import Creature, InboxItem
from engine.world.market import Order, Trade
from engine.world.state import Json, Layout, Record, StateError, layout_of, optional_fields, take, to_json
from engine.world.tiles import Tile
from engine.world.wood import Event, Modifier

SNAPSHOT_VERSION = 1
"""Version of the snapshot JSON's layout (the file format's version is ``user_version``)."""

RECORDS: tuple[type[Record], ...] = (Creature, InboxItem, Tile, Order, Trade, Offer, Contract, Leg, Event, Modifier)
"""Every record a snapshot may hold, in the order its ``fields`` header lists them (the state's
hash covers that order: append, never reorder)."""
PARTS = ("wood", "ledger", "book", "deals", "game")
"""The snapshot's parts after its header, in the stored order."""


class SnapshotError(StateError):
    """A snapshot's content is not a state this engine can hold (the loader names the file)."""


@lru_cache(maxsize=1)
def field_names() -> dict[str, list[str]]:
    """Each record's fields in order: the ``fields`` header (layout) of every snapshot."""
    return layout_of(RECORDS)


def dumps(value: Any) -> bytes:
    """Canonical JSON of a state (records in it as their states: see :func:`~engine.world.state.to_json`)."""
    try:
        return to_json(value)
    except TypeError as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            # Ctrl-C (or SIGTERM/SIGHUP, raised as one) landed inside orjson's default hook, which
            # wraps it in a TypeError: it is the stop the user asked for, not a state we cannot save
            raise exc.__cause__ from None
        raise EngineBug(f"cannot save the state: {exc}") from exc


# ------------------------------------------------------------------ encoding
class Snapshotter:
    """Encodes a game's state after each turn.

    It remembers how many finished contracts it has folded into its running digest, so each
    finished contract is encoded once (:meth:`take_finished` hands the new ones to the writer).
    """

    def __init__(self) -> None:
        self.finished_count = 0
        self.finished_digest = ""
        self._new_finished: list[tuple[int, Contract, bytes]] = []

    def fold_finished(self, game: Game) -> None:
        """Take in contracts that finished since the last call (each is encoded once)."""
        finished = game.wood.deals.finished
        if len(finished) < self.finished_count:
            raise EngineBug("finished contracts went missing between two snapshots")
        for i in range(self.finished_count, len(finished)):
            k = finished[i]
            enc = dumps(k)
            self.finished_digest = hashlib.sha256(self.finished_digest.encode() + enc).hexdigest()
            self._new_finished.append((i, k, enc))
        self.finished_count = len(finished)

    def take_finished(self) -> list[tuple[int, Contract, bytes]]:
        """Contracts that finished since the last call: ``(position, contract, encoded)``."""
        out, self._new_finished = self._new_finished, []
        return out

    def encode(self, game: Game) -> tuple[bytes, str]:
        """The state after the game's latest turn: ``(canonical JSON, sha256 hex)``."""
        data = self.state(game)
        return data, hashlib.sha256(data).hexdigest()

    def state(self, game: Game) -> bytes:
        """The state after the game's latest turn as canonical JSON (its sha256 is the state hash)."""
        w = game.wood
        wood, deals = w.get_state(), w.deals.get_state()
        self.fold_finished(game)
        return dumps({
            "v": SNAPSHOT_VERSION,
            "fields": field_names(),
            "wood": wood,
            "ledger": w.ledger.get_state(),
            "book": w.book.get_state(),
            "deals": {
                "offers": deals["offers"], "contracts": deals["contracts"], "closed_offers": deals["closed_offers"],
                "finished": self.finished_count, "finished_digest": self.finished_digest,
            },
            "game": game.get_state(),
        })


def state_hash(game: Game) -> str:
    """sha256 of a game's whole canonical state (a fresh encoder: it re-folds every finished contract)."""
    return Snapshotter().encode(game)[1]


# ------------------------------------------------------------------ the per-turn fingerprint
FROM_SCENARIO = frozenset({
    "species", "glyph", "colour", "role", "makes", "capacity", "never_buy", "personality", "greed", "den", "brain", "model",
})
"""Creature fields set from the scenario when the wood is made, which no rule changes: left out of
the per-turn fingerprint (the whole-state hash of keyframe turns covers them)."""
IN_TURN_ROW = frozenset({"id", "name", "alive", "health", "credit", "hungry", "cold", "free", "escrow"})
"""Creature fields every turn's ``creatures`` column holds (and its hash covers)."""
_TREES = operator.attrgetter("trees")
_COLLAPSED = operator.attrgetter("collapsed_until")
_FELLED = operator.attrgetter("felled")


@lru_cache(maxsize=1)
def _creature_parts() -> tuple[Callable[[Any], Any], tuple[Callable[[Any], Any], ...]]:
    """Getters for a creature's fingerprint: its fields that are not lists, and each list field."""
    hints = typing.get_type_hints(Creature)
    lists = [f.name for f in dataclasses.fields(Creature) if typing.get_origin(hints[f.name]) is list]
    rest = [f.name for f in dataclasses.fields(Creature)
            if f.name not in lists and f.name not in IN_TURN_ROW and f.name not in FROM_SCENARIO]
    return operator.attrgetter(*rest), tuple(operator.attrgetter(n) for n in lists)


def fingerprint(game: Game) -> bytes:
    """Every number of the state, cheaply: what each turn's hash covers besides its outputs.

    The random generator, the counters, every forest tile's trees (only forest tiles hold
    any), every creature field the turn's ``creatures`` column does not hold (but those set
    from the scenario) (lists by their length: the texts in inboxes, notes and memories come
    from the turn's events, which the hash covers too), the legends in force, the books' flows,
    the price history, every open offer and contract, and the refusals the next turn shows. The
    whole state, texts included, is hashed on keyframe turns.
    """
    w = game.wood
    rest, lists = _creature_parts()
    cs = w.creatures
    book, deals = w.book, w.deals
    return dumps([
        w.turn, w.last_id, w.defaults_total, w.rng.getstate(),
        list(map(_TREES, w.forest)), list(map(_COLLAPSED, w.forest)), list(map(_FELLED, w.forest)),
        list(map(rest, cs)), [list(map(len, map(g, cs))) for g in lists],
        w.modifiers, w.offer_trades, w.fired_legends, w.pending_legends, len(w.clearing),
        w.ledger.get_state()["flows"],
        book.last_seq, book.last_price, book.history,
        list(deals.offers.values()), list(deals.contracts.values()), deals.closed_offers, len(deals.finished),
        game.get_state()["_rejections"],
        *([w.rumours] if w.rumours else []),  # saves made before rumours could be found out have none
    ])


# ------------------------------------------------------------------ decoding
def check_layout(names: object) -> Layout:
    """A snapshot's ``fields`` header, checked against the records this version knows: every
    field it lists must be one of ours, and a field it lacks must have a default."""
    if not isinstance(names, dict):
        raise SnapshotError("the snapshot has no field names")
    ours = field_names()
    optional = {cls.__name__: optional_fields(cls) for cls in RECORDS}
    for cls_name, fields in names.items():
        if cls_name not in ours:
            raise SnapshotError(f"the snapshot holds a {cls_name!r}, which this version does not know")
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise SnapshotError(f"bad field names for {cls_name}")
        extra = [f for f in fields if f not in ours[cls_name]]
        if extra:
            raise SnapshotError(f"{cls_name}.{extra[0]} is not a field this version knows")
        missing = [f for f in ours[cls_name] if f not in fields and f not in optional[cls_name]]
        if missing:
            raise SnapshotError(f"{cls_name}.{missing[0]} is missing from the snapshot")
    return names


def restore(game: Game, data: bytes | str, finished: list[Json]) -> None:
    """Put a snapshot's state into ``game``, a fresh game of the same scenario and seed.

    ``finished`` are the states of the contracts that had finished by then (from the
    ``contracts`` table), in order; ``game.reports`` must already hold the turns up to the
    snapshot's (the last one's Gini is checked). Raises :class:`SnapshotError` when the
    snapshot does not describe a state of this game.
    """
    try:
        s = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"the state is not valid JSON ({exc})") from None
    if not isinstance(s, dict) or s.get("v") != SNAPSHOT_VERSION:
        raise SnapshotError(f"the state is not a version {SNAPSHOT_VERSION} snapshot")
    layout = check_layout(s.get("fields"))
    missing = [p for p in PARTS if p not in s]
    if missing:
        raise SnapshotError(f"the state has no {missing[0]!r} part")
    w = game.wood
    try:
        if take(s["deals"], "finished", int, layout, "deals") != len(finished):
            raise SnapshotError("the count of finished contracts does not match the contracts table")
        w.set_state(s["wood"], layout)
        w.ledger.set_state(s["ledger"], layout)
        w.book.set_state(s["book"], layout)
        w.deals.set_state({**s["deals"], "finished": finished}, layout)
        game.set_state(s["game"], layout)
    except StateError as exc:
        raise SnapshotError(str(exc)) from None
    dangling = w.dangling()
    if dangling:
        raise SnapshotError(dangling[0])
