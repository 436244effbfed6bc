"""``ttwood saves list|inspect|export|branch``, ``ttwood replay``, and the save side of ``ttwood run``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.minds.brains.models import shown_name
from engine.minds.factory import BrainChoice, make_brains, model_cards
from engine.saves import (
    Autosaver,
    SaveError,
    branch,
    export_copy,
    export_traces,
    find_save,
    inspect,
    list_saves,
    replay,
    save_path,
    saves_dir,
)
from engine.session.resume import resume_game
from engine.turn.game import Game
from engine.turn.report import TurnReport
from ttwood.options import AsJson, Force, SaveArg

app = typer.Typer(help="List, inspect, export and branch saved games.", no_args_is_help=True)
err = Console(stderr=True)
out = Console()


def register(root: typer.Typer) -> None:
    """Add ``saves`` and ``replay`` to the ``ttwood`` command."""
    root.add_typer(app, name="saves")
    root.command("replay")(replay_cmd)


# ------------------------------------------------------------------ ttwood run
class _NoSave:
    """Stands in for an autosaver when the run is not saved."""

    def record(self, report: TurnReport) -> None:
        pass

    def __enter__(self) -> _NoSave:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        pass


def start_run(
    scenario: str | None, seed: int, choice: BrainChoice, *, save: str | None, resume: str | None,
    asked: frozenset[str] = frozenset(),
) -> tuple[Game, Autosaver | _NoSave, str]:
    """The game ``ttwood run`` plays, what records it (a new game, a new save, or a resumed save),
    and the kind of brain that decides. ``asked``: the brain options given on the command line
    (a resumed game goes on with its own brains: :mod:`engine.session.resume`)."""
    if resume is not None:
        if save is not None:
            raise SaveError("--save and --resume: a resumed game goes on in its own file; use one of them")
        if scenario is not None:
            raise SaveError(f"{resume}: --resume plays the saved game's own scenario; drop the scenario argument")
        path = find_save(resume)
        game, chosen = resume_game(path, choice, asked)
        return game, Autosaver.resume(path, game), chosen.kind
    sc, text = scenarios.load(scenario)
    brains = make_brains(sc, choice)
    game = Game(sc, seed, brains)
    if save is None:
        return game, _NoSave(), choice.kind
    # What played, as asked (to rebuild the brains on resume) and as loaded (model, adapter and its sha256).
    played = choice.describe() | {"models": model_cards(brains)}
    saver = Autosaver.create(save_path(save), game, scenario_text=text, brains=played, source=scenario or sc.meta.id)
    return game, saver, choice.kind


# ------------------------------------------------------------------ saves list
@app.command("list")
def list_cmd(
    folder: Annotated[Path | None, typer.Option("--dir", help="Folder to list (default: the saves folder).")] = None,
    as_json: AsJson = False,
) -> None:
    """The saves in the saves folder ($TTWOOD_SAVES_DIR or the user data folder), newest first;
    each is checked row by row, and a damaged one says so. Open one with `ttwood play NAME`."""
    where = folder or saves_dir()
    rows = list_saves(where)
    if as_json:
        sys.stdout.write(json.dumps({"folder": str(where), "saves": rows}) + "\n")
        return
    if not rows:
        out.print(f"no saves in {escape(str(where))}")
        return
    table = Table(title=str(where))
    columns = ("name", "scenario", "seed", "turns", "modified", "status")
    for col in columns:
        table.add_column(col, overflow="fold")  # whole names even in a narrow terminal (a name is what you type)
    for r in rows:
        table.add_row(*(escape(str(r[c])) if r[c] is not None else "—" for c in columns))
    out.print(table)


@app.command("inspect")
def inspect_cmd(
    save: SaveArg,
    as_json: AsJson = False,
) -> None:
    """What a save holds: scenario, seed, turns, creatures, brains and models, and whether it is intact."""
    info = inspect(find_save(save))
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
        return
    sc = info["scenario"]
    out.print(f"[bold]{escape(info['file'])}[/] · format {info['format']} · made by ttwood {escape(info['app_version'])}")
    out.print(f"scenario {escape(sc['name'])} ({escape(sc['id'])}) · seed {info['seed']} · {info['turns']} turns")
    out.print(f"brains {escape(brains_line(info['brains']))}")
    out.print(f"creatures {info['alive']} of {len(info['creatures'])} alive: " + escape(", ".join(c["name"] for c in info["creatures"])))
    if info["branched_from"]:
        b = info["branched_from"]
        out.print(f"branched from {escape(str(b['file']))} at turn {b['turn']}")
    out.print("integrity: [green]ok[/]")


def brains_line(brains: dict[str, Any]) -> str:
    """What decided, in a line: the kind, each creature that differs, and each model with its
    adapter (the whole record is in ``--json``)."""
    if "kind" not in brains:
        return "not recorded (a save from before saves said)"
    parts = [str(brains["kind"])]
    overrides = brains.get("overrides")
    if isinstance(overrides, dict) and overrides:
        parts.append(", ".join(f"{k}={v}" for k, v in sorted(overrides.items())))
    models = brains.get("models")
    for card in models if isinstance(models, list) else []:
        if isinstance(card, dict):
            adapter = card.get("adapter")
            parts.append(shown_name(card) + (f" + adapter {adapter.get('name')} (sha256 {str(adapter.get('sha256'))[:12]}…)"
                                             if isinstance(adapter, dict) else ""))
    return " · ".join(parts)


EXPORT = "saves export"
"""The title of ``saves export``'s usage errors."""


@app.command("export")
def export_cmd(
    save: Annotated[str, typer.Argument(help="A save file, a NAME in the saves folder, or (with --traces FILE.parquet) "
                                             "a folder of saves such as a sweep's.")],
    to: Annotated[Path | None, typer.Option("--to", help="Write a compact, self-contained copy here.")] = None,
    no_prompts: Annotated[bool, typer.Option("--no-prompts", help="Leave the prompts out of the copy.")] = False,
    traces: Annotated[Path | None, typer.Option("--traces", help="Write every answer here: FILE.parquet (a dataset: "
                                                "datasets.load_dataset('parquet', data_files=FILE)) or FILE.jsonl.")] = None,
    force: Force = False,
) -> None:
    """Share a game: a compact copy (--to) and/or its answers as a dataset (--traces): one row
    per creature answer with prompt, raw, parsed actions, reasons, thinking, tokens, latency, model
    and adapter. `ttwood saves export runs/a --traces a.parquet` takes a whole sweep."""
    if to is None and traces is None:
        raise TTWoodError("missing option: --to FILE (a compact copy of the save) or --traces FILE.parquet|.jsonl "
                          "(its answers, one row each), or both", title=EXPORT)
    folder = Path(save)
    if folder.is_dir():
        if to is not None:
            raise TTWoodError(f"{save}: is a folder: --to copies one save; a folder exports its answers as one dataset "
                              "with --traces FILE.parquet", title=EXPORT)
        if traces is None or traces.suffix != ".parquet":
            raise TTWoodError(f"{save}: is a folder: it exports its answers as one dataset: --traces FILE.parquet", title=EXPORT)
        from engine.saves.traces import export_traces_parquet

        n, games = export_traces_parquet(folder, traces, overwrite=force)
        out.print(f"wrote {escape(str(traces))} ({n} answers from {games} saves)")
        return
    path = find_save(save)
    if to is not None:
        export_copy(path, to, prompts=not no_prompts, overwrite=force)
        out.print(f"wrote {escape(str(to))} ({to.stat().st_size:,} bytes)")
    if traces is not None and traces.suffix == ".parquet":
        from engine.saves.traces import export_traces_parquet

        n, _ = export_traces_parquet(path, traces, overwrite=force)
        out.print(f"wrote {escape(str(traces))} ({n} answers)")
    elif traces is not None:
        n = export_traces(path, traces, overwrite=force)
        out.print(f"wrote {escape(str(traces))} ({n} calls)")


@app.command("branch")
def branch_cmd(
    save: SaveArg,
    new: Annotated[str, typer.Argument(help="The new save (a path, or a NAME in the saves folder).")],
    at: Annotated[int, typer.Option("--at", min=0, help="The last turn the new save keeps.")],
    force: Force = False,
) -> None:
    """A new save holding the game up to turn AT, ready to resume: `ttwood run --resume NEW`."""
    dst = branch(find_save(save), at, save_path(new), overwrite=force)
    out.print(f"wrote {escape(str(dst))}: turns 0 to {at}; go on with `ttwood run --resume {escape(str(dst))} --turns N`")


# ------------------------------------------------------------------ replay
def replay_cmd(
    save: SaveArg,
    verify: Annotated[bool, typer.Option("--verify", help="Check every turn's state against the recorded hash.")] = False,
    as_json: AsJson = False,
) -> None:
    """Play a saved game again from its seed and its tape, with no model loaded."""
    path = find_save(save)
    result = replay(path, verify=verify)
    if as_json:
        sys.stdout.write(json.dumps(result.as_json()) + "\n")
    elif result.ok:
        checked = "every turn's state matches the recording" if verify else "not verified (add --verify)"
        out.print(f"replayed {result.turns} turns of {escape(str(path))} from the tape: {checked}")
    if not result.ok:
        if result.what == "record":
            err.print(
                f"[red]replay differs:[/] {escape(str(path))}: turn {result.first_mismatch}'s stored record "
                "(metrics, creatures, events or orders) is not what the replay made",
                soft_wrap=True,
            )
        elif result.first_mismatch is not None:
            err.print(
                f"[red]replay differs:[/] {escape(str(path))}: turn {result.first_mismatch} does not match the "
                f"recorded state (expected {result.expected_hash[:12] if result.expected_hash else '?'}…, "
                f"got {result.actual_hash[:12] if result.actual_hash else '?'}…)",
                soft_wrap=True,
            )
        elif result.misses:
            t, c = result.misses[0]
            err.print(f"[red]replay differs:[/] {escape(str(path))}: the tape has no answer for {escape(c)} on turn {t}", soft_wrap=True)
        raise typer.Exit(1)
