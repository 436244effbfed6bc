"""Copies of a game to look ahead on: the same state, other brains, and nothing shared that a turn changes.

A brain that looks ahead (:mod:`engine.elders.foresight`) tries several answers from one moment of
the game, each a few turns on. :class:`Moment` holds that moment once and makes as many copies of
it as asked; a copy plays on with its own generator and its own books, so nothing it plays reaches
the game it came from (whose generator stays the only randomness of the real game).

Why not the save's way (each object's ``get_state``/``set_state``): ``set_state`` validates its
input with pydantic, as it must for a save from someone else, and a copy of the default wood that
way costs ~30 ms; a look-ahead makes hundreds of copies a game. The moment here is the wood's own
objects pickled in memory (~0.3 ms a copy): bytes this process made a moment ago, never read from
a file. The scenario is shared, not copied: no rule changes it.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping

from engine.turn.brain import Brain
from engine.turn.game import Game
from engine.world.state import check_covered
from engine.world.wood import Wood

_SHARED = ("scenario",)
"""What a copy shares with the game it comes from (read, never changed, by the rules)."""


class Moment:
    """One moment of a game (between turns, or while its creatures decide), to copy many times."""

    def __init__(self, game: Game) -> None:
        check_covered(game, ("wood", "_rejections", "reports"), ("scenario", "seed", "_brain_of"))
        self.scenario = game.scenario
        self.seed = game.seed
        wood = {k: v for k, v in vars(game.wood).items() if k not in _SHARED}
        self._state = pickle.dumps((wood, game._rejections), protocol=pickle.HIGHEST_PROTOCOL)
        self._last = game.reports[-1:]
        """The last turn's report (its Gini is what the next turn's legends read); shared, never changed."""
        self.turn = game.turn

    def copy(self, brains: Brain | Mapping[str, Brain]) -> Game:
        """A game in this moment's state that plays with ``brains`` (a brain that looks ahead is
        not told about the copy: a copy never looks ahead itself)."""
        wood_state, rejections = pickle.loads(self._state)  # noqa: S301 - bytes this object made, never a file's
        twin = Game.__new__(Game)
        wood = Wood.__new__(Wood)
        wood.__dict__.update(wood_state)
        wood.scenario = self.scenario
        twin.wood = wood
        twin.scenario = self.scenario
        twin.seed = self.seed
        twin._rejections = rejections
        twin.reports = list(self._last)
        twin._brain_of = twin._assign(brains)
        return twin
