"""The negotiation panes: the clearing (public) and the private threads (whispers and offers)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import RichLog

from engine.session import TurnEvents

PRIVATE_KINDS = ("whisper", "offer", "deal", "contract")


class TalkPanes(Horizontal):
    """Two logs side by side; each turn's words are written creature by creature as they arrive."""

    DEFAULT_CSS = """
    TalkPanes { height: 1fr; }
    TalkPanes RichLog { width: 1fr; border: round $secondary; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        clearing = RichLog(wrap=True, markup=False, max_lines=400, id="clearing")
        clearing.border_title = "the clearing"
        private = RichLog(wrap=True, markup=False, max_lines=400, id="private")
        private.border_title = "private threads"
        yield clearing
        yield private

    def thinking(self, on: bool, turn: int) -> None:
        """Show (or clear) the "thinking…" mark while the creatures decide."""
        for log in self.query(RichLog):
            log.border_subtitle = f"turn {turn}: thinking…" if on else ""

    def add_turn(self, turn: TurnEvents) -> None:
        """Write what each creature said, whispered and offered this turn, creature by creature."""
        clearing = self.query_one("#clearing", RichLog)
        private = self.query_one("#private", RichLog)
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
