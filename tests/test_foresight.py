"""The foresight elder: its copies of the game play exactly as the game would, looking ahead leaves
the game (its generator included) untouched, it is deterministic, its games replay exactly from
their saves, and its settings are checked with clear messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.elders.foresight import ForesightBrain, ForesightError, Settings
from engine.elders.scripted import ScriptedBrain
from engine.elders.variants import candidates
from engine.minds.factory import BrainChoice, make_brains
from engine.saves import Autosaver, replay, state_hash
from engine.turn.brain import Answer
from engine.turn.game import Game
from engine.turn.observation import Observation
from engine.turn.observe import observe_all
from engine.turn.twin import Moment
from ttwood.cli import app

QUICK = "depth=2,width=3"


def _scenario(sid: str = "thousand-token-wood") -> scenarios.Scenario:
    sc, _ = scenarios.load(sid)
    return sc


def _game(seed: int, seat: str | None, settings: str = QUICK, sid: str = "thousand-token-wood") -> Game:
    sc = _scenario(sid)
    choice = BrainChoice(kind="scripted", overrides={seat: "foresight"} if seat else {}, foresight=settings if seat else None)
    return Game(sc, seed, make_brains(sc, choice))


def test_a_copy_plays_its_turn_on_exactly_as_the_game_does() -> None:
    """A copy made while the creatures decide, given the answers they give, ends the turn in the
    state the game ends it in: the copy is the game, not an approximation of it."""
    sc = _scenario()
    elder = ScriptedBrain(message_chars=sc.budget.message_chars)
    copies: list[Game] = []

    class Copying(ScriptedBrain):
        def decide(self, observations: list[Observation]) -> list[Answer]:
            copies.append(Moment(game).copy(elder))
            return super().decide(observations)

    game = Game(sc, 4, Copying(message_chars=sc.budget.message_chars))
    for _ in range(12):
        game.step()
        twin = copies[-1]
        twin.finish_turn()
        assert state_hash(twin) == state_hash(game)
        assert twin.wood.rng.getstate() == game.wood.rng.getstate()


def test_looking_ahead_leaves_the_game_and_its_generator_untouched() -> None:
    game = _game(2, "Hazel")
    game.run(6)
    brain = game.brain_of("Hazel")
    assert isinstance(brain, ForesightBrain)
    before, rng = state_hash(game), game.wood.rng.getstate()
    living = game.wood.alive()
    hazel = next(o for o in observe_all(game.wood, living, {}) if o.name == "Hazel")
    tried = brain.cost.decisions
    brain.decide([hazel])
    assert brain.cost.decisions == tried + 1, "it looked ahead"
    assert state_hash(game) == before
    assert game.wood.rng.getstate() == rng


def test_the_same_seed_gives_the_same_game_and_width_one_is_the_plain_elder() -> None:
    a, b = _game(5, "Barnaby"), _game(5, "Barnaby")
    a.run(10)
    b.run(10)
    assert state_hash(a) == state_hash(b)
    plain, one = _game(5, None), _game(5, "Barnaby", "width=1")
    plain.run(10)
    one.run(10)
    assert state_hash(plain) == state_hash(one)
    chose = a.brain_of("Barnaby")
    assert isinstance(chose, ForesightBrain) and chose.cost.decisions == 10 and chose.cost.candidates >= 20


def test_a_foresight_game_replays_exactly_from_its_save(tmp_path: Path) -> None:
    sc, text = scenarios.load("river-bend")
    choice = BrainChoice(kind="scripted", overrides={"Pip": "foresight", "Sable": "foresight"}, foresight="depth=2,width=2")
    game = Game(sc, 3, make_brains(sc, choice))
    path = tmp_path / "f.ttwood"
    with Autosaver.create(path, game, scenario_text=text, brains=choice.describe()) as saver:
        game.run(6, saver.record)
    result = replay(path, verify=True)
    assert result.ok, result
    assert result.turns == 6


def test_candidates_differ_and_start_with_the_elders_own() -> None:
    game = _game(1, None)
    game.run(3)
    obs = observe_all(game.wood, game.wood.alive(), {})
    own = ScriptedBrain().decide(obs)
    for o, answer in zip(obs, own, strict=True):
        tried = candidates(answer.actions, o, 10)
        assert tried[0].label == "own" and tried[0].actions == answer.actions
        assert len({repr(c.actions) for c in tried}) == len(tried)
        assert len(candidates(answer.actions, o, 2)) <= 2


@pytest.mark.parametrize(("text", "says"), [
    ("depth=0", "depth is a whole number from 1 to 20"),
    ("width=99", "width is a whole number from 1 to 10"),
    ("wealth=-1", "the weight wealth is a number from 0"),
    ("health=nan", "the weight health is a number from 0"),
    ("deep=3", "the keys depth, width"),
    ("depth=2,depth=3", "depth is given twice"),
])
def test_bad_settings_are_refused_with_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ForesightError, match=says):
        Settings.parse(text)


def test_settings_read_back_from_their_text() -> None:
    s = Settings.parse("depth=4,width=8,alive=500")
    assert (s.depth, s.width, s.alive) == (4, 8, 500)
    assert Settings.parse(s.text()) == s


def _ttwood(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from ttwood.cli import main; main()", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_command_line_says_what_is_wrong_without_a_traceback() -> None:
    bad = _ttwood("run", "--brain", "foresight", "--foresight", "depth=0", "--turns", "1")
    assert bad.returncode == 2 and "depth is a whole number" in bad.stderr and "Traceback" not in bad.stderr
    with pytest.raises(TTWoodError, match="no creature of this game is one"):
        make_brains(_scenario(), BrainChoice(kind="scripted", foresight="depth=2"))
    ok = CliRunner().invoke(app, ["run", "--brain", "scripted", "--brain-for", "Oona=foresight", "--foresight", QUICK, "--turns", "3",
                             "--json"])
    assert ok.exit_code == 0, ok.output
