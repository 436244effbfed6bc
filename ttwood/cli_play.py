"""``ttwood play`` (the terminal UI) and ``ttwood serve`` (the same app in a browser)."""

from __future__ import annotations

import difflib
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from engine import scenario as scenarios
from engine.core.errors import ScenarioError, TTWoodError
from engine.minds.factory import DEFAULT_KIND, BrainChoice
from engine.saves import SUFFIX, is_save, look_up_save, save_name, saves_dir
from engine.session import Session
from engine.session.resume import ChoiceMaker, chooser
from ttwood.options import (
    DEFAULTS,
    Adapter,
    BaseUrl,
    Brain,
    GpuLayers,
    Model,
    Seed,
    Server,
    Threads,
    Timeout,
    brain_choice,
    given,
)


def brain_maker(kind: str, seed: int = 1, options: BrainChoice = DEFAULTS) -> ChoiceMaker:
    """Build brains of one kind for whatever scenario the session opens, with the model and server
    options of ``options``."""
    return ChoiceMaker(replace(options, kind=kind, seed=seed))


def as_save(game: str | None) -> str | None:
    """The save ``game`` names, if it names one (``engine.saves.look_up_save``: a ``.ttwood`` path,
    ``NAME.ttwood`` here or in the saves folder, or a bare name that is no scenario but a save in
    the saves folder, as ``ttwood saves list`` shows it). A bare name that is neither is refused,
    naming both."""
    if game is None:
        return None
    if is_save(game):
        found = look_up_save(game)
        return str(found) if found is not None else game  # opening it says what is wrong
    if "/" in game or os.sep in game or game.endswith(".toml"):
        return None
    unknown = _not_a_scenario(game)
    if unknown is None:
        return None  # a scenario of that name: a new game
    found = look_up_save(game)
    if found is None:
        names = [p.name.removesuffix(SUFFIX) for p in saves_dir().glob(f"*{SUFFIX}")]
        close = difflib.get_close_matches(game, names, n=1)
        maybe = f" (the save {close[0]!r}?)" if close else ""
        raise ScenarioError(f"{unknown}; or the name of a save to resume{maybe} (`ttwood saves list`)") from None
    return str(found)


def _not_a_scenario(name: str) -> ScenarioError | None:
    """Why ``name`` is no scenario, or ``None`` when it is one."""
    try:
        scenarios.find(name)
    except ScenarioError as exc:
        return exc
    return None


def open_session(game: str | None, brain: str, seed: int, patron: bool = True,
                 asked: frozenset[str] = frozenset(), options: BrainChoice = DEFAULTS) -> Session:
    """A session for a scenario id/path (a new game) or a save file, which goes on with the brains
    it records, as ``ttwood run --resume`` does (``asked``: the brain options given explicitly;
    ``options``: the model and server options, for every game opened)."""
    choice = replace(options, kind=brain, seed=seed)
    saved = as_save(game)
    if saved is not None:
        maker = ChoiceMaker(choice)
        return Session.open(saved, maker, brain_label=brain, choose=chooser(Path(saved), choice, asked))
    return Session.new(game, ChoiceMaker(choice), seed, patron=patron, brain_label=brain)


def need_terminal() -> None:
    """Refuse to start the terminal UI without a terminal (it would wait, silently, for keys that
    cannot come); ``ttwood serve`` runs it under a web driver, which needs none."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TTWoodError("ttwood play needs a terminal (its input or output is a file or a pipe); "
                          "`ttwood run` plays headless, `ttwood serve` in a browser")


def play(
    ctx: typer.Context,
    game: Annotated[str | None, typer.Argument(help="A bundled scenario id, a scenario .toml, or a save to resume "
                 "(NAME.ttwood, a path, or a name from `ttwood saves list`).")] = None,
    brain: Brain = DEFAULT_KIND,
    seed: Seed = 1,
    patron: Annotated[bool, typer.Option("--patron/--no-patron", help="Put the player's Patron in the wood.")] = True,
    model: Model = None,
    gpu_layers: GpuLayers = 0,
    adapter: Adapter = None,
    threads: Threads = None,
    base_url: BaseUrl = DEFAULTS.base_url,
    server: Server = DEFAULTS.server,
    timeout: Timeout = DEFAULTS.timeout,
) -> None:
    """Open the wood in the terminal UI (the default scenario when none is given; a save resumes)."""
    need_terminal()
    options = brain_choice(brain, seed, model=model, gpu_layers=gpu_layers, adapter=adapter, threads=threads,
                           base_url=base_url, server=server, timeout=timeout)  # for every game this process opens
    from ttwood_tui.app import TTWoodApp
    from ttwood_tui.screens.games import GameChoice

    def factory(choice: GameChoice) -> Session:
        ref = str(choice.save) if choice.save is not None else choice.scenario
        return open_session(ref, choice.brain, choice.seed, patron, options=options)

    session = open_session(game, brain, seed, patron, given(ctx), options=options)
    tui = TTWoodApp(session, factory=factory)
    tui.run()
    if (line := farewell(tui.session)) is not None:
        typer.echo(line, err=True)


def farewell(session: Session) -> str | None:
    """What ``ttwood play`` says as it ends: where the game was saved, at which turn, and the
    command that goes on with it (``None`` for a game that was not saved)."""
    path = session.save_path
    if path is None:
        return None
    # the bare name, unless a scenario has it (it would start anew) or it reads as an option
    name = save_name(path)
    ref = name if name and not name.startswith("-") and _not_a_scenario(name) is not None else str(path)
    return f"saved {path} at turn {session.turn}: go on with `ttwood play {shlex.quote(ref)}`"


def serve(
    game: Annotated[str | None, typer.Argument(help="A scenario or save, as for `ttwood play`.")] = None,
    brain: Brain = DEFAULT_KIND,
    seed: Seed = 1,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default; others are warned about).")] = "localhost",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535, help="Port to listen on.")] = 8000,
    max_sessions: Annotated[int, typer.Option("--max-sessions", min=1, max=64,
            help="Games open at once (each browser tab runs its own, ~80 MB).")] = 3,
) -> None:
    """Serve `ttwood play` in a web browser (textual-serve), behind a secret link printed at start."""
    from ttwood.serve import GuardedServer, served_game

    served = served_game(game, brain, seed)  # one save for every page; refusals come here, not in every tab
    GuardedServer(served, host=host, port=port, title="Thousand Token Wood", max_sessions=max_sessions).serve()


def tab_args(game: str | None, brain: str, seed: int) -> list[str]:
    """The ``ttwood play`` each browser tab of ``ttwood serve`` runs. A save goes on with the
    brains it records, so it gets no ``--brain`` (which would ask to change them, and be refused)."""
    saved = as_save(game)
    return ["play", *([] if saved else ["--brain", brain]), "--seed", str(seed), *([saved or game] if game else [])]


def register(app: typer.Typer) -> None:
    """Add ``play`` and ``serve`` to the ``ttwood`` command."""
    app.command("play")(play)
    app.command("serve")(serve)
