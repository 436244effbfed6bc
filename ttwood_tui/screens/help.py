"""Help: every key, read from the app's own bindings so it can never drift from them."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "Thousand Token Wood: creatures trade, haggle, lend and default while you watch. "
    "The Patron (P) is you: lend, trade, tip and broker with the same actions the creatures use. "
    "Take over a creature to play its turns."
)


class HelpScreen(ModalScreen[None]):
    """What every key does (escape or ? closes it)."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2; }
    """
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "close", id="help-close", tooltip="Back to the wood."),
    ]

    def compose(self) -> ComposeResult:
        table = Table(show_header=True, header_style="bold", box=None, expand=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("does")
        table.add_column("how", style="dim")
        for b in self.app.BINDINGS:
            if isinstance(b, Binding):
                table.add_row(b.key_display or b.key.split(",")[0], b.description, b.tooltip)
        with VerticalScroll():
            yield Static(INTRO + "\n")
            yield Static(table)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
