"""``ttwood bench spelling``: what each spelling of an answer costs in tokens, on the teacher's answers."""

from __future__ import annotations

from typing import Annotated

import typer

from engine import scenario as scenarios
from ttwood.options import AsJson, Model, ScenarioOption, Seed


def register(bench: typer.Typer) -> None:
    """Add ``spelling`` to ``ttwood bench``."""
    bench.command("spelling")(bench_spelling_cmd)


def bench_spelling_cmd(
    turns: Annotated[int, typer.Option("--turns", "-n", min=1, max=1000, help="Teacher turns whose answers are counted.")] = 30,
    model: Model = None,
    scenario: ScenarioOption = None,
    seed: Seed = 1,
    as_json: AsJson = False,
) -> None:
    """Tokens per answer and per action of the two spellings a model may write (JSON, and terse
    lines), counted on the teacher's answers as the llama brain's decoder spells them under each
    creature's grammar (every token costs a decoding step, inserted or sampled). Counts, not times:
    any machine gives the same figures."""
    from engine.bench.spelling import bench_spelling
    from engine.minds.brains.llama import LlamaModel
    from engine.minds.brains.models import resolve_model
    from ttwood.cli import _timed, out  # the bench commands' progress bar and console

    sc, _ = scenarios.load(scenario)
    m = LlamaModel(resolve_model(model), threads=1)
    r = _timed(f"{turns} teacher turns", turns, lambda on_turn: bench_spelling(sc, m, turns, seed, on_turn=on_turn), [m], as_json)
    if r is None:
        return
    for form in ("json", "lines"):
        f = r[form]
        out.print(f"{form:>5}: {f['tokens_per_answer']} tokens an answer ({f['sampled_per_answer']} sampled), "
                  f"[bold]{f['tokens_per_action']}[/] an action, over {f['answers']} answers of {f['actions_per_answer']} actions"
                  + (f" ({f['refused']} the grammar refused)" if f["refused"] else ""))
    out.print(f"lines cost {r['lines_to_json_tokens_per_action']}× the tokens of JSON per action")
