"""The player's hands: legends asked for, the Patron's actions, creatures taken over and handed back.

A front end may ask for any of these at any moment, from its own thread, even while a turn is
being played in another. Nothing the player asks for touches the game at once: each request is
checked against the last finished turn, queued, and applied in order when the next turn starts
(:meth:`Player.begin_turn`, called by the session from the thread that plays). So a turn never
changes hands half-way, and a request made while turn N runs takes effect in turn N + 1.

The Patron and the creatures taken over are decided for by one
:class:`~engine.minds.brains.human.HumanBrain`, so the player's actions go through the same
validated action set as every creature's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from engine.core.errors import TTWoodError
from engine.minds.brains.human import HumanBrain
from engine.session.errors import SessionError
from engine.session.patron import Move, PatronLog, settle_log
from engine.session.views import CreatureView, PlayerView, WoodView
from engine.turn import actions as A
from engine.turn.brain import Brain
from engine.turn.game import Game
from engine.turn.report import TurnReport


@dataclass(frozen=True, slots=True)
class Change:
    """One request waiting for the next turn to start."""

    kind: Literal["take", "give", "act", "legend"]
    name: str
    """The creature (or, for ``legend``, the legend's id)."""
    action: A.Action | None = None


class Player:
    """What the player does to one game (see the module's docstring for when it applies)."""

    def __init__(self, game: Game, seen: Callable[[], WoodView], changed: Callable[[], None]) -> None:
        """``seen``: the last finished turn (requests are checked against it); ``changed``: called
        after every request, so the session can publish the player's side anew."""
        self.game = game
        self.human = HumanBrain()
        self.patron = next((c.name for c in game.wood.creatures if c.role == "patron"), None)
        """The Patron's name, when the game has one; it is always the player's."""
        if self.patron is not None:
            game.set_brain(self.patron, self.human)
        self.taken: dict[str, Brain] = {}
        """Creatures the player decides for now, with the brain each had before (changed only
        between turns)."""
        self.patron_log: list[PatronLog] = []
        self._seen = seen
        self._changed = changed
        self._lock = threading.Lock()
        self._queue: list[Change] = []
        self._yours: list[str] = []
        self._notices: list[str] = []
        self._in_turn = False
        self._next_turn = game.turn + 1

    # ------------------------------------------------------------------ asking (any thread)
    def take_over(self, name: str) -> int:
        """Decide for this creature from the next turn on; returns that turn."""
        c = self._creature(name)
        if c.role == "patron":
            raise SessionError("the Patron is always yours")
        if not c.alive:
            raise SessionError(f"{name} has left the wood")
        with self._lock:
            if name not in self._yours:
                self._yours.append(name)
                self._queue.append(Change("take", name))
        return self._asked()

    def give_back(self, name: str) -> int:
        """Hand a creature back to the brain it had, from the next turn on; returns that turn."""
        with self._lock:
            if name not in self._yours:
                raise SessionError(f"{name} is not yours")
            self._yours.remove(name)
            self._queue.append(Change("give", name))
        return self._asked()

    def act_as(self, name: str, action: A.Action) -> int:
        """Queue an action for a creature the player holds (or will hold next turn); returns its turn."""
        with self._lock:
            if name not in self._yours:
                raise SessionError(f"take {name} over first")
            self._queue.append(Change("act", name, action))
        return self._asked()

    def patron_act(self, moves: list[Move]) -> list[PatronLog]:
        """Queue actions for the Patron's next turn; the rules check them then, like any other."""
        if self.patron is None:
            raise SessionError("this game has no Patron (it was started without one)")
        with self._lock:
            entries = [PatronLog(self._next_turn, action, label) for action, label in moves]
            self.patron_log.extend(entries)
            self._queue.extend(Change("act", self.patron, action) for action, _ in moves)
        self._changed()
        return entries

    def inject(self, legend_id: str) -> int:
        """Ask for an on-demand legend; it fires when the next turn starts (returned)."""
        ids = {lg.id for lg in self._seen().legends}
        if legend_id not in ids:
            raise SessionError(f"no on-demand legend {legend_id!r} here (known: {', '.join(sorted(ids)) or 'none'})")
        with self._lock:
            self._queue.append(Change("legend", legend_id))
        return self._asked()

    def view(self) -> PlayerView:
        """The player's side as it stands now."""
        with self._lock:
            legends = tuple(ch.name for ch in self._queue if ch.kind == "legend")
            return PlayerView(self._next_turn, self.patron, tuple(self._yours), legends)

    @property
    def in_turn(self) -> bool:
        """A turn is being played."""
        with self._lock:
            return self._in_turn

    def _creature(self, name: str) -> CreatureView:
        try:
            return self._seen().creature(name)
        except KeyError:
            raise SessionError(f"no creature called {name!r}") from None

    def _asked(self) -> int:
        with self._lock:
            turn = self._next_turn
        self._changed()
        return turn

    # ------------------------------------------------------------------ between turns (the playing thread)
    def begin_turn(self) -> None:
        """A turn starts: everything asked for so far applies now; later requests wait for the next."""
        with self._lock:
            if self._in_turn:
                raise SessionError("a turn is already being played")
            self._in_turn = True
            self._next_turn = self.game.turn + 2
            queue, self._queue = self._queue, []
            for change in queue:
                self._apply(change)

    def end_turn(self, report: TurnReport | None) -> list[str]:
        """The turn ended (``None``: it failed): mark the Patron's results; returns what could not
        be done of what was asked for (kept for the next finished turn when this one failed)."""
        with self._lock:
            if report is not None and self.patron is not None:
                mine = next((d for d in report.decided if d.creature == self.patron), None)
                settle_log(self.patron_log, mine, report.turn)
            self._in_turn = False
            self._next_turn = self.game.turn + 1
            if report is None:
                return []
            notices, self._notices = self._notices, []
        return notices

    def brains(self) -> dict[str, str]:
        """Each creature's own kind of brain: what decides for it when the player does not."""
        game = self.game
        return {c.name: (self.taken[c.name] if c.name in self.taken else game.brain_of(c.name)).name
                for c in game.wood.creatures}

    def _apply(self, change: Change) -> None:
        game, name = self.game, change.name
        if change.kind == "legend":
            try:
                game.inject(name)
            except TTWoodError as exc:
                self._notices.append(exc.message)
        elif change.kind == "take":
            c = game.wood.by_name.get(name)
            if c is None or not c.alive:
                self._notices.append(f"{name} left the wood before you could take it over")
                if name in self._yours:
                    self._yours.remove(name)
            elif name not in self.taken:
                self.taken[name] = game.brain_of(name)
                game.set_brain(name, self.human)
        elif change.kind == "give":
            brain = self.taken.pop(name, None)
            if brain is not None:
                self.human.clear(name)
                game.set_brain(name, brain)
        elif change.action is not None:
            if name == self.patron or name in self.taken:
                self.human.queue(name, change.action)
            else:
                self._notices.append(f"{name} is not yours any more: {change.action.type} dropped")
