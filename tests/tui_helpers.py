"""Shared set-up for the terminal UI tests: a scripted game with a fixed seed."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from engine.session import Session
from ttwood.cli_play import brain_maker, open_session
from ttwood_tui.app import TTWoodApp
from ttwood_tui.screens.games import GameChoice
from ttwood_tui.widgets.ledgers import Ledgers

SEED = 3
SIZE = (160, 50)


def new_session(seed: int = SEED) -> Session:
    return Session.new(None, brain_maker("scripted"), seed)


def make_app(saves: Path, session: Session | None = None, autosave: bool = True) -> TTWoodApp:
    def factory(choice: GameChoice) -> Session:
        ref = str(choice.save) if choice.save is not None else choice.scenario
        return open_session(ref, choice.brain, choice.seed)

    return TTWoodApp(session or new_session(), factory=factory, saves_dir=saves, autosave=autosave)


async def settle(app: TTWoodApp, pilot) -> None:  # noqa: ANN001
    """Wait for the engine worker, the messages it posted, and what rendering them queued (a table
    measures its columns when it is next idle)."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.busy:
            await pilot.pause()
            await measured(app, pilot)
            return
    raise AssertionError("the engine worker never finished")


async def measured(app: TTWoodApp, pilot) -> None:  # noqa: ANN001
    """Wait until the ledgers' columns are as wide as what they hold (a DataTable measures them
    when next idle, which a busy machine may put off past a snapshot)."""
    main = app.main()
    if main is None:
        return
    table = main.query_one(Ledgers)

    def fits() -> bool:
        for key, column in table.columns.items():
            cells = [Text.from_markup(c) if isinstance(c, str) else c for c in table.get_column(key)]
            widest = max([column.label.cell_len, *(c.cell_len for c in cells)])
            if column.auto_width and column.content_width < widest:
                return False
        return True

    for _ in range(200):
        if fits():
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise AssertionError("the ledgers never measured their columns")


def state(session: Session) -> tuple:
    """Everything that makes two games the same game."""
    w = session.wood
    return (
        w.turn,
        [(c.name, dict(c.free), dict(c.escrow), c.health, c.credit, c.alive, list(c.notes)) for c in w.creatures],
        [(t.x, t.y, t.trees, t.collapsed_until) for t in w.tiles],
        sorted(w.book.orders), sorted(w.deals.offers), sorted(w.deals.contracts),
        w.rng.getstate(),
    )
