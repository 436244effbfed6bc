"""A scrolling log whose every line is whole, wrapped at the log's own width.

Textual's ``RichLog`` lays a line out once, when it is written, at least 78 cells wide: in a
narrower pane the rest of each laid-out line is cut off at the edge, so the middle of a long line
is lost, and a line written while the pane was hidden or another size keeps that size. This log
keeps what was written and lays it out again whenever its width changes (a line-API
:class:`~textual.scroll_view.ScrollView`, as toolong's ``log_lines.py``).
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class WrappedLog(ScrollView, can_focus=True):
    """Lines of text, newest at the bottom, wrapped at the width the log has now. It follows the
    newest line unless the reader has scrolled up."""

    DEFAULT_CSS = """
    WrappedLog { height: 1fr; scrollbar-size-vertical: 1; scrollbar-gutter: stable; overflow-x: hidden; }
    """

    def __init__(self, *, max_lines: int = 1000, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        """``max_lines``: written lines kept (the oldest go first)."""
        super().__init__(id=id, classes=classes)
        self.entries: deque[Text] = deque(maxlen=max_lines)
        """Everything written that is kept, oldest first (one entry may take several rows)."""
        self._rows: list[Strip] = []
        self._laid_out_at = 0
        """The width :attr:`_rows` were laid out at (0: not yet)."""
        self.following = True
        """Whether the log shows the newest line as lines come (until the reader scrolls up)."""

    def write(self, text: Text | str) -> None:
        """Add a line at the bottom (it wraps over as many rows as it needs)."""
        entry = Text(text) if isinstance(text, str) else text
        dropped = len(self.entries) == self.entries.maxlen
        self.entries.append(entry)
        width = self._width()
        if dropped or width != self._laid_out_at:
            self._lay_out(width)
        elif width:
            self._rows.extend(self._wrap(entry, width))
            self._sized()

    def clear(self) -> None:
        """Forget every line."""
        self.entries.clear()
        self._rows = []
        self._sized()

    @property
    def rows(self) -> list[str]:
        """The rows as laid out now, as plain text (what the screen shows, scrolled)."""
        return [strip.text for strip in self._rows]

    def _width(self) -> int:
        return max(0, self.scrollable_content_region.width)

    def _wrap(self, entry: Text, width: int) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(width)
        return [Strip(line) for line in console.render_lines(entry, options, pad=False)]

    def _lay_out(self, width: int) -> None:
        self._laid_out_at = width
        self._rows = [row for entry in self.entries for row in self._wrap(entry, width)] if width else []
        self._sized()

    def _sized(self) -> None:
        self.virtual_size = Size(self._laid_out_at, len(self._rows))
        if self.following:
            self._follow()  # at once, for the size known now ...
            self.call_after_refresh(self._follow)  # ... and again once a new size is laid out
        self.refresh()

    def _follow(self) -> None:
        """Show the newest row (once the new size has been laid out)."""
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.following = new >= self.max_scroll_y

    def on_resize(self) -> None:
        width = self._width()
        if width != self._laid_out_at:
            self._lay_out(width)
        elif self.following:  # a new height: the newest row may have dropped below the edge
            self._follow()
            self.call_after_refresh(self._follow)

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if 0 <= row < len(self._rows):
            return self._rows[row].crop(0, width).extend_cell_length(width).apply_style(self.rich_style)
        return Strip.blank(width, self.rich_style)
