"""``ttwood improve``: the DAgger loop (play the student, let the teacher label, train, measure)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine import scenario as scenarios
from ttwood.options import AsJson, Model, Threads

if TYPE_CHECKING:
    from engine.learn.improve import Progress as Steps

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add ``improve`` to the ``ttwood`` command."""
    app.command("improve")(improve)


def improve(
    out: Annotated[Path, typer.Option("--out", "-o",
        help="The run's folder (one sub-folder a round; run again to go on).")] = Path("improve"),
    rounds: Annotated[int, typer.Option("--rounds", "-r", min=1, max=100, help="DAgger rounds after round 0.")] = 2,
    scenario: Annotated[list[str] | None, typer.Argument(
        help="Woods the student plays and is measured on (bundled ids or .toml paths; default: the default wood).")] = None,
    games: Annotated[int, typer.Option("--games", "-g", min=1, max=10_000, help="Student games a round.")] = 2,
    turns: Annotated[int, typer.Option("--turns", "-n", min=2, max=1000, help="Turns of each student game.")] = 60,
    start: Annotated[str, typer.Option("--start", help="The adapter round 0 plays with: a .gguf path, or 'shipped'.")] = "shipped",
    teacher_data: Annotated[Path | None, typer.Option("--teacher-data",
        help="Teacher examples (from ttwood dataset) kept in every round's training data.")] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Training steps a round (from the last round's adapter).")] = 60,
    lr: Annotated[float, typer.Option("--lr", min=1e-7, max=1.0, help="Peak learning rate of a round's training.")] = 3e-4,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1, max=256, help="Examples per training step.")] = 8,
    measure_seeds: Annotated[str, typer.Option("--measure-seeds", help="Seeds each adapter is measured on, e.g. 1-3.")] = "1",
    measure_turns: Annotated[int, typer.Option("--measure-turns", min=2, max=1000, help="Turns of each measuring game.")] = 100,
    first_seed: Annotated[int, typer.Option("--first-seed", help="Seed of round 1's first student game.")] = 1000,
    model: Model = None,
    threads: Threads = None,
    as_json: AsJson = False,
) -> None:
    """Make the student better at whole games with DAgger: each round the student (the model with
    the last round's adapter) plays whole games with legends fired at random turns, the teacher
    answers every creature-turn it met, those examples join all gathered before, and the adapter is
    trained on, then measured in long games (alive at the end, trades and deals in the second half,
    turns with a message, valid and accepted answers). Each step writes its file whole, so the same
    command goes on where a stopped run stopped. rounds.json holds the table."""
    from engine.core.errors import TTWoodError
    from engine.learn.improve import ImproveConfig
    from engine.learn.improve import improve as run_loop
    from engine.sweeps.spec import parse_seeds

    try:
        seeds = tuple(parse_seeds(measure_seeds))
    except TTWoodError as exc:
        raise TTWoodError(str(exc).replace("--seeds", "--measure-seeds"), title="improve") from None
    chosen = tuple(scenario or ["thousand-token-wood"])
    loaded = {ref: scenarios.load(ref)[0] for ref in chosen}
    cfg = ImproveConfig(out=out.expanduser(), start=start, rounds=rounds, scenarios=chosen, games=games, turns=turns,
                        first_seed=first_seed, teacher_data=teacher_data, steps=steps, lr=lr, batch=batch,
                        measure_seeds=seeds, measure_turns=measure_turns, threads=threads, model=model)
    bars = Progress(TextColumn("[bold green]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=not err.is_terminal)
    with bars:
        table = run_loop(cfg, lambda ref: loaded[ref], _steps(bars))
    if as_json:
        sys.stdout.write(json.dumps({"out": str(cfg.out), "rounds": table}) + "\n")
        return
    _show(table, cfg.out)


def _steps(bars: Progress) -> Steps:
    """The loop's notes above the bars, and a bar for each batch of games it plays."""
    from engine.learn.improve import Progress as Steps

    tasks: dict[str, TaskID] = {}

    def turn(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bars.add_task(what, total=total)
        bars.update(tasks[what], completed=done)

    return Steps(note=lambda text: bars.console.print(text, markup=False), turn=turn)


def _show(table: list[dict[str, Any]], out: Path) -> None:
    """The rounds side by side, a row per measuring game."""
    view = Table(title=f"DAgger rounds ({out / 'rounds.json'})")
    for col in ("round", "scenario", "seed", "alive", "trades late", "deals late", "message turns", "valid", "accepted"):
        view.add_column(col, justify="right")
    for row in table:
        for g in row["games"]:
            view.add_row(str(row["round"]), g["scenario"], str(g["seed"]), str(g["alive"]), str(g["trades_late"]),
                         str(g["deals_late"]), str(g["message_turns"]), str(g["valid_rate"]), str(g["accepted_rate"]))
    Console().print(view)
