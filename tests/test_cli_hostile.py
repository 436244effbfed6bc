"""The command line used carelessly: no terminal for the UI, a seed too large to save, a save
name that is a folder. Each is one clear message, an exit status of 2, and nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.elders.scripted import ScriptedBrain
from engine.saves import Autosaver, SaveError, save_path
from engine.turn.game import Game

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]


def _ttwood(args: list[str], saves: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TTWOOD_BRAIN="scripted", TTWOOD_SAVES_DIR=str(saves))
    env.pop("TEXTUAL_DRIVER", None)
    return subprocess.run([*CMD, *args], capture_output=True, text=True, timeout=60, env=env, **kw)  # type: ignore[call-overload, no-any-return]


def test_play_without_a_terminal_says_so_instead_of_hanging(tmp_path: Path) -> None:
    done = _ttwood(["play"], tmp_path, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr and "ttwood run" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("seed", [2**64, 2**63, -1])
def test_a_seed_that_cannot_be_saved_is_refused_before_anything_is_written(tmp_path: Path, seed: int) -> None:
    done = _ttwood(["run", "--turns", "2", "--seed", str(seed), "--save", "big"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "a seed is a whole number from 0 to" in done.stderr
    assert "Traceback" not in done.stderr
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_the_largest_seed_plays_and_saves(tmp_path: Path) -> None:
    done = _ttwood(["run", "--turns", "2", "--seed", str(2**63 - 1), "--save", "big"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "big.ttwood").is_file()


def test_game_refuses_a_seed_out_of_range(default_scenario: scenarios.Scenario) -> None:
    with pytest.raises(TTWoodError, match="a seed is a whole number"):
        Game(default_scenario, 2**64, ScriptedBrain())


@pytest.mark.parametrize("name", ["NAME/", "a/b/", "", " ", "..", "."])
def test_a_save_name_must_name_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("TTWOOD_SAVES_DIR", str(tmp_path))
    with pytest.raises(SaveError, match="a save is a file"):
        save_path(name)


def test_save_name_with_a_slash_writes_nothing(tmp_path: Path) -> None:
    done = _ttwood(["run", "--turns", "2", "--save", "NAME/"], tmp_path)
    assert done.returncode == 2
    assert "a save is a file" in done.stderr
    assert not tmp_path.exists() or list(tmp_path.rglob("*")) == []


def test_a_save_that_fails_to_start_leaves_no_file(tmp_path: Path, game: Game, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever fails while the new file is written (here: a value JSON cannot hold), the name
    stays free: the file only appears, whole, once it is a save."""
    path = tmp_path / "g.ttwood"
    with pytest.raises(SaveError, match="cannot be written"):
        Autosaver.create(path, game, scenario_text=None, brains={"kind": "scripted", "huge": 2**70})
    assert list(tmp_path.iterdir()) == []


def test_an_adapter_no_creature_can_use_is_refused(tmp_path: Path) -> None:
    adapter = tmp_path / "a.gguf"
    adapter.write_bytes(b"GGUF")
    done = _ttwood(["run", "--turns", "1", "--brain", "scripted", "--adapter", str(adapter)], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "an adapter is for llama brains" in done.stderr and "Traceback" not in done.stderr
    # `--adapter none` with scripted creatures asks for nothing: it plays
    assert _ttwood(["run", "--turns", "1", "--brain", "scripted", "--adapter", "none"], tmp_path).returncode == 0


def test_the_shipped_adapter_is_not_timed_on_another_model(tmp_path: Path) -> None:
    model = tmp_path / "other.gguf"
    model.write_bytes(b"GGUF")
    done = _ttwood(["bench", "llm", "--adapter", "shipped", "--model", str(model)], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "fits the embedded model only" in done.stderr and "Traceback" not in done.stderr
