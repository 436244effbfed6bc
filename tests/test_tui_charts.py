"""The charts screen: a turn with no trade is a gap in a price line, the alive axis starts at 0,
and the goods' colours can be told apart."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from textual_plotext import PlotextPlot

from tests.tui_helpers import SIZE, make_app, settle
from ttwood_tui.screens.charts import GOOD_COLOURS, ChartsScreen, runs, series

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_a_series_breaks_where_a_turn_has_no_number() -> None:
    assert runs([1, 2, 3, 4, 5, 6], [4.0, 5.0, None, None, 7.0, None]) == [([1, 2], [4.0, 5.0]), ([5], [7.0])]
    assert runs([1, 2], [None, None]) == []
    assert runs([1, 2, 3], [1.0, 2.0, 3.0]) == [([1, 2, 3], [1.0, 2.0, 3.0])]


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """A rough perceptual distance between two colours ("redmean")."""
    r = (a[0] + b[0]) / 2
    dr, dg, db = (x - y for x, y in zip(a, b, strict=True))
    return math.sqrt((2 + r / 256) * dr * dr + 4 * dg * dg + (2 + (255 - r) / 256) * db * db)


def test_the_goods_colours_are_told_apart() -> None:
    five = GOOD_COLOURS[:5]
    assert min(_distance(a, b) for i, a in enumerate(five) for b in five[i + 1:]) > 150


async def test_prices_have_gaps_alive_starts_at_zero(tmp_path: Path) -> None:
    app = make_app(tmp_path, autosave=False)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(8):
            await pilot.press("n")
            await settle(app, pilot)
        history = app.session.view.wood.history
        goods = app.session.view.wood.goods
        gaps = {g: [p.turn for p in history if p.prices.get(g) is None] for g in goods}
        assert any(gaps.values()), "some good had a turn without a trade (seed 3)"
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, ChartsScreen)
        await pilot.pause()
        monitor = screen.query_one("#chart-prices PlotextPlot", PlotextPlot).plt._active.monitor
        drawn_turns = [t for xs in monitor.x for t in xs]
        for i, good in enumerate(goods):
            values = series(history, f"price:{good}")
            assert [v for v in values if v is not None] == [p.prices[good] for p in history if p.prices.get(good) is not None]
            # no line is drawn through a turn without a trade of that good
            lines = [(xs, ys) for xs, ys, cs in zip(monitor.x, monitor.y, monitor.color, strict=True) if cs[0] == GOOD_COLOURS[i]]
            assert lines, good
            for xs, _ in lines:
                assert not set(xs) & set(gaps[good]), (good, xs, gaps[good])
                assert xs == list(range(xs[0], xs[-1] + 1)), "each drawn stretch is consecutive turns"
        assert drawn_turns
        alive = screen.query_one("#chart-alive PlotextPlot", PlotextPlot).plt._active.monitor
        assert alive.ylim[0][0] == 0
