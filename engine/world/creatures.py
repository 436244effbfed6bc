"""Creatures: who each one is, what it holds (free and in escrow), how it fares, and its inbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.world.state import Record


@dataclass(slots=True)
class InboxItem(Record):
    """Something a creature will read next turn: a message, a rumour, a notice, a rejection."""

    turn: int
    kind: str
    """``say`` (public), ``whisper``, ``rumour``, ``notice`` or ``rejected``."""
    sender: str
    text: str


@dataclass(slots=True)
class Creature(Record):
    """One creature: who it is, what it holds, how it fares."""

    id: int
    name: str
    species: str
    glyph: str
    colour: str
    role: str
    makes: str | None
    capacity: int
    never_buy: frozenset[str]
    personality: str
    greed: float
    den: tuple[int, int]
    brain: str | None
    model: str | None
    free: dict[str, int]
    """What it holds and may use now (pebbles included)."""
    escrow: dict[str, int]
    """What is locked by its open orders, offers and contracts."""
    health: int
    credit: int
    alive: bool = True
    left_turn: int | None = None
    inbox: list[InboxItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    memories: list[tuple[int, int, str]] = field(default_factory=list)
    """Remembered events ``(turn, importance, text)``, bounded (see :mod:`engine.turn.memory`)."""
    trust: dict[str, list[int]] = field(default_factory=dict)
    """Per counterpart: ``[contracts delivered, contracts defaulted]``, from the books."""
    hungry: int = 0
    """Food units missing at the last meal."""
    cold: int = 0
    """Firewood units missing at the last burn."""

    def total(self, asset: str) -> int:
        """Free plus escrowed units of an asset."""
        return self.free.get(asset, 0) + self.escrow.get(asset, 0)
