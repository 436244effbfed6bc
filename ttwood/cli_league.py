"""``ttwood league``: which brain plays better, seat by seat (seat-swap games on a Dask cluster)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.sweeps import Options, connect, parse_brain, parse_seeds
from engine.sweeps.cluster import Progress as Tally
from engine.sweeps.cluster import Sweep, probe_scheduler
from engine.sweeps.league import EVERY_SEAT, LEAGUE, PAIRS, WOODS, league_rows, pair_rows, plan, wood_rows, write_tables
from engine.sweeps.tables import RESULTS
from ttwood.cli_sweep import _bar, _info
from ttwood.options import Address, AsJson, Foresight, Retries, ScenarioOption, Seed, Turns, Workers, errors_titled

err = Console(stderr=True)
out = Console()

LEAGUE_HELP = """Say which brain plays better for the creature that uses it: seat-swap games.

For every scenario and seed the league plays the reference wood (every creature on --reference),
and for every --candidate and every seat the same wood and seed with that one creature on the
candidate, everyone else as before. A seat's difference (candidate minus reference, at the end of
the game) in wealth at market prices, holdings (the same at the reference wood's prices, in both
games), health, alive, credit, contracts kept and broken comes with a 95% interval from its pairs,
one per seed; "every seat" averages each seed's seats first and
takes the interval over seeds. Each candidate's own wood (every creature on it) is played too:
creatures alive and the wealth the living hold, against the reference wood of the same seed.

Games run on a Dask cluster as `ttwood sweep` runs them (a local one of --workers processes, or
--address), resumable: the same command again plays only what is missing. Into --out DIR go the
saves, results.parquet and turns.parquet (as a sweep's), and pairs.parquet (a row per pair),
league.parquet (a row per scenario, candidate and seat, with intervals) and woods.parquet. --json
prints {"games", "done", "failed", "league", "woods", "tables"}.

Examples:

  ttwood league --candidate foresight --seeds 1-20 --turns 100 --workers 1 --out runs/league

  ttwood league thousand-token-wood river-bend --candidate foresight --foresight depth=4,width=8 --seeds 1-5 --out runs/l2

  ttwood league --candidate llama --seat Oona --seeds 1-3 --turns 20 --out runs/oona

Then: `ttwood report DIR` draws the league table with its intervals."""

Brains = Annotated[list[str] | None, typer.Option("--candidate", "-c", show_default=False,
                   help="A brain to try in each seat: KIND or KIND:MODEL (foresight, scripted, llama, http); repeat for several.")]


def register(root: typer.Typer, bench: typer.Typer) -> None:
    """Add ``league`` to the ``ttwood`` command and ``foresight`` to ``ttwood bench``."""
    root.command("league", help=LEAGUE_HELP)(league_cmd)
    bench.command("foresight")(bench_foresight_cmd)


def bench_foresight_cmd(
    scenario: ScenarioOption = None,
    turns: Turns = 30,
    seed: Seed = 1,
    foresight: Foresight = None,
    as_json: AsJson = False,
) -> None:
    """The foresight elder's cost per decision: the same game played by every creature on the plain
    elder, then on the foresight elder, one after the other in this run; the brains' own time per
    agent-turn compared (their ratio), and the foresight elder's milliseconds per decision, candidates
    tried and turns played ahead. Run it on an otherwise idle machine.

    Example: `ttwood bench foresight --turns 30 --foresight depth=3,width=6 --json`."""
    from engine import scenario as scenarios
    from engine.bench.foresight import bench_foresight
    from engine.elders.foresight import Settings

    with errors_titled("bench error"):
        settings = Settings.parse(foresight)
        sc, _ = scenarios.load(scenario)
        with _bar(err.is_terminal and not as_json) as bar:
            tasks = {label: bar.add_task(label, total=turns, info="") for label in ("elder", "foresight")}
            r = bench_foresight(sc, turns, seed, settings, lambda label, turn: bar.update(tasks[label], completed=turn))
    if as_json:
        sys.stdout.write(json.dumps(r) + "\n")
        return
    e, f = r["elder"], r["foresight"]
    out.print(f"{r['scenario']} · seed {seed} · {turns} turns · every creature on each brain · {escape(r['settings'])}\n"
              f"plain elder [bold]{e['ms_per_agent_turn']}[/] ms per agent-turn · foresight elder [bold]{f['ms_per_agent_turn']}[/] ms "
              f"(ratio [bold]{r['think_ratio']}[/]) · {r['decisions']} decisions of [bold]{r['ms_per_decision']}[/] ms each: "
              f"{r['candidates_per_decision']} candidates, {r['turns_ahead_per_decision']} turns played ahead "
              f"({r['ms_per_turn_ahead']} ms a turn ahead) · alive at the end {e['alive']} and {f['alive']}")


def league_cmd(
    scenarios: Annotated[list[str] | None, typer.Argument(help="Bundled scenario ids or .toml paths (default: the default wood).",
                                                          show_default=False)] = None,
    candidate: Brains = None,
    reference: Annotated[str, typer.Option("--reference", "-r", help="The brain every other creature plays, and each seat's "
                                           "yardstick: KIND or KIND:MODEL.")] = "scripted",
    seeds: Annotated[str, typer.Option("--seeds", help="Seeds: 1-20, 1,2,5 or 1-4,10 (each seed is a pair per seat).")] = "1-20",
    turns: Turns = 100,
    seat: Annotated[list[str] | None, typer.Option("--seat", help="Only this creature's seat (repeat; default: every seat).",
                                                   show_default=False)] = None,
    foresight: Foresight = None,
    own_woods: Annotated[bool, typer.Option("--woods/--no-woods", help="Also play each candidate's own wood (every seat on it).")] = True,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="The league's folder (made if missing; reused to resume).")] = Path("league"),
    workers: Workers = None,
    address: Address = None,
    retries: Retries = 1,
    as_json: AsJson = False,
) -> None:
    with errors_titled("league error"):
        if workers is not None and address is not None:
            raise typer.BadParameter("--workers starts a local cluster; --address uses yours: give one of them")
        local = workers or os.cpu_count() or 1
        options = Options(turns=turns, threads=None if address else max(1, (os.cpu_count() or 1) // local), foresight=foresight)
        league = plan(scenarios or [], parse_seeds(seeds), [parse_brain(c) for c in candidate or []], parse_brain(reference),
                      options, seat, files_here=address is None, woods=own_woods)
        if address is not None:
            probe_scheduler(address)
        sweep = Sweep(out_dir, league.specs, retries=retries)
        where = address or f"a local cluster of {local} worker{'s' if local != 1 else ''}"
        err.print(f"{len(league.specs)} games ({len(league.pairs)} seat pairs) into {escape(str(out_dir))} on {escape(where)}")
        if not sweep.load():
            tally = Tally(games=len(league.specs), skipped=len(league.specs))
            err.print("every game is done already")
        else:
            with _bar(err.is_terminal and not as_json) as bar:
                task = bar.add_task("games", total=len(league.specs), info="starting the cluster")

                def show(p: Tally) -> None:
                    bar.update(task, completed=p.finished, info=_info(p))

                with connect(None if address else local, address) as client:
                    tally = sweep.run(client, show)
        try:
            sweep.load()
            pairs = pair_rows(league, sweep.run_data)
            table, woods = league_rows(pairs), wood_rows(league, sweep.run_data)
            write_tables(out_dir, pairs, table, woods)
        finally:
            sweep.release()
    if as_json:
        sys.stdout.write(json.dumps({"games": tally.games, "done": tally.done + tally.skipped, "failed": tally.failed,
                                     "league": table, "woods": woods,
                                     "tables": {k: str(out_dir / k) for k in (RESULTS, PAIRS, LEAGUE, WOODS)}}) + "\n")
        return
    _show(table, woods, league.reference)
    out.print(f"{tally.done} played, {tally.skipped} already done, {tally.failed} failed · {escape(str(out_dir / LEAGUE))} · "
              f"next: ttwood report {escape(str(out_dir))}")


def _iv(r: dict[str, Any], m: str, digits: int = 1) -> str:
    d, lo, hi = r.get(f"{m}_diff"), r.get(f"{m}_low"), r.get(f"{m}_high")
    if d is None or lo is None or hi is None:
        return "—"
    text = f"{d:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]" if lo != hi else f"{d:+.{digits}f}"
    color = "green" if lo > 0 else "red" if hi < 0 else None
    return f"[{color}]{text}[/]" if color else text


def _show(table: list[dict[str, Any]], woods: list[dict[str, Any]], reference: str) -> None:
    t = Table(title=f"the league: each seat's difference from {reference} in it (candidate − reference, 95% interval)")
    for col in ("scenario", "candidate", "seat", "pairs", "wealth", "holdings", "health", "alive", "credit", "kept", "broken"):
        t.add_column(col, justify="left" if col in ("scenario", "candidate", "seat") else "right")
    for r in table:
        seat = f"[bold]{EVERY_SEAT}[/]" if r["seat"] == EVERY_SEAT else f"{escape(r['seat'])} ({escape(r['role'])})"
        t.add_row(escape(r["scenario"]), escape(r["candidate"]), seat, str(r["pairs"]), _iv(r, "wealth"), _iv(r, "holdings"),
                  _iv(r, "health"), _iv(r, "alive", 2), _iv(r, "credit"), _iv(r, "kept"), _iv(r, "broken"))
    out.print(t)
    w = Table(title="the woods: every seat on one brain (means over seeds; a candidate's difference from the reference wood)")
    for col in ("scenario", "brain", "games", "alive", "alive vs reference", "wealth of the living", "vs reference", "gini"):
        w.add_column(col, justify="left" if col in ("scenario", "brain") else "right")
    for r in woods:
        w.add_row(escape(r["scenario"]), escape(r["brain"]), str(r["games"]), f"{r['alive']:.2f}", _iv(r, "alive", 2),
                  f"{r['welfare']:.0f}", _iv(r, "welfare", 0), f"{r['gini_end']:.2f}")
    out.print(w)
