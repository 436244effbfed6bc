"""The one small protocol every brain speaks: it gets observations and returns answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from engine.turn.actions import Action
from engine.turn.observation import Observation

if TYPE_CHECKING:
    from engine.turn.game import Game


@dataclass(slots=True)
class Answer:
    """A brain's decision for one creature."""

    actions: list[Action]
    problems: list[str] = field(default_factory=list)
    """Parts of the answer that could not be read as actions (each counts as a rejection)."""
    raw: str | None = None
    thinking: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    """Tokens, latency, sampler settings: whatever the brain measured."""


@runtime_checkable
class Brain(Protocol):
    """Decides for a group of creatures at once (so a model backend can batch them)."""

    name: str

    def decide(self, observations: list[Observation]) -> list[Answer]:
        """Return one :class:`Answer` per observation, in the same order. Must not raise for a
        bad model answer: put the reason in ``Answer.problems`` instead."""
        ...

    def card(self) -> dict[str, Any]:
        """What this brain is, for saves and reports: a model's name, file or server, adapter
        and sampler (``{}`` for a brain that loads no model)."""
        ...

    def close(self) -> None:
        """Free what the brain holds (a model, a context, a connection). Safe to call twice."""
        ...


class HoldsNothing:
    """For a brain that loads no model: an empty card, and nothing to free."""

    def card(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        return None


@runtime_checkable
class Foresees(Protocol):
    """A brain that looks ahead on copies of the game it plays in (:mod:`engine.elders.foresight`).

    The game hands itself to such a brain when it is made (or when the brain takes a creature
    over), so the brain can copy the game's present moment while its creatures decide. The brain
    must only read the game: its copies play on, never the game itself."""

    def watch(self, game: Game) -> None:
        """Look ahead on ``game`` from now on (a brain plays in one game at a time)."""
        ...
