"""Shared set-up for the terminal UI tests: a scripted game with a fixed seed."""

from __future__ import annotations

from pathlib import Path

from engine.session import Session
from ttwood.cli_play import brain_maker, open_session
from ttwood_tui.app import TTWoodApp
from ttwood_tui.screens.games import GameChoice

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
    """Wait for the engine worker, the messages it posted, and what rendering them queued. (The
    ledgers set their column widths as they fill their rows: nothing to wait for there.)"""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.busy:
            await pilot.pause()
            return
    raise AssertionError("the engine worker never finished")


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
