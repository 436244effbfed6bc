"""The whole state of a game as canonical JSON, and back.

A snapshot is everything a :class:`~engine.game.Game` needs to play its next turn exactly as it
would have: the wood (creatures, tiles, the random generator's state, id counters, the order
book and its price history, offers, contracts, legends in force, inboxes and the clearing, the
books' flows), and the game's own carry-over (last turn's refusals, last turn's Gini).

The encoding is generic where the engine keeps plain data: every field of every dataclass is
written (as a list in field order; the snapshot's ``fields`` names them), so a field someone adds
to ``Creature`` or ``Order`` is saved without touching this file. The few classes that are not
dataclasses (``Wood``, ``OrderBook``, ``Deals``, ``Ledger``, ``Game``) list every attribute as
saved or derived below; an attribute in neither list makes :func:`Snapshotter.encode` raise (and
the tests fail) rather than be lost silently.

Finished contracts only grow, so a snapshot holds their count and a running digest; the contracts
themselves go to the ``contracts`` table once, when they finish.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
import types
import typing
from collections import defaultdict, deque
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from engine.core.errors import EngineBug
from engine.turn.game import Game
from engine.world.contracts import Contract, Leg, Offer
from engine.world.creatures import Creature, InboxItem
from engine.world.market import Order, Trade
from engine.world.tiles import Tile
from engine.world.wood import Event, Modifier

SNAPSHOT_VERSION = 1
"""Version of the snapshot JSON's layout (the file format's version is ``user_version``)."""

ROOTS: tuple[type, ...] = (Creature, Tile, InboxItem, Order, Trade, Offer, Contract, Leg, Event, Modifier)
"""Dataclasses the wood holds; the ones they contain are found from their type hints."""

WOOD_SAVED = (
    "seed", "turn", "rng", "_next_id", "defaults_total", "tiles", "creatures", "modifiers", "offer_trades",
    "events", "fired_legends", "pending_legends", "clearing", "initial", "ledger", "book", "deals",
)
WOOD_DERIVED = ("scenario", "goods", "food", "fuel", "base_value", "assets", "by_name", "forest", "patches")
"""Rebuilt from the scenario and the seed (or, for ``patches``, a cache computed on demand)."""
BOOK_SAVED = ("orders", "history", "last_price", "_seq")
BOOK_DERIVED = ("goods", "window", "by_owner")
DEALS_SAVED = ("offers", "contracts", "closed_offers", "finished")
DEALS_DERIVED: tuple[str, ...] = ()
LEDGER_SAVED = ("flows",)
LEDGER_DERIVED: tuple[str, ...] = ()
GAME_SAVED = ("_rejections",)
GAME_DERIVED = ("wood", "scenario", "seed", "_brain_of", "reports")
"""``reports`` is rebuilt from the ``turns``, ``events`` and ``tape`` tables; the snapshot keeps the
last turn's Gini, the only part of it the next turn reads."""


class SnapshotError(Exception):
    """A snapshot's content is not a state this engine can hold (the loader names the file)."""


def check_covered(obj: object, saved: tuple[str, ...], derived: tuple[str, ...]) -> None:
    """Raise :class:`EngineBug` if ``obj`` has an attribute the save format does not know."""
    unknown = sorted(set(vars(obj)) - set(saved) - set(derived))
    if unknown:
        raise EngineBug(
            f"{type(obj).__name__}.{unknown[0]} is neither saved nor derived by the save format: "
            "list it in engine/saves/snapshot.py (saved, with a decoder, or derived)"
        )


# ---------------------------------------------------------------- the classes
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _dataclasses_in(tp: Any, out: dict[str, type]) -> None:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if tp.__name__ in out:
            return
        out[tp.__name__] = tp
        for h in _hints(tp).values():
            _dataclasses_in(h, out)
        return
    for a in typing.get_args(tp):
        _dataclasses_in(a, out)


@lru_cache(maxsize=1)
def classes() -> dict[str, type]:
    """Every dataclass a snapshot may hold, by name."""
    out: dict[str, type] = {}
    for r in ROOTS:
        _dataclasses_in(r, out)
    return out


@lru_cache(maxsize=1)
def field_names() -> dict[str, list[str]]:
    """Each dataclass's fields in order: the ``fields`` header of every snapshot."""
    return {name: [f.name for f in dataclasses.fields(cls)] for name, cls in classes().items()}


@lru_cache(maxsize=1)
def _getters() -> dict[type, Callable[[Any], Any]]:
    out: dict[type, Callable[[Any], Any]] = {}
    for cls in classes().values():
        names = [f.name for f in dataclasses.fields(cls)]
        g = operator.attrgetter(*names)
        out[cls] = g if len(names) > 1 else (lambda o, g=g: (g(o),))
    return out


def _default(o: Any) -> Any:
    g = _getters().get(type(o))
    if g is not None:
        return g(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, deque):
        return list(o)
    raise TypeError(f"the save format cannot hold a {type(o).__name__}")


_OPTS = orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(value: Any) -> bytes:
    """Canonical JSON of a value built from the engine's plain data (dataclasses as field lists)."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTS)
    except TypeError as exc:
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
        check_covered(game, GAME_SAVED, GAME_DERIVED)
        check_covered(w, WOOD_SAVED, WOOD_DERIVED)
        check_covered(w.book, BOOK_SAVED, BOOK_DERIVED)
        check_covered(w.deals, DEALS_SAVED, DEALS_DERIVED)
        check_covered(w.ledger, LEDGER_SAVED, LEDGER_DERIVED)
        self.fold_finished(game)
        g = _getters()
        book, deals = w.book, w.deals
        state = {
            "v": SNAPSHOT_VERSION,
            "fields": field_names(),
            "wood": {
                "seed": w.seed,
                "turn": w.turn,
                "rng": w.rng.getstate(),
                "_next_id": w._next_id,
                "defaults_total": w.defaults_total,
                "tiles": list(map(g[Tile], w.tiles)),
                "creatures": list(map(g[Creature], w.creatures)),
                "modifiers": w.modifiers,
                "offer_trades": w.offer_trades,
                "events": w.events,
                "fired_legends": w.fired_legends,
                "pending_legends": w.pending_legends,
                "clearing": w.clearing,
                "initial": w.initial,
            },
            "ledger": {"flows": [[a, r, v] for (a, r), v in w.ledger.flows.items()]},
            "book": {
                "orders": list(map(g[Order], book.orders.values())),
                "history": book.history,
                "last_price": book.last_price,
                "_seq": book._seq,
            },
            "deals": {
                "offers": list(map(g[Offer], deals.offers.values())),
                "contracts": list(map(g[Contract], deals.contracts.values())),
                "closed_offers": deals.closed_offers,
                "finished": self.finished_count,
                "finished_digest": self.finished_digest,
            },
            "game": {
                "_rejections": [[k, v] for k, v in game._rejections.items()],
                "last_gini": game.reports[-1].gini if game.reports else 0.0,
            },
        }
        return dumps(state)


def state_hash(game: Game) -> str:
    """sha256 of a game's whole canonical state (a fresh encoder: it re-folds every finished contract)."""
    return Snapshotter().encode(game)[1]


@lru_cache(maxsize=1)
def _creature_parts() -> tuple[Callable[[Any], Any], tuple[Callable[[Any], Any], ...]]:
    """Getters for a creature's fingerprint: its fields that are not lists, and each list field."""
    hints = _hints(Creature)
    lists = [f.name for f in dataclasses.fields(Creature) if typing.get_origin(hints[f.name]) is list]
    rest = [f.name for f in dataclasses.fields(Creature)
            if f.name not in lists and f.name not in IN_TURN_ROW and f.name not in FROM_SCENARIO]
    return operator.attrgetter(*rest), tuple(operator.attrgetter(n) for n in lists)


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


def fingerprint(game: Game) -> bytes:
    """Every number of the state, cheaply: what each turn's hash covers besides its outputs.

    The random generator, the counters, every forest tile's trees (only forest tiles hold
    any), every creature field the turn's ``creatures`` column does not hold (but those set
    from the scenario) (lists by their
    length: the texts in inboxes, notes and memories come from the turn's events, which the hash
    covers too), the legends in force, the books' flows, the price history, and every open offer
    and contract. The whole state, texts included, is hashed on keyframe turns.
    """
    w = game.wood
    rest, lists = _creature_parts()
    cs = w.creatures
    book, deals = w.book, w.deals
    return dumps([
        w.turn, w._next_id, w.defaults_total, w.rng.getstate(),
        list(map(_TREES, w.forest)), list(map(_COLLAPSED, w.forest)), list(map(_FELLED, w.forest)),
        list(map(rest, cs)), [list(map(len, map(g, cs))) for g in lists],
        w.modifiers, w.offer_trades, w.fired_legends, w.pending_legends, len(w.clearing),
        [[a, r, v] for (a, r), v in w.ledger.flows.items()],
        book._seq, book.last_price, book.history,
        list(deals.offers.values()), list(deals.contracts.values()), deals.closed_offers, len(deals.finished),
        [[k, v] for k, v in game._rejections.items()],
    ])


# ------------------------------------------------------------------ decoding
def _named(tp: Any, v: Any, names: dict[str, list[str]]) -> Any:
    """Turn field lists back into dicts by name, guided by the type hints, for pydantic."""
    if v is None:
        return None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        fields = names.get(tp.__name__)
        if fields is None:
            raise SnapshotError(f"no field names for {tp.__name__}")
        if not isinstance(v, list) or len(v) != len(fields):
            raise SnapshotError(f"a {tp.__name__} must be a list of {len(fields)} values")
        hints = _hints(tp)
        return {n: _named(hints[n], x, names) if n in hints else x for n, x in zip(fields, v)}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, set, frozenset, deque) and isinstance(v, list) and args:
        return [_named(args[0], x, names) for x in v]
    if origin is tuple and isinstance(v, list) and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return [_named(args[0], x, names) for x in v]
        if len(args) == len(v):
            return [_named(a, x, names) for a, x in zip(args, v)]
        return v
    if origin is dict and isinstance(v, dict) and args:
        return {k: _named(args[1], x, names) for k, x in v.items()}
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        if len(real) == 1:
            return _named(real[0], v, names)
    return v


@cache
def adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def decode(tp: Any, v: Any, names: dict[str, list[str]], what: str) -> Any:
    """Validate one encoded value as type ``tp`` (pydantic), raising :class:`SnapshotError`."""
    try:
        return adapter(tp).validate_python(_named(tp, v, names))
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(p) for p in e["loc"])
        raise SnapshotError(f"{what}: {loc}: {e['msg']}") from None


def _check_names(names: Any) -> dict[str, list[str]]:
    if not isinstance(names, dict):
        raise SnapshotError("the snapshot has no field names")
    ours = field_names()
    for cls_name, fields in names.items():
        if cls_name not in ours:
            raise SnapshotError(f"the snapshot holds a {cls_name!r}, which this version does not know")
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise SnapshotError(f"bad field names for {cls_name}")
        extra = [f for f in fields if f not in ours[cls_name]]
        if extra:
            raise SnapshotError(f"{cls_name}.{extra[0]} is not a field this version knows")
        missing = [f for f in ours[cls_name] if f not in fields and not _has_default(classes()[cls_name], f)]
        if missing:
            raise SnapshotError(f"{cls_name}.{missing[0]} is missing from the snapshot")
    return names


def _has_default(cls: type, name: str) -> bool:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    return False


def _copy_into(dst: Any, src: Any) -> None:
    for f in dataclasses.fields(dst):
        setattr(dst, f.name, getattr(src, f.name))


def restore(game: Game, data: bytes | str, finished: list[Contract]) -> None:
    """Put a snapshot's state into ``game``, a fresh game of the same scenario and seed.

    ``finished`` are the contracts that had finished by then (from the ``contracts`` table), in
    order. Objects the fresh wood already holds (creatures, tiles) are updated in place, so every
    index that points at them stays right. Raises :class:`SnapshotError` when the snapshot does
    not describe a state of this game.
    """
    try:
        s = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"the state is not valid JSON ({exc})") from None
    if not isinstance(s, dict) or s.get("v") != SNAPSHOT_VERSION:
        raise SnapshotError(f"the state is not a version {SNAPSHOT_VERSION} snapshot")
    names = _check_names(s.get("fields"))
    w = game.wood
    try:
        sw, sl, sb, sd, sg = (s[k] for k in ("wood", "ledger", "book", "deals", "game"))
    except KeyError as exc:
        raise SnapshotError(f"the state has no {exc.args[0]!r} part") from None

    def dec(tp: Any, part: dict[str, Any], key: str, where: str) -> Any:
        if not isinstance(part, dict) or key not in part:
            raise SnapshotError(f"{where}.{key} is missing")
        return decode(tp, part[key], names, f"{where}.{key}")

    if dec(int, sw, "seed", "wood") != w.seed:
        raise SnapshotError("the state is from another seed")
    w.turn = dec(int, sw, "turn", "wood")
    rng = dec(tuple[int, tuple[int, ...], float | None], sw, "rng", "wood")
    try:
        w.rng.setstate(rng)
    except (ValueError, TypeError) as exc:
        raise SnapshotError(f"wood.rng: not a generator state ({exc})") from None
    w._next_id = dec(int, sw, "_next_id", "wood")
    w.defaults_total = dec(int, sw, "defaults_total", "wood")
    tiles = dec(list[Tile], sw, "tiles", "wood")
    if len(tiles) != len(w.tiles):
        raise SnapshotError(f"the state has {len(tiles)} tiles; the scenario makes {len(w.tiles)}")
    for old, new in zip(w.tiles, tiles):
        if (old.x, old.y, old.kind) != (new.x, new.y, new.kind):
            raise SnapshotError(f"tile ({new.x},{new.y}) is not the scenario's tile ({old.x},{old.y})")
        _copy_into(old, new)
    creatures = dec(list[Creature], sw, "creatures", "wood")
    if [(c.id, c.name) for c in creatures] != [(c.id, c.name) for c in w.creatures]:
        raise SnapshotError("the state's creatures are not the scenario's cast")
    for old, new in zip(w.creatures, creatures):
        _copy_into(old, new)
    w.modifiers = dec(list[Modifier], sw, "modifiers", "wood")
    w.offer_trades = dec(list[Trade], sw, "offer_trades", "wood")
    w.events = dec(list[Event], sw, "events", "wood")
    w.fired_legends = dec(set[str], sw, "fired_legends", "wood")
    w.pending_legends = dec(list[str], sw, "pending_legends", "wood")
    w.clearing = deque(dec(list[InboxItem], sw, "clearing", "wood"), maxlen=w.clearing.maxlen)
    w.initial = dec(dict[str, int], sw, "initial", "wood")
    w.patches = {}

    flows = defaultdict(int)
    for a, r, v in dec(list[tuple[str, str, int]], sl, "flows", "ledger"):
        flows[(a, r)] = v
    w.ledger.flows = flows

    book = w.book
    orders = dec(list[Order], sb, "orders", "book")
    book.orders = {o.id: o for o in orders}
    book.by_owner = {}
    for o in orders:
        book.by_owner.setdefault(o.owner, {})[o.id] = o
    history = dec(dict[str, list[tuple[int, int, int]]], sb, "history", "book")
    if set(history) != set(book.goods):
        raise SnapshotError("book.history does not list the scenario's goods")
    book.history = {g: deque(history[g]) for g in book.goods}
    book.last_price = dec(dict[str, int | None], sb, "last_price", "book")
    book._seq = dec(int, sb, "_seq", "book")

    deals = w.deals
    deals.offers = {o.id: o for o in dec(list[Offer], sd, "offers", "deals")}
    deals.contracts = {k.id: k for k in dec(list[Contract], sd, "contracts", "deals")}
    deals.closed_offers = dec(int, sd, "closed_offers", "deals")
    if dec(int, sd, "finished", "deals") != len(finished):
        raise SnapshotError("the count of finished contracts does not match the contracts table")
    deals.finished = list(finished)

    game._rejections = dict(dec(list[tuple[int, list[str]]], sg, "_rejections", "game"))
    _check_references(game)


def last_gini(data: bytes | str) -> float:
    """The Gini the snapshot's turn ended with (what the next turn's legends read)."""
    s = orjson.loads(data)
    return float(s["game"]["last_gini"])


def _check_references(game: Game) -> None:
    """Every creature index in orders, offers and contracts points at a creature."""
    n = len(game.wood.creatures)
    w = game.wood
    for o in w.book.orders.values():
        if not 0 <= o.owner < n:
            raise SnapshotError(f"order {o.id} belongs to no creature")
    for off in w.deals.offers.values():
        if not (0 <= off.sender < n and 0 <= off.to < n):
            raise SnapshotError(f"offer {off.id} names no creature")
    for k in w.deals.contracts.values():
        idx = [*k.parties, *(leg.obligor for leg in k.legs), *(leg.creditor for leg in k.legs)]
        if k.collateral_owner is not None:
            idx.append(k.collateral_owner)
        if not all(0 <= i < n for i in idx):
            raise SnapshotError(f"contract {k.id} names no creature")
    for cid in game._rejections:
        if not 0 <= cid < n:
            raise SnapshotError("a refusal belongs to no creature")
