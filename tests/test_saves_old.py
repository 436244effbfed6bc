"""A save written before the objects owned their state still opens, replays and resumes.

``data/old_saves/scripted-seed5-55.ttwood.gz`` was written by the code before that change
(commit bd9b5ab, the layout before ``engine/world``), gzipped to keep the repository small::

    ttwood run --brain scripted --turns 55 --seed 5 --save scripted-seed5-55.ttwood
    gzip -9 -n scripted-seed5-55.ttwood

The default scenario, 55 turns: keyframes at turns 0, 50 and 55, finished contracts, legends.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from engine.elders.scripted import ScriptedBrain
from engine.saves import Autosaver, open_save, replay, state_hash
from engine.saves.tape import TapeBrain
from engine.turn.game import Game
from engine.turn.report import TurnReport

OLD = Path(__file__).parent / "data" / "old_saves" / "scripted-seed5-55.ttwood.gz"
TURNS = 55
MORE = 5


@pytest.fixture()
def old_save(tmp_path: Path) -> Path:
    """A fresh copy of the old save, unpacked."""
    path = tmp_path / "old.ttwood"
    with gzip.open(OLD, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def _recorded(save_path: Path) -> tuple[Game, TapeBrain]:
    """The old game from its start, decided by its own tape (the scripted brains have since learned
    to speak and deal, so today's would play another game: the tape is what makes it the same)."""
    with open_save(save_path, full_check=False) as save:
        scenario, seed, tape = save.scenario, save.seed, save.tape()
    brain = TapeBrain(tape)
    return Game(scenario, seed, brain), brain


def _uninterrupted(save_path: Path, turns: int, switch: int = TURNS) -> tuple[Game, list[TurnReport]]:
    """The same game played straight through by today's engine: the recorded turns up to
    ``switch`` from the tape, then today's scripted brains."""
    game, tape = _recorded(save_path)
    reports = game.run(min(turns, switch))
    assert tape.misses == []
    live = ScriptedBrain()
    for c in game.wood.creatures:
        game.set_brain(c.name, live)
    return game, reports + game.run(max(0, turns - switch))


def test_the_old_save_verifies_by_replay(old_save: Path) -> None:
    before = old_save.read_bytes()
    result = replay(old_save, verify=True)
    assert result.ok, (result.first_mismatch, result.what)
    assert result.verified and result.turns == TURNS and result.first_mismatch is None and result.misses == []
    assert old_save.read_bytes() == before, "replaying never changes the file"


def test_its_recorded_hashes_are_todays(old_save: Path) -> None:
    """The old file's whole-state hashes are what today's engine computes for the same game."""
    with open_save(old_save) as save:
        assert save.turns == TURNS and save.keyframes == [0, 50, TURNS]
        full = dict(save.con.execute("SELECT turn, full_hash FROM turns WHERE full_hash IS NOT NULL"))
    game, tape = _recorded(old_save)
    assert state_hash(game) == full[0]
    game.run(50)
    assert state_hash(game) == full[50]
    game.run(TURNS - 50)
    assert state_hash(game) == full[TURNS]
    assert tape.misses == []


def test_resumed_it_plays_on_as_the_uninterrupted_game(old_save: Path) -> None:
    straight, reports = _uninterrupted(old_save, TURNS + MORE)
    with open_save(old_save) as save:
        resumed = save.game_at(None, ScriptedBrain())
        rewound = save.game_at(52, ScriptedBrain())  # between keyframes: restored at 50, replayed to 52
    assert resumed.turn == TURNS and [r.turn for r in resumed.reports] == list(range(1, TURNS + 1))
    assert [r.summary() for r in resumed.reports] == [r.summary() for r in reports[:TURNS]]
    with Autosaver.resume(old_save, resumed) as saver:
        resumed.run(MORE, on_turn=saver.record)
    assert [r.summary() for r in resumed.reports[TURNS:]] == [r.summary() for r in reports[TURNS:]]
    assert state_hash(resumed) == state_hash(straight)
    rewound.run(TURNS + MORE - 52)
    assert state_hash(rewound) == state_hash(_uninterrupted(old_save, TURNS + MORE, switch=52)[0])
    # The file, now written by today's engine after the old turns, still verifies end to end.
    result = replay(old_save, verify=True)
    assert result.ok and result.turns == TURNS + MORE
