"""The options the ``ttwood`` commands share, each declared once.

Each is an ``Annotated`` type a command's parameter takes (``seed: Seed = 1``); the brain options'
defaults are :class:`BrainChoice`'s (:data:`DEFAULTS`). :func:`brain_choice` builds the choice
they make and :func:`given` says which of them were typed on the command line (a resumed game
may refuse those: :mod:`engine.session.resume`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer

from engine.core.errors import TTWoodError
from engine.minds.factory import DEFAULT_KIND, BrainChoice, parse_brain_for
from engine.session.resume import BRAIN_OPTIONS

DEFAULTS = BrainChoice(kind=DEFAULT_KIND)
"""The brain options' defaults (``--brain`` from ``$TTWOOD_BRAIN``, else llama)."""

# ------------------------------------------------------------------ any command
AsJson = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")]
Force = Annotated[bool, typer.Option("--force", help="Replace files that exist.")]



class Form(StrEnum):
    """How a model's answers are spelled (:mod:`engine.minds.forms`)."""

    lines = "lines"
    json = "json"


FormOption = Annotated[Form, typer.Option("--form",
                       help="How answers are spelled: 'lines' (a thought, then one action a line: what the llama brain writes) "
                            "or 'json' (for a model served with a JSON Schema).")]


# ------------------------------------------------------------------ the game
ScenarioArg = Annotated[str | None, typer.Argument(help="A bundled scenario id or a path to a .toml file (default: the default wood).",
                                                   show_default=False)]
ScenarioOption = Annotated[str | None, typer.Option("--scenario", help="A bundled scenario id or a .toml path (default: the default wood).",
                                                    show_default=False)]
Seed = Annotated[int, typer.Option("--seed", "-s", help="Seed of the game's one random generator.")]
Turns = Annotated[int, typer.Option("--turns", "-n", min=1, max=100_000, help="Turns each game plays.")]
SaveArg = Annotated[str, typer.Argument(help="A save file, or a NAME in the saves folder (as `ttwood saves list` shows it).")]
Legends = Annotated[list[str] | None, typer.Option("--legend", help="A legend set: ID@TURN, several joined with +, or none "
                                                   "(repeat: with and without).")]

# ------------------------------------------------------------------ many games on a cluster
Workers = Annotated[int | None, typer.Option("--workers", "-w", min=1, max=512,
                    help="Worker processes of the local cluster (default: one per core).", show_default=False)]
Address = Annotated[str | None, typer.Option("--address",
                    help="A running Dask scheduler, e.g. tcp://127.0.0.1:8786 (instead of a local cluster).")]
Retries = Annotated[int, typer.Option("--retries", min=0, max=10, help="Tries again for a game that failed.")]

# ------------------------------------------------------------------ the brains
Brain = Annotated[str, typer.Option("--brain", "-b", envvar="TTWOOD_BRAIN",
                  help="Who decides: llama (the embedded model, or --model), scripted (rules, fast), http (a server), "
                       "foresight (the scripted elder, playing its answers ahead: see --foresight). "
                       "Default from $TTWOOD_BRAIN, else llama.")]
BrainSet = Annotated[str | None, typer.Option("--brain", "-b", envvar="TTWOOD_BRAIN", show_default=False,
                     help="A brain set, KIND or KIND:MODEL (llama, scripted, http). Default from $TTWOOD_BRAIN, else llama.")]
BrainSets = Annotated[list[str] | None, typer.Option("--brain", "-b", show_default=False,
                      help="A brain set, KIND or KIND:MODEL (llama, scripted, http); repeat for a league. "
                           "Default from $TTWOOD_BRAIN, else llama.")]
BrainFor = Annotated[list[str] | None, typer.Option("--brain-for",
                     help="NAME=KIND: one creature's brain (repeatable), e.g. --brain-for Oona=scripted.")]
Model = Annotated[str | None, typer.Option("--model", "-m", show_default=False,
                  help="A GGUF file for llama (default: the embedded SmolLM2-135M); a model name for http.")]
Adapter = Annotated[str | None, typer.Option("--adapter", show_default=False,
                    help="A GGUF LoRA adapter for every llama creature (default: the one shipped for the embedded "
                         "model; none: the bare model).")]
GpuLayers = Annotated[int, typer.Option("--gpu-layers", min=-1,
                      help="Layers on the GPU for llama (-1: all; needs a GPU build of llama-cpp-python).")]
Threads = Annotated[int | None, typer.Option("--threads", min=1, max=512, show_default=False,
                    help="CPU threads for llama (default: all cores; 1 is faster on a machine busy with other work).")]
ThreadsPerGame = Annotated[int | None, typer.Option("--threads", min=1, max=512, show_default=False,
                           help="CPU threads per game for llama (default: the cores shared among the games "
                                "playing at once).")]
BaseUrl = Annotated[str, typer.Option("--base-url", help="The OpenAI-compatible server of http brains.")]
Server = Annotated[str, typer.Option("--server",
                   help="Server kind for http: llama-cpp-python, llama.cpp, vllm, sglang, ollama, openai.")]
Foresight = Annotated[str | None, typer.Option("--foresight", show_default=False,
                      help="How foresight elders look ahead: KEY=VALUE pairs joined with commas, of depth (turns played "
                           "ahead, 1-20; default 3), width (answers tried a turn, 1-10; default 6) and the weights of "
                           "what they want at the end: wealth (per pebble, default 1), health (per point, 0.5), alive "
                           "(200), credit (per point, 0.5) and others (the other creatures' health and wealth, 0). "
                           "E.g. depth=4,width=8,alive=500.")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.001, max=86_400,
                    help="Seconds an http server has to answer all of one turn's requests (retries included).")]


def brain_choice(kind: str, seed: int, *, model: str | None = None, adapter: str | None = None, gpu_layers: int = 0,
                 threads: int | None = None, brain_for: list[str] | None = None, base_url: str = DEFAULTS.base_url,
                 server: str = DEFAULTS.server, timeout: float = DEFAULTS.timeout, foresight: str | None = None) -> BrainChoice:
    """The brains the brain options ask for."""
    return BrainChoice(kind=kind, seed=seed, model=model, adapter=adapter, gpu_layers=gpu_layers, threads=threads,
                       overrides=parse_brain_for(brain_for), base_url=base_url, server=server, timeout=timeout,
                       foresight=foresight)


def given(ctx: typer.Context) -> frozenset[str]:
    """The brain options (parameter names, :data:`BRAIN_OPTIONS`) typed on this command line, not
    left at their defaults nor taken from the environment."""
    source = ctx.get_parameter_source  # typer's own click: compare the source by its name
    return frozenset(name for name in BRAIN_OPTIONS if name in ctx.params
                     and getattr(source(name), "name", None) == "COMMANDLINE")


@contextmanager
def errors_titled(title: str) -> Iterator[None]:
    """Errors raised inside say ``title`` (``compare error``, ``report error``), not the title of
    the layer they came from (the sweeps' ``sweep error``)."""
    try:
        yield
    except TTWoodError as exc:
        if exc.title == "sweep error":
            exc.title = title
        raise

