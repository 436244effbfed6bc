"""``ttwood play`` (the terminal UI) and ``ttwood serve`` (the same app in a browser)."""

from __future__ import annotations

import difflib
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from engine import scenario as scenarios
from engine.core.errors import ScenarioError, TTWoodError
from engine.minds.factory import DEFAULT_KIND, BrainChoice, brain_cards, close_brains, make_brains
from engine.saves import SUFFIX, SaveError, saves_dir
from engine.scenario import Scenario
from engine.session import BrainMaker, Session, is_save
from engine.turn.brain import Brain
from ttwood.cli_saves import resumed_choice, same_files

_DEFAULTS = BrainChoice()
"""The defaults of the options ``ttwood play`` passes on to the brains."""


@dataclass(slots=True)
class ModelOptions:
    """The model and server options of this ``ttwood play``, used for every game it opens."""

    model: str | None = None
    gpu_layers: int = 0
    adapter: str | None = None
    threads: int | None = None
    base_url: str = _DEFAULTS.base_url
    server: str = _DEFAULTS.server
    timeout: float = _DEFAULTS.timeout


MODEL_OPTIONS = ModelOptions()
BRAIN_HELP = ("Who decides: llama (the embedded model, or --model), scripted (rules, fast), http. "
              "Default from $TTWOOD_BRAIN, else llama.")


class ChoiceMaker:
    """Builds the brains of one :class:`BrainChoice` for whatever scenario the session opens, and
    says what it builds (a new save records it, as ``ttwood run --save`` does)."""

    def __init__(self, choice: BrainChoice, check: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        self.choice = choice
        self.check = check
        """Called with the model cards of the brains built (a resumed save checks its files)."""

    def __call__(self, sc: Scenario) -> dict[str, Brain]:
        brains = make_brains(sc, self.choice)
        if self.check is not None:
            try:
                self.check(brain_cards(brains))
            except BaseException:
                close_brains(brains)
                raise
        return brains

    def describe(self) -> dict[str, object]:
        return self.choice.describe()


def brain_maker(kind: str, seed: int = 1) -> ChoiceMaker:
    """Build brains of one kind for whatever scenario the session opens."""
    o = MODEL_OPTIONS
    return ChoiceMaker(BrainChoice(kind=kind, seed=seed, model=o.model, gpu_layers=o.gpu_layers, adapter=o.adapter,
                                   threads=o.threads, base_url=o.base_url, server=o.server, timeout=o.timeout))


def as_save(game: str | None) -> str | None:
    """The save ``game`` names, if it names one: a path to a ``.ttwood`` file (a bare
    ``NAME.ttwood`` found here, else in the saves folder), or a bare name that is no scenario but a
    save in the saves folder (as ``ttwood saves list`` shows it). A bare name that is neither is
    refused, naming both."""
    if game is None:
        return None
    bare = "/" not in game and os.sep not in game
    if is_save(game):
        there = saves_dir() / game
        try:
            here = Path(game).exists()
            elsewhere = bare and not here and there.is_file()
        except OSError:  # a name too long for the file system: opening it says so
            elsewhere = False
        return str(there) if elsewhere else game
    if not bare or game.endswith(".toml"):
        return None
    unknown = _not_a_scenario(game)
    if unknown is None:
        return None  # a scenario of that name: a new game
    there = saves_dir() / f"{game}{SUFFIX}"
    if not there.is_file():
        names = [p.name.removesuffix(SUFFIX) for p in saves_dir().glob(f"*{SUFFIX}")]
        close = difflib.get_close_matches(game, names, n=1)
        maybe = f" (the save {close[0]!r}?)" if close else ""
        raise ScenarioError(f"{unknown}; or the name of a save to resume{maybe} (`ttwood saves list`)") from None
    return str(there)


def _not_a_scenario(name: str) -> ScenarioError | None:
    """Why ``name`` is no scenario, or ``None`` when it is one."""
    try:
        scenarios.find(name)
    except ScenarioError as exc:
        return exc
    return None


def open_session(game: str | None, brain: str, seed: int, patron: bool = True,
                 asked: frozenset[str] = frozenset()) -> Session:
    """A session for a scenario id/path (a new game) or a save file, which goes on with the brains
    it records, as ``ttwood run --resume`` does (``asked``: the brain options given explicitly)."""
    saved = as_save(game)
    if saved is not None:
        path = Path(saved)
        maker = brain_maker(brain, seed)

        def choose(recorded: dict[str, Any]) -> tuple[BrainMaker, str]:
            if "kind" not in recorded:  # saved before saves said which brains played: as asked
                return maker, brain
            try:
                played = BrainChoice.from_describe(recorded)
            except TTWoodError as exc:
                raise SaveError(f"{path}: {exc}") from None
            chosen = resumed_choice(path, played, maker.choice, asked, recorded="models" in recorded)
            return ChoiceMaker(chosen, check=lambda cards: same_files(path, recorded.get("models"), cards, asked)), chosen.kind

        return Session.open(saved, maker, brain_label=brain, choose=choose)
    return Session.new(game, brain_maker(brain, seed), seed, patron=patron, brain_label=brain)


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
    brain: Annotated[str, typer.Option("--brain", "-b", envvar="TTWOOD_BRAIN", help=BRAIN_HELP)] = DEFAULT_KIND,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the game's one random generator.")] = 1,
    patron: Annotated[bool, typer.Option("--patron/--no-patron", help="Put the player's Patron in the wood.")] = True,
    model: Annotated[str | None, typer.Option("--model", "-m", help="A GGUF file for llama (default: the embedded SmolLM2-135M).")] = None,
    gpu_layers: Annotated[int, typer.Option("--gpu-layers", min=-1, help="Layers on the GPU for llama (-1: all).")] = 0,
    adapter: Annotated[str | None, typer.Option("--adapter",
            help="A GGUF LoRA adapter for llama (default: the one shipped for the embedded model; "
             "none: the bare model).")] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, max=512,
            help="CPU threads for llama (default: all cores).")] = None,
    base_url: Annotated[str, typer.Option("--base-url", help="The OpenAI-compatible server of http brains.")] = _DEFAULTS.base_url,
    server: Annotated[str, typer.Option("--server",
            help="Server kind for http: llama-cpp-python, llama.cpp, vllm, sglang, ollama, openai.")] = _DEFAULTS.server,
    timeout: Annotated[float, typer.Option("--timeout", min=0.001, max=86_400,
            help="Seconds an http server has to answer all of one turn's requests.")] = _DEFAULTS.timeout,
) -> None:
    """Open the wood in the terminal UI (the default scenario when none is given; a save resumes)."""
    need_terminal()
    o = MODEL_OPTIONS  # this process's options, for every game it opens
    o.model, o.gpu_layers, o.adapter, o.threads = model, gpu_layers, adapter, threads
    o.base_url, o.server, o.timeout = base_url, server, timeout
    from ttwood_tui.app import TTWoodApp
    from ttwood_tui.screens.games import GameChoice

    def factory(choice: GameChoice) -> Session:
        ref = str(choice.save) if choice.save is not None else choice.scenario
        return open_session(ref, choice.brain, choice.seed, patron)

    given = ctx.get_parameter_source  # typer's own click: compare the source by its name
    options = ("brain", "model", "adapter", "gpu_layers", "threads", "base_url", "server", "timeout")
    asked = frozenset(o for o in options if getattr(given(o), "name", None) == "COMMANDLINE")
    session = open_session(game, brain, seed, patron, asked)
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
    bare = path.parent == saves_dir() and path.suffix == SUFFIX and not path.stem.startswith("-")
    ref = path.stem if bare and _not_a_scenario(path.stem) is not None else str(path)
    return f"saved {path} at turn {session.turn}: go on with `ttwood play {shlex.quote(ref)}`"


def serve(
    game: Annotated[str | None, typer.Argument(help="A scenario or save, as for `ttwood play`.")] = None,
    brain: Annotated[str, typer.Option("--brain", "-b", envvar="TTWOOD_BRAIN")] = DEFAULT_KIND,
    seed: Annotated[int, typer.Option("--seed", "-s")] = 1,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default; others are warned about).")] = "localhost",
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535)] = 8000,
    max_sessions: Annotated[int, typer.Option("--max-sessions", min=1, max=64,
            help="Games open at once (each browser tab runs its own, ~80 MB).")] = 3,
) -> None:
    """Serve `ttwood play` in a web browser (textual-serve), behind a secret link printed at start."""
    from ttwood.serve import GuardedServer

    # Fail here, with a clear message, rather than in every browser tab.
    open_session(game, brain, seed)
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "ttwood.cli", *tab_args(game, brain, seed)])
    GuardedServer(command, host=host, port=port, title="Thousand Token Wood", max_sessions=max_sessions).serve()


def tab_args(game: str | None, brain: str, seed: int) -> list[str]:
    """The ``ttwood play`` each browser tab of ``ttwood serve`` runs. A save goes on with the
    brains it records, so it gets no ``--brain`` (which would ask to change them, and be refused)."""
    saved = as_save(game)
    return ["play", *([] if saved else ["--brain", brain]), "--seed", str(seed), *([saved or game] if game else [])]


def register(app: typer.Typer) -> None:
    """Add ``play`` and ``serve`` to the ``ttwood`` command."""
    app.command("play")(play)
    app.command("serve")(serve)
