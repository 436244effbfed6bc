"""What every scenario table shares: the strict base model and the id and name types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["woodcutter", "producer", "lender", "trader", "patron"]
"""``patron``: the player's purse in the wood. It has no needs, is left out of the Gini, and acts
only through the actions its brain queues (the TUI adds one; a scripted patron does nothing)."""
Name = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9 _'-]*$")]
GoodId = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[a-z][a-z0-9_]*$")]
ScenarioId = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")]

TILES = {"T": "forest", ".": "meadow", "~": "water"}
"""The characters of a map layout and the tile kind each stands for."""


class Strict(BaseModel):
    """Base for every scenario table: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
