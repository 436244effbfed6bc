"""The main screen: the map, the ledgers, the talk, the prices and the event log."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from engine.session import Session, SessionView
from ttwood_tui.messages import CreatureChosen
from ttwood_tui.widgets.event_log import EventLog
from ttwood_tui.widgets.forest_map import ForestMap
from ttwood_tui.widgets.game_header import GameHeader
from ttwood_tui.widgets.ledgers import Ledgers
from ttwood_tui.widgets.prices import PriceSparklines
from ttwood_tui.widgets.talk import TalkPanes

NARROW = 120
"""Below this many columns the screen stacks the map over the ledgers and hides the talk and prices."""


def trade_parties(kind: str, text: str) -> set[str]:
    """Who traded in a ``trade`` ("A sold 2 honey to B at 8") or ``deal`` ("A accepted B's offer #3…") event."""
    if kind == "trade" and " sold " in text and " to " in text:
        seller, _, rest = text.partition(" sold ")
        buyer = rest.rpartition(" to ")[2].rpartition(" at ")[0]
        return {seller, buyer}
    if kind == "deal" and " accepted " in text and "'s offer" in text:
        taker, _, rest = text.partition(" accepted ")
        return {taker, rest.partition("'s offer")[0]}
    return set()


class MainScreen(Screen[None]):
    """Everything about the wood at once. The app sets its state with :meth:`show`; every widget
    draws the session's :class:`~engine.session.SessionView` (the last finished turn), never the
    live game."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield GameHeader(id="header")
        with Horizontal(id="top"):
            with Container(id="map-box") as box:
                box.border_title = "the forest"
                yield ForestMap(id="map")
            ledgers = Ledgers(id="ledgers")
            ledgers.border_title = "ledgers  (enter: inspect)"
            yield ledgers
        with Horizontal(id="middle"):
            prices = PriceSparklines(self.session.view.wood.goods, id="prices")
            prices.border_title = "prices"
            yield prices
            yield TalkPanes(id="talk")
        yield EventLog(id="events")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # An opened save (or a rewind) brings its recent turns: show their talk and events.
        view = self.session.view
        for turn in view.wood.recent:
            self.query_one(TalkPanes).add_turn(turn)
            self.query_one(EventLog).add_turn(turn)
        self.show(view)
        self.set_play_state(*self._play_state)
        self.query_one(Ledgers).focus()

    _play_state: tuple[str, bool, bool, str] = ("", False, False, "thinking")

    def set_play_state(self, speed: str, playing: bool, thinking: bool, doing: str = "thinking") -> None:
        """The app tells the screen its speed, whether it plays, and whether it is busy and with
        what (``doing``: "thinking" while a turn is in flight, or opening a game)."""
        self._play_state = (speed, playing, thinking, doing)
        if not self.is_mounted:
            return
        h = self.query_one(GameHeader)
        h.speed, h.playing, h.thinking, h.doing = speed, playing, thinking, doing
        self.query_one(TalkPanes).thinking(thinking and doing == "thinking", self.session.view.turn + 1)

    def selected(self) -> str | None:
        """The creature under the ledgers' cursor."""
        return self.query_one(Ledgers).selected_name()

    def note(self, text: str, style: str = "bold") -> None:
        """A line in the event log from the player's side."""
        self.query_one(EventLog).note(text, style)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    def show(self, view: SessionView, *, fresh: bool = False) -> None:
        """Render a view; ``fresh`` when its turn has just ended (its talk and events are written)."""
        w = view.wood
        traders: set[str] = set()
        turn = w.events
        if turn is not None:
            for e in turn.events:
                traders.update(trade_parties(e.kind, e.text))
            if fresh:
                self.query_one(TalkPanes).add_turn(turn)
                self.query_one(EventLog).add_turn(turn)
        self.query_one(ForestMap).show(w, traders)
        self.query_one(Ledgers).show(view)
        self.query_one(PriceSparklines).show(w)
        h = self.query_one(GameHeader)
        h.game_name = view.name
        h.turn = w.turn
        h.season = w.season
        h.extra = self.session.minds

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(CreatureChosen(str(event.row_key.value)))
