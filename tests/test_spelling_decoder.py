"""The decoder's spelling of an answer (:mod:`engine.minds.spelling`, what ``ttwood dataset``
teaches a model) is the spelling the real llama brain produces: the brain is driven through a turn
of the embedded model, its sampler replaced by one that picks the token a model that learned the
teacher's answers would pick, and the tokens it holds at the end are compared."""

from __future__ import annotations

from typing import Any

import pytest

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.minds.brains.llama import LlamaBrain, LlamaModel
from engine.minds.brains.models import embedded_model_path
from engine.minds.replan import Replanner
from engine.minds.spelling import decoder_spelling
from engine.turn.game import Game
from engine.turn.observe import observe_all

pytestmark = pytest.mark.model


class TeacherForced(LlamaBrain):
    """The llama brain, but each sampled token is the first of the natural spelling of what is left
    of the creature's target answer (accepted by its grammar sampler, as a sampled token is)."""

    def __init__(self, *args: Any, targets: dict[str, str], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.targets = targets
        self.outs: dict[str, tuple[list[int], int]] = {}

    def _sample(self, t: Any) -> int:
        rest = self.targets[t.obs.name][len(t.text.decode()) :]
        if not rest:
            return int(self.lib.llama_vocab_eos(self.model.vocab))
        tok = self.model.tokenize(rest, special=False)[0]
        self.lib.llama_sampler_accept(t.grammar, tok)
        return tok

    def _answer(self, t: Any) -> Any:
        self.outs[t.obs.name] = (list(t.out), t.forced)
        return super()._answer(t)


@pytest.mark.parametrize("form", ["lines", "json"])
def test_the_brain_spells_teacher_answers_as_the_dataset_does(form: str) -> None:
    turns = 6
    sc, _ = scenarios.load(None)
    game = Game(sc, 4, ScriptedBrain())
    game.run(turns)
    obs = [o for o in observe_all(game.wood, game.wood.alive(), {}) if o.role != "patron"]
    teacher = ScriptedBrain().decide(obs)
    m = LlamaModel(embedded_model_path())
    try:
        probe = LlamaBrain(sc, m, lean=True, form=form)
        targets, spelled = {}, {}
        for o, a in zip(obs, teacher, strict=True):
            _, _, plan = probe.prompt_for(o)
            text = plan.form.write(a.thinking, [x.model_dump(mode="json") for x in a.actions], o.goods)
            if plan.refusal(text, m.count) is not None:
                continue
            targets[o.name] = text
            spelled[o.name] = decoder_spelling(text, plan.matcher(), lambda s: m.tokenize(s, special=False), m.piece,
                                               replan=Replanner(o, sc, plan))
        probe.close()
        assert len(targets) >= 3, targets
        brain = TeacherForced(sc, m, lean=True, targets=targets, form=form)
        answers = brain.decide([o for o in obs if o.name in targets])
        brain.close()
    finally:
        m.close()
    for a in answers:
        name = next(n for n in targets if a.raw == targets[n])  # the brain wrote every target whole
        out, forced = brain.outs[name]
        assert tuple(out) == spelled[name].ids, name
        assert forced == len(out) - spelled[name].sampled
        assert a.problems == []
    assert len(answers) == len(targets)
    assert all(a.actions for a in answers)
    if form == "json":  # the grammar forces most of JSON's keys and quotes: inserted, not sampled
        assert sum(s.sampled for s in spelled.values()) < sum(len(s.ids) for s in spelled.values()) // 2
