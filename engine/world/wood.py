"""The whole state of one wood: creatures, map, market, deals, rules in force, and the books.

``Wood`` is plain data plus the few lookups every rule needs. Rules that change it live in
:mod:`engine.economy.nature`, :mod:`engine.turn.rules`, :mod:`engine.economy.settlement` and :mod:`engine.economy.legends`.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from engine.core.assets import PEBBLES
from engine.scenario import Scenario
from engine.world.contracts import Deals
from engine.world.creatures import Creature, InboxItem
from engine.world.ledger import Ledger, all_assets, asset_totals
from engine.world.market import OrderBook, Trade
from engine.world.tiles import Tile, TileKind

INBOX_LIMIT = 16
"""Inbox items a creature keeps; older ones drop off (memory stays bounded)."""
CLEARING_LIMIT = 12
"""Public messages the clearing keeps (everyone reads the same ones)."""
PATCH_TILES = 16
"""Forest tiles nearest its den that a woodcutter works."""


@dataclass(slots=True)
class Event:
    """Something that happened, for the event log, the save and the reports."""

    turn: int
    kind: str
    """``trade``, ``offer``, ``contract``, ``settled``, ``default``, ``legend``, ``left``,
    ``collapse``, ``say``, ``whisper``."""
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Modifier:
    """A legend's change to a rule's number, in force until ``until`` (exclusive)."""

    rule: str
    op: str
    value: float
    until: int
    source: str


class Wood:
    """The state of one game."""

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
        self.forest = [t for t in self.tiles if t.kind == TileKind.FOREST]
        self.initial = asset_totals(self.creatures, self.assets)
        self.patches: dict[int, list[Tile]] = {}

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
        v = base
        for m in self.modifiers:
            if m.rule == name:
                v = v * m.value if m.op == "multiply" else m.value
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
        """The forest tiles a woodcutter works: the nearest to its den (computed once)."""
        tiles = self.patches.get(c.id)
        if tiles is None:
            x0, y0 = c.den
            tiles = sorted(self.forest, key=lambda t: (abs(t.x - x0) + abs(t.y - y0), t.y, t.x))[:PATCH_TILES]
            self.patches[c.id] = tiles
        return tiles

    def event(self, kind: str, text: str, **data: Any) -> None:
        self.events.append(Event(self.turn, kind, text, data))

    def wealth(self, c: Creature, prices: dict[str, int] | None = None) -> int:
        """Pebbles plus goods at reference prices (pass ``prices`` to reuse them), free and escrowed."""
        prices = prices or {g: self.price(g) for g in self.goods}
        return c.total(PEBBLES) + sum(c.total(g) * prices[g] for g in self.goods)

    def trees(self) -> int:
        return sum(t.trees for t in self.forest)
