"""The Textual app: one session, one engine worker, the screens and the keys.

The engine runs in a thread worker, one turn at a time: the next turn is asked for only after the
previous one has been rendered, so turns never overlap and the screen never reads a wood that is
being changed. Every worker failure is handled in one place and shown, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from engine.core.errors import TTWoodError
from engine.session import Session, list_saves, saves_folder
from engine.turn.game import TurnReport
from ttwood_tui.commands import WoodCommands
from ttwood_tui.dialogs.act import ActionDialog, Request
from ttwood_tui.dialogs.pick import AskTurnDialog, PickDialog
from ttwood_tui.messages import CreatureChosen, SessionReady, TurnDone, TurnFailed
from ttwood_tui.player import carry_out, patron_results
from ttwood_tui.screens.charts import ChartsScreen
from ttwood_tui.screens.games import GameChoice, GamesScreen
from ttwood_tui.screens.help import HelpScreen
from ttwood_tui.screens.inspector import InspectorScreen
from ttwood_tui.screens.main import MainScreen

SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.0)
"""Pause between turns while playing, slowest first (seconds)."""

SessionFactory = Callable[[GameChoice], Session]
"""Builds a session for a choice made on the games screen."""


def speed_label(delay: float) -> str:
    return "max" if delay == 0 else f"{1 / delay:g} turn/s"


class TTWoodApp(App[None]):
    """Thousand Token Wood in the terminal."""

    TITLE = "Thousand Token Wood"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {WoodCommands}
    BINDINGS = [
        Binding("space", "toggle_play", "play", id="play", tooltip="Play turns one after another, or pause (the turn in flight finishes)."),
        Binding("n", "step", "step", id="step", tooltip="Play exactly one turn."),
        Binding("plus,equals_sign", "faster", "faster", id="faster", tooltip="Less pause between turns.", key_display="+"),
        Binding("minus", "slower", "slower", id="slower", tooltip="More pause between turns.", key_display="-"),
        Binding("l", "legend", "legend", id="legend", tooltip="Choose a legend (a shock) to fire at the start of the next turn."),
        Binding("i", "inspect", "inspect", id="inspect", tooltip="What the selected creature saw, answered, and why anything was refused."),
        Binding("p", "patron", "patron", id="patron", tooltip="Act as the Patron: lend, place an order, whisper a tip, broker a deal."),
        Binding("t", "take_over", "take over", id="take-over", tooltip="Play the selected creature's turns yourself (again: give it back)."),
        Binding("a", "act", "act", id="act", tooltip="Queue an action for a creature you have taken over."),
        Binding("c", "charts", "charts", id="charts", tooltip="Prices, Gini, trees and trades over the whole game."),
        Binding("s", "save", "save", id="save", tooltip="Save the game now (it also saves after every turn)."),
        Binding("o", "open", "open", id="open", tooltip="Open a saved game."),
        Binding("r", "rewind", "rewind", id="rewind", tooltip="Branch a new game from this one at an earlier turn."),
        Binding("g", "games", "games", id="games", tooltip="New game, continue the last game, or open a save."),
        Binding("question_mark", "help", "help", id="help", tooltip="What every key does.", key_display="?"),
        Binding("q", "quit_game", "quit", id="quit", tooltip="Save the game and quit."),
    ]

    def __init__(self, session: Session, *, factory: SessionFactory | None = None, saves_dir: Path | None = None, autosave: bool = True) -> None:
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
        self._quit_after_turn = False
        self.errors: list[str] = []
        """Every error shown to the player (tests read it)."""

    # ------------------------------------------------------------------ set-up
    def on_mount(self) -> None:
        self._start_saving()
        self.push_screen(MainScreen(self.session))
        self.title = self.session.name
        self.call_after_refresh(self._header_state)

    def _main(self) -> MainScreen | None:
        for s in self.screen_stack:
            if isinstance(s, MainScreen):
                return s
        return None

    def _header_state(self) -> None:
        m = self._main()
        if m is not None:
            m.set_play_state(speed_label(SPEEDS[self.speed]), self.playing, self.busy)

    def show_error(self, text: str, title: str = "cannot do that") -> None:
        """Tell the player something went wrong: a notification and a line in the event log."""
        self.errors.append(text)
        self.notify(text, title=title, severity="error", timeout=8)
        m = self._main()
        if m is not None:
            m.note(f"{title}: {text}", "bold red")

    def _idle(self, what: str) -> bool:
        """True when no turn is in flight; else says so (saving and loading wait for the turn)."""
        if self.busy:
            self.notify(f"a turn is in flight; {what} when it ends (space pauses)", severity="warning")
            return False
        return True

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

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine", description="open a game")
    def build_session(self, make: Callable[[], Session]) -> Session:
        """Build a session (new game or opened save; loading a model can take a while) off the UI thread."""
        session = make()
        self.post_message(SessionReady(session))
        return session

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures are handled: shown, logged, play paused."""
        if event.worker.group != "engine" or event.state != WorkerState.ERROR:
            return
        err = event.worker.error
        text = f"{err.title}: {err.message}" if isinstance(err, TTWoodError) else f"{type(err).__name__}: {err}"
        self.post_message(TurnFailed(text))

    @on(TurnFailed)
    def _turn_failed(self, message: TurnFailed) -> None:
        self.busy = False
        self.playing = False
        self._quit_after_turn = False
        self.show_error(message.error, "the engine stopped")
        self._header_state()

    @on(TurnDone)
    def _turn_done(self, message: TurnDone) -> None:
        self.busy = False
        report = message.report
        m = self._main()
        if m is not None:
            m.show(report)
            for line, ok in patron_results(self.session, report):
                m.note(line, "bold yellow" if ok else "bold red")
        self._header_state()
        if self._quit_after_turn:
            self._close_and_exit()
        elif self.playing:
            delay = SPEEDS[self.speed]
            if delay:
                self.set_timer(delay, self._next_if_playing)
            else:  # Textual timers refuse a zero interval; at full speed the next turn waits only for a refresh
                self.call_after_refresh(self._next_if_playing)

    def _next_if_playing(self) -> None:
        if self.playing and not self.busy:
            self.request_turn()

    @on(SessionReady)
    def _session_ready(self, message: SessionReady) -> None:
        self.busy = False
        self.use_session(message.session)

    def use_session(self, session: Session) -> None:
        """Play another game: a fresh main screen for it."""
        self.playing = False
        self.session.close()
        self.session = session
        self._start_saving()
        self.title = session.name
        while len(self.screen_stack) > 2 and not isinstance(self.screen, MainScreen):
            self.pop_screen()
        self.switch_screen(MainScreen(session))
        self.call_after_refresh(self._header_state)
        self.notify(f"now playing {session.name} (turn {session.turn})")

    # ------------------------------------------------------------------ keys: time
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

    # ------------------------------------------------------------------ keys: the wood
    def _selected(self) -> str | None:
        m = self._main()
        return m.selected() if m is not None else None

    def action_legend(self) -> None:
        legends = self.session.legends()
        if not legends:
            self.show_error("this scenario has no legends the player can call")
            return
        options = [(lg.id, f"[b]{lg.name}[/b]\n  {lg.description}") for lg in legends]
        self.push_screen(PickDialog("Fire a legend at the start of the next turn", options, id="legend-dialog"), self._legend_chosen)

    def _legend_chosen(self, legend_id: str | None) -> None:
        if legend_id is None:
            return
        try:
            self.session.inject(legend_id)
        except TTWoodError as exc:
            self.show_error(exc.message)
            return
        name = next(lg.name for lg in self.session.legends() if lg.id == legend_id)
        self.notify(f"{name} will strike when turn {self.session.turn + 1} starts")
        m = self._main()
        if m is not None:
            m.note(f"legend called: {name} (turn {self.session.turn + 1})", "bold magenta")

    def action_inspect(self, creature: str | None = None) -> None:
        name = creature or self._selected()
        if name is None:
            return
        self.push_screen(InspectorScreen(self.session, name))

    @on(CreatureChosen)
    def _creature_chosen(self, message: CreatureChosen) -> None:
        self.action_inspect(message.name)

    def action_patron(self) -> None:
        p = self.session.patron
        if p is None:
            self.show_error("this game has no Patron (it was started with --no-patron)")
            return
        self.push_screen(ActionDialog(self.session, p.name), lambda r: self._request(p.name, r))

    def action_act(self) -> None:
        taken = sorted(self.session.taken)
        if not taken:
            self.show_error("take a creature over first (t on its ledger row)")
            return
        name = self._selected()
        actor = name if name in taken else taken[0]
        self.push_screen(ActionDialog(self.session, actor), lambda r: self._request(actor, r))

    def _request(self, actor: str, request: Request | None) -> None:
        if request is None:
            return
        try:
            text = carry_out(self.session, actor, request)
        except (TTWoodError, ValidationError) as exc:
            self.show_error(exc.message if isinstance(exc, TTWoodError) else _pydantic_text(exc))
            return
        self.notify(text)
        m = self._main()
        if m is not None:
            m.note(text, "bold yellow")
            m.show(None)

    def action_take_over(self) -> None:
        name = self._selected()
        if name is None:
            return
        try:
            if name in self.session.taken:
                self.session.give_back(name)
                text = f"{name} is back with its own brain"
            else:
                self.session.take_over(name)
                self.playing = False
                text = f"you play {name} from turn {self.session.turn + 1}: a to act, n to end the turn"
        except TTWoodError as exc:
            self.show_error(exc.message)
            return
        self.notify(text)
        m = self._main()
        if m is not None:
            m.note(text, "bold magenta")
            m.show(None)
        self._header_state()

    def action_charts(self) -> None:
        self.push_screen(ChartsScreen(self.session))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # ------------------------------------------------------------------ keys: games and saves
    def _start_saving(self) -> None:
        if not self.autosave:
            return
        try:
            self.session.start_saving(self.session.save_path, folder=self.saves_dir)
        except (TTWoodError, OSError) as exc:
            self.autosave = False
            self.show_error(f"{exc}; this game is not being saved", "could not save")

    def _save(self, quiet: bool = False) -> Path | None:
        try:
            path = self.session.save() if self.session.saver is not None else self.session.start_saving(folder=self.saves_dir)
        except (TTWoodError, OSError) as exc:
            self.show_error(str(exc), "could not save")
            return None
        if not quiet:
            self.notify(f"saved to {path}")
            m = self._main()
            if m is not None:
                m.note(f"saved turn {self.session.turn} to {path}")
        return path

    def action_save(self) -> None:
        if self._idle("saving happens"):
            self._save()

    def action_open(self) -> None:
        saves = list_saves(self.saves_dir)
        if not saves:
            self.show_error(f"no saves in {self.saves_dir}/ yet")
            return
        options = [(str(p), p.name) for p in saves]
        self.push_screen(PickDialog("Open a saved game", options, id="open-dialog"), self._open_chosen)

    def _open_chosen(self, path: str | None) -> None:
        if path is not None:
            self._load(GameChoice(save=Path(path), brain=self.session.brain_label))

    def action_rewind(self) -> None:
        if not self._idle("rewinding happens"):
            return
        self.push_screen(AskTurnDialog(f"Branch a new game from {self.session.name} at turn…", self.session.turn), self._rewind_to)

    def _rewind_to(self, turn: int | None) -> None:
        if turn is None:
            return
        old = self.session
        self.busy = True
        self._header_state()
        self.build_session(lambda: old.rewind(turn, self.saves_dir))

    def action_games(self) -> None:
        self.push_screen(GamesScreen(self.saves_dir), self._game_chosen)

    def _game_chosen(self, choice: GameChoice | None) -> None:
        if choice is not None:
            self._load(choice)

    def _load(self, choice: GameChoice) -> None:
        if not self._idle("opening a game happens"):
            return
        if self.factory is None:
            self.show_error("this app was started without a way to build games")
            return
        self.busy = True
        self._header_state()
        factory = self.factory
        self.build_session(lambda: factory(choice))

    def action_quit_game(self) -> None:
        """Save, then quit; a turn in flight finishes first."""
        self.playing = False
        if self.busy:
            self._quit_after_turn = True
            self.notify("finishing the turn in flight, then saving…")
            return
        self._close_and_exit()

    def _close_and_exit(self) -> None:
        try:
            self.session.close()
        except (TTWoodError, OSError) as exc:
            self.show_error(str(exc), "could not save")
            return
        self.exit()


def _pydantic_text(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "value"
    return f"{where}: {err['msg']}"
