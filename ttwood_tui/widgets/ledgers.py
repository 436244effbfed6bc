"""Every creature's books in one table: pebbles, goods, health, debts, credit and tokens."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from engine.session import PEBBLES, CreatureView, SessionView

COLUMNS = ("creature", "brain", "pebbles", "goods", "health", "debts", "credit", "tokens")


def goods_text(c: CreatureView, goods: tuple[str, ...]) -> str:
    """``fi6 ho2 ac2``: each good held (free and escrowed), two letters and a count."""
    return " ".join(f"{g[:2]}{c.total(g)}" for g in goods if c.total(g)) or "—"


def debts_text(c: CreatureView) -> str:
    """``-20 +5``: units (pebbles and goods) it owes and is owed under active contracts."""
    parts = ([f"-{c.owes}"] if c.owes else []) + ([f"+{c.owed}"] if c.owed else [])
    return " ".join(parts) or "—"


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


class Ledgers(DataTable[Text | str]):
    """One row per creature (the Patron last); select a row to inspect that creature."""

    DEFAULT_CSS = """
    Ledgers {
        height: auto;
        max-height: 100%;
    }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for col in COLUMNS:
            self.add_column(col, key=col)

    def show(self, view: SessionView) -> None:
        """Refill the table from a view of the wood, keeping the cursor on the same row."""
        row = self.cursor_row
        self.clear()
        w = view.wood
        for c in w.creatures:
            name = Text(f"{c.glyph} ", style=f"bold {c.colour or 'white'}")
            name.append(c.name, style="bold" if c.alive else "dim strike")
            used = c.decided.tokens if c.decided is not None else None
            brain = view.brain(c.name)
            self.add_row(
                name,
                Text(brain, style="bold magenta" if brain == "human" else "dim"),
                Text(str(c.total(PEBBLES)), justify="right"),
                goods_text(c, w.goods),
                health_text(c, w.max_health) if c.role != "patron" else Text("—", style="dim"),
                debts_text(c),
                Text(str(c.credit), justify="right"),
                Text("—" if used is None else f"{used}/{w.token_budget}", style="red" if used and used > w.token_budget else ""),
                key=c.name,
            )
        if self.row_count:
            self.move_cursor(row=min(max(row, 0), self.row_count - 1))

    def selected_name(self) -> str | None:
        """The creature under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value)
