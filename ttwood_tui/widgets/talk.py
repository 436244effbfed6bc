"""The negotiation panes: the clearing (public) and the private threads (whispers and offers)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal

from engine.session import TurnEvents
from ttwood_tui.widgets.wrapped_log import WrappedLog

PRIVATE_KINDS = ("whisper", "offer", "deal", "contract")
TITLES = {"clearing": "the clearing", "private": "private threads"}
"""Each pane's id and its title."""


class TalkPanes(Horizontal):
    """Two logs side by side; each turn's words are written creature by creature as they arrive.
    Every line is whole, wrapped at its pane's width."""

    DEFAULT_CSS = """
    TalkPanes { height: 1fr; }
    TalkPanes WrappedLog { width: 1fr; border: round $secondary; padding: 0 1; border-title-color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        for pane, title in TITLES.items():
            log = WrappedLog(max_lines=400, id=pane)
            log.border_title = title
            yield log

    def hint(self, pane: str, text: str) -> None:
        """Add ``text`` (how to see the other panes) to a pane's title, or take it away (``""``)."""
        self.query_one(f"#{pane}", WrappedLog).border_title = f"{TITLES[pane]}  {text}".rstrip()

    def thinking(self, on: bool, turn: int) -> None:
        """Show (or clear) the "thinking…" mark while the creatures decide."""
        for log in self.query(WrappedLog):
            log.border_subtitle = f"turn {turn}: thinking…" if on else ""

    def add_turn(self, turn: TurnEvents) -> None:
        """Write what each creature said, whispered and offered this turn, creature by creature."""
        clearing = self.query_one("#clearing", WrappedLog)
        private = self.query_one("#private", WrappedLog)
        for e in turn.events:
            if e.kind == "say":
                who, _, text = e.text.partition(": ")
                line = Text(f"{turn.turn:>3} ", style="dim")
                line.append(who, style="bold")
                line.append(f": {text}")
                clearing.write(line)
            elif e.kind in ("default", "legend"):
                clearing.write(Text(f"{turn.turn:>3} {e.text}", style="bold red" if e.kind == "default" else "bold magenta"))
            elif e.kind in PRIVATE_KINDS:
                style = {"whisper": "italic", "offer": "", "deal": "green", "contract": "cyan"}[e.kind]
                line = Text(f"{turn.turn:>3} ", style="dim")
                line.append(e.text, style=style)
                private.write(line)
