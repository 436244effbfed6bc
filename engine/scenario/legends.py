"""Legends in a scenario: when a shock fires and what it changes, as data (no code in TOML)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from engine.scenario.base import Name, ScenarioId, Strict

METRIC_PATTERN = r"^(turn|trees|gini|alive|defaults|price\.[a-z][a-z0-9_]*)$"


class Condition(Strict):
    """A condition over the wood, e.g. ``{metric = "price.firewood", op = ">", value = 8}``."""

    metric: Annotated[str, Field(pattern=METRIC_PATTERN)]
    """``turn``, ``trees`` (standing), ``gini``, ``alive`` (creatures), ``defaults`` (so far) or ``price.GOOD``."""
    op: Literal["<", "<=", ">", ">=", "=="]
    value: float


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


RULE_NAMES = (
    "needs.meal_size",
    "needs.hunger_damage",
    "needs.cold_damage",
    "needs.recovery",
    "map.regrowth_rate",
    "cold",
    "market.order_expiry",
    "market.order_fee",
    "market.fee_pct",
    "credit.default_penalty",
)
"""Numbers a legend may change for a while. ``yield.GOOD`` and ``perish.GOOD`` too."""


class RuleEffect(Strict):
    """Change one rule's number for some turns: ``multiply`` it or ``set`` it."""

    kind: Literal["rule"]
    rule: str
    """One of the rule names (``needs.meal_size``, ``cold``, ``map.regrowth_rate``, …) or ``yield.GOOD`` / ``perish.GOOD``."""
    multiply: float | None = None
    set: float | None = None
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
    text: Annotated[str, Field(min_length=1, max_length=300)]
    true: bool = False
    """Whether the rumour is true (for the record and the player; creatures only hear it)."""
    to: list[Name] | Literal["all"] = "all"
    """Creatures' names, or ``all`` the living."""


Effect = Annotated[RuleEffect | GoodsEffect | RumourEffect, Field(discriminator="kind")]


class LegendSpec(Strict):
    """A shock, as data: when it fires and what it changes."""

    id: ScenarioId
    name: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(max_length=600)] = ""
    when: When
    effects: Annotated[list[Effect], Field(min_length=1, max_length=50)]
