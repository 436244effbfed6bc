"""Pick one thing from a list: a creature, a legend, a save."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


class PickDialog(ModalScreen[str | None]):
    """A titled list; enter picks (dismisses with the option's id), escape cancels (``None``)."""

    DEFAULT_CSS = """
    PickDialog { align: center middle; }
    PickDialog > Vertical { width: 90; max-width: 100%; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 0 1; }
    PickDialog Label { width: 100%; padding: 0 0 1 0; text-style: bold; }
    PickDialog OptionList { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel", id="pick-cancel", tooltip="Close without choosing.")]

    def __init__(self, title: str, options: list[tuple[str, str]], *, highlight: str | None = None, id: str | None = None) -> None:  # noqa: A002
        """``options``: ``(id, text)`` pairs; the text may hold Rich markup."""
        super().__init__(id=id)
        self.title_text = title
        self.options = options
        self.highlight = highlight

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield OptionList(*[Option(text, id=oid) for oid, text in self.options], id="pick-list")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ids = [oid for oid, _ in self.options]
        if self.highlight in ids:
            ol.highlighted = ids.index(self.highlight)
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskTurnDialog(ModalScreen[int | None]):
    """Ask for a turn number (for rewinding)."""

    DEFAULT_CSS = """
    AskTurnDialog { align: center middle; }
    AskTurnDialog > Vertical { width: 60; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel", id="ask-cancel", tooltip="Close without rewinding.")]

    def __init__(self, prompt: str, highest: int) -> None:
        super().__init__()
        self.prompt = prompt
        self.highest = highest

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt)
            yield Input(placeholder=f"0 to {self.highest}", type="integer", id="turn")
            yield Label("", id="ask-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            turn = int(event.value)
        except ValueError:
            turn = -1
        if not 0 <= turn <= self.highest:
            self.query_one("#ask-error", Label).update(f"[red]a turn from 0 to {self.highest}, please[/]")
            return
        self.dismiss(turn)

    def action_cancel(self) -> None:
        self.dismiss(None)
