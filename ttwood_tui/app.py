"""The Textual app: one session, one engine worker, the screens and the keys.

The app is put together from layers with one concern each (:mod:`ttwood_tui.base` says which).
Screens, dialogs and widgets render only the session's immutable view of the last finished turn,
and whatever the player asks for is queued by the session until the next turn starts, so nothing
on screen reads or changes the wood while a turn is being played.
"""

from __future__ import annotations

import asyncio
import signal
from typing import ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType

from ttwood_tui.base import SPEEDS, SessionFactory, speed_label
from ttwood_tui.commands import WoodCommands
from ttwood_tui.hands import PlayerHands
from ttwood_tui.messages import CreatureChosen
from ttwood_tui.saving import GamesAndSaves
from ttwood_tui.screens.charts import ChartsScreen
from ttwood_tui.screens.help import HelpScreen
from ttwood_tui.screens.inspector import InspectorScreen
from ttwood_tui.screens.main import MainScreen

__all__ = ["SPEEDS", "SessionFactory", "TTWoodApp", "speed_label"]


class TTWoodApp(PlayerHands, GamesAndSaves):
    """Thousand Token Wood in the terminal."""

    TITLE = "Thousand Token Wood"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {WoodCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_play", "play", id="play", tooltip="Play turns one after another, or pause (the turn in flight finishes)."),
        Binding("n", "step", "step", id="step", tooltip="Play exactly one turn."),
        Binding("plus,equals_sign", "faster", "faster", id="faster", tooltip="Less pause between turns.", key_display="+"),
        Binding("minus", "slower", "slower", id="slower", tooltip="More pause between turns.", key_display="-"),
        Binding("l", "legend", "legend", id="legend", tooltip="Choose a legend (a shock) to fire at the start of the next turn."),
        Binding("i", "inspect", "inspect", id="inspect", tooltip="What the selected creature saw, answered, and why anything was refused."),
        Binding("p", "patron", "patron", id="patron", tooltip="Act as the Patron: lend, place an order, whisper a tip, broker a deal."),
        Binding("t", "take_over", "take over", id="take-over",
                tooltip="Play the selected creature's turns yourself (again: give it back)."),
        Binding("a", "act", "act", id="act", tooltip="Queue an action for a creature you have taken over."),
        Binding("c", "charts", "charts", id="charts", tooltip="Prices, Gini, trees and trades over the whole game."),
        Binding("v", "next_pane", "pane", id="pane",
                tooltip="On a narrow terminal: show the next lower pane (the clearing, private threads, events, prices)."),
        Binding("s", "save", "save", id="save", tooltip="Save the game now (it also saves after every turn)."),
        Binding("o", "open", "open", id="open", tooltip="Open a saved game."),
        Binding("r", "rewind", "rewind", id="rewind", tooltip="Branch a new game from this one at an earlier turn."),
        Binding("g", "games", "games", id="games", tooltip="New game, continue the last game, or open a save."),
        Binding("question_mark", "help", "help", id="help", tooltip="What every key does.", key_display="?"),
        Binding("q", "quit_game", "quit", id="quit", tooltip="Save the game and quit."),
    ]

    def on_mount(self) -> None:
        self._stop_on_signals()
        self.start_saving()
        self.push_screen(MainScreen(self.session))
        self.title = self.session.view.name
        self.call_after_refresh(self.header_state)

    def _stop_on_signals(self) -> None:
        """SIGTERM and SIGHUP (a closed terminal) save and quit as the quit key does."""
        try:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(sig, self.action_quit_game)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signals here
            return
        self._signals = True

    def on_unmount(self) -> None:
        if getattr(self, "_signals", False):
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)

    # ------------------------------------------------------------------ keys: looking
    def action_inspect(self, creature: str | None = None) -> None:
        name = creature or self.selected()
        if name is None:
            return
        self.push_screen(InspectorScreen(self.session.view, name))

    @on(CreatureChosen)
    def _creature_chosen(self, message: CreatureChosen) -> None:
        self.action_inspect(message.name)

    def action_charts(self) -> None:
        self.push_screen(ChartsScreen(self.session.view))

    def action_next_pane(self) -> None:
        m = self.main()
        if m is not None and self.screen is m and not m.next_pane():
            self.notify("every pane is on screen at this width")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
