"""``ttwood dataset``: teacher games to training examples for the model brain."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from engine import scenario as scenarios
from ttwood.options import AsJson, Form, FormOption

if TYPE_CHECKING:
    from engine.learn.dataset import Stats
    from engine.minds.brains.llama_model import LlamaModel
    from engine.scenario import Scenario
    from engine.turn.brain import Brain

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add ``dataset`` to the ``ttwood`` command."""
    app.command("dataset")(dataset)


def dataset(
    scenario: Annotated[list[str] | None, typer.Argument(
        help="Bundled scenario ids or .toml paths to play (default: the bundled woods but river-bend "
             "and market-50, kept unseen to measure on).")] = None,
    games: Annotated[int, typer.Option("--games", "-g", min=1, max=100_000, help="Teacher games to play.")] = 40,
    turns: Annotated[int, typer.Option("--turns", "-n", min=1, max=1000,
        help="Turns per game (a year is 24 in the bundled woods: the default plays two and a half).")] = 60,
    out: Annotated[Path, typer.Option("--out", "-o", help="The JSONL file to write (replaced when done).")] = Path("dataset.jsonl"),
    first_seed: Annotated[int, typer.Option("--first-seed", help="Seed of the first game; the others count up.")] = 1,
    validation: Annotated[float, typer.Option("--validation", min=0.0, max=0.9,
        help="Share of the games (the last seeds) held out as the validation split; one game of every scenario "
             "when that is at most twice the share; 0: none.")] = 0.1,
    model: Annotated[str | None, typer.Option("--model", "-m",
        help="The GGUF whose tokenizer and chat template build the prompts (default: the embedded SmolLM2-135M).")] = None,
    legends: Annotated[bool, typer.Option("--legends/--no-legends",
        help="Fire each scenario's on-demand legends at random turns (each with even odds), so the data holds shocks.")] = True,
    student: Annotated[str | None, typer.Option("--student",
        help="Let a model with this LoRA adapter play (a .gguf path, or 'shipped') while the teacher labels every "
             "creature-turn it met (DAgger): the student's own mistakes, answered the teacher's way.")] = None,
    from_save: Annotated[list[Path] | None, typer.Option("--from-save",
        help="Label a saved game instead (repeatable): replayed from its tape, every creature-turn answered by the teacher.")] = None,
    form: FormOption = Form.lines,
    as_json: AsJson = False,
) -> None:
    """Play teacher games (scripted brains) and write one example per creature-turn: the exact
    prompt the model brain would build, and the teacher's answer in that turn's grammar.

    Games go round-robin over the scenarios; every other game of a scenario gets a generated cast
    (other names and species, sometimes a creature more). The last seeds are the validation split.
    Answers the grammar refuses are counted by reason and left out. Then train with
    `ttwood train --data FILE --out ADAPTER.gguf`.
    """
    from engine.learn.dataset import DEFAULT_SCENARIOS, Stats, plan_games, play_games
    from engine.minds.brains.llama_model import LlamaModel
    from engine.minds.brains.models import embedded_model_path
    chosen = list(scenario or DEFAULT_SCENARIOS)
    loaded = {ref: scenarios.load(ref)[0] for ref in chosen}
    plans = plan_games(chosen, games, first_seed=first_seed, validation=validation)
    stats = Stats()
    out = _writable(out.expanduser())
    # only its tokenizer and chat template: the packaged file has them (no need for the Q8_0 copy)
    lm = LlamaModel(Path(model).expanduser() if model else embedded_model_path())
    try:
        rows = _labelled(from_save, lm, stats, form.value) if from_save else play_games(
            plans, turns, lm, stats, lambda ref: loaded[ref], legends=legends,
            play=_student_player(student, model) if student else None, form=form.value)
        _write(out, rows, stats, "saves labelled" if from_save else "games", len(from_save or plans))
    except KeyboardInterrupt:
        err.print(f"stopped: {out} is as it was (a dataset is written whole, at the end)", markup=False)
        raise
    finally:
        lm.close()
    summary = {"out": str(out), "scenarios": [loaded[r].meta.id for r in chosen], "turns": turns, **stats.summary()}
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    _say(summary)


def _write(out: Path, rows: Iterator[dict[str, Any]], stats: Stats, what: str, total: int) -> None:
    """Write the rows under a progress bar of the games (or saves) done."""
    from engine.learn.dataset import write_jsonl

    with Progress(TextColumn("[bold green]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[info]}"), console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task(what, total=total, info="")
        write_jsonl(out, _counted(rows, stats, lambda: progress.update(
            task, completed=stats.games, info=f"{stats.examples} examples, {sum(stats.refused.values())} refused")))


def _writable(out: Path) -> Path:
    """``out``, once it is sure the dataset can be written there: said before any game is played."""
    from engine.core.errors import TTWoodError
    from engine.learn.dataset import part_path

    if out.is_dir():
        raise TTWoodError(f"{out}: is a folder; --out names the file to write, e.g. --out {out / 'teacher.jsonl'}",
                          title="dataset")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        part_path(out).touch()
        part_path(out).unlink()  # (nothing left behind if the games never start)
    except OSError as exc:
        raise TTWoodError(f"{out}: cannot write the dataset here ({exc.strerror or exc})", title="dataset") from None
    return out


def _say(summary: dict[str, Any]) -> None:
    why = "; ".join(f"{n} {reason}" for reason, n in summary["refused_by_reason"].items())
    err.print(f"[bold]{summary['examples']}[/] examples from {summary['games']} game{'s' * (summary['games'] != 1)} "
              f"in {escape(summary['out'])} (train {summary['train']}, validation {summary['validation']}); "
              f"refused {summary['refused']}{f' ({escape(why)})' if why else ''}; "
              f"prompt tokens median {summary['prompt_tokens_median']}, max {summary['prompt_tokens_max']}")


def _student_player(adapter: str, model: str | None) -> Callable[[Scenario, int], Brain]:
    """A maker of the student's brain for each game: the model with ``adapter``, as ``--brain
    llama --adapter ADAPTER`` would play (one model load for every game)."""
    from engine.minds.factory import BrainChoice, make_brains

    loaded: dict[tuple[Any, ...], Any] = {}

    def make(sc: Scenario, seed: int) -> Brain:
        return make_brains(sc, BrainChoice(kind="llama", model=model, adapter=adapter, seed=seed, threads=None), loaded)["*"]

    return make


def _labelled(saves: list[Path], lm: LlamaModel, stats: Stats, form: str) -> Iterator[dict[str, Any]]:
    """Every creature-turn of each saved game, answered by the teacher."""
    from engine.learn.dataset import label_save

    for path in saves:
        yield from label_save(path.expanduser(), lm, stats, form=form)


def _counted(rows: Iterator[dict[str, Any]], stats: Stats, tick: Callable[[], None]) -> Iterator[dict[str, Any]]:
    """``rows`` as they come, ``tick`` called whenever another game is done."""
    games = stats.games
    for row in rows:
        if stats.games != games:
            games = stats.games
            tick()
        yield row
    tick()
