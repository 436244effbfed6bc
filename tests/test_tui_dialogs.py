"""The action dialogs: Enter in a field submits its tab's form, the focused control stands out,
a form that queued nothing says so, and an offer reads as its terms."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.color import Color
from textual.widgets import Input, Label, Select, TabbedContent

from engine.session import lend
from tests.tui_helpers import SIZE, make_app, settle
from ttwood_tui.dialogs.act import ActionDialog
from ttwood_tui.screens.main import MainScreen

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_enter_in_a_field_submits_its_form(tmp_path: Path) -> None:
    """Enter in the loan's pebbles field queued nothing and left the dialog open."""
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#lend-to", Select).value = "Clover"
        field = dialog.query_one("#lend-pebbles", Input)
        field.focus()
        field.value = "15"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        entry = app.session.player.patron_log[-1]
        assert entry.action.type == "lend" and entry.action.to == "Clover" and entry.action.pebbles == 15  # type: ignore[attr-defined]


async def test_enter_in_an_order_field_submits_the_order_tab(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#act-tabs", TabbedContent).active = "tab-order"
        await pilot.pause()
        dialog.query_one("#order-qty", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.session.player.patron_log[-1].action.type == "order"


async def test_a_form_closed_or_refused_says_nothing_was_queued(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        await pilot.press("p")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert notes == ["nothing queued for Patron (the form was closed)"]
        await pilot.press("p")
        app.screen.query_one("#lend-pebbles", Input).value = "0"
        await pilot.click("#lend-go")
        await pilot.pause()
        assert app.errors and app.errors[-1].endswith("nothing was queued for Patron"), app.errors
        assert not app.session.player.patron_log


async def test_an_empty_message_is_not_queued(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "t", "a")  # Hazel, taken over
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        dialog.query_one("#act-tabs", TabbedContent).active = "tab-talk"
        await pilot.pause()
        dialog.query_one("#talk-text", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog, "the dialog stays open"
        assert "text is empty" in str(dialog.query_one("#act-error", Label).render())


async def test_an_offer_reads_as_its_terms(tmp_path: Path) -> None:
    """It read "#44 from Patron: lend 15 for 2"."""
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        app.session.player.patron_act(lend("Clover", 15, 2, 4))
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("down", "down", "down", "t", "a")  # Clover, taken over
        dialog = app.screen
        assert isinstance(dialog, ActionDialog) and dialog.actor == "Clover"
        dialog.query_one("#act-tabs", TabbedContent).active = "tab-reply"
        await pilot.pause()
        offer = next(o for o in app.session.view.wood.offers if o.sender == "Patron")
        texts = [str(text) for text, _ in dialog.query_one("#reply-offer", Select)._options]
        assert f"#{offer.id} from Patron: lend 15 pebbles at 2 interest, due turn {offer.due}" in texts, texts
        assert offer.due == 1 + 4  # lent in turn 1, due 4 turns on


async def test_the_focused_control_stands_out(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        field = dialog.query_one("#lend-pebbles", Input)
        other = dialog.query_one("#lend-interest", Input)
        field.focus()
        await pilot.pause(0.3)  # styles follow focus on the next refresh
        warning = Color.parse(app.get_css_variables()["warning"])
        assert field.styles.border_top[1] == warning, "the focused field has a bright border"
        assert other.styles.border_top[1] != warning
        dialog.query_one("#lend-go").focus()
        await pilot.pause(0.3)
        assert dialog.query_one("#lend-go").styles.border_top[1] == warning and field.styles.border_top[1] != warning
