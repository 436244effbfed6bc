"""The player as a brain: answers for the creatures it holds with the actions the UI queued.

The terminal UI queues actions (from the UI thread) for the Patron and for any creature the
player has taken over; the game asks this brain to decide (from the engine's worker thread) and
gets exactly what was queued, once. Nothing queued means the creature passes its turn.
"""

from __future__ import annotations

import threading

from engine.turn.actions import Action
from engine.turn.brain import Answer, HoldsNothing
from engine.turn.observation import Observation


class HumanBrain(HoldsNothing):
    """Hands each of its creatures the actions queued for it since the last turn."""

    name = "human"

    def __init__(self) -> None:
        self._queues: dict[str, list[Action]] = {}
        self._lock = threading.Lock()
        self.seen: dict[str, Observation] = {}
        """The last observation of each creature it decided for (what the player should read)."""

    def queue(self, creature: str, action: Action) -> None:
        """Add an action to a creature's next turn."""
        with self._lock:
            self._queues.setdefault(creature, []).append(action)

    def clear(self, creature: str) -> None:
        """Drop everything queued for a creature."""
        with self._lock:
            self._queues.pop(creature, None)

    def decide(self, observations: list[Observation]) -> list[Answer]:
        """Each creature's queued actions, in the order they were queued; the queues empty."""
        answers = []
        with self._lock:
            for o in observations:
                self.seen[o.name] = o
                actions = self._queues.pop(o.name, [])
                answers.append(Answer(actions=actions, meta={"brain": "human"}))
        return answers
