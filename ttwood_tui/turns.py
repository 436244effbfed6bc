"""The engine worker and the keys of time: one turn at a time, off the UI thread.

The next turn is asked for only after the previous one has been rendered, so turns never overlap
(dolphie's ticks). The worker plays the turn through the session, which publishes an immutable
view of it; the screen renders only such views, so it never reads a wood that is being changed.
While the turn decodes, the session's watcher posts how far each creature is (a status message: a
newer one replaces one not handled yet), and the screen writes it into the creatures' rows.
Every worker failure is handled in one place and shown, never raised (harlequin).
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.worker import Worker, WorkerState

from engine.session import Session, SessionView, TTWoodError, TurnInFlight
from ttwood_tui.base import SPEEDS, WoodAppBase
from ttwood_tui.messages import SessionReady, TurnDone, TurnFailed, TurnProgress
from ttwood_tui.player import patron_results


class TurnRunner(WoodAppBase):
    """Plays turns in a worker and renders each one's view when it ends."""

    def request_turn(self) -> None:
        """Start one turn in the worker unless one is already in flight."""
        if self.busy:
            return
        self.busy, self.busy_with = True, "thinking"
        self.header_state()
        self.run_turn()

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine", description="play one turn")
    def run_turn(self) -> SessionView:
        """Play one turn off the UI thread; its view comes back in a :class:`TurnDone` message,
        and while it decodes, :class:`TurnProgress` messages say how far each creature is."""
        self.session.step(self._in_flight)
        view = self.session.view
        self.post_message(TurnDone(view))
        return view

    def _in_flight(self, now: TurnInFlight) -> None:
        """The session's watcher (in the worker thread): hand the view on to the UI thread."""
        self.post_message(TurnProgress(now))

    @on(TurnProgress)
    def _turn_progress(self, message: TurnProgress) -> None:
        m = self.main()
        if self.busy and m is not None and message.now.turn == self.session.turn + 1:
            m.show_progress(message.now)

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
        self.quit_after_turn = False
        self.show_error(message.error, "the engine stopped")
        self.header_state()

    @on(TurnDone)
    def _turn_done(self, message: TurnDone) -> None:
        self.busy = False
        view = self.session.view  # the turn's view, with the player's latest requests
        m = self.main()
        if m is not None:
            m.show(view, fresh=True)
            for line, ok in patron_results(view):
                m.note(line, "bold yellow" if ok else "bold red")
            for text in view.wood.notices:
                m.note(text, "bold red")
        self.header_state()
        if self.quit_after_turn:
            self.close_and_exit()
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

    # ------------------------------------------------------------------ keys: time
    def action_toggle_play(self) -> None:
        self.playing = not self.playing
        if self.playing:
            self.request_turn()
        self.header_state()

    def action_step(self) -> None:
        self.playing = False
        self.request_turn()
        self.header_state()

    def action_faster(self) -> None:
        self.speed = min(len(SPEEDS) - 1, self.speed + 1)
        self.header_state()

    def action_slower(self) -> None:
        self.speed = max(0, self.speed - 1)
        self.header_state()
