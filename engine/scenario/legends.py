"""Legends in a scenario: when a shock fires and what it changes, as data (no code in TOML)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from engine.scenario.base import Label, Name, Prose, ScenarioId, Strict

METRIC_PATTERN = r"^(turn|trees|gini|alive|defaults|price\.[a-z][a-z0-9_]*)$"


class Condition(Strict):
    """A condition over the wood, e.g. ``{metric = "price.firewood", op = ">", value = 8}``."""

    metric: Annotated[str, Field(pattern=METRIC_PATTERN)]
    """``turn``, ``trees`` (standing), ``gini``, ``alive`` (creatures), ``defaults`` (so far) or ``price.GOOD``."""
    op: Literal["<", "<=", ">", ">=", "=="]
    value: Annotated[float, Field(ge=-1e12, le=1e12)]


class When(Strict):
    """When a legend fires: on a turn, on a condition (the first time it holds), or only when the player calls it."""

    turn: Annotated[int, Field(ge=1)] | None = None
    condition: Condition | None = None
    on_demand: bool = False

    @model_validator(mode="after")
    def _one_trigger(self) -> When:
        n = (self.turn is not None) + (self.condition is not None) + bool(self.on_demand)
        if n != 1:
            raise ValueError("a legend fires by exactly one of: turn, condition, on_demand")
        return self


RULE_RANGES: dict[str, tuple[float, float]] = {
    "needs.meal_size": (0, 20),
    "needs.hunger_damage": (0, 100),
    "needs.cold_damage": (0, 100),
    "needs.recovery": (0, 100),
    "map.regrowth_rate": (0, 2),
    "cold": (0, 10_000),
    "market.order_expiry": (1, 100),
    "market.order_fee": (0, 10**6),
    "market.fee_pct": (0, 50),
    "credit.default_penalty": (0, 10**6),
    "yield": (0, 10),
    "perish": (0, 1),
}
"""The range of every number a legend may change (the range the scenario's own key allows;
``cold`` is the firewood a turn needs): a ``set`` must lie in it, and a ``multiply`` is held to it."""
RULE_NAMES = tuple(r for r in RULE_RANGES if "." in r or r == "cold")
"""Numbers a legend may change for a while. ``yield.GOOD`` and ``perish.GOOD`` too."""


def rule_range(rule: str) -> tuple[float, float]:
    """The range of a rule's number (``yield.GOOD`` and ``perish.GOOD`` by their kind)."""
    return RULE_RANGES.get(rule) or RULE_RANGES.get(rule.partition(".")[0], (-1e12, 1e12))


class RuleEffect(Strict):
    """Change one rule's number for some turns: ``multiply`` it or ``set`` it."""

    kind: Literal["rule"]
    rule: str
    """One of the rule names (``needs.meal_size``, ``cold``, ``map.regrowth_rate``, …) or ``yield.GOOD`` / ``perish.GOOD``."""
    multiply: Annotated[float, Field(ge=0, le=1000)] | None = None
    """A factor on the rule's number (the result is held to the rule's range)."""
    set: float | None = None
    """The rule's number for a while; it must lie in the rule's range."""
    turns: Annotated[int, Field(ge=1, le=10_000)] = 1
    """How long the change lasts."""

    @model_validator(mode="after")
    def _one_op(self) -> RuleEffect:
        if (self.multiply is None) == (self.set is None):
            raise ValueError("a rule effect needs exactly one of: multiply, set")
        return self


class GoodsEffect(Strict):
    """Add (qty > 0) or destroy (qty < 0) goods or pebbles in some creatures' holdings."""

    kind: Literal["goods"]
    good: str
    """A good's id, or ``pebbles``."""
    qty: Annotated[int, Field(ge=-10**6, le=10**6)]
    """Units per creature: positive adds, negative destroys (never below what it holds)."""
    to: list[Name] | Literal["all"] = "all"
    """Creatures' names, or ``all`` the living."""


class RumourEffect(Strict):
    """Put a rumour in some creatures' inboxes. ``true`` is never shown to them."""

    kind: Literal["rumour"]
    text: Annotated[Prose, Field(min_length=1, max_length=300)]
    true: bool = False
    """Whether the rumour is true (for the record and the player; creatures only hear it)."""
    to: list[Name] | Literal["all"] = "all"
    """Creatures' names, or ``all`` the living."""
    teller: Name | None = None
    """The creature the rumour comes from (creatures weigh it by their trust in the teller);
    none: an anonymous whisper."""
    found_out_after: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Turns until a false rumour is found out: the clearing hears it was false, and every
    creature who heard it trusts its teller less. None: it is never found out."""


Effect = Annotated[RuleEffect | GoodsEffect | RumourEffect, Field(discriminator="kind")]


class LegendSpec(Strict):
    """A shock, as data: when it fires and what it changes."""

    id: ScenarioId
    name: Annotated[Label, Field(min_length=1, max_length=80)]
    description: Annotated[Prose, Field(max_length=600)] = ""
    when: When
    effects: Annotated[list[Effect], Field(min_length=1, max_length=50)]
