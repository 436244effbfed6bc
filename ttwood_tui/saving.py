"""The keys for games and saves: save now, open a save, rewind, the games screen, save and quit.

Each waits for the turn in flight: the session is saved, branched or replaced only between turns.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work

from engine.session import TTWoodError
from ttwood_tui.dialogs.pick import AskTurnDialog, PickDialog
from ttwood_tui.messages import Listed
from ttwood_tui.screens.games import GameChoice, GamesScreen, list_games, save_options
from ttwood_tui.turns import TurnRunner


class GamesAndSaves(TurnRunner):
    """Saving, opening, rewinding and quitting."""

    def _save(self) -> Path | None:
        try:
            path = self.session.save(folder=self.saves_dir)
        except (TTWoodError, OSError) as exc:
            self.show_error(str(exc), "could not save")
            return None
        self.notify(f"saved to {path}")
        self.note(f"saved turn {self.session.turn} to {path}")
        return path

    def action_save(self) -> None:
        if self.idle("saving happens"):
            self._save()

    def action_open(self) -> None:
        self.notify(f"reading the saves in {self.saves_dir}/ …", timeout=2)
        self._list_saves()

    @work(thread=True, exclusive=True, exit_on_error=False, group="listing", description="list the saves")
    def _list_saves(self) -> None:
        """Read the saves folder off the UI thread (each save is checked); a :class:`Listed` message brings it."""
        self.post_message(list_games(self.saves_dir, "open", scenarios=False))

    @on(Listed)
    def _saves_listed(self, message: Listed) -> None:
        if message.purpose != "open":
            return
        if message.error is not None:
            self.show_error(message.error)
            return
        options = save_options(message.saves, self.session.view.save)
        if not options:
            self.show_error(f"no saves in {self.saves_dir}/ yet")
            return
        self.push_screen(PickDialog("Open a saved game", options, id="open-dialog"), self._open_chosen)

    def _open_chosen(self, path: str | None) -> None:
        if path is not None:
            self._load(GameChoice(save=Path(path), brain=self.session.brain_label))

    def action_rewind(self) -> None:
        if not self.idle("rewinding happens"):
            return
        self.push_screen(AskTurnDialog(f"Branch a new game from {escape(self.session.view.name)} at turn…", self.session.turn),
                         self._rewind_to)

    def _rewind_to(self, turn: int | None) -> None:
        if turn is None:
            return
        old = self.session
        self.busy, self.busy_with = True, "rewinding (the game is played again up to that turn)"
        self.header_state()
        self.build_session(lambda: old.rewind(turn, self.saves_dir))

    def action_games(self) -> None:
        s, view = self.session, self.session.view
        playing = None if view.save is None else Path(view.save)
        self.push_screen(GamesScreen(self.saves_dir, playing, brain=s.brain_label, seed=view.seed), self._game_chosen)

    def _game_chosen(self, choice: GameChoice | None) -> None:
        if choice is not None:
            self._load(choice)

    def _load(self, choice: GameChoice) -> None:
        if not self.idle("opening a game happens"):
            return
        if self.factory is None:
            self.show_error("this app was started without a way to build games")
            return
        self.busy = True
        self.busy_with = "opening the save (it is checked turn by turn)" if choice.save is not None else "starting the game"
        self.header_state()
        factory = self.factory
        self.build_session(lambda: factory(choice))

    def action_quit_game(self) -> None:
        """Save, then quit; a turn in flight finishes first."""
        self.playing = False
        if self.busy:
            self.quit_after_turn = True
            self.notify("finishing the turn in flight, then saving…")
            return
        self.close_and_exit()
