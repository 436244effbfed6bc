"""The session: one game, its save, and the player, behind one small facade a front end drives.

Threads: :meth:`Session.step` runs in the front end's worker thread (and so does the watcher it
may be given, which hears the turn as it decodes: :class:`TurnInFlight` views); everything else
is called from the front end's own thread. The front end reads :attr:`Session.view`, an immutable
view of the last finished turn that the session replaces after each turn (and whenever the player
asks for something); it never reads the live game while a turn runs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine.minds.factory import model_cards
from engine.saves import Autosaver, branch, open_save
from engine.scenario import Scenario, load, parse
from engine.session.errors import SessionError
from engine.session.files import free_path, saves_folder
from engine.session.patron import with_patron
from engine.session.player import Player
from engine.session.seeing import decided_view, minds_line, turn_events, turn_point, wood_view
from engine.session.views import (
    DecidedView,
    SessionView,
    ThinkingView,
    TurnEvents,
    TurnInFlight,
    TurnPoint,
    WoodView,
    printable,
)
from engine.turn.brain import Brain
from engine.turn.game import Game
from engine.turn.progress import Progress, Watch, watching
from engine.turn.report import TurnReport
from engine.world.creatures import Creature
from engine.world.wood import Wood

BrainMaker = Callable[[Scenario], "Brain | Mapping[str, Brain]"]
"""Builds the brains for a scenario (the front end decides which kinds)."""
Watcher = Callable[[TurnInFlight], None]
"""Hears the turn being played as it decodes (in the thread that plays it: it must be quick and
hand the view on, e.g. post it to a screen)."""
RECENT_TURNS = 8
"""Turns whose events a view keeps (a game opened part-way shows them)."""
clock: Callable[[], float] = time.perf_counter
"""What measures a turn's seconds (a test that draws the screen sets a steady one)."""


class Session:
    """One game being played, plus what the player does to it (:attr:`player`)."""

    def __init__(self, game: Game, *, scenario_text: str, source: str, name: str,
                 brain_label: str = "scripted", make_brains: BrainMaker | None = None) -> None:
        self.game = game
        self.scenario_text = scenario_text
        """The scenario's exact TOML text (with the Patron, when there is one)."""
        self.source = source
        """Where the scenario came from (a bundled id or a path), for titles and saves."""
        self.name = name
        """The game's name (also the save file's stem)."""
        self.brain_label = brain_label
        self.make_brains = make_brains
        self.saver: Autosaver | None = None
        """Writes every turn to :attr:`save_path` once saving has started."""
        self.save_path: Path | None = None
        self.history = [r.summary() for r in game.reports]
        """Every turn's summary (``TurnReport.summary()``)."""
        self._points: list[TurnPoint] = [turn_point(r) for r in game.reports]
        self._recent: deque[TurnEvents] = deque((turn_events(r) for r in game.reports[-RECENT_TURNS:]), maxlen=RECENT_TURNS)
        self._lock = threading.Lock()
        self.player = Player(game, lambda: self.view.wood, self._publish)
        """What the player asks for: legends, the Patron's actions, creatures taken over."""
        self._decided: dict[str, DecidedView] = {
            d.creature: decided_view(d, r.turn, game.brain_of(d.creature).name) for r in game.reports[-1:] for d in r.decided
        }
        self._seed = game.seed
        self._minds = ""
        self._turn_seconds: float | None = None
        self._turn_started = 0.0
        self._wood = self._see()
        self._view = self._session_view()

    # ------------------------------------------------------------------ making one
    @classmethod
    def new(cls, scenario: str | None, make_brains: BrainMaker, seed: int, *, patron: bool = True,
            name: str | None = None, brain_label: str = "scripted") -> Session:
        """A fresh game of a scenario (bundled id or path; the default when ``None``)."""
        sc, text = load(scenario)
        if patron:
            text = with_patron(text)
            sc = parse(text, scenario or sc.meta.id)
        return cls(Game(sc, seed, make_brains(sc)), scenario_text=text, source=scenario or sc.meta.id,
                   name=name or f"{sc.meta.id}-seed{seed}", brain_label=brain_label, make_brains=make_brains)

    @classmethod
    def open(cls, path: Path | str, make_brains: BrainMaker, *, at: int | None = None, brain_label: str = "scripted",
             choose: Callable[[dict[str, Any]], tuple[BrainMaker, str]] | None = None) -> Session:
        """A saved game, right after its last turn (or after turn ``at``), with fresh brains to play on:
        ``make_brains``'s, or those ``choose`` picks (with their label) from what the save records.

        The file is checked as untrusted input (:func:`engine.saves.open_save`); refusals raise
        :class:`~engine.saves.SaveError` naming the file and the reason."""
        path = Path(path)
        with open_save(path) as save:
            if choose is not None:
                make_brains, brain_label = choose(save.brains)
            game = save.game_at(at, make_brains(save.scenario))
            text = save.scenario_text
            source = save.meta.scenario_source or save.meta.scenario_id
        s = cls(game, scenario_text=text, source=str(source), name=path.stem.removesuffix(".ttwood"),
                brain_label=brain_label, make_brains=make_brains)
        if at is None:
            s.save_path = path
            s._publish()
        return s

    # ------------------------------------------------------------------ looking
    @property
    def view(self) -> SessionView:
        """The last finished turn and the player's side: what a front end renders, from any thread."""
        return self._view

    @property
    def turn(self) -> int:
        """The last finished turn."""
        return self._view.turn

    @property
    def wood(self) -> Wood:
        """The live state of the game: read it only between turns (front ends read :attr:`view`)."""
        return self.game.wood

    @property
    def patron(self) -> Creature | None:
        """The Patron creature, live (between turns only), if this game has one."""
        return self.game.wood.by_name[self.player.patron] if self.player.patron else None

    def _see(self, notices: list[str] | None = None) -> WoodView:
        """The wood as it stands, and which models think for it (call between turns only)."""
        self._minds = minds_line(self._brains())
        return wood_view(self.game, brains=self.player.brains(), decided=self._decided, history=self._points,
                         recent=self._recent, notices=notices or [])

    def _publish(self, wood: WoodView | None = None) -> None:
        with self._lock:
            if wood is not None:
                self._wood = wood
            self._view = self._session_view()

    def _session_view(self) -> SessionView:
        return SessionView(printable(self.name, 200), self._wood, self.player.view(), seed=self._seed, minds=self._minds,
                           save=None if self.save_path is None else str(self.save_path), turn_seconds=self._turn_seconds)

    # ------------------------------------------------------------------ playing
    def step(self, watcher: Watcher | None = None) -> TurnReport:
        """Play one turn through the game's loop and publish its view.

        What the player asked for before the turn started applies as it starts; what is asked
        for while it runs waits for the next one. ``watcher`` hears each creature wait, think
        (with its tokens and thought so far, where its brain tells them) and be done."""
        self.player.begin_turn()
        self._publish()
        self._turn_started = clock()
        try:
            with watching(None if watcher is None else Watch(self._in_flight(watcher))):
                (report,) = self.game.run(1, self._finished)
        except BaseException:
            if self.player.in_turn:
                self.player.end_turn(None)
                self._publish()
            raise
        return report

    def _in_flight(self, watcher: Watcher) -> Callable[[tuple[Progress, ...]], None]:
        """The watch's listener: each snapshot as a :class:`TurnInFlight`, its thoughts printable.
        (It keeps its own clock: :data:`clock` measures whole turns.)"""
        turn, started = self.turn + 1, time.perf_counter()

        def hear(now: tuple[Progress, ...]) -> None:
            creatures = tuple(ThinkingView(p.name, p.state, p.tokens, printable(p.thought)) for p in now)
            watcher(TurnInFlight(turn, time.perf_counter() - started, creatures))

        return hear

    def _finished(self, report: TurnReport) -> None:
        """The loop's ``on_turn``: save the turn, remember it, and publish its view."""
        if self.saver is not None:
            self.saver.record(report)
        self._turn_seconds = clock() - self._turn_started
        self.history.append(report.summary())
        self._points.append(turn_point(report))
        self._recent.append(turn_events(report))
        for d in report.decided:
            self._decided[d.creature] = decided_view(d, report.turn, self.game.brain_of(d.creature).name)
        notices = self.player.end_turn(report)
        self._publish(self._see(notices))

    def _between_turns(self, what: str) -> None:
        if self.player.in_turn:
            raise SessionError(f"a turn is being played; {what} when it ends")

    # ------------------------------------------------------------------ saves (engine.saves)
    def start_saving(self, path: Path | str | None = None, folder: Path | None = None) -> Path:
        """Autosave from now on: every turn is written to the save in one transaction.

        A new game gets a fresh file (``NAME.ttwood`` in ``folder``, numbered when taken); an
        opened save goes on writing its own file."""
        if self.saver is not None:
            return self.saver.path
        self._between_turns("saving starts")
        if path is None:
            path = free_path(folder if folder is not None else saves_folder(), self.name)
            self.name = path.stem
        path = Path(path)
        if self.game.turn == 0 and not path.exists():
            self.saver = Autosaver.create(path, self.game, scenario_text=self.scenario_text,
                                          brains=self._played(), source=self.source)
        else:
            self.saver = Autosaver.resume(path, self.game)
        self.save_path = path
        self._publish()
        return path

    def _brains(self) -> dict[str, Brain]:
        return {c.name: self.game.brain_of(c.name) for c in self.game.wood.creatures}

    @property
    def minds(self) -> str:
        """The models that think for the wood (:attr:`SessionView.minds`, as of the last finished turn)."""
        return self._view.minds

    def _played(self) -> dict[str, Any]:
        """What decides, for a new save: as asked (to rebuild the brains on resume, when the maker
        says) and as loaded (each model, its adapter and the adapter's sha256)."""
        asked = getattr(self.make_brains, "describe", None)
        played: dict[str, Any] = {"kind": self.brain_label, **(asked() if callable(asked) else {})}
        return played | {"models": model_cards(self._brains())}

    def save(self, folder: Path | None = None) -> Path:
        """Make the save file whole now (the log folded in: one self-contained file) and go on
        saving; a game not saved yet starts saving (in ``folder``)."""
        if self.saver is None:
            return self.start_saving(folder=folder)
        self._between_turns("saving happens")
        path = self.saver.path
        self.saver.close()
        self.saver = Autosaver.resume(path, self.game)
        return path

    def close(self) -> None:
        """Stop saving (the file is left whole). Call it between turns, before quitting."""
        if self.saver is not None:
            self.saver.close()
            self.saver = None

    def rewind(self, turn: int, folder: Path | None = None) -> Session:
        """A new game branched from this one at ``turn`` (a new save file; this one is left whole)."""
        if self.make_brains is None:
            raise SessionError("this session cannot build brains to rewind with")
        if not 0 <= turn <= self.turn:
            raise SessionError(f"rewind to turn {turn}? this game holds turns 0 to {self.turn}")
        src = self.save()
        dst = free_path(folder if folder is not None else src.parent, f"{self.name}-from-{turn}")
        branch(src, turn, dst)
        s = Session.open(dst, self.make_brains, brain_label=self.brain_label)
        s.start_saving(dst)
        return s
