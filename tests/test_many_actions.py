"""A scenario may let a creature take up to 20 actions a turn (``[budget] max_actions``): llama.cpp
must take every grammar such a turn needs (the whole answer's, and the rest's after each action),
or every game with a llama brain stops at turn 1 ("llama.cpp refused the grammar")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.minds.allowance import plan_answer
from engine.minds.brains.llama_model import LlamaModel
from engine.minds.brains.shaped_model import make_shaped_model
from engine.minds.grammar import to_gbnf
from engine.minds.replan import rest_node
from engine.turn.game import Game
from engine.turn.observe import observe_all


def _wood(max_actions: int) -> tuple[scenarios.Scenario, str]:
    _, text = scenarios.load(None)
    assert "\nmax_actions = 6\n" in text
    text = text.replace("\nmax_actions = 6\n", f"\nmax_actions = {max_actions}\n")
    return scenarios.parse(text, f"max-actions-{max_actions}"), text


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> LlamaModel:
    m = LlamaModel(make_shaped_model("tiny", tmp_path_factory.mktemp("model") / "tiny.gguf", quant="f16"), threads=1)
    yield m  # type: ignore[misc]
    m.close()


@pytest.mark.parametrize("max_actions", [6, 8, 12, 20])
def test_llama_cpp_takes_every_grammar_of_a_turn_of_many_actions(tiny: LlamaModel, max_actions: int) -> None:
    sc, _ = _wood(max_actions)
    game = Game(sc, 2, ScriptedBrain())
    game.step()
    L = tiny.lib
    for o in observe_all(game.wood, game.wood.alive(), {}):
        plan = plan_answer(o, sc, 300, sc.budget.tokens, replanned=True)
        for left in range(max_actions):  # the answer's own grammar, then what is left after each action
            gbnf = plan.gbnf() if left == 0 else to_gbnf(rest_node(o, sc, plan, left))
            grammar = L.llama_sampler_init_grammar(tiny.vocab, gbnf.encode(), b"root")
            assert grammar, f"{o.name}, {left} actions left: llama.cpp refused the grammar"
            L.llama_sampler_free(grammar)


@pytest.mark.model
def test_a_game_of_twenty_actions_a_turn_plays_with_the_embedded_model(tmp_path: Path) -> None:
    _, text = _wood(20)
    path = tmp_path / "many.toml"
    path.write_text(text.replace('id = "thousand-token-wood"', 'id = "many"', 1), encoding="utf-8")
    env = dict(os.environ, TTWOOD_SAVES_DIR=str(tmp_path / "saves"))
    done = subprocess.run([sys.executable, "-c", "from ttwood.cli import main; main()", "run", str(path), "--turns", "1",
                           "--brain", "llama", "--threads", "2", "--json"], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)
    assert data["turns"] == 1 and data["totals"]["valid_actions"] + data["totals"]["rejected_actions"] > 0
