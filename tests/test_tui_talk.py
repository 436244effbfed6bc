"""The talk panes: every line whole, wrapped at its pane's width, at 80×24, 120×40 and 160×50; and
at 80×24 (a default terminal) the talk is on screen, with the way to the other panes said.

Before, the panes were Textual ``RichLog``s, which lay a line out once, at least 78 cells wide:
in a 57-cell pane the rest of each laid-out row was cut at the edge, and the middle of a long line
was lost ("LEGEND: The Run on Oona's Hoard — A whisper says" / "(1929, re-skinned)…"). At 80×24
the panes were not shown at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len

from engine.session import tip
from tests.tui_helpers import make_app, settle
from ttwood_tui.app import TTWoodApp
from ttwood_tui.screens.main import MainScreen
from ttwood_tui.widgets.wrapped_log import WrappedLog

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


SIZES = [(80, 24), (120, 40), (160, 50)]
TIP = ("Psst, Oona: the fox has been buying every acorn in the wood at twice the going price, and he "
       "means to sell them back to you all in the depth of winter; hold your honey until the thaw comes.")


def words(text: str) -> str:
    return " ".join(text.split())


async def play_long_lines(app: TTWoodApp, pilot) -> None:  # noqa: ANN001
    """A turn with a legend (a long public line) and a long whispered tip (a long private one)."""
    app.call_legend("run-on-oonas-hoard")
    app.session.player.patron_act(tip("Oona", TIP, planted=False))
    await pilot.press("n")
    await settle(app, pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_talk_line_is_whole_and_wrapped_at_its_pane_width(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=size) as pilot:
        await play_long_lines(app, pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        events = app.session.view.wood.events
        assert events is not None
        legend = next(e.text for e in events.events if e.kind == "legend")
        whisper = next(e.text for e in events.events if e.kind == "whisper" and TIP[:20] in e.text)
        for pane, line in (("clearing", legend), ("private", whisper)):
            while screen.narrow and screen.pane != pane:
                await pilot.press("v")
            await pilot.pause()
            log = screen.query_one(f"#{pane}", WrappedLog)
            width = log.scrollable_content_region.width
            assert width > 20 and log.region.height >= 3, f"{pane} is on screen at {size}"
            assert all(cell_len(row) <= width for row in log.rows)
            assert max(cell_len(row) for row in log.rows) > width - 12, "long lines fill the pane's width"
            assert words(line) in words(" ".join(log.rows)), f"{pane}: the whole line, wrapped, nothing cut"
            assert len(line) > width, "the line is longer than the pane"


async def test_at_80_by_24_the_talk_is_on_screen_and_says_how_to_see_the_rest(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await play_long_lines(app, pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen) and screen.narrow
        clearing = screen.query_one("#clearing", WrappedLog)
        assert clearing.region.height >= 4 and clearing.region.bottom <= 23, "the clearing is on screen, above the footer"
        assert "v: private threads, events, prices" in str(clearing.border_title)
        # what it shows is the newest talk
        shown = [clearing.render_line(y).text for y in range(clearing.scrollable_content_region.height)]
        assert words(" ".join(shown)) and words(" ".join(shown)) in words(" ".join(clearing.rows))
        assert words(" ".join(clearing.rows)).endswith(words(" ".join(shown)))
        seen = []
        for _ in range(4):  # v steps through every lower pane and back to the clearing
            await pilot.press("v")
            await pilot.pause()
            seen.append(screen.pane)
            shown_pane = screen.query_one(f"#{screen.pane}")
            assert shown_pane.region.height >= 4, f"{screen.pane} is on screen"
        assert seen == ["private", "events", "prices", "clearing"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_event_log_shows_its_newest_lines(tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=size) as pilot:
        await play_long_lines(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        while screen.narrow and screen.pane != "events":
            await pilot.press("v")
        await pilot.pause()
        log = screen.query_one("#events", WrappedLog)
        height = log.scrollable_content_region.height
        assert len(log.rows) > height, "more lines than fit"
        shown = [log.render_line(y).text.rstrip() for y in range(height)]
        assert shown == [r.rstrip() for r in log.rows[-height:]]


async def test_a_log_follows_its_newest_line_through_resizes_until_the_reader_scrolls_up(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await play_long_lines(app, pilot)
        log = app.screen.query_one("#events", WrappedLog)

        def newest_shown() -> bool:
            height = log.scrollable_content_region.height
            return [log.render_line(y).text.rstrip() for y in range(height)] == [r.rstrip() for r in log.rows[-height:]]

        assert newest_shown()
        await pilot.resize_terminal(130, 36)
        await pilot.pause(0.2)
        assert all(cell_len(r) <= log.scrollable_content_region.width for r in log.rows), "laid out again at the new width"
        assert newest_shown()
        log.scroll_to(y=0, animate=False)  # the reader scrolls up to read
        await pilot.pause()
        assert not log.following
        await pilot.press("n")
        await settle(app, pilot)
        assert log.scroll_y == 0, "a reader who scrolled up is not pulled down"
        log.scroll_end(animate=False)
        await pilot.pause()
        assert log.following


async def test_the_player_is_told_where_the_game_is_saved(tmp_path: Path) -> None:
    app = make_app(tmp_path)  # saving, as `ttwood play` and every page of `ttwood serve` do
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        save = app.session.view.save
        assert save is not None and Path(save).parent == tmp_path
        events = app.screen.query_one("#events", WrappedLog)
        assert words(f"this game is saved in {save} after every turn") in words(" ".join(events.rows))
