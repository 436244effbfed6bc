"""What a creature sees when it decides: its observation, built fresh each turn, and the views in it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True, frozen=True)
class Neighbour:
    """What every creature can see of another."""

    name: str
    species: str
    role: str
    makes: str | None
    credit: int
    alive: bool


@dataclass(slots=True, frozen=True)
class OrderView:
    id: int
    side: str
    good: str
    qty: int
    price: int
    expires: int


@dataclass(slots=True, frozen=True)
class OfferView:
    """An open offer addressed to this creature (or sent by it)."""

    id: int
    kind: str
    sender: str
    to: str
    give: dict[str, int]
    get: dict[str, int]
    due: int | None
    principal: int
    interest: int
    collateral: dict[str, int]


@dataclass(slots=True, frozen=True)
class ObligationView:
    """One side of an active contract, from this creature's point of view."""

    id: int
    kind: str
    counterparty: str
    due: int
    i_owe: dict[str, int]
    owed_to_me: dict[str, int]
    collateral: dict[str, int]


@dataclass(slots=True)
class Observation:
    """Everything one creature knows at the moment it decides. Built fresh each turn."""

    turn: int
    season: str
    name: str
    species: str
    role: str
    makes: str | None
    capacity: int
    never_buy: frozenset[str]
    personality: str
    greed: float
    health: int
    max_health: int
    credit: int
    free: dict[str, int]
    escrow: dict[str, int]
    hungry: int
    cold: int
    prices: dict[str, int]
    """Reference price of every good."""
    base_values: dict[str, int]
    """The scenario's customary value of every good (public knowledge)."""
    fuel_need: list[int]
    """Firewood needed per turn, from this turn on (a few turns ahead)."""
    meal_size: int
    food: list[str]
    fuel: list[str]
    goods: list[str]
    my_orders: list[OrderView]
    offers_to_me: list[OfferView]
    my_offers: list[OfferView]
    obligations: list[ObligationView]
    neighbours: list[Neighbour]
    inbox: list[tuple[int, str, str, str]]
    """Private items ``(turn, kind, sender, text)``, oldest first."""
    clearing: list[tuple[int, str, str, str]]
    """The last public messages and notices, oldest first (shared by everyone)."""
    rejections: list[str]
    """Why last turn's refused actions were refused."""
    notes: list[str]
    max_actions: int
    max_term: int
    max_interest_pct: int
    token_budget: int
    can_make: int = 0
    """Units its ``produce`` would yield at full capacity this turn (season and forest allowing)."""
    forest_trees: int = 0
    forest_capacity: int = 0
    seasons_ahead: list[str] = field(default_factory=list)
    memories: list[str] = field(default_factory=list)
    """The most salient remembered events, oldest first (bounded)."""
    trust: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per counterpart: contracts delivered, contracts defaulted (from the books)."""
    market_price_cap: int = 1000
    market_qty_cap: int = 100
    order_fee: float | None = None
    """The flat fee of an order this turn (a legend may change it); None: the scenario's."""
    fee_pct: float | None = None
    """The fee in percent of an order's value this turn; None: the scenario's."""
    seed: int = 0
    """The game's seed: a rule-based brain draws the variety of what it says from it, so another
    seed is another game and the same seed the same one. Never shown to a model."""
