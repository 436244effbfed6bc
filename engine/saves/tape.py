"""The tape brain: replays the answers recorded in a save, so a game replays with no model.

Every answer a brain gave (scripted, model or human) is on the save's tape: the parsed actions,
the problems, the raw text, the thinking and the call's meta. Fed the same observations in the
same order, the engine then makes the same game, turn for turn, byte for byte.
"""

from __future__ import annotations

from engine.turn.brain import Answer, HoldsNothing
from engine.turn.observation import Observation


class TapeBrain(HoldsNothing):
    """Answers each creature with what was recorded for it on that turn."""

    name = "tape"

    def __init__(self, tape: dict[int, dict[str, Answer]]) -> None:
        """``tape``: turn -> creature name -> recorded answer."""
        self.tape = tape
        self.misses: list[tuple[int, str]] = []
        """``(turn, creature)`` asked for with nothing on the tape (the replay has diverged)."""

    def decide(self, observations: list[Observation]) -> list[Answer]:
        """The recorded answer of each creature (a copy); an empty answer, noted in
        :attr:`misses`, where the tape has none."""
        out = []
        for o in observations:
            a = self.tape.get(o.turn, {}).get(o.name)
            if a is None:
                self.misses.append((o.turn, o.name))
                out.append(Answer([], problems=["no recorded answer on the tape"], meta={"brain": "tape"}))
                continue
            out.append(Answer(list(a.actions), list(a.problems), a.raw, a.thinking, dict(a.meta)))
        return out
