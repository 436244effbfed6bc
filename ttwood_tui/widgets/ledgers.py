"""Every creature's books in one table: pebbles, goods, health, debts, credit, tokens and its thought.

While a turn decodes, each row says whether its creature waits, thinks (with its answer's tokens
so far) or is done, and its thought is written into the row as the brain writes it."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from engine.session import PEBBLES, CreatureView, SessionView, ThinkingView, TurnInFlight

COLUMNS = ("creature", "brain", "pebbles", "goods", "health", "debts", "credit", "tokens")
TOKENS_WIDTH = len("thinking 999")
"""The tokens column holds ``used/budget`` between turns and the state while one is in flight."""
THOUGHT_LEAST = 12
"""Cells the thought column keeps however narrow the table (it gets whatever room the others leave)."""
THOUGHT = ColumnKey("thought")
STATE_STYLES = {"waiting": "dim", "thinking": "bold cyan", "done": "green"}


def goods_text(c: CreatureView, goods: tuple[str, ...]) -> str:
    """``fi6 ho2 ac2``: each good held (free and escrowed), two letters and a count."""
    return " ".join(f"{g[:2]}{c.total(g)}" for g in goods if c.total(g)) or "—"


def debts_text(c: CreatureView) -> str:
    """``-20 +5``: units (pebbles and goods) it owes and is owed under active contracts."""
    parts = ([f"-{c.owes}"] if c.owes else []) + ([f"+{c.owed}"] if c.owed else [])
    return " ".join(parts) or "—"


def thought_text(thought: str, width: int, *, writing: bool = False) -> Text:
    """A thought on one line cut to ``width`` cells: its start, or its newest words while it is
    being ``writing``."""
    one = " ".join(thought.split())
    if not one:
        return Text("—", style="dim")
    if writing:
        if cell_len(one) > width:  # its newest words
            one = one[-(width - 1):]
            while cell_len(one) > width - 1:
                one = one[1:]
            one = "…" + one
        return Text(one, style="italic")
    t = Text(one, style="dim italic")
    t.truncate(width, overflow="ellipsis")
    return t


def state_text(c: ThinkingView) -> Text:
    """``waiting``, ``thinking 23`` or ``done 58``: where a creature is in the turn in flight, with
    its answer's tokens so far."""
    tokens = f" {c.tokens}" if c.tokens and c.state != "waiting" else ""
    return Text(c.state + tokens, style=STATE_STYLES.get(c.state, ""))


def health_text(c: CreatureView, max_health: int) -> Text:
    if not c.alive:
        return Text("left", style="dim")
    style = "green" if c.health > max_health * 0.6 else ("yellow" if c.health > max_health * 0.3 else "bold red")
    t = Text(str(c.health), style=style)
    if c.hungry:
        t.append(" hungry", style="yellow")
    if c.cold:
        t.append(" cold", style="cyan")
    return t


def cell_width(cell: Text | str) -> int:
    """Cells a table cell takes on one line (a string cell is markup to the table)."""
    return (cell if isinstance(cell, Text) else Text.from_markup(cell)).cell_len


class Ledgers(DataTable[Text | str]):
    """One row per creature (the Patron last); select a row to inspect that creature. The thought
    column takes the room the other columns leave (at least :data:`THOUGHT_LEAST` cells).

    The table sets every column's width itself, as it fills the rows, rather than leave them to
    the :class:`DataTable`, which measures its columns only when it is next idle: whatever it drew
    before then it keeps (its cache of drawn cells does not notice a column grow), so a refresh
    that came first drew the new rows at the old widths until the next change to the table."""

    DEFAULT_CSS = """
    Ledgers {
        height: auto;
        max-height: 100%;
    }
    """

    _view: SessionView | None = None
    _now: TurnInFlight | None = None
    _thoughts: dict[str, tuple[str, bool]] = {}
    """Each row's thought as shown, and whether it is being written."""
    _cells: list[list[Text | str]] = []
    """The other columns' cells as last shown (what the thought column's room is reckoned from)."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self._thoughts, self._cells = {}, []
        for col in COLUMNS:
            self.add_column(col, key=col, width=TOKENS_WIDTH if col == "tokens" else cell_len(col))
        self.add_column("thought", width=THOUGHT_LEAST, key=THOUGHT.value)

    def on_resize(self, event: events.Resize) -> None:
        before = self.columns[THOUGHT].width
        if self._fit_columns() != before:
            for name in self._thoughts:
                self._write_thought(name)

    def show(self, view: SessionView) -> None:
        """Refill the table from a view of the wood, keeping the cursor on the same row (and, while
        a turn is in flight, what it has shown of that turn)."""
        self._view = view
        row = self.cursor_row
        w = view.wood
        rows: list[tuple[str, list[Text | str]]] = []
        for c in w.creatures:
            name = Text(f"{c.glyph} ", style=f"bold {c.colour or 'white'}")
            name.append(c.name, style="bold" if c.alive else "dim strike")
            used = c.decided.tokens if c.decided is not None else None
            brain = view.brain(c.name)
            rows.append((c.name, [
                name,
                Text(brain, style="bold magenta" if brain == "human" else "dim"),
                Text(str(c.total(PEBBLES)), justify="right"),
                goods_text(c, w.goods),
                health_text(c, w.max_health) if c.role != "patron" else Text("—", style="dim"),
                debts_text(c),
                Text(str(c.credit), justify="right"),
                Text("—" if used is None else f"{used}/{w.token_budget}", style="red" if used and used > w.token_budget else ""),
            ]))
        self.clear()
        self._cells = [cells for _, cells in rows]
        width = self._fit_columns()  # before the rows go in: they are drawn at these widths
        self._thoughts = {c.name: (c.decided.thinking if c.decided is not None else "", False) for c in w.creatures}
        for key, cells in rows:
            self.add_row(*cells, thought_text(self._thoughts[key][0], width), key=key)
        if self.row_count:
            self.move_cursor(row=min(max(row, 0), self.row_count - 1))
        if self._now is not None and self._now.turn == view.turn + 1:
            self.show_progress(self._now)

    def _fit_columns(self) -> int:
        """Make each column as wide as the cells last shown in it (never narrower than it was, so
        the columns do not jump about from turn to turn) and give the thought column the room the
        others leave; return the thought column's width."""
        pad = 2 * self.cell_padding
        others = 0
        for i, column in enumerate(list(self.columns.values())[: len(COLUMNS)]):
            column.width = max([column.width, column.label.cell_len, *(cell_width(row[i]) for row in self._cells)])
            others += pad + column.width
        thought = self.columns[THOUGHT]
        thought.width = max(THOUGHT_LEAST, self.scrollable_content_region.width - others - pad)
        return thought.width

    def _write_thought(self, name: str) -> None:
        text, writing = self._thoughts[name]
        self.update_cell(name, THOUGHT, thought_text(text, self.columns[THOUGHT].width, writing=writing), update_width=True)

    def show_progress(self, now: TurnInFlight) -> None:
        """Each deciding creature's state, tokens and thought so far in its row (the tokens column
        says the state until the turn's view replaces it)."""
        self._now = now
        for c in now.creatures:
            if c.name not in self._thoughts:
                continue
            self.update_cell(c.name, "tokens", state_text(c))
            self._thoughts[c.name] = (c.thought, c.state == "thinking")
            self._write_thought(c.name)

    def end_progress(self) -> None:
        """No turn is in flight any more: a turn that failed leaves its rows as its view had them."""
        now, self._now = self._now, None
        if now is not None and self._view is not None and now.turn == self._view.turn + 1:
            self.show(self._view)

    def selected_name(self) -> str | None:
        """The creature under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value)
