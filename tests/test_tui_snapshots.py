"""SVG snapshots of the main screens: scripted brains, seed 3, a 160×50 terminal (and 80×24).

Update them after a deliberate change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui_helpers import SIZE, make_app, settle


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
