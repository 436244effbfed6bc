"""What every part of the app shares: the session being played, the play state, and telling the player.

The app is built in layers, each a small :class:`~textual.app.App` subclass with one concern:
this base; :mod:`ttwood_tui.turns` (the engine worker and the keys of time);
:mod:`ttwood_tui.saving` (saving, opening, rewinding, quitting); :mod:`ttwood_tui.hands` (the
player's own doings); and :mod:`ttwood_tui.app`, which puts them together with the keys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.markup import escape
from textual.app import App

from engine.session import Session, TTWoodError, saves_folder
from ttwood_tui.screens.games import GameChoice
from ttwood_tui.screens.main import MainScreen

SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.0)
"""Pause between turns while playing, slowest first (seconds)."""

SessionFactory = Callable[[GameChoice], Session]
"""Builds a session for a choice made on the games screen."""


def speed_label(delay: float) -> str:
    """The pacing the player set, said as pacing (the header beside it shows the measured time)."""
    return "no pause between turns" if delay == 0 else f"{delay:g} s between turns"


class WoodAppBase(App[None]):
    """The session, the play state, and the ways to tell the player something."""

    def __init__(self, session: Session, *, factory: SessionFactory | None = None, saves_dir: Path | None = None,
                 autosave: bool = True) -> None:
        """``factory`` builds sessions for the games screen (new games and opened saves);
        ``autosave`` writes every turn to the game's save file (in ``saves_dir``)."""
        super().__init__()
        self.session = session
        self.factory = factory
        self.saves_dir = saves_dir if saves_dir is not None else saves_folder()
        self.autosave = autosave
        self.speed = 1
        """Index into :data:`SPEEDS`."""
        self.playing = False
        self.busy = False
        """A turn (or a game being built) is in flight in a worker."""
        self.busy_with = "thinking"
        """What the header says the wood is busy with (a turn, opening or rewinding a game)."""
        self.quit_after_turn = False
        self.errors: list[str] = []
        """Every error shown to the player (tests read it)."""

    # ------------------------------------------------------------------ the main screen
    def main(self) -> MainScreen | None:
        """The main screen, wherever it is in the stack."""
        for s in self.screen_stack:
            if isinstance(s, MainScreen):
                return s
        return None

    def selected(self) -> str | None:
        """The creature under the ledgers' cursor."""
        m = self.main()
        return m.selected() if m is not None else None

    def header_state(self) -> None:
        """Tell the main screen the speed, whether the wood plays, and whether a turn is in flight."""
        m = self.main()
        if m is not None:
            m.set_play_state(speed_label(SPEEDS[self.speed]), self.playing, self.busy, self.busy_with)

    def refresh_view(self) -> None:
        """Render the session's latest view again (after the player asked for something)."""
        m = self.main()
        if m is not None:
            m.show(self.session.view)

    # ------------------------------------------------------------------ telling the player
    def note(self, text: str, style: str = "bold") -> None:
        """A line in the event log."""
        m = self.main()
        if m is not None:
            m.note(text, style)

    def say(self, text: str, style: str = "bold") -> None:
        """A notification and a line in the event log."""
        self.notify(text)
        self.note(text, style)

    def show_error(self, text: str, title: str = "cannot do that") -> None:
        """Tell the player something went wrong: a notification and a line in the event log."""
        self.errors.append(text)
        self.notify(text, title=title, severity="error", timeout=8)
        self.note(f"{title}: {text}", "bold red")

    def idle(self, what: str) -> bool:
        """True when no turn is in flight; else says so (saving and loading wait for the turn)."""
        if self.busy:
            self.notify(f"a turn is in flight; {what} when it ends (space pauses)", severity="warning")
            return False
        return True

    # ------------------------------------------------------------------ the game played
    def start_saving(self) -> None:
        """Autosave the session from now on (unless this app does not save)."""
        if not self.autosave:
            return
        try:
            self.session.start_saving(self.session.save_path, folder=self.saves_dir)
        except (TTWoodError, OSError) as exc:
            self.autosave = False
            self.show_error(f"{exc}; this game is not being saved", "could not save")

    def use_session(self, session: Session) -> None:
        """Play another game: a fresh main screen for it."""
        self.playing = False
        self.session.close()
        self.session = session
        self.start_saving()
        self.title = session.view.name
        while len(self.screen_stack) > 2 and not isinstance(self.screen, MainScreen):
            self.pop_screen()
        self.switch_screen(MainScreen(session))
        self.call_after_refresh(self.header_state)
        self.notify(f"now playing {escape(session.view.name)} (turn {session.turn})")

    def close_and_exit(self) -> None:
        """Stop saving (the file is left whole) and quit."""
        try:
            self.session.close()
        except (TTWoodError, OSError) as exc:
            self.show_error(str(exc), "could not save")
            return
        self.exit()
