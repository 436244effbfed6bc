"""The main screen: the map, the ledgers, the talk, the prices and the event log."""

from __future__ import annotations

import time

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from engine.session import Session, SessionView, TurnInFlight
from ttwood_tui.messages import CreatureChosen
from ttwood_tui.widgets.event_log import EventLog
from ttwood_tui.widgets.forest_map import ForestMap
from ttwood_tui.widgets.game_header import GameHeader
from ttwood_tui.widgets.ledgers import Ledgers
from ttwood_tui.widgets.prices import PriceSparklines
from ttwood_tui.widgets.talk import TalkPanes

NARROW = 120
"""Below this many columns the screen stacks the map over the ledgers and shows one of the lower
panes at a time (:data:`PANES`, the next one on ``v``)."""
PANES = ("clearing", "private", "events", "prices")
"""The lower panes a narrow screen shows one at a time, in the order ``v`` steps through them; the
clearing first, so a newcomer sees the creatures talk."""
PANE_NAMES = {"clearing": "clearing", "private": "private threads", "events": "events", "prices": "prices"}


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


def pane_hint(shown: str) -> str:
    """What a narrow screen's pane title says about the others: ``(v: private threads, events, prices)``."""
    i = PANES.index(shown)
    others = [PANE_NAMES[p] for p in PANES[i + 1:] + PANES[:i]]
    return f"(v: {', '.join(others)})"


class MainScreen(Screen[None]):
    """Everything about the wood at once (one lower pane at a time on a narrow terminal). The app
    sets its state with :meth:`show`; every widget draws the session's
    :class:`~engine.session.SessionView` (the last finished turn), never the live game."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.pane = PANES[0]
        """The lower pane a narrow screen shows."""
        self.narrow = False

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
        if view.save is not None:
            self.note(f"this game is saved in {view.save} after every turn", "dim")
            self.notify(f"saving to {escape(view.save)}", timeout=6)
        self.set_play_state(*self._play_state)
        self.query_one(Ledgers).focus()

    _play_state: tuple[str, bool, bool, str] = ("", False, False, "thinking")

    def set_play_state(self, pace: str, playing: bool, thinking: bool, doing: str = "thinking") -> None:
        """The app tells the screen its pacing, whether it plays, and whether it is busy and with
        what (``doing``: "thinking" while a turn is in flight, or opening a game)."""
        self._play_state = (pace, playing, thinking, doing)
        if not self.is_mounted:
            return
        h = self.query_one(GameHeader)
        h.pace, h.playing, h.thinking, h.doing = pace, playing, thinking, doing
        if not thinking:
            h.progress, h.started = "", None
            self.query_one(Ledgers).end_progress()
        self.query_one(TalkPanes).thinking(thinking and doing == "thinking", self.session.view.turn + 1)

    def show_progress(self, now: TurnInFlight) -> None:
        """The turn in flight as it decodes: each creature's state, tokens and thought in its row,
        and in the header how many are done and for how long the turn has run."""
        if not self.is_mounted:
            return
        self.query_one(Ledgers).show_progress(now)
        h = self.query_one(GameHeader)
        h.progress = f"{now.done}/{len(now.creatures)} done"
        if h.started is None:
            h.started = time.monotonic() - now.seconds

    def selected(self) -> str | None:
        """The creature under the ledgers' cursor."""
        return self.query_one(Ledgers).selected_name()

    def note(self, text: str, style: str = "bold") -> None:
        """A line in the event log from the player's side."""
        self.query_one(EventLog).note(text, style)

    def on_resize(self, event: events.Resize) -> None:
        self.narrow = event.size.width < NARROW
        self._show_pane()

    def next_pane(self) -> bool:
        """Show the next lower pane on a narrow screen; ``False`` when the screen is wide (all show)."""
        if not self.narrow:
            return False
        self.pane = PANES[(PANES.index(self.pane) + 1) % len(PANES)]
        self._show_pane()
        return True

    def _show_pane(self) -> None:
        self.set_class(self.narrow, "-narrow")
        for p in PANES:
            self.set_class(self.narrow and self.pane == p, f"-show-{p}")
        talk = self.query_one(TalkPanes)
        hint = pane_hint(self.pane) if self.narrow else ""
        for p in ("clearing", "private"):
            talk.hint(p, hint if p == self.pane else "")
        self.query_one(EventLog).border_title = f"events  {hint}".rstrip() if self.pane == "events" else "events"
        self.query_one(PriceSparklines).border_title = f"prices  {hint}".rstrip() if self.pane == "prices" else "prices"

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
        h.last_turn = view.turn_seconds
        h.season = w.season
        h.extra = view.minds

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(CreatureChosen(str(event.row_key.value)))
