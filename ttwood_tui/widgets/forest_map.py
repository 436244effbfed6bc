"""The forest map: tiles shaded by the trees standing, dens, and this turn's felling and trades.

A line-API :class:`~textual.scroll_view.ScrollView` with strips cached per turn, so a large map
scrolls without re-rendering (as toolong's ``log_lines.py`` does for logs). It draws a
:class:`~engine.session.WoodView` (a finished turn), never the live wood.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.session import TileKind, WoodView

TILE_W = 3
"""Characters per tile."""
_GREENS = ["#3b2f1e", "#2f4a1f", "#2d5e22", "#2a7326", "#27882a", "#2e9e35"]
"""Background shades from bare ground to full forest."""


def tile_style(kind: TileKind, trees: int, capacity: int, collapsed: bool) -> Style:
    """The background of a tile: greener the more trees stand; collapsed tiles are bare brown."""
    if kind == TileKind.WATER:
        return Style(bgcolor="#1f4e79", color="#8fc1ff")
    if kind == TileKind.MEADOW:
        return Style(bgcolor="#5a5a2a", color="#c8c890")
    if collapsed:
        return Style(bgcolor="#4a2a14", color="#c08050")
    share = trees / capacity if capacity else 0.0
    shade = _GREENS[min(len(_GREENS) - 1, round(share * (len(_GREENS) - 1)))]
    return Style(bgcolor=shade, color="#d8f0c0")


class ForestMap(ScrollView):
    """Renders the wood's tiles, one strip per map row."""

    DEFAULT_CSS = """
    ForestMap {
        width: auto;
        height: auto;
        max-height: 100%;
        scrollbar-size: 1 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self._wood: WoodView | None = None
        self._traders: frozenset[str] = frozenset()
        self._cache: dict[int, Strip] = {}

    def show(self, wood: WoodView, traders: set[str]) -> None:
        """Draw this wood; ``traders`` are the creatures who traded this turn (their dens are marked)."""
        self._wood = wood
        self._traders = frozenset(traders)
        self._cache.clear()
        width, height = wood.map.width, wood.map.height
        self.virtual_size = Size(width * TILE_W, height)
        self.styles.height = height
        self.styles.max_width = width * TILE_W
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = y + scroll_y
        strip = self._cache.get(row)
        if strip is None:
            strip = self._row(row)
            self._cache[row] = strip
        return strip.crop(scroll_x, scroll_x + self.size.width)

    def _row(self, row: int) -> Strip:
        w = self._wood
        if w is None:
            return Strip.blank(self.size.width)
        cap = w.map.tree_capacity
        dens = {c.den: c for c in w.creatures if c.alive}
        segs: list[Segment] = []
        for t in (t for t in w.map.tiles if t.y == row):
            base = tile_style(t.kind, t.trees, cap, t.collapsed)
            c = dens.get((t.x, t.y))
            if c is not None:
                mark = "$" if c.name in self._traders else " "
                glyph = (c.glyph + mark).ljust(TILE_W)[:TILE_W]
                segs.append(Segment(glyph, base + Style(color=c.colour or "white", bold=True)))
            elif t.felled:
                segs.append(Segment(" × ", base + Style(color="#ff9040", bold=True)))
            elif t.kind == TileKind.FOREST:
                ch = "♣♣♣" if t.trees * 3 >= cap * 2 else ("♣ ♣" if t.trees * 3 >= cap else " · ")
                segs.append(Segment(ch[:TILE_W], base))
            elif t.kind == TileKind.WATER:
                segs.append(Segment("~~~"[:TILE_W], base))
            else:
                segs.append(Segment(" " * TILE_W, base))
        return Strip(segs)
