"""SVG snapshots of the main screens: scripted brains, seed 3, a 160×50 terminal (and 80×24).

Update them after a deliberate change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from engine.session import facade
from tests.test_tui_talk import SIZES, play_long_lines
from tests.tui_helpers import SIZE, make_app, settle


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every turn takes a quarter of a second, so the header's measured time draws the same."""
    ticks = itertools.count()
    monkeypatch.setattr(facade, "clock", lambda: next(ticks) * 0.25)


def _after(turns: int, *keys: str):  # noqa: ANN202
    async def run_before(pilot) -> None:  # noqa: ANN001
        for _ in range(turns):
            await pilot.press("n")
            await settle(pilot.app, pilot)
        for k in keys:
            await pilot.press(k)
            await pilot.pause()

    return run_before


def test_main_screen(snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
    assert snap_compare(make_app(tmp_path, autosave=False), terminal_size=SIZE, run_before=_after(4))


def test_main_screen_small_terminal(snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
    assert snap_compare(make_app(tmp_path, autosave=False), terminal_size=(80, 24), run_before=_after(2))


def test_inspector(snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
    assert snap_compare(make_app(tmp_path, autosave=False), terminal_size=SIZE, run_before=_after(3, "i"))


@pytest.mark.slow
def test_charts(snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
    assert snap_compare(make_app(tmp_path, autosave=False), terminal_size=SIZE, run_before=_after(12, "c"))


def test_patron_form(snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
    assert snap_compare(make_app(tmp_path, autosave=False), terminal_size=SIZE, run_before=_after(1, "p"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_talk_panes_with_long_lines(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # noqa: ANN001
    """A legend and a long whispered tip: every line whole, wrapped at its pane's width; at 80×24
    the clearing is on screen (its title says how to see the other panes)."""

    async def run_before(pilot) -> None:  # noqa: ANN001
        await play_long_lines(pilot.app, pilot)
        pilot.app.clear_notifications()  # (they time out: a slow machine would draw fewer)
        await settle(pilot.app, pilot)
        await pilot.pause()

    assert snap_compare(make_app(tmp_path, autosave=False), terminal_size=size, run_before=run_before)


def test_private_threads_at_80_by_24(snap_compare, tmp_path: Path) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await play_long_lines(pilot.app, pilot)
        pilot.app.clear_notifications()
        await pilot.press("v")
        await settle(pilot.app, pilot)
        await pilot.pause()

    assert snap_compare(make_app(tmp_path, autosave=False), terminal_size=(80, 24), run_before=run_before)
