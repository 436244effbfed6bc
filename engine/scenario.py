"""Scenario files: the TOML data that makes one wood different from another.

A scenario is read with :mod:`tomllib` and validated by the pydantic models below (unknown
keys are refused, so a typo never passes silently). Every number the rules use lives here,
not in code.
"""

from __future__ import annotations

import hashlib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.errors import ScenarioError

PEBBLES = "pebbles"
"""The wood's money. Held like a good, but never eaten, burned or spoiled."""

DEFAULT_SCENARIO = "thousand-token-wood"

Role = Literal["woodcutter", "producer", "lender", "trader"]
Name = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9 _'-]*$")]
GoodId = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[a-z][a-z0-9_]*$")]


class Strict(BaseModel):
    """Base for every scenario table: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Meta(Strict):
    """Who made the scenario and what it is about."""

    id: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(max_length=600)] = ""
    author: Annotated[str, Field(max_length=80)] = ""
    version: Annotated[str, Field(max_length=20)] = "1"


class MapSpec(Strict):
    """The wood's tiles. Forest tiles hold trees that regrow logistically (a commons)."""

    width: Annotated[int, Field(ge=4, le=200)] = 16
    height: Annotated[int, Field(ge=4, le=200)] = 8
    forest_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.35
    """Share of tiles that are forest when no layout is given."""
    layout: list[str] | None = None
    """Optional rows of characters: ``T`` forest, ``.`` meadow, ``~`` water."""
    tree_capacity: Annotated[int, Field(ge=1, le=10_000)] = 30
    """Trees one forest tile can carry (K of the logistic growth)."""
    tree_start: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8
    """Trees standing at the start, as a share of capacity."""
    regrowth_rate: Annotated[float, Field(ge=0.0, le=2.0)] = 0.15
    """r of the logistic growth: trees += r * trees * (1 - trees / capacity)."""
    collapse_below: Annotated[int, Field(ge=0)] = 3
    """A tile felled below this many trees collapses."""
    collapse_turns: Annotated[int, Field(ge=0, le=1000)] = 12
    """Turns a collapsed tile grows nothing before saplings return."""
    saplings: Annotated[int, Field(ge=0)] = 2
    """Trees a collapsed tile restarts with."""

    @model_validator(mode="after")
    def _layout_matches(self) -> MapSpec:
        if self.layout is not None:
            if len(self.layout) != self.height:
                raise ValueError(f"layout has {len(self.layout)} rows but height is {self.height}")
            for i, row in enumerate(self.layout):
                if len(row) != self.width:
                    raise ValueError(f"layout row {i + 1} has {len(row)} tiles but width is {self.width}")
                bad = set(row) - set("T.~")
                if bad:
                    raise ValueError(f"layout row {i + 1} has unknown tile {sorted(bad)[0]!r} (use T . ~)")
        return self


class Season(Strict):
    """One season of the year. Seasons repeat in order."""

    name: Annotated[str, Field(min_length=1, max_length=20)]
    length: Annotated[int, Field(ge=1, le=100)] = 6
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
    kind: Literal["food", "fuel", "other"]
    perish: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Share of a creature's free stock that rots each turn."""
    base_value: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    """Opening reference price in pebbles, before any trade sets one."""


class CreatureSpec(Strict):
    """One creature of the cast."""

    name: Name
    species: Annotated[str, Field(min_length=1, max_length=30)]
    glyph: Annotated[str, Field(min_length=1, max_length=2)] = "?"
    colour: Annotated[str, Field(max_length=30)] = "white"
    role: Role
    makes: GoodId | None = None
    capacity: Annotated[int, Field(ge=0, le=1000)] = 4
    """Most units it can make in one turn (trees felled, for a woodcutter)."""
    never_buy: list[GoodId] | None = None
    """Goods it must never buy; defaults to what it makes."""
    holdings: dict[str, Annotated[int, Field(ge=0, le=10**9)]] = {}
    """Starting pebbles and goods."""
    personality: Annotated[str, Field(max_length=200)] = ""
    greed: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """How hard the scripted brain pushes: felling, margins, leverage."""
    den: tuple[int, int] | None = None
    brain: Literal["scripted", "llama", "http"] | None = None
    model: Annotated[str, Field(max_length=400)] | None = None


class GenerateSpec(Strict):
    """Copies of a named creature, for large markets: ``Hazel`` becomes ``Hazel 2``, ``Hazel 3``…"""

    like: Name
    count: Annotated[int, Field(ge=1, le=5000)]


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
    max_qty: Annotated[int, Field(ge=1, le=10**9)] = 100


class Credit(Strict):
    """Contracts, loans and what a default costs."""

    max_term: Annotated[int, Field(ge=1, le=1000)] = 12
    """Longest time to a contract's due turn."""
    max_interest_pct: Annotated[int, Field(ge=0, le=1000)] = 50
    default_penalty: Annotated[int, Field(ge=0, le=10**6)] = 3
    """Pebbles fined (a sink) from a defaulter, as far as it has them."""
    start_score: Annotated[int, Field(ge=0, le=100)] = 80
    default_drop: Annotated[int, Field(ge=0, le=100)] = 25
    repay_gain: Annotated[int, Field(ge=0, le=100)] = 5


class Budget(Strict):
    """The hard token budget each creature gets each turn (prompt + answer)."""

    tokens: Annotated[int, Field(ge=200, le=100_000)] = 1000
    max_actions: Annotated[int, Field(ge=1, le=20)] = 6
    message_chars: Annotated[int, Field(ge=10, le=2000)] = 160


class Condition(Strict):
    """A condition over the wood, e.g. ``{metric = "price.firewood", op = ">", value = 8}``."""

    metric: Annotated[str, Field(pattern=r"^(turn|trees|gini|alive|defaults|price\.[a-z][a-z0-9_]*)$")]
    op: Literal["<", "<=", ">", ">=", "=="]
    value: float


class When(Strict):
    """When a legend fires: on a turn, on a condition, or only when the player calls it."""

    turn: Annotated[int, Field(ge=1)] | None = None
    condition: Condition | None = None
    on_demand: bool = False

    @model_validator(mode="after")
    def _one_trigger(self) -> When:
        n = (self.turn is not None) + (self.condition is not None) + bool(self.on_demand)
        if n != 1:
            raise ValueError("a legend fires by exactly one of: turn, condition, on_demand")
        return self


RULE_NAMES = (
    "needs.meal_size",
    "needs.hunger_damage",
    "needs.cold_damage",
    "needs.recovery",
    "map.regrowth_rate",
    "cold",
    "market.order_expiry",
    "credit.default_penalty",
)
"""Numbers a legend may change for a while. ``yield.GOOD`` and ``perish.GOOD`` too."""


class RuleEffect(Strict):
    """Change one rule's number for some turns."""

    kind: Literal["rule"]
    rule: str
    multiply: float | None = None
    set: float | None = None
    turns: Annotated[int, Field(ge=1, le=10_000)] = 1

    @model_validator(mode="after")
    def _one_op(self) -> RuleEffect:
        if (self.multiply is None) == (self.set is None):
            raise ValueError("a rule effect needs exactly one of: multiply, set")
        return self


class GoodsEffect(Strict):
    """Add (qty > 0) or destroy (qty < 0) goods or pebbles in some creatures' holdings."""

    kind: Literal["goods"]
    good: str
    qty: int
    to: list[Name] | Literal["all"] = "all"


class RumourEffect(Strict):
    """Put a rumour in some creatures' inboxes. ``true`` is never shown to them."""

    kind: Literal["rumour"]
    text: Annotated[str, Field(min_length=1, max_length=300)]
    true: bool = False
    to: list[Name] | Literal["all"] = "all"


Effect = Annotated[RuleEffect | GoodsEffect | RumourEffect, Field(discriminator="kind")]


class LegendSpec(Strict):
    """A shock, as data: when it fires and what it changes."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(max_length=600)] = ""
    when: When
    effects: Annotated[list[Effect], Field(min_length=1, max_length=50)]


class Scenario(Strict):
    """A whole wood: its map, seasons, goods, cast and rules."""

    meta: Meta
    map: MapSpec = MapSpec()
    seasons: Annotated[list[Season], Field(min_length=1, max_length=24)]
    goods: Annotated[list[Good], Field(min_length=1, max_length=50)]
    creatures: Annotated[list[CreatureSpec], Field(min_length=1, max_length=500)]
    generate: list[GenerateSpec] = []
    needs: Needs = Needs()
    market: Market = Market()
    credit: Credit = Credit()
    budget: Budget = Budget()
    legends: list[LegendSpec] = []

    @field_validator("goods")
    @classmethod
    def _unique_goods(cls, goods: list[Good]) -> list[Good]:
        ids = [g.id for g in goods]
        for g in ids:
            if ids.count(g) > 1:
                raise ValueError(f"good {g!r} is listed twice")
        if PEBBLES in ids:
            raise ValueError("'pebbles' is the money, not a good")
        return goods

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        goods = {g.id for g in self.goods}
        assets = goods | {PEBBLES}
        names = [c.name for c in self.creatures]
        for c in self.creatures:
            if names.count(c.name) > 1:
                raise ValueError(f"creature {c.name!r} is listed twice")
            if c.makes is not None and c.makes not in goods:
                raise ValueError(f"creature {c.name!r} makes {c.makes!r}, which is not a good")
            if c.role == "woodcutter" and (c.makes is None or self.good(c.makes).kind != "fuel"):
                raise ValueError(f"woodcutter {c.name!r} must make a fuel good")
            for g in c.never_buy or []:
                if g not in goods:
                    raise ValueError(f"creature {c.name!r} never_buy lists {g!r}, which is not a good")
            for a in c.holdings:
                if a not in assets:
                    raise ValueError(f"creature {c.name!r} holds {a!r}, which is not a good or pebbles")
            if c.den is not None and not (0 <= c.den[0] < self.map.width and 0 <= c.den[1] < self.map.height):
                raise ValueError(f"creature {c.name!r} has its den outside the map")
        for gen in self.generate:
            if gen.like not in names:
                raise ValueError(f"generate names {gen.like!r}, which is not a creature")
        for s in self.seasons:
            for g in s.yields:
                if g not in goods:
                    raise ValueError(f"season {s.name!r} yields lists {g!r}, which is not a good")
        if not any(g.kind == "food" for g in self.goods) and self.needs.meal_size > 0:
            raise ValueError("meals need food, but no good has kind = 'food'")
        ids = [lg.id for lg in self.legends]
        for lg in self.legends:
            if ids.count(lg.id) > 1:
                raise ValueError(f"legend {lg.id!r} is listed twice")
            if lg.when.condition and lg.when.condition.metric.startswith("price."):
                g = lg.when.condition.metric.split(".", 1)[1]
                if g not in goods:
                    raise ValueError(f"legend {lg.id!r} watches the price of {g!r}, which is not a good")
            for e in lg.effects:
                if isinstance(e, GoodsEffect) and e.good not in assets:
                    raise ValueError(f"legend {lg.id!r} changes {e.good!r}, which is not a good or pebbles")
                if isinstance(e, RuleEffect) and not _known_rule(e.rule, goods):
                    raise ValueError(f"legend {lg.id!r} changes unknown rule {e.rule!r}")
                to = getattr(e, "to", "all")
                if to != "all":
                    for n in to:
                        if n not in names:
                            raise ValueError(f"legend {lg.id!r} names {n!r}, which is not a creature")
        return self

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


def _known_rule(rule: str, goods: set[str]) -> bool:
    if rule in RULE_NAMES:
        return True
    head, _, tail = rule.partition(".")
    return head in ("yield", "perish") and tail in goods


# --------------------------------------------------------------------------- loading


def bundled_ids() -> list[str]:
    """Ids of the scenarios that ship inside the package."""
    root = resources.files("ttwood_scenarios")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def resolve(ref: str | None) -> tuple[str, str]:
    """Find a scenario by bundled id or path. Returns ``(source label, TOML text)``."""
    ref = ref or DEFAULT_SCENARIO
    path = Path(ref)
    if ref.endswith(".toml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"{ref}: no such scenario file")
        return str(path), _read_text(path)
    bundled = resources.files("ttwood_scenarios").joinpath(f"{ref}.toml")
    if bundled.is_file():
        return f"{ref} (bundled)", bundled.read_text(encoding="utf-8")
    known = ", ".join(bundled_ids())
    raise ScenarioError(f"no scenario called {ref!r}; bundled ones are: {known} (or give a path to a .toml file)")


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None


def parse(text: str, source: str = "<scenario>") -> Scenario:
    """Validate TOML text as a scenario, with errors that name the source and key path."""
    if not text.strip():
        raise ScenarioError(f"{source}: the file is empty")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nesting is too deep") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:8]:
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"{source}: {loc}: {err['msg']}")
        more = exc.error_count() - 8
        if more > 0:
            lines.append(f"… and {more} more")
        raise ScenarioError("\n".join(lines)) from None


def load(ref: str | None = None) -> tuple[Scenario, str]:
    """Load a scenario by bundled id or path. Returns the scenario and its exact TOML text."""
    source, text = resolve(ref)
    return parse(text, source), text


def text_hash(text: str) -> str:
    """A short stable hash of a scenario's text (for saves and reports)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
