"""The Textual app: one session, one engine worker, the screens and the keys.

The engine runs in a thread worker, one turn at a time: the next turn is asked for only after the
previous one has been rendered, so turns never overlap and the screen never reads a wood that is
being changed. Every worker failure is handled in one place and shown, never raised.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from engine.errors import TTWoodError
from engine.game import TurnReport
from engine.session import Session
from ttwood_tui.messages import CreatureChosen, TurnDone, TurnFailed
from ttwood_tui.screens.main import MainScreen

SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.0)
"""Pause between turns while playing, slowest first (seconds)."""


def speed_label(delay: float) -> str:
    return "max" if delay == 0 else f"{1 / delay:g} turn/s"


class TTWoodApp(App[None]):
    """Thousand Token Wood in the terminal."""

    TITLE = "Thousand Token Wood"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("space", "toggle_play", "play/pause", id="play", tooltip="Play turns one after another, or pause (the turn in flight finishes)."),
        Binding("n", "step", "step", id="step", tooltip="Play exactly one turn."),
        Binding("plus,equals_sign", "faster", "faster", id="faster", tooltip="Less pause between turns.", key_display="+"),
        Binding("minus", "slower", "slower", id="slower", tooltip="More pause between turns.", key_display="-"),
        Binding("question_mark", "help", "help", id="help", tooltip="What every key does.", key_display="?"),
        Binding("q", "quit_game", "quit", id="quit", tooltip="Save the game and quit."),
    ]

    def __init__(self, session: Session, *, autosave: bool = True) -> None:
        super().__init__()
        self.session = session
        self.autosave = autosave
        self.speed = 1
        """Index into :data:`SPEEDS`."""
        self.playing = False
        self.busy = False
        """A turn is in flight in the engine worker."""
        self._quit_after_turn = False
        self.errors: list[str] = []
        """Every error shown to the player (tests read it)."""

    # ------------------------------------------------------------------ set-up
    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.session))
        self.title = self.session.name
        self._header_state()

    def _main(self) -> MainScreen | None:
        for s in self.screen_stack:
            if isinstance(s, MainScreen):
                return s
        return None

    def _header_state(self) -> None:
        m = self._main()
        if m is not None:
            m.set_play_state(speed_label(SPEEDS[self.speed]), self.playing, self.busy)

    # ------------------------------------------------------------------ the engine worker
    def request_turn(self) -> None:
        """Start one turn in the worker unless one is already in flight."""
        if self.busy:
            return
        self.busy = True
        self._header_state()
        self.run_turn()

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine", description="play one turn")
    def run_turn(self) -> TurnReport:
        """Play one turn off the UI thread; the result comes back as a :class:`TurnDone` message."""
        report = self.session.step()
        self.post_message(TurnDone(report))
        return report

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures are handled: shown, logged, play paused."""
        if event.worker.group != "engine":
            return
        if event.state == WorkerState.ERROR:
            err = event.worker.error
            text = f"{err.title}: {err.message}" if isinstance(err, TTWoodError) else f"{type(err).__name__}: {err}"
            self.post_message(TurnFailed(text))

    @on(TurnFailed)
    def _turn_failed(self, message: TurnFailed) -> None:
        self.busy = False
        self.playing = False
        self.errors.append(message.error)
        self.notify(message.error, title="the turn failed", severity="error", timeout=10)
        m = self._main()
        if m is not None:
            m.note(f"turn failed: {message.error}", "bold red")
        self._header_state()

    @on(TurnDone)
    def _turn_done(self, message: TurnDone) -> None:
        self.busy = False
        m = self._main()
        if m is not None:
            m.show(message.report)
        self.after_turn(message.report)
        self._header_state()
        if self._quit_after_turn:
            self._save_and_exit()
        elif self.playing:
            self.set_timer(SPEEDS[self.speed], self._next_if_playing)

    def after_turn(self, report: TurnReport) -> None:
        """Hook for what follows a turn (autosave, patron results)."""

    def _next_if_playing(self) -> None:
        if self.playing and not self.busy:
            self.request_turn()

    # ------------------------------------------------------------------ keys
    def action_toggle_play(self) -> None:
        self.playing = not self.playing
        if self.playing:
            self.request_turn()
        self._header_state()

    def action_step(self) -> None:
        self.playing = False
        self.request_turn()
        self._header_state()

    def action_faster(self) -> None:
        self.speed = min(len(SPEEDS) - 1, self.speed + 1)
        self._header_state()

    def action_slower(self) -> None:
        self.speed = max(0, self.speed - 1)
        self._header_state()

    def action_help(self) -> None:
        from ttwood_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_quit_game(self) -> None:
        """Save, then quit; a turn in flight finishes first."""
        self.playing = False
        if self.busy:
            self._quit_after_turn = True
            self.notify("finishing the turn in flight, then saving…")
            return
        self._save_and_exit()

    def _save_and_exit(self) -> None:
        self.exit()

    @on(CreatureChosen)
    def _creature_chosen(self, message: CreatureChosen) -> None:
        pass
