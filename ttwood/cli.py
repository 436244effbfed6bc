"""``ttwood``: play, run, benchmark and inspect Thousand Token Wood from the command line."""

from __future__ import annotations

import json
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.minds.factory import DEFAULT_KIND, close_brains, run_card
from engine.saves import open_save
from engine.turn.report import TurnReport, run_json
from ttwood.cli_help import flow_help
from ttwood.options import (
    DEFAULTS,
    Adapter,
    AsJson,
    BaseUrl,
    Brain,
    BrainFor,
    Foresight,
    GpuLayers,
    Model,
    ScenarioArg,
    ScenarioOption,
    Seed,
    Server,
    Threads,
    Timeout,
    Turns,
    brain_choice,
    given,
)

app = typer.Typer(
    help="Thousand Token Wood: a woodland economy run by small language models.\n\n"
    "Start with `ttwood play` (the terminal UI), or `ttwood run --turns 30` to watch the default wood headless.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Measure speed.", no_args_is_help=True)
from ttwood.cli_scenarios import app as scen_app  # noqa: E402 - `scenarios list|show|validate|schema`

app.add_typer(bench_app, name="bench")
app.add_typer(scen_app, name="scenarios")

from ttwood import cli_play  # noqa: E402 - registers `play` and `serve`

cli_play.register(app)
from ttwood import cli_saves  # noqa: E402 - registers `saves list|inspect|export|branch` and `replay`

cli_saves.register(app)
from ttwood import cli_dataset  # noqa: E402 - registers `dataset`

cli_dataset.register(app)
from ttwood import cli_learn  # noqa: E402 - registers `train`

cli_learn.register(app)
from ttwood import cli_improve  # noqa: E402 - registers `improve`

cli_improve.register(app)
from ttwood import cli_sweep  # noqa: E402 - registers `sweep`

cli_sweep.register(app, bench_app)
from ttwood import cli_compare  # noqa: E402 - registers `compare`

cli_compare.register(app)
from ttwood import cli_report  # noqa: E402 - registers `report`

cli_report.register(app)
from ttwood import cli_spelling  # noqa: E402 - registers `bench spelling`

cli_spelling.register(bench_app)
from ttwood import cli_league  # noqa: E402 - registers `league`

cli_league.register(app, bench_app)

err = Console(stderr=True)
out = Console()

def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold green]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=err,
        disable=not enabled,
        transient=False,
    )


@app.command()
def run(
    ctx: typer.Context,
    scenario: ScenarioArg = None,
    turns: Turns = 30,
    seed: Seed = 1,
    brain: Brain = DEFAULT_KIND,
    model: Model = None,
    adapter: Adapter = None,
    gpu_layers: GpuLayers = 0,
    threads: Threads = None,
    brain_for: BrainFor = None,
    base_url: BaseUrl = DEFAULTS.base_url,
    server: Server = DEFAULTS.server,
    timeout: Timeout = DEFAULTS.timeout,
    foresight: Foresight = None,
    as_json: AsJson = False,
    save: Annotated[str | None, typer.Option("--save",
            help="Autosave every turn to this file (a bare NAME goes to the saves folder).")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue a saved game for --turns more turns (it keeps saving).")] = None,
) -> None:
    """Play a game headless: a progress bar, then a summary (or JSON with --json)."""
    choice = brain_choice(brain, seed, model=model, adapter=adapter, gpu_layers=gpu_layers, threads=threads,
                          brain_for=brain_for, base_url=base_url, server=server, timeout=timeout, foresight=foresight)
    game, saver, brain = cli_saves.start_run(scenario, seed, choice, save=save, resume=resume, asked=given(ctx))
    sc = game.scenario
    try:
        with saver, _progress(err.is_terminal) as progress:
            task = progress.add_task(sc.meta.name, total=turns, info="")

            def on_turn(r: TurnReport) -> None:
                saver.record(r)
                progress.update(task, advance=1, info=f"{r.season} · {r.trades} trades · gini {r.gini:.2f}")

            reports = game.run(turns, on_turn)
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP: the save was closed whole; say where it is
        if (path := getattr(saver, "path", None)) is not None:
            _say_saved(path)
        raise
    everyone = {c.name: game.brain_of(c.name) for c in game.wood.creatures}
    card = run_card(everyone)
    close_brains(everyone)
    data = run_json(game, reports, brain=brain, model=card)
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    _summary(data)


def _say_saved(path: Path) -> None:
    """Where a stopped run's save is, at which turn, and how to go on with it."""
    try:
        with open_save(path, full_check=False) as save:
            at = f" at turn {save.turns}"
    except TTWoodError:
        at = ""
    err.print(f"saved {path}{at}: go on with `ttwood run --resume {shlex.quote(str(path))}`", soft_wrap=True, markup=False)


def _summary(data: dict[str, Any]) -> None:
    t = data["totals"]
    out.print(f"[bold]{data['scenario']}[/] · seed {data['seed']} · {data['turns']} turns · brain {data['brain']}")
    out.print(
        f"trades {t['trades']} (in {t['turns_with_trades']} of {data['turns']} turns) · defaults {t['defaults']} · "
        f"gini {t['gini_min']}–{t['gini_max']} · actions {t['valid_actions']} valid, {t['rejected_actions']} refused"
    )
    table = Table(title="the creatures at the end")
    for col in ("name", "alive", "health", "credit", "wealth", "holdings"):
        table.add_column(col)
    for c in data["final"]["creatures"]:
        holdings = ", ".join(f"{q} {a}" for a, q in c["holdings"].items())
        table.add_row(c["name"], "yes" if c["alive"] else "left", str(c["health"]), str(c["credit"]), str(c["wealth"]), holdings)
    out.print(table)
    prices = Table(title="average traded price by season")
    seasons = list(dict.fromkeys(p["season"] for p in data["per_turn"]))
    prices.add_column("good")
    for s in seasons:
        prices.add_column(s)
    for good, by_season in t["season_prices"].items():
        prices.add_row(good, *[("—" if by_season.get(s) is None else str(by_season[s])) for s in seasons])
    out.print(prices)
    cons = data["conservation"]
    out.print("books balance: " + ("[green]ok[/]" if cons["ok"] else f"[red]FAILED[/] {cons['detail']['problems'][:3]}"))


@bench_app.command("engine")
def bench_engine_cmd(
    creatures: Annotated[int, typer.Option("--creatures", "-c", min=1, max=5000, help="Creatures in the wood.")] = 100,
    turns: Annotated[int, typer.Option("--turns", "-n", min=1, max=100_000, help="Turns to time.")] = 50,
    scenario: ScenarioOption = None,
    seed: Seed = 1,
    as_json: AsJson = False,
    autosave: Annotated[bool, typer.Option("--autosave/--no-autosave", help="Also time the same game autosaving every turn.")] = True,
    repeats: Annotated[int, typer.Option("--repeats", min=1, max=20, help="Alternating runs of each; the fastest counts.")] = 3,
) -> None:
    """Engine-only speed with scripted creatures, in agent-turns per second (and with autosave); the
    scenario's cast is scaled up to --creatures."""
    from engine.bench.engine import bench_engine

    sc, _ = scenarios.load(scenario)
    with _progress(err.is_terminal) as progress:
        task = progress.add_task(f"{creatures} creatures", total=turns * repeats * (2 if autosave else 1), info="")
        result = bench_engine(sc, creatures, turns, seed, on_turn=lambda i: progress.advance(task), autosave=autosave, repeats=repeats)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    out.print(
        f"{result['creatures']} creatures × {result['turns']} turns: "
        f"[bold]{result['agent_turns_per_s']:,}[/] agent-turns/s ({result['us_per_agent_turn']} µs each, "
        f"{result['cpu_us_per_agent_turn']} µs of CPU), "
        f"{result['trades']} trades, books {'ok' if result['conservation_ok'] else 'FAILED'}"
    )
    if autosave:
        out.print(
            f"with autosave: [bold]{result['with_autosave_agent_turns_per_s']:,}[/] agent-turns/s "
            f"({result['autosave_speed_ratio']:.0%} of engine-only; closing the save once: "
            f"{result['autosave_close_seconds'] * 1000:.0f} ms, {result['autosave_speed_ratio_with_close']:.0%} with it), "
            f"save {result['save_bytes']:,} bytes"
        )


@bench_app.command("llm")
def bench_llm_cmd(
    creatures: Annotated[int, typer.Option("--creatures", "-c", min=1, max=250, help="Creatures deciding each turn.")] = 5,
    turns: Annotated[int, typer.Option("--turns", "-n", min=1, max=100,
            help="Turns to time (each decided both ways; the static prefix is evaluated once, on the first).")] = 4,
    model: Model = None,
    gpu_layers: GpuLayers = 0,
    threads: Threads = None,
    scenario: ScenarioOption = None,
    seed: Seed = 1,
    adapter: Annotated[str | None, typer.Option("--adapter",
            help="Time this GGUF LoRA adapter (lean prompt) against the bare model (full prompt) instead; "
                 "'shipped': the adapter shipped for the embedded model.")] = None,
    as_json: AsJson = False,
) -> None:
    """Model speed per agent-turn: naive (one creature at a time, no cache, full grammar) against
    optimized (shared prefix, one batch, lazy grammar, jump-forward), timed on the same turns; the
    scenario's cast is scaled to --creatures.
    Run it on an otherwise idle machine: llama.cpp's threads spin, so other work on the cores
    skews both figures."""
    from engine.bench.llm import bench_llm
    from engine.minds.brains.llama import LlamaModel
    from engine.minds.brains.models import resolve_model

    sc, _ = scenarios.load(scenario)
    if adapter is not None:
        _bench_adapter(sc, model, adapter, creatures, turns, seed, gpu_layers, threads, as_json)
        return
    m = LlamaModel(resolve_model(model), gpu_layers=gpu_layers, threads=threads)
    result = _timed(f"{creatures} creatures, both ways", turns, lambda on_turn: bench_llm(sc, m, creatures, turns, seed, on_turn=on_turn),
                    [m], as_json)
    if result is None:
        return
    out.print(
        f"{result['model']} · {creatures} creatures × {turns} turns · gpu layers {gpu_layers}\n"
        f"naive [bold]{result['naive_ms_per_agent_turn']}[/] ms per agent-turn, optimized "
        f"[bold]{result['optimized_ms_per_agent_turn']}[/] ms ({result['speedup']}× faster; it includes the static "
        f"prefix, {result['optimized_static_prefix_ms']} ms once a game)\n"
        f"valid {result['valid_rate']} · accepted {result['accepted_rate']} · prompt {result['prompt_tokens']} tokens "
        f"(shared {result['shared_prefix_tokens']}) · answer {result['answer_tokens']} ({result['forced_tokens']} forced) · "
        f"largest call {result['tokens_max']}/{result['budget']}\n"
        f"the grammar refused the sampled token (and scanned the whole vocabulary) "
        f"{result['grammar_full_passes_per_sampled_token']} times per sampled token"
    )


@bench_app.command("make-model")
def bench_make_model_cmd(
    out_path: Annotated[str, typer.Option("--out", "-o", help="Where to write the GGUF file.")],
    shape: Annotated[str, typer.Option("--shape",
            help="Whose shapes: llama-3.2-3b (3.2B parameters) or tiny (for tests).")] = "llama-3.2-3b",
    quant: Annotated[str, typer.Option("--quant", help="q4_k_m, q8_0 or f16.")] = "q4_k_m",
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the random weights.")] = 0,
) -> None:
    """Write a GGUF with a real model's shapes and random weights, to time a 3B-class model where its
    weights cannot be downloaded (speed depends on shapes, not values). Its answers are noise, but
    still legal: the grammar is the action mask. Then: `ttwood bench llm --model OUT --gpu-layers -1`.
    Needs the disk for an F16 copy while it works (6.4 GB for llama-3.2-3b)."""
    from engine.minds.brains.shaped_model import SHAPES, make_shaped_model

    if shape in SHAPES:
        err.print(f"{shape}: {SHAPES[shape].parameters() / 1e9:.2f}B parameters, random weights, quantized to {quant}")
    with _progress(err.is_terminal) as progress:
        task = progress.add_task("writing", total=None, info="")
        path = make_shaped_model(shape, out_path, quant=quant, seed=seed, step=lambda what: progress.update(task, info=what))
    out.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, like Ctrl-C (SIGINT): every ``with`` and
    ``finally`` on the way out runs, so an autosaver closes its save cleanly."""

    received: int | None = None
    """The signal that stopped the program (Typer turns the exception into an exit of its own)."""


def _stop(signum: int, frame: object) -> None:
    Stopped.received = signum
    raise Stopped(signum)


def main() -> None:
    """Entry point: every error we know of becomes one clear message and a non-zero exit;
    SIGTERM and SIGHUP stop the program as Ctrl-C does (exit status 128 + the signal's number)."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        app()
    except TTWoodError as exc:
        err.print(f"[red]{exc.title}:[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    finally:
        if Stopped.received is not None:
            err.print(f"stopped by {signal.Signals(Stopped.received).name}")
            sys.exit(128 + Stopped.received)


def _timed(label: str, turns: int, bench: Callable[[Callable[[int], None]], dict[str, Any]], models: list[Any],
           as_json: bool) -> dict[str, Any] | None:
    """Run a model bench under a progress bar, closing its models after; print its JSON and
    return ``None`` with ``--json``, else return the result to print."""
    try:
        with _progress(err.is_terminal) as progress:
            task = progress.add_task(label, total=turns, info="")
            result = bench(lambda i: progress.update(task, completed=i))
    finally:
        for m in models:
            m.close()
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return None
    return result


def _bench_adapter(sc: scenarios.Scenario, model: str | None, adapter: str, creatures: int, turns: int, seed: int,
                   gpu_layers: int, threads: int | None, as_json: bool) -> None:
    """``bench llm --adapter``: the bare model against the model with the adapter, on the same turns."""
    from engine.bench.adapter import bench_adapter
    from engine.minds.brains.llama import LlamaModel
    from engine.minds.brains.models import SHIPPED_ADAPTER, resolve_adapter, resolve_model

    if adapter == "shipped" and model is not None:
        raise TTWoodError(f"--adapter shipped fits the embedded model only, not {model}: give --adapter PATH, "
                          "an adapter trained for that model (ttwood train --base MODEL)")
    path = SHIPPED_ADAPTER if adapter == "shipped" else resolve_adapter(adapter, model)
    if path is None or not path.is_file():
        raise TTWoodError(f"--adapter {adapter}: no adapter to time (give a GGUF LoRA adapter file)")
    bare = LlamaModel(resolve_model(model), gpu_layers=gpu_layers, threads=threads)
    try:
        adapted = LlamaModel(resolve_model(model), gpu_layers=gpu_layers, threads=threads, adapter=path)
    except TTWoodError:
        bare.close()
        raise
    r = _timed(f"{creatures} creatures, with and without the adapter", turns,
               lambda on_turn: bench_adapter(sc, bare, adapted, creatures, turns, seed, on_turn=on_turn), [bare, adapted], as_json)
    if r is None:
        return
    out.print(
        f"{r['model']} · {creatures} creatures × {turns} turns · adapter {r['adapter']['name']}\n"
        f"bare [bold]{r['bare_ms_per_agent_turn']}[/] ms per agent-turn (prompt {r['bare_prompt_tokens']}, answer "
        f"{r['bare_answer_tokens']} tokens of which {r['bare_sampled_tokens']} sampled, {r['bare_actions_per_answer']} actions) · "
        f"with the adapter [bold]{r['adapter_ms_per_agent_turn']}[/] ms (prompt {r['adapter_prompt_tokens']}, answer "
        f"{r['adapter_answer_tokens']} tokens of which {r['adapter_sampled_tokens']} sampled, "
        f"{r['adapter_actions_per_answer']} actions) · ratio [bold]{r['time_ratio']}[/]\n"
        f"per sampled token: bare {r['bare_ms_per_sampled_token']} ms, adapter {r['adapter_ms_per_sampled_token']} ms "
        f"(ratio {r['time_ratio_per_sampled_token']}) · per action: bare {r['bare_ms_per_action']} ms, adapter "
        f"{r['adapter_ms_per_action']} ms (ratio {r['time_ratio_per_action']}) · jump-forward {'on' if r['jump_forward'] else 'off'} · "
        f"valid {r['bare_valid_rate']} / {r['adapter_valid_rate']}\n"
        f"reading the prompt: bare {r['bare_prompt_ms_per_agent_turn']} ms, adapter {r['adapter_prompt_ms_per_agent_turn']} ms · "
        f"writing the answer: bare {r['bare_answer_ms_per_agent_turn']} ms, adapter {r['adapter_answer_ms_per_agent_turn']} ms\n"
        f"the adapter's own cost (its answers decoded again, token for token, with and without it; rank "
        f"{r['adapter'].get('rank')}, {r['adapter'].get('targets')}): {r['replay_with_adapter_ms_per_agent_turn']} against "
        f"{r['replay_without_adapter_ms_per_agent_turn']} ms per agent-turn, ratio [bold]{r['adapter_compute_ratio']}[/]"
    )


flow_help(app)  # every command is added by now

if __name__ == "__main__":
    main()
