"""``ttwood sweep``: many games at once on a Dask cluster (a local one, or a scheduler's address)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.minds.factory import DEFAULT_KIND, parse_brain_for
from engine.sweeps import Options, connect, grid, parse_brain, parse_legends, parse_seeds
from engine.sweeps.cluster import Progress as Tally
from engine.sweeps.cluster import Sweep, probe_scheduler
from engine.sweeps.tables import RESULTS, read_table
from ttwood.options import (
    DEFAULTS,
    Adapter,
    Address,
    AsJson,
    BaseUrl,
    BrainFor,
    BrainSets,
    Foresight,
    GpuLayers,
    Legends,
    Retries,
    ScenarioOption,
    Server,
    ThreadsPerGame,
    Turns,
    Workers,
)

err = Console(stderr=True)
out = Console()

SWEEP_HELP = """Play many games at once: every scenario × seed × brain set × legend set, one game each,
on a Dask cluster.

By default a local cluster of one worker process per core starts and stops with the command;
--address tcp://HOST:8786 uses a scheduler you started (`dask scheduler`, then `dask worker
tcp://HOST:8786` on each machine, with ttwood installed there too).

Into --out DIR go saves/NAME.ttwood (one save per game, replayable), results.parquet (one row
per game: totals, mean prices, Gini, survival, valid and accepted rates, speed, brain and model)
and turns.parquet (one row per game-turn). A failed game is retried, then recorded with its
error; running the same command again skips the games already done. --json prints {"games", "done",
"failed", "results", ...}.

Examples:

  ttwood sweep thousand-token-wood long-winter credit-crunch --seeds 1-8 --turns 30 --brain scripted --out runs/a

  ttwood sweep --seeds 1-4 --brain scripted --legend none --legend run-on-oonas-hoard@10 --out runs/legend

  ttwood sweep --seeds 1-3 --brain llama --brain llama:/models/qwen2.5-3b.gguf --out runs/league

Then: `ttwood report DIR`."""


def register(root: typer.Typer, bench: typer.Typer) -> None:
    """Add ``sweep`` to the ``ttwood`` command and ``sweep`` to ``ttwood bench``."""
    root.command("sweep", help=SWEEP_HELP)(sweep_cmd)
    bench.command("sweep")(bench_sweep_cmd)


def bench_sweep_cmd(
    games: Annotated[int, typer.Option("--games", "-g", min=1, max=10_000, help="Games (seeds 1..N of the scenario).")] = 16,
    turns: Turns = 60,
    scenario: ScenarioOption = None,
    workers: Annotated[list[int] | None, typer.Option("--workers", "-w", help="Cluster sizes to time, in order (repeat).")] = None,
    as_json: AsJson = False,
) -> None:
    """Sweep throughput against workers: the same scripted games on a local cluster of each size,
    timed one after another in one run (default: 1 worker, then 2). Run it on an otherwise idle
    machine; the load average before and after each size is reported."""
    from engine.sweeps.speed import bench_sweep

    sizes = workers or [1, 2]
    specs = grid([scenario] if scenario else [], list(range(1, games + 1)), [parse_brain("scripted")], [parse_legends("none")],
                  Options(turns=turns))
    with _bar(err.is_terminal and not as_json) as bar:
        tasks = {n: bar.add_task(f"{n} worker{'s' if n != 1 else ''}", total=games, info="") for n in sizes}
        result = bench_sweep(specs, sizes, lambda n, p: bar.update(tasks[n], completed=p.finished, info=_info(p)))
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    for r in result["runs"]:
        out.print(f"{r['workers']} worker{'s' if r['workers'] != 1 else ''}: {r['games']} games × {turns} turns in "
                  f"{r['seconds']:.1f} s = [bold]{r['games_per_s']:.2f}[/] games/s ({r['speedup']:.2f}×) · "
                  f"load {r['load_before']:.1f} → {r['load_after']:.1f} on {result['cores']} cores")


def sweep_cmd(
    scenarios: Annotated[list[str] | None, typer.Argument(help="Bundled scenario ids or .toml paths (default: the default wood).",
                                                          show_default=False)] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="The sweep's folder (made if missing; reused to resume).")] = Path("sweep"),
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds: 1-8, 1,2,5 or 1-4,10.")] = "1",
    turns: Turns = 30,
    brain: BrainSets = None,
    brain_for: BrainFor = None,
    foresight: Foresight = None,
    legend: Legends = None,
    adapter: Adapter = None,
    gpu_layers: GpuLayers = 0,
    threads: ThreadsPerGame = None,
    base_url: BaseUrl = DEFAULTS.base_url,
    server: Server = DEFAULTS.server,
    workers: Workers = None,
    address: Address = None,
    retries: Retries = 1,
    as_json: AsJson = False,
) -> None:
    if workers is not None and address is not None:
        raise typer.BadParameter("--workers starts a local cluster; --address uses yours: give one of them")
    env_brain = os.environ.get("TTWOOD_BRAIN", DEFAULT_KIND)
    local_workers = workers or os.cpu_count() or 1
    options = Options(turns=turns, brain_for=tuple(parse_brain_for(brain_for).items()), adapter=adapter, gpu_layers=gpu_layers,
                      threads=threads or (None if address else max(1, (os.cpu_count() or 1) // local_workers)),
                      base_url=base_url, server=server, foresight=foresight)
    specs = grid(scenarios or [], parse_seeds(seeds), [parse_brain(b) for b in (brain or [env_brain])],
                 [parse_legends(x) for x in (legend or ["none"])], options, files_here=address is None)
    if address is not None:
        probe_scheduler(address)  # a bad address is said before the folder is made
    sweep = Sweep(out_dir, specs, retries=retries)
    where = address or f"a local cluster of {local_workers} worker{'s' if local_workers != 1 else ''}"
    err.print(f"{len(specs)} games into {escape(str(out_dir))} on {escape(where)}")
    if not sweep.load():
        tally = Tally(games=len(specs), skipped=len(specs))
        err.print("every game is done already")
    else:
        with _bar(err.is_terminal and not as_json) as bar:
            task = bar.add_task("games", total=len(specs), info="starting the cluster")

            def show(p: Tally) -> None:
                bar.update(task, completed=p.finished, info=_info(p))

            with connect(None if address else local_workers, address) as client:
                tally = sweep.run(client, show)
    results = out_dir / RESULTS
    if as_json:
        sys.stdout.write(json.dumps({"games": tally.games, "done": tally.done + tally.skipped, "failed": tally.failed,
                                     "results": str(results), "skipped": tally.skipped, "retried": tally.retried,
                                     "turns": str(out_dir / "turns.parquet")}) + "\n")
        return
    _table(read_table(results), {s.id for s in specs})
    out.print(f"{tally.done} played, {tally.skipped} already done, {tally.failed} failed "
              f"({tally.retried} retries) · {escape(str(results))} · next: ttwood report {escape(str(out_dir))}")


def _bar(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold green]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[info]}"), console=err, disable=not enabled, transient=False)


def _info(p: Tally) -> str:
    bits = [f"[green]{p.done} done[/]"]
    if p.skipped:
        bits.append(f"{p.skipped} skipped")
    bits.append(f"[red]{p.failed} failed[/]" if p.failed else "0 failed")
    bits.append(f"{p.running} running")
    if p.retried:
        bits.append(f"{p.retried} retried")
    bits.append(f"{p.rate_per_min:.1f} games/min")
    return " · ".join(bits)


def _table(rows: list[dict[str, Any]], ids: set[str]) -> None:
    rows = sorted((r for r in rows if r["game"] in ids), key=lambda r: (r["scenario"], r["brain_set"], r["legend_set"], r["seed"]))
    table = Table(title="the games")
    for col in ("scenario", "seed", "brains", "legends", "trades", "deals", "defaults", "gini start→end", "alive", "valid", "s"):
        table.add_column(col, justify="right" if col in {"seed", "trades", "deals", "defaults", "alive", "valid", "s"} else "left")
    for r in rows:
        if r["status"] != "done":
            table.add_row(r["scenario"], str(r["seed"]), r["brain_set"], r["legend_set"], f"[red]failed: {escape(str(r['error']))[:60]}[/]")
            continue
        table.add_row(r["scenario"], str(r["seed"]), r["brain_set"], r["legend_set"], str(r["trades"]), str(r["deals"]), str(r["defaults"]),
                      f"{r['gini_start']:.2f}→{r['gini_end']:.2f}", f"{r['alive']}/{r['creatures']}",
                      "—" if r["valid_rate"] is None else f"{r['valid_rate']:.2f}", f"{r['wall_s']:.1f}")
    out.print(table)
