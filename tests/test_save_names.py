"""A save's name becomes a path by one rule, whichever command reads or writes it.

It was three rule sets (``engine.saves.catalog`` for run/replay/saves, ``ttwood play``'s own, the
session's): ``ttwood play wood.v2`` opened the save ``ttwood replay wood.v2`` could not find, and
``ttwood run --save wood.v2`` wrote a file with no suffix, here, that ``ttwood play wood.v2`` did
not look for.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.minds.factory import BrainChoice
from engine.saves import Autosaver, SaveError, find_save, look_up_save, save_name, save_path
from engine.turn.game import Game
from ttwood.cli import app

runner = CliRunner()


def _save(path: Path) -> Path:
    sc, text = scenarios.load(None)
    game = Game(sc, 4, ScriptedBrain())
    with Autosaver.create(path, game, scenario_text=text, brains=BrainChoice(kind="scripted").describe()) as saver:
        saver.record(game.step())
    return path


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(the saves folder, the working folder)."""
    saves, here = tmp_path / "saves", tmp_path / "here"
    saves.mkdir()
    here.mkdir()
    monkeypatch.setenv("TTWOOD_SAVES_DIR", str(saves))
    monkeypatch.chdir(here)
    return saves, here


def test_every_command_finds_a_save_by_the_names_play_takes(folders: tuple[Path, Path]) -> None:
    saves, _ = folders
    _save(saves / "wood.v2.ttwood")
    _save(saves / "my-wood.ttwood")
    for name in ("wood.v2", "my-wood", "my-wood.ttwood"):  # the name `saves list` shows, or the file's
        r = runner.invoke(app, ["replay", name, "--json"])
        assert r.exit_code == 0, (name, r.output, r.exception)
        r = runner.invoke(app, ["saves", "inspect", name, "--json"])
        assert r.exit_code == 0, (name, r.output, r.exception)
        from ttwood.cli_play import as_save

        assert as_save(name) == str(look_up_save(name)), name


def test_a_save_written_under_a_name_is_found_by_that_name(folders: tuple[Path, Path]) -> None:
    saves, here = folders
    r = runner.invoke(app, ["run", "--brain", "scripted", "--turns", "1", "--save", "wood.v2", "--json"])
    assert r.exit_code == 0, r.output
    assert (saves / "wood.v2.ttwood").is_file() and not (here / "wood.v2").exists()  # it wrote ./wood.v2, no suffix
    from ttwood.cli_play import as_save

    assert as_save("wood.v2") == str(saves / "wood.v2.ttwood")
    for name in ("my-wood", "wood.v2", "my-wood.ttwood", "runs/a.ttwood"):
        path = save_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _save(path)
        assert find_save(name) == path, name


def test_a_file_here_comes_before_the_saves_folder_and_the_farewell_knows_it(folders: tuple[Path, Path]) -> None:
    saves, here = folders
    there = _save(saves / "w.ttwood")
    assert save_name(there) == "w" and find_save("w") == there
    _save(here / "w.ttwood")
    assert find_save("w.ttwood") == Path("w.ttwood")  # NAME.ttwood: here if it is here
    assert find_save("w") == there  # a bare name without the suffix is the saves folder's
    (here / "w").write_text("not a save")
    assert find_save("w") == Path("w") and save_name(there) is None  # `w` would open ./w now
    assert save_name(here / "elsewhere.ttwood") is None and save_name(saves / "x.txt") is None


def test_names_that_are_no_save_say_where_they_looked(folders: tuple[Path, Path]) -> None:
    saves, _ = folders
    with pytest.raises(SaveError, match=r"nope: no such save \(looked for nope and .*saves/nope\.ttwood\)"):
        find_save("nope")
    with pytest.raises(SaveError, match="is a folder"):
        find_save(str(saves))
    assert look_up_save("w" * 300) is None and look_up_save("w" * 300 + ".ttwood") is None  # too long: no such file
    assert look_up_save(os.sep.join(["a", "b.ttwood"])) is None


def test_the_session_and_the_saves_share_one_rule() -> None:
    import engine.saves as saves
    import engine.session as session

    assert session.is_save is saves.is_save and session.free_path is saves.free_path
