"""The scenario schema: pydantic models for every table of a scenario file (unknown keys are
refused, so a typo never passes silently), its cross-checks, and the JSON Schema editors use."""

from __future__ import annotations

import difflib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    model_validator,
)

from engine.core.errors import ScenarioError
from engine.scenario.base import GoodId, Label, Name, Prose, Role, ScenarioId, Strict
from engine.scenario.legends import LegendSpec
from engine.scenario.toml_positions import KeyPath

"""The wood's money. Held like a good, but never eaten, burned or spoiled."""

DEFAULT_SCENARIO = "thousand-token-wood"

MAX_BYTES = 1_000_000
"""Largest scenario file read (a big cast with legends is a few tens of kilobytes)."""
MAX_KEY_DEPTH = 12
"""Longest key path a scenario may use (the deepest real one has six parts)."""
MAX_CAST = 5000
"""Most creatures a scenario may have once its generated cast is expanded, besides one Patron
(``ttwood play`` adds the player's Patron to a cast of this size)."""
MAX_SHOWN = 10
"""Problems listed in one error message."""
USER_DIR_ENV = "TTWOOD_SCENARIOS"
"""Environment variable naming the user's scenario folder (overrides the platform's data folder)."""
SCHEMA_FILE = "ttwood-scenario.schema.json"
"""The JSON Schema's file name, next to the bundled scenarios (their ``#:schema`` line points at it)."""

def _colour(v: str) -> str:
    from rich.color import Color, ColorParseError

    try:
        Color.parse(v)
    except ColorParseError:
        raise ValueError(f"{v!r} is not a colour the terminal knows: a Rich colour name (e.g. dark_orange), "
                         "#rrggbb or rgb(r,g,b)") from None
    return v


class Meta(Strict):
    """Who made the scenario and what it is about."""

    id: ScenarioId
    """The scenario's id: lower case, digits and ``-``. A file in the mod folder must be called ``ID.toml``."""
    name: Annotated[Label, Field(min_length=1, max_length=80)]
    """The title players see."""
    description: Annotated[Prose, Field(max_length=600)] = ""
    """One or two sentences: what makes this wood different."""
    author: Annotated[Prose, Field(max_length=80)] = ""
    version: Annotated[Label, Field(max_length=20)] = "1"


class MapSpec(Strict):
    """The wood's tiles: forest (trees that regrow logistically, a commons), meadow (dens) and water.

    Give a ``layout`` to draw the map, or leave it out and the map is generated from
    ``forest_fraction`` with the game's seed."""

    width: Annotated[int, Field(ge=4, le=200)] = 16
    height: Annotated[int, Field(ge=4, le=200)] = 8
    forest_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.35
    """Share of tiles that are forest when no layout is given."""
    layout: list[str] | None = None
    """Optional rows of characters, ``height`` rows of ``width``: ``T`` forest, ``.`` meadow, ``~`` water."""
    tree_capacity: Annotated[int, Field(ge=1, le=10_000)] = 30
    """Trees one forest tile can carry (K of the logistic growth)."""
    tree_start: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8
    """Trees standing at the start, as a share of capacity."""
    regrowth_rate: Annotated[float, Field(ge=0.0, le=2.0)] = 0.15
    """r of the logistic growth: trees += r * trees * (1 - trees / capacity)."""
    collapse_below: Annotated[int, Field(ge=0, le=10_000)] = 3
    """A tile felled below this many trees collapses."""
    collapse_turns: Annotated[int, Field(ge=0, le=1000)] = 12
    """Turns a collapsed tile grows nothing before saplings return."""
    saplings: Annotated[int, Field(ge=0, le=10_000)] = 2
    """Trees a collapsed tile restarts with."""


class Season(Strict):
    """One season of the year. Seasons repeat in order."""

    name: Annotated[Label, Field(min_length=1, max_length=20)]
    length: Annotated[int, Field(ge=1, le=100)] = 6
    """Turns the season lasts."""
    cold: Annotated[int, Field(ge=0, le=100)] = 0
    """Firewood each creature must burn per turn at the start of the season."""
    cold_rise: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    """Extra firewood needed per turn for each turn the season has lasted."""
    yields: dict[str, Annotated[float, Field(ge=0.0, le=10.0)]] = {}
    """Production multiplier per good in this season (1.0 when not listed)."""
    growth: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    """Multiplier on tree regrowth in this season."""


class Good(Strict):
    """A good that can be held, traded and (for food and fuel) consumed."""

    id: GoodId
    """Lower case letters, digits and ``_``; creatures, seasons and legends name goods by it."""
    kind: Literal["food", "fuel", "other"]
    """``food`` is eaten (a meal needs several kinds), ``fuel`` is burned in the cold, ``other`` is only traded."""
    perish: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Share of a creature's free stock that rots each turn."""
    base_value: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    """Opening reference price in pebbles, before any trade sets one; also its value in wealth metrics until then."""


class CreatureSpec(Strict):
    """One creature of the cast."""

    name: Name
    species: Annotated[Label, Field(min_length=1, max_length=30)]
    glyph: Annotated[Label, Field(min_length=1, max_length=2)] = "?"
    """One or two characters drawn on the map."""
    colour: Annotated[str, Field(max_length=30), AfterValidator(_colour)] = "white"
    """A colour name the terminal understands (Rich's names, e.g. ``dark_orange``)."""
    role: Role
    """``woodcutter`` fells trees for a fuel good; ``producer`` makes a good; ``lender`` lends its hoard;
    ``trader`` speculates and writes forward contracts; ``patron`` is the player's purse."""
    makes: GoodId | None = None
    """The good it produces (a woodcutter must make a fuel good)."""
    capacity: Annotated[int, Field(ge=0, le=1000)] = 4
    """Most units it can make in one turn (trees felled, for a woodcutter)."""
    never_buy: list[GoodId] | None = None
    """Goods it must never buy; defaults to what it makes."""
    holdings: dict[str, Annotated[int, Field(ge=0, le=10**9)]] = {}
    """Starting pebbles and goods."""
    personality: Annotated[Prose, Field(max_length=200)] = ""
    """A line that tells a model brain who this creature is."""
    greed: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """How hard the scripted brain pushes: felling, margins, leverage (1.0 is prudent)."""
    den: tuple[int, int] | None = None
    """``[x, y]`` of its den on the map; a free meadow tile is drawn when left out."""
    brain: Literal["scripted", "llama", "http"] | None = None
    """Who decides for it, overriding the command line's ``--brain``."""
    model: Annotated[Prose, Field(max_length=400)] | None = None
    """The model for a model brain, overriding the command line's ``--model``."""


class GenerateSpec(Strict):
    """Copies of a named creature, for large markets: ``Hazel`` becomes ``Hazel 2``, ``Hazel 3``…"""

    like: Name
    """The creature to copy (its den is not copied)."""
    count: Annotated[int, Field(ge=1, le=MAX_CAST)]
    """How many copies."""


class Needs(Strict):
    """What keeps a creature alive."""

    meal_size: Annotated[int, Field(ge=0, le=20)] = 3
    """Food units in a full meal, at most one of each kind (variety is required)."""
    hunger_damage: Annotated[int, Field(ge=0, le=100)] = 6
    """Health lost per missing food unit."""
    cold_damage: Annotated[int, Field(ge=0, le=100)] = 6
    """Health lost per missing unit of firewood."""
    recovery: Annotated[int, Field(ge=0, le=100)] = 3
    """Health regained each turn, before the damage of hunger and cold."""
    max_health: Annotated[int, Field(ge=1, le=1000)] = 100


class Market(Strict):
    """The order book and bilateral offers."""

    order_expiry: Annotated[int, Field(ge=1, le=100)] = 3
    """Turns an unfilled limit order rests before it expires."""
    offer_expiry: Annotated[int, Field(ge=1, le=100)] = 2
    """Turns a bilateral offer waits for an answer."""
    price_window: Annotated[int, Field(ge=1, le=100)] = 4
    """Turns of trades averaged into the reference price."""
    max_price: Annotated[int, Field(ge=1, le=10**9)] = 1000
    """Highest limit price per unit."""
    max_qty: Annotated[int, Field(ge=1, le=10**9)] = 100
    """Most units in one order."""
    order_fee: Annotated[int, Field(ge=0, le=10**6)] = 0
    """Pebbles paid to place a limit order. Fees leave the wood (the ledger's ``fee`` sink)."""
    fee_pct: Annotated[float, Field(ge=0.0, le=50.0)] = 0.0
    """Percent of an order's value (qty × limit price), rounded down, paid when it is placed (also a ``fee``)."""


class Credit(Strict):
    """Contracts, loans and what a default costs."""

    max_term: Annotated[int, Field(ge=1, le=1000)] = 12
    """Longest time, in turns, to a contract's or loan's due turn."""
    max_interest_pct: Annotated[int, Field(ge=0, le=1000)] = 50
    """Interest cap: a loan's interest may be at most this percent of its principal."""
    default_penalty: Annotated[int, Field(ge=0, le=10**6)] = 3
    """Pebbles fined (a sink) from a defaulter, as far as it has them."""
    start_score: Annotated[int, Field(ge=0, le=100)] = 80
    """Credit score every creature starts with (everyone can see everyone's)."""
    default_drop: Annotated[int, Field(ge=0, le=100)] = 25
    """Credit score lost per default."""
    repay_gain: Annotated[int, Field(ge=0, le=100)] = 5
    """Credit score gained per contract kept."""


class Budget(Strict):
    """The hard token budget each creature gets each turn (prompt + answer)."""

    tokens: Annotated[int, Field(ge=200, le=100_000)] = 1000
    """Prompt plus answer tokens per creature per turn, counted with the model's own tokenizer."""
    max_actions: Annotated[int, Field(ge=1, le=20)] = 6
    """Actions a creature may take in one turn."""
    message_chars: Annotated[int, Field(ge=10, le=2000)] = 160
    """Longest message, whisper or note."""


class Memory(Strict):
    """How much a creature remembers. Every size is a bound: memory never grows with the game."""

    notes: Annotated[int, Field(ge=0, le=50)] = 5
    """Its own notes kept (the oldest drop off)."""
    events: Annotated[int, Field(ge=0, le=50)] = 6
    """Salient events shown in its prompt, ranked by importance and recency."""
    messages: Annotated[int, Field(ge=0, le=50)] = 6
    """Newest inbox and clearing messages shown in its prompt."""


class Scenario(Strict):
    """A whole wood: its map, seasons, goods, cast, rules and legends."""

    meta: Meta
    map: MapSpec = MapSpec()
    seasons: Annotated[list[Season], Field(min_length=1, max_length=24)]
    goods: Annotated[list[Good], Field(min_length=1, max_length=50)]
    creatures: Annotated[list[CreatureSpec], Field(min_length=1, max_length=500)]
    generate: list[GenerateSpec] = []
    """Generated copies of creatures, for large markets."""
    needs: Needs = Needs()
    market: Market = Market()
    credit: Credit = Credit()
    budget: Budget = Budget()
    memory: Memory = Memory()
    legends: list[LegendSpec] = []

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Scenario:
        # parse() runs these checks itself, to put a line on each; other callers get them here.
        if info.context and info.context.get("cross_references") == "caller":
            return self
        found = self.problems()
        if found:
            raise ValueError("; ".join(f"{path_text(p)}: {m}" for p, m in found[:MAX_SHOWN]))
        return self

    def problems(self) -> list[tuple[KeyPath, str]]:
        """What the tables say about each other that does not hold: ``(key path, reason)`` each.

        Goods named by creatures, seasons and legends must exist, names must be unique, dens on
        the map, the layout the map's size, and so on (see :mod:`engine.scenario.checks`)."""
        from engine.scenario.checks import cross_reference_problems

        return cross_reference_problems(self)

    def good(self, good_id: str) -> Good:
        """The good with this id."""
        for g in self.goods:
            if g.id == good_id:
                return g
        raise KeyError(good_id)

    @property
    def year_length(self) -> int:
        """Turns in one cycle of the seasons."""
        return sum(s.length for s in self.seasons)

    def expanded_cast(self) -> list[CreatureSpec]:
        """The cast with every ``generate`` entry turned into numbered copies."""
        cast = list(self.creatures)
        by_name = {c.name: c for c in self.creatures}
        taken = set(by_name)
        for gen in self.generate:
            base = by_name[gen.like]
            n = 2
            for _ in range(gen.count):
                while f"{base.name} {n}" in taken:
                    n += 1
                name = f"{base.name} {n}"
                taken.add(name)
                cast.append(base.model_copy(update={"name": name, "den": None}))
        return cast

    def scaled(self, creatures: int) -> Scenario:
        """This scenario with its cast repeated round-robin to ``creatures`` and the map grown to match.

        Used by benchmarks and large-market experiments: per-creature conditions stay as they
        were (the forest per woodcutter, the food per mouth).
        """
        if creatures < 1:
            raise ScenarioError("a wood needs at least one creature")
        base = self.expanded_cast()
        taken = {c.name for c in base}
        chosen = []
        for i in range(creatures):
            spec = base[i % len(base)]
            if i >= len(base):
                n = i // len(base) + 1
                while f"{spec.name} {n}" in taken:
                    n += 1
                taken.add(f"{spec.name} {n}")
                spec = spec.model_copy(update={"name": f"{spec.name} {n}", "den": None})
            chosen.append(spec)
        factor = max(1.0, creatures / len(base))
        area = self.map.width * self.map.height * factor
        width = min(200, max(self.map.width, round((area * 2) ** 0.5)))
        height = min(200, max(self.map.height, round(area / width)))
        new_map = self.map.model_copy(update={"width": width, "height": height, "layout": None})
        return self.model_copy(update={"creatures": chosen, "generate": [], "map": new_map})


def hint(word: str, choices: Any) -> str:
    """``; did you mean 'x'?`` for the closest choice, else the choices themselves (a few)."""
    options = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if not options:
        return ""
    shown = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
    return f" (known: {shown})"


def path_text(path: KeyPath) -> str:
    """``creatures.1.capacity``: a key path as the error messages write it."""
    return ".".join(str(p) for p in path) or "(top level)"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editors (Taplo, Even Better TOML) and other tools."""
    schema = Scenario.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://thousand-token-wood.invalid/{SCHEMA_FILE}",
        **schema,
        "title": "Thousand Token Wood scenario",
    }


def schema_text() -> str:
    """:func:`json_schema` as the exact text of the committed ``ttwood-scenario.schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
