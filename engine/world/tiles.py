"""The map: tiles, and the trees a forest tile holds."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.world.state import Record


class TileKind(enum.StrEnum):
    FOREST = "forest"
    MEADOW = "meadow"
    WATER = "water"


@dataclass(slots=True)
class Tile(Record):
    """One map tile. Only forest tiles hold trees."""

    x: int
    y: int
    kind: TileKind
    trees: int = 0
    collapsed_until: int = 0
    """Turn before which a collapsed tile grows nothing (0: not collapsed)."""
    felled: int = 0
    """Trees felled here this turn (for the map's activity marks)."""
