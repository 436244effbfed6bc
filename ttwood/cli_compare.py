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
from engine.minds.factory import DEFAULT_KIND, parse_brain_for
from engine.saves import saves_dir
from engine.sweeps import Options, SweepError, connect, grid, parse_brain, parse_legends
from engine.sweeps.compare import Comparison, compare

err = Console(stderr=True)
out = Console()

COMPARE_HELP = """Play one seed twice, differing in one thing, and show where the paths part.

Either a legend (--legend ID@TURN: the run with it against the run without), or two brain sets
(--brain-a KIND[:MODEL] against --brain-b KIND[:MODEL]). Prints per turn both runs and their
difference (Gini, trades, defaults, the prices that moved) and a verdict: the largest effect and
the turn where the paths part. Both runs are saves that replay; `ttwood report DIR` draws them.

Examples:

  ttwood compare thousand-token-wood --seed 3 --turns 30 --legend run-on-oonas-hoard@10 --brain scripted

  ttwood compare --seed 1 --turns 20 --brain-a scripted --brain-b llama --json"""


def register(root: typer.Typer) -> None:
    """Add ``compare`` to the ``ttwood`` command."""
    root.command("compare", help=COMPARE_HELP)(compare_cmd)


def compare_cmd(
    scenario: Annotated[str | None, typer.Argument(help="A bundled scenario id or a .toml path (default: the default wood).")] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", help="The seed both runs share.")] = 1,
    turns: Annotated[int, typer.Option("--turns", "-n", min=1, max=100_000, help="Turns per run.")] = 30,
    brain: Annotated[str | None, typer.Option("--brain", "-b", help="KIND[:MODEL] of both runs (with --legend). "
                                               "Default from $TTWOOD_BRAIN, else llama.", show_default=False)] = None,
    legend: Annotated[str | None, typer.Option("--legend", help="ID@TURN: the run with this legend against the run without.")] = None,
    brain_a: Annotated[str | None, typer.Option("--brain-a", help="KIND[:MODEL] of the first run (with --brain-b).")] = None,
    brain_b: Annotated[str | None, typer.Option("--brain-b", help="KIND[:MODEL] of the second run.")] = None,
    brain_for: Annotated[list[str] | None, typer.Option("--brain-for", help="NAME=KIND: one creature's brain in both runs.")] = None,
    adapter: Annotated[str | None, typer.Option("--adapter", help="A GGUF LoRA adapter for llama (none: the bare model).")] = None,
    gpu_layers: Annotated[int, typer.Option("--gpu-layers", min=-1, help="Layers on the GPU for llama (-1: all).")] = 0,
    threads: Annotated[int | None, typer.Option("--threads", min=1, max=512,
            help="CPU threads per game for llama (default: half the cores, as the two games play at once).",
            show_default=False)] = None,
    base_url: Annotated[str, typer.Option("--base-url", help="The OpenAI-compatible server of http brains.")] = "http://127.0.0.1:8000/v1",
    server: Annotated[str, typer.Option("--server", help="Server kind for http brains.")] = "llama-cpp-python",
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Where the two saves and the tables go "
                                                  "(default: compare/NAME in the saves folder).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print one JSON object: {"with", "without", "diff", "verdict"} '
                                          '(two brains: {"a", "b", ...}).')] = False,
) -> None:
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
        base = parse_brain(brain or os.environ.get("TTWOOD_BRAIN", DEFAULT_KIND))
        specs = grid([ref], [seed], [base], [parse_legends(legend), parse_legends("none")], options)
        labels, what, slug = ("with", "without"), f"the legend {legend}", f"legend-{legend}"
    else:
        a, b = parse_brain(brain_a or ""), parse_brain(brain_b or "")
        specs = grid([ref], [seed], [a, b], [parse_legends("none")], options)
        labels, what, slug = ("a", "b"), f"{a.label} (a) instead of {b.label} (b)", f"{a.label}-vs-{b.label}"
    sid = specs[0].scenario
    where = out_dir or saves_dir() / "compare" / f"{sid}-s{seed}-{slug}".replace(":", "_").replace("/", "_")
    models = any(s.choice().kind != "scripted" for s in specs) or any(k != "scripted" for _, k in options.brain_for)
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
