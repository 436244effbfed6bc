"""``ttwood play`` (the terminal UI) and ``ttwood serve`` (the same app in a browser)."""

from __future__ import annotations

import shlex
import sys
from typing import Annotated, Optional

import typer

from engine.scenario import Scenario
from engine.session import Session, is_save
from ttwood.brains import BrainChoice, make_brains


def brain_maker(kind: str):  # noqa: ANN201 - a BrainMaker
    """Build brains of one kind for whatever scenario the session opens."""
    choice = BrainChoice(kind=kind)

    def make(sc: Scenario):  # noqa: ANN202
        return make_brains(sc, choice)

    return make


def open_session(game: str | None, brain: str, seed: int, patron: bool = True) -> Session:
    """A session for a scenario id/path (a new game) or a save file (resumed)."""
    if game is not None and is_save(game):
        return Session.open(game, brain_maker(brain), brain_label=brain)
    return Session.new(game, brain_maker(brain), seed, patron=patron, brain_label=brain)


def play(
    game: Annotated[Optional[str], typer.Argument(help="A bundled scenario id, a scenario .toml, or a save to resume.")] = None,
    brain: Annotated[str, typer.Option("--brain", "-b", help="Who decides: scripted (or a model brain where installed).")] = "scripted",
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the game's one random generator.")] = 1,
    patron: Annotated[bool, typer.Option("--patron/--no-patron", help="Put the player's Patron in the wood.")] = True,
) -> None:
    """Open the wood in the terminal UI (the default scenario when none is given; a save resumes)."""
    from ttwood_tui.app import TTWoodApp
    from ttwood_tui.screens.games import GameChoice

    def factory(choice: GameChoice) -> Session:
        ref = str(choice.save) if choice.save is not None else choice.scenario
        return open_session(ref, choice.brain, choice.seed, patron)

    session = open_session(game, brain, seed, patron)
    TTWoodApp(session, factory=factory).run()


def serve(
    game: Annotated[Optional[str], typer.Argument(help="A scenario or save, as for `ttwood play`.")] = None,
    brain: Annotated[str, typer.Option("--brain", "-b")] = "scripted",
    seed: Annotated[int, typer.Option("--seed", "-s")] = 1,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "localhost",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535)] = 8000,
) -> None:
    """Serve `ttwood play` in a web browser on this machine (textual-serve)."""
    from textual_serve.server import Server

    # Fail here, with a clear message, rather than in every browser tab.
    open_session(game, brain, seed)
    args = ["play", "--brain", brain, "--seed", str(seed)] + ([game] if game else [])
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "ttwood.cli", *args])
    Server(command, host=host, port=port, title="Thousand Token Wood").serve()


def register(app: typer.Typer) -> None:
    """Add ``play`` and ``serve`` to the ``ttwood`` command."""
    app.command("play")(play)
    app.command("serve")(serve)
