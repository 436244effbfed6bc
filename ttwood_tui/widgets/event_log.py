"""The event log: trades, contracts, defaults, legends, collapses and the player's own doings."""

from __future__ import annotations

from rich.text import Text

from engine.session import TurnEvents
from ttwood_tui.widgets.wrapped_log import WrappedLog

STYLES = {
    "trade": "green",
    "deal": "green",
    "contract": "cyan",
    "settled": "cyan",
    "default": "bold red",
    "legend": "bold magenta",
    "left": "bold red",
    "collapse": "bold yellow",
    "fell": "dark_orange",
}
SHOWN = tuple(STYLES)
"""Event kinds written here (talk goes to the negotiation panes)."""


class EventLog(WrappedLog):
    """A scrolling log of what happened, newest at the bottom, every line wrapped whole."""

    DEFAULT_CSS = """
    EventLog { height: 1fr; border: round $primary; padding: 0 1; border-title-color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(max_lines=1000, id=id)
        self.border_title = "events"

    def add_turn(self, turn: TurnEvents) -> None:
        """Write a turn's events (those worth a line)."""
        for e in turn.events:
            if e.kind in SHOWN:
                line = Text(f"{turn.turn:>3} ", style="dim")
                line.append(e.text, style=STYLES[e.kind])
                self.write(line)

    def note(self, text: str, style: str = "bold") -> None:
        """A line from the player's side: saves, patron results, errors."""
        self.write(Text(f"  » {text}", style=style))
