"""What the two spellings of an answer cost in tokens, on the teacher's own answers.

A scripted game is played; every creature-turn's decision is written both ways (JSON and lines,
:mod:`engine.minds.forms`) under the grammar the llama brain would give it, and spelled as the
decoder writes it (:func:`~engine.minds.spelling.decoder_spelling`: what the grammar forces is
inserted, the rest sampled). Every token of an answer costs a decoding step, inserted or sampled,
so the total is what a turn pays; the sampled share is what the model must get right.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.elders.scripted import ScriptedBrain
from engine.minds.brains.llama import LlamaBrain, LlamaModel
from engine.minds.forms import FORM_NAMES
from engine.minds.replan import Replanner
from engine.minds.spelling import SpellingError, decoder_spelling
from engine.scenario import Scenario
from engine.turn.brain import Answer
from engine.turn.game import Game
from engine.turn.observation import Observation


class _Counting(ScriptedBrain):
    """The teacher, counting what each of its answers costs in each spelling."""

    def __init__(self, students: dict[str, LlamaBrain]) -> None:
        super().__init__()
        self.students = students
        self.tally = {f: {"answers": 0, "actions": 0, "tokens": 0, "sampled": 0, "chars": 0, "refused": 0} for f in students}

    def decide(self, observations: list[Observation]) -> list[Answer]:
        answers = super().decide(observations)
        for o, a in zip(observations, answers, strict=True):
            if o.role == "patron":
                continue
            dumped = [x.model_dump(mode="json") for x in a.actions]
            for form, student in self.students.items():
                self._count(student, o, a.thinking, dumped, self.tally[form])
        return answers

    @staticmethod
    def _count(student: LlamaBrain, o: Observation, thinking: str, dumped: list[dict[str, Any]], t: dict[str, int]) -> None:
        _, _, plan = student.prompt_for(o)
        text = plan.form.write(thinking, dumped, o.goods)
        m = student.model
        try:
            spelled = decoder_spelling(text, plan.matcher(), lambda s: m.tokenize(s, special=False), m.piece,
                                       replan=Replanner(o, student.scenario, plan))
        except SpellingError:
            t["refused"] += 1
            return
        t["answers"] += 1
        t["actions"] += len(dumped)
        t["tokens"] += len(spelled.ids)
        t["sampled"] += spelled.sampled
        t["chars"] += len(text)


def bench_spelling(scenario: Scenario, model: LlamaModel, turns: int = 30, seed: int = 1,
                   on_turn: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Play ``turns`` teacher turns and count each spelling's tokens per answer and per action."""
    students = {f: LlamaBrain(scenario, model, seed=seed, lean=True, form=f) for f in FORM_NAMES}
    counting = _Counting(students)
    try:
        game = Game(scenario, seed, counting)
        first = game.turn
        game.run(turns, None if on_turn is None else lambda r: on_turn(r.turn - first))
    finally:
        for s in students.values():
            s.close()
    out: dict[str, Any] = {"scenario": scenario.meta.id, "seed": seed, "turns": turns, "model": model.name}
    for form, t in counting.tally.items():
        n, acts = t["answers"], t["actions"]
        out[form] = {
            **t,
            "tokens_per_answer": round(t["tokens"] / n, 1) if n else None,
            "sampled_per_answer": round(t["sampled"] / n, 1) if n else None,
            "tokens_per_action": round(t["tokens"] / acts, 1) if acts else None,
            "actions_per_answer": round(acts / n, 2) if n else None,
        }
    j, x = out["json"]["tokens_per_action"], out["lines"]["tokens_per_action"]
    out["lines_to_json_tokens_per_action"] = round(x / j, 3) if j and x else None
    return out
