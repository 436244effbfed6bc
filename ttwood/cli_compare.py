"""``ttwood compare``: one seed played twice, differing in one thing, turn by turn, with a verdict."""

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

from engine import scenario as scenarios
from engine.minds.factory import DEFAULT_KIND, RULE_KINDS, parse_brain_for
from engine.saves import saves_dir
from engine.sweeps import Options, SweepError, connect, grid, parse_brain, parse_legends
from engine.sweeps.cluster import Sweep
from engine.sweeps.compare import Comparison, compare
from engine.sweeps.spec import GameSpec
from ttwood.options import (
    DEFAULTS,
    Adapter,
    AsJson,
    BaseUrl,
    BrainFor,
    BrainSet,
    GpuLayers,
    ScenarioArg,
    Seed,
    Server,
    ThreadsPerGame,
    Turns,
    errors_titled,
)

err = Console(stderr=True)
out = Console()

COMPARE_HELP = """Play one seed twice, differing in one thing, and show where the paths part.

Either a legend (--legend ID@TURN: the run with it against the run without), or two brain sets
(--brain-a KIND[:MODEL] against --brain-b KIND[:MODEL]). Prints per turn both runs and their
difference (Gini, trades, defaults, the prices that moved) and a verdict: the largest effect and
the turn where the paths part; --json prints {"with", "without", "diff", "verdict"} ({"a", "b",
...} for two brain sets). Both runs are saves that replay; `ttwood report DIR` draws them.

Examples:

  ttwood compare thousand-token-wood --seed 3 --turns 30 --legend run-on-oonas-hoard@10 --brain scripted

  ttwood compare --seed 1 --turns 20 --brain-a scripted --brain-b llama --json"""


def register(root: typer.Typer) -> None:
    """Add ``compare`` to the ``ttwood`` command."""
    root.command("compare", help=COMPARE_HELP)(compare_cmd)


def compare_cmd(
    scenario: ScenarioArg = None,
    seed: Seed = 1,
    turns: Turns = 30,
    brain: BrainSet = None,
    legend: Annotated[str | None, typer.Option("--legend", help="ID@TURN: the run with this legend against the run without.")] = None,
    brain_a: Annotated[str | None, typer.Option("--brain-a", help="KIND[:MODEL] of the first run (with --brain-b).")] = None,
    brain_b: Annotated[str | None, typer.Option("--brain-b", help="KIND[:MODEL] of the second run.")] = None,
    brain_for: BrainFor = None,
    adapter: Adapter = None,
    gpu_layers: GpuLayers = 0,
    threads: ThreadsPerGame = None,
    base_url: BaseUrl = DEFAULTS.base_url,
    server: Server = DEFAULTS.server,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Where the two saves and the tables go "
                                                  "(default: compare/NAME in the saves folder).", show_default=False)] = None,
    as_json: AsJson = False,
) -> None:
    with errors_titled("compare error"):
        specs, labels, what, slug = _specs(scenario, seed, turns, brain, legend, brain_a, brain_b, brain_for, adapter,
                                           gpu_layers, threads, base_url, server)
        sid = specs[0].scenario
        where = out_dir or saves_dir() / "compare" / f"{sid}-s{seed}-{slug}".replace(":", "_").replace("/", "_")
        _say_reused(where, specs, out_dir is None)
        models = any(kind not in RULE_KINDS for s in specs for kind in (s.choice().kind, *s.choice().overrides.values()))
        with err.status(f"playing {sid}, seed {seed}, {turns} turns, twice" + (" (side by side on two workers)" if models else "")):
            if models:  # model brains are slow: the two games go to two worker processes at once
                with connect(2) as client:
                    result = compare((specs[0], specs[1]), labels, where, what, client)
            else:
                result = compare((specs[0], specs[1]), labels, where, what)
    (where / "compare.json").write_text(json.dumps(result.as_json()))
    if as_json:
        sys.stdout.write(json.dumps(result.as_json()) + "\n")
        return
    _show(result)
    out.print(f"saves: {escape(result.runs[0]['save'])} and {escape(result.runs[1]['save'])} · charts: ttwood report {escape(str(where))}")


def _specs(scenario: str | None, seed: int, turns: int, brain: str | None, legend: str | None, brain_a: str | None,
           brain_b: str | None, brain_for: list[str] | None, adapter: str | None, gpu_layers: int, threads: int | None,
           base_url: str, server: str) -> tuple[list[GameSpec], tuple[str, str], str, str]:
    """The two games to play, their labels, what differs between them in words, and a slug for the folder."""
    if (legend is None) == (brain_a is None and brain_b is None):
        raise SweepError("say what differs: --legend ID@TURN, or --brain-a KIND and --brain-b KIND (not both)")
    if legend is None and (brain_a is None or brain_b is None):
        raise SweepError("two brains to compare: give both --brain-a and --brain-b")
    if legend is not None and "+" in legend:
        raise SweepError(f"--legend {legend}: compare one legend at a time (ID@TURN)")
    options = Options(turns=turns, brain_for=tuple(parse_brain_for(brain_for).items()), adapter=adapter, gpu_layers=gpu_layers,
                      threads=threads or max(1, (os.cpu_count() or 2) // 2), base_url=base_url, server=server)
    ref = scenario or scenarios.DEFAULT_SCENARIO
    if legend is not None:
        base = parse_brain(brain or DEFAULT_KIND)
        specs = grid([ref], [seed], [base], [parse_legends(legend), parse_legends("none")], options)
        return specs, ("with", "without"), f"the legend {legend}", f"legend-{legend}"
    a, b = parse_brain(brain_a or ""), parse_brain(brain_b or "")
    specs = grid([ref], [seed], [a, b], [parse_legends("none")], options)
    return specs, ("a", "b"), f"{a.label} (a) instead of {b.label} (b)", f"{a.label}-vs-{b.label}"


def _say_reused(where: Path, specs: list[GameSpec], default_folder: bool) -> None:
    """Say which of the two games ``where`` already holds finished (they are read back, not played again)."""
    todo = {s.id for s in Sweep(where, specs).load()}
    found = [s for s in specs if s.id not in todo]
    if not found:
        return
    which = "both games" if len(found) == 2 else "one of the games"
    how = (" (the default folder for this comparison): --out DIR plays them afresh elsewhere" if default_folder
           else ": another --out DIR plays them afresh")
    err.print(f"reusing {which} played before in {escape(str(where))}{how}", soft_wrap=True)


def _cell(a: float | None, b: float | None, fmt: str = "{:g}") -> str:
    if a is None and b is None:
        return "—"
    left = "—" if a is None else fmt.format(a)
    right = "—" if b is None else fmt.format(b)
    if a is None or b is None or a == b:
        return f"{left} · {right}"
    d = a - b
    return f"{left} · {right} [{'green' if d > 0 else 'red'}]{'+' if d > 0 else ''}{fmt.format(d)}[/]"


def _show(result: Comparison) -> None:
    a, b = (r["per_turn"] for r in result.runs)
    moved = [e["series"][6:] for e in result.verdict["effects"] if e["series"].startswith("price:")][:3]
    la, lb = result.labels
    table = Table(title=f"{result.runs[0]['scenario']} · seed {result.runs[0]['seed']} · each cell: {la} · {lb} (difference)")
    for col in ("turn", "gini", "trades", "defaults", *(f"{g} price" for g in moved)):
        table.add_column(col, justify="right")
    parted = result.verdict["parted_at"]
    for x, y in zip(a, b, strict=True):
        mark = " ◆" if x["turn"] == parted else ""
        cells: list[Any] = [f"{x['turn']}{mark}", _cell(x["gini"], y["gini"], "{:.3f}"), _cell(x["trades"], y["trades"]),
                            _cell(x["defaults"], y["defaults"])]
        cells += [_cell(x["prices"].get(g), y["prices"].get(g)) for g in moved]
        table.add_row(*cells)
    out.print(table)
    if not moved:
        out.print("prices: every good traded at the same price in both runs, every turn")
    out.print(f"[bold]verdict:[/] {escape(result.verdict['text'])}")
