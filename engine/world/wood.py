"""The whole state of one wood: creatures, map, market, deals, rules in force, and the books.

``Wood`` is plain data plus the few lookups every rule needs. Rules that change it live in
:mod:`engine.economy.nature`, :mod:`engine.turn.rules`, :mod:`engine.economy.settlement` and :mod:`engine.economy.legends`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from engine.core.assets import PEBBLES
from engine.scenario import Scenario
from engine.scenario.legends import rule_range
from engine.world.contracts import Deals
from engine.world.creatures import Creature, InboxItem
from engine.world.ledger import Ledger, all_assets, asset_totals
from engine.world.market import OrderBook, Trade
from engine.world.state import Json, Layout, Record, StateError, check_covered, states, take
from engine.world.tiles import Tile, TileKind

INBOX_LIMIT = 16
"""Inbox items a creature keeps; older ones drop off (memory stays bounded)."""
CLEARING_LIMIT = 12
"""Public messages the clearing keeps (everyone reads the same ones)."""
PATCH_TILES = 16
"""Forest tiles nearest its den that a woodcutter works."""


@dataclass(slots=True)
class Event(Record):
    """Something that happened, for the event log, the save and the reports."""

    turn: int
    kind: str
    """``trade``, ``offer``, ``contract``, ``settled``, ``default``, ``legend``, ``left``,
    ``collapse``, ``say``, ``whisper``."""
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Modifier(Record):
    """A legend's change to a rule's number, in force until ``until`` (exclusive)."""

    rule: str
    op: str
    value: float
    until: int
    source: str


@dataclass(slots=True)
class Rumour(Record):
    """A false rumour waiting to be found out (see :func:`engine.economy.legends.find_out`)."""

    text: str
    teller: str
    """The creature it came from, or ``""`` for an anonymous whisper."""
    heard_by: list[str]
    """Who heard it (they trust its teller less when it is found false)."""
    found_out: int
    """The turn it is found out."""


class WoodState(TypedDict):
    """What :meth:`Wood.get_state` gives: the wood's own attributes (its ledger, order book and
    deals give their own)."""

    seed: int
    turn: int
    rng: tuple[int, tuple[int, ...], float | None]
    """The generator's state (``random.Random.getstate()``)."""
    _next_id: int
    """The last id handed out."""
    defaults_total: int
    tiles: list[list[Json]]
    creatures: list[list[Json]]
    modifiers: list[list[Json]]
    offer_trades: list[list[Json]]
    events: list[list[Json]]
    fired_legends: list[str]
    pending_legends: list[str]
    clearing: list[list[Json]]
    initial: dict[str, int]
    rumours: NotRequired[list[list[Json]]]
    """False rumours to be found out (absent in saves made before rumours could be found out)."""


class Wood:
    """The state of one game."""

    SAVED = (
        "seed", "turn", "rng", "_next_id", "defaults_total", "tiles", "creatures", "modifiers", "offer_trades",
        "events", "fired_legends", "pending_legends", "clearing", "initial", "rumours",
    )
    PARTS = ("ledger", "book", "deals")
    """Objects the wood holds that give and take their own state."""
    DERIVED = ("scenario", "goods", "food", "fuel", "base_value", "assets", "by_name", "name_lengths", "forest", "forest_at", "patches")
    """Rebuilt from the scenario and the seed (or, for ``patches``, a cache computed on demand)."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.rng = random.Random(seed)
        """The only source of randomness in the game."""
        self.turn = 0
        self.goods = [g.id for g in scenario.goods]
        self.food = [g.id for g in scenario.goods if g.kind == "food"]
        self.fuel = [g.id for g in scenario.goods if g.kind == "fuel"]
        self.base_value = {g.id: g.base_value for g in scenario.goods}
        self.assets = all_assets(self.goods)
        self.ledger = Ledger()
        self.book = OrderBook(self.goods, scenario.market.price_window)
        self.deals = Deals()
        self.modifiers: list[Modifier] = []
        self.offer_trades: list[Trade] = []
        """This turn's spot swaps through accepted offers (cleared when a turn starts)."""
        self.events: list[Event] = []
        """This turn's events (cleared when a turn starts)."""
        self.fired_legends: set[str] = set()
        self.pending_legends: list[str] = []
        """On-demand legends the player asked for, fired at the start of the next turn."""
        self.defaults_total = 0
        self.clearing: deque[InboxItem] = deque(maxlen=CLEARING_LIMIT)
        """The public channel: what creatures say and what the wood announces."""
        self._next_id = 0
        self.tiles = self._make_map()
        self.creatures = self._make_cast()
        self.by_name = {c.name: c for c in self.creatures}
        self.name_lengths = frozenset(map(len, self.by_name))
        """The lengths the cast's names come in (to find names in a text by its substrings)."""
        self.forest = [t for t in self.tiles if t.kind == TileKind.FOREST]
        self.forest_at = {(t.x, t.y): t for t in self.forest}
        """Forest tiles by position (a woodcutter's patch is looked up around its den)."""
        self.initial = asset_totals(self.creatures, self.assets)
        self.patches: dict[int, list[Tile]] = {}
        self.rumours: list[Rumour] = []
        """False rumours that will be found out, soonest first."""

    # ------------------------------------------------------------------ set-up
    def _make_map(self) -> list[Tile]:
        m = self.scenario.map
        start = round(m.tree_capacity * m.tree_start)
        tiles: list[Tile] = []
        if m.layout is not None:
            kinds = {"T": TileKind.FOREST, ".": TileKind.MEADOW, "~": TileKind.WATER}
            for y, row in enumerate(m.layout):
                for x, ch in enumerate(row):
                    k = kinds[ch]
                    tiles.append(Tile(x, y, k, start if k == TileKind.FOREST else 0))
            return tiles
        cells = [(x, y) for y in range(m.height) for x in range(m.width)]
        n_forest = round(len(cells) * m.forest_fraction)
        forest = set(self.rng.sample(range(len(cells)), n_forest))
        for i, (x, y) in enumerate(cells):
            k = TileKind.FOREST if i in forest else TileKind.MEADOW
            tiles.append(Tile(x, y, k, start if k == TileKind.FOREST else 0))
        return tiles

    def _make_cast(self) -> list[Creature]:
        sc = self.scenario
        cast = sc.expanded_cast()
        open_tiles = [(t.x, t.y) for t in self.tiles if t.kind == TileKind.MEADOW] or [(t.x, t.y) for t in self.tiles]
        taken: set[tuple[int, int]] = {c.den for c in cast if c.den is not None}
        free_tiles = [p for p in open_tiles if p not in taken]
        self.rng.shuffle(free_tiles)
        creatures = []
        for i, spec in enumerate(cast):
            den = spec.den if spec.den is not None else (free_tiles.pop() if free_tiles else open_tiles[i % len(open_tiles)])
            never = frozenset(spec.never_buy if spec.never_buy is not None else ([spec.makes] if spec.makes else []))
            free = dict.fromkeys(self.assets, 0)
            free.update(spec.holdings)
            creatures.append(
                Creature(
                    id=i, name=spec.name, species=spec.species, glyph=spec.glyph, colour=spec.colour,
                    role=spec.role, makes=spec.makes, capacity=spec.capacity, never_buy=never,
                    personality=spec.personality, greed=spec.greed, den=den, brain=spec.brain,
                    model=spec.model, free=free, escrow=dict.fromkeys(self.assets, 0),
                    health=sc.needs.max_health, credit=sc.credit.start_score,
                )
            )
        return creatures

    # ------------------------------------------------------------------- state
    def get_state(self) -> WoodState:
        """The wood's own attributes (see :mod:`engine.world.state`)."""
        check_covered(self, self.SAVED, self.PARTS + self.DERIVED)
        version, internal, gauss = self.rng.getstate()
        state: WoodState = {
            "seed": self.seed,
            "turn": self.turn,
            "rng": (version, internal, gauss),
            "_next_id": self._next_id,
            "defaults_total": self.defaults_total,
            "tiles": states(self.tiles),
            "creatures": states(self.creatures),
            "modifiers": states(self.modifiers),
            "offer_trades": states(self.offer_trades),
            "events": states(self.events),
            "fired_legends": sorted(self.fired_legends),
            "pending_legends": list(self.pending_legends),
            "clearing": states(self.clearing),
            "initial": dict(self.initial),
        }
        if self.rumours:  # absent when none wait: a save from before rumours could be found out reads the same
            state["rumours"] = states(self.rumours)
        return state

    def set_state(self, state: Mapping[str, object], layout: Layout | None = None) -> None:
        """Take back what :meth:`get_state` gave, into a wood of the same scenario and seed.

        Tiles and creatures are updated in place, so every index that points at them stays
        right. Raises ``StateError`` when the state is not one of this wood's."""
        def get(key: str, tp: Any) -> Any:
            return take(state, key, tp, layout, "wood")

        if get("seed", int) != self.seed:
            raise StateError("the state is from another seed")
        self.turn = get("turn", int)
        try:
            self.rng.setstate(get("rng", tuple[int, tuple[int, ...], float | None]))
        except (ValueError, TypeError, OverflowError) as exc:
            raise StateError(f"wood.rng: not a generator state ({exc})") from None
        self._next_id = get("_next_id", int)
        self.defaults_total = get("defaults_total", int)
        self._put_map_and_cast(get("tiles", list[Tile]), get("creatures", list[Creature]))
        self.modifiers = get("modifiers", list[Modifier])
        self.offer_trades = get("offer_trades", list[Trade])
        self.events = get("events", list[Event])
        self.fired_legends = get("fired_legends", set[str])
        self.pending_legends = get("pending_legends", list[str])
        self.clearing = deque(get("clearing", list[InboxItem]), maxlen=self.clearing.maxlen)
        self.initial = get("initial", dict[str, int])
        self.rumours = get("rumours", list[Rumour]) if isinstance(state, Mapping) and "rumours" in state else []
        self.patches = {}

    def _put_map_and_cast(self, tiles: list[Tile], creatures: list[Creature]) -> None:
        """Copy restored tiles and creatures into the scenario's own (which the indexes point at)."""
        if len(tiles) != len(self.tiles):
            raise StateError(f"the state has {len(tiles)} tiles; the scenario makes {len(self.tiles)}")
        for old, new in zip(self.tiles, tiles, strict=True):
            if (old.x, old.y, old.kind) != (new.x, new.y, new.kind):
                raise StateError(f"tile ({new.x},{new.y}) is not the scenario's tile ({old.x},{old.y})")
        if [(c.id, c.name) for c in creatures] != [(c.id, c.name) for c in self.creatures]:
            raise StateError("the state's creatures are not the scenario's cast")
        for old_tile, new_tile in zip(self.tiles, tiles, strict=True):
            old_tile.update_from(new_tile)
        for old_c, new_c in zip(self.creatures, creatures, strict=True):
            old_c.update_from(new_c)

    def dangling(self) -> list[str]:
        """Every open order, offer or contract that names a creature the wood does not have."""
        n = len(self.creatures)
        out = [f"order {o.id} belongs to no creature" for o in self.book.orders.values() if not 0 <= o.owner < n]
        out += [f"offer {f.id} names no creature" for f in self.deals.offers.values()
                if not (0 <= f.sender < n and 0 <= f.to < n)]
        for k in self.deals.contracts.values():
            idx = [*k.parties, *(leg.obligor for leg in k.legs), *(leg.creditor for leg in k.legs)]
            if k.collateral_owner is not None:
                idx.append(k.collateral_owner)
            if not all(0 <= i < n for i in idx):
                out.append(f"contract {k.id} names no creature")
        return out

    @property
    def last_id(self) -> int:
        """The last id handed out (orders, offers and contracts share one sequence)."""
        return self._next_id

    # ----------------------------------------------------------------- lookups
    def next_id(self) -> int:
        """A fresh id for an order, offer or contract (one sequence for all, so ids never clash)."""
        self._next_id += 1
        return self._next_id

    @property
    def season_index(self) -> int:
        return self.season_at(self.turn)[0]

    def season_at(self, turn: int) -> tuple[int, int]:
        """``(season index, turns already passed in that season)`` for a turn."""
        t = (max(turn, 1) - 1) % self.scenario.year_length
        for i, s in enumerate(self.scenario.seasons):
            if t < s.length:
                return i, t
            t -= s.length
        return len(self.scenario.seasons) - 1, 0

    @property
    def season(self) -> str:
        return self.scenario.seasons[self.season_index].name

    def rule(self, name: str, base: float) -> float:
        """A rule's number with the legends in force applied."""
        v, changed = base, False
        for m in self.modifiers:
            if m.rule == name:
                v, changed = (v * m.value if m.op == "multiply" else m.value), True
        if changed:
            lo, hi = rule_range(name)
            v = min(max(v, lo), hi)
        return v

    def fuel_need(self, turn: int) -> int:
        """Firewood each creature must burn on a turn."""
        i, into = self.season_at(turn)
        s = self.scenario.seasons[i]
        return max(0, round(self.rule("cold", s.cold + s.cold_rise * into)))

    def yield_factor(self, good: str, turn: int) -> float:
        i, _ = self.season_at(turn)
        return self.rule(f"yield.{good}", self.scenario.seasons[i].yields.get(good, 1.0))

    def price(self, good: str) -> int:
        """Reference price: the recent traded price, else the scenario's base value."""
        return self.book.reference(good, self.base_value[good])

    def alive(self) -> list[Creature]:
        return [c for c in self.creatures if c.alive]

    def tell(self, c: Creature, kind: str, sender: str, text: str) -> None:
        """Put an item in a creature's inbox (bounded)."""
        c.inbox.append(InboxItem(self.turn, kind, sender, text))
        if len(c.inbox) > INBOX_LIMIT:
            del c.inbox[: len(c.inbox) - INBOX_LIMIT]

    def announce(self, sender: str, text: str, kind: str = "say") -> None:
        """Say something in the clearing, where every creature hears it."""
        self.clearing.append(InboxItem(self.turn, kind, sender, text))

    def patch(self, c: Creature) -> list[Tile]:
        """The forest tiles a woodcutter works: the :data:`PATCH_TILES` nearest to its den by
        walking distance, then by row and column (computed once)."""
        tiles = self.patches.get(c.id)
        if tiles is None:
            tiles = self.patches[c.id] = self._nearest_forest(*c.den)
        return tiles

    def _nearest_forest(self, x0: int, y0: int) -> list[Tile]:
        """The forest tiles nearest ``(x0, y0)``, found ring by ring of one walking distance (each
        ring in row, then column order), so the cost goes with the patch, not with the map."""
        at = self.forest_at
        want = min(PATCH_TILES, len(at))
        out: list[Tile] = []
        d = 0
        while len(out) < want:
            for dy in range(-d, d + 1):
                dx = d - abs(dy)
                for x in ((x0 - dx, x0 + dx) if dx else (x0,)):
                    t = at.get((x, y0 + dy))
                    if t is not None:
                        out.append(t)
            d += 1
        return out[:want]

    def event(self, kind: str, text: str, **data: Any) -> None:
        self.events.append(Event(self.turn, kind, text, data))

    def wealth(self, c: Creature, prices: dict[str, int] | None = None) -> int:
        """Pebbles plus goods at reference prices (pass ``prices`` to reuse them), free and escrowed."""
        prices = prices or {g: self.price(g) for g in self.goods}
        return c.total(PEBBLES) + sum(c.total(g) * prices[g] for g in self.goods)

    def trees(self) -> int:
        return sum(t.trees for t in self.forest)
