"""A game with a real model brain (the embedded SmolLM2 through llama.cpp) replays exactly from
its save's tape with no model loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import engine.minds.brains.llama as llama
from engine.saves import inspect, replay
from ttwood.cli import app

runner = CliRunner()


def test_a_llama_game_replays_from_the_tape_with_no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "llama.ttwood"
    r = runner.invoke(app, ["run", "--turns", "1", "--brain", "scripted", "--brain-for", "Hazel=llama",
                            "--save", str(path), "--json"])
    assert r.exit_code == 0, r.output
    info = inspect(path)
    assert info["brains_used"] == ["llama", "scripted"] and info["models"], info

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay must not load a model")

    monkeypatch.setattr(llama.LlamaModel, "__init__", no_model)
    result = replay(path, verify=True)
    assert result.ok and result.turns == 1
    hazel = [d for rep in result.reports for d in rep.decided if d.creature == "Hazel"]
    assert len(hazel) == 1 and all(d.answer.raw and d.answer.meta.get("prompt") for d in hazel)
    r = runner.invoke(app, ["replay", str(path), "--verify"])
    assert r.exit_code == 0 and "every turn's state matches" in r.stdout


def test_a_resumed_game_goes_on_with_the_brains_and_the_adapter_it_was_saved_with(tmp_path: Path) -> None:
    """`run --resume` rebuilds the brains the save records. An option that would change who
    decides is refused (it was silently ignored); the adapter at another path is taken when it is
    the same file (its sha256), and an adapter file that changed since is refused, not played on
    under the old record."""
    import shutil
    import subprocess
    import sys

    from engine.minds.brains.models import SHIPPED_ADAPTER

    adapter = tmp_path / "a.gguf"
    shutil.copyfile(SHIPPED_ADAPTER, adapter)
    path = tmp_path / "g.ttwood"
    r = runner.invoke(app, ["run", "--turns", "1", "--brain", "scripted", "--brain-for", "Hazel=llama",
                            "--adapter", str(adapter), "--save", str(path), "--json"])
    assert r.exit_code == 0, r.output

    def resume(*extra: str) -> tuple[int, str]:
        cmd = [sys.executable, "-c", "from ttwood.cli import main; main()"]
        got = subprocess.run([*cmd, "run", "--resume", str(path), "--turns", "1", "--json", *extra],
                             capture_output=True, text=True, timeout=300, check=False)
        assert "Traceback" not in got.stderr
        return got.returncode, got.stderr

    code, out = resume("--brain-for", "Hazel=scripted")
    assert code != 0 and "--brain-for" in out and "Drop --brain-for" in out
    code, out = resume("--adapter", "none")  # it played with one
    assert code != 0 and "it played with adapter" in out and "this one is none" in out, out
    from engine.minds.brains.models import embedded_model_path

    code, out = resume("--model", str(embedded_model_path()))  # the packaged Q4_1 file: it played the Q8_0 copy
    assert code != 0 and "it played with" in out and "Q4_1" in out, out
    from engine.minds.brains.models import runtime_model_path

    code, out = resume("--model", str(runtime_model_path()))  # the very model it played, with its adapter
    assert code == 0, out
    code, out = resume("--base-url", "http://127.0.0.1:9/v1", "--timeout", "5")  # where a server is: may change
    assert code == 0, out
    moved = tmp_path / "moved.gguf"
    adapter.rename(moved)
    code, out = resume("--adapter", str(moved), "--threads", "1")  # the same file, elsewhere
    assert code == 0, out
    data = moved.read_bytes()
    moved.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # another file now
    code, out = resume("--adapter", str(moved))
    assert code != 0 and "another file than the one it played with" in out, out
    assert inspect(path)["turns"] == 4  # nothing lost: the turns played before the refusals are there


def test_a_resumed_game_reports_the_brain_that_played_not_the_options_default(tmp_path: Path) -> None:
    path = tmp_path / "s.ttwood"
    r = runner.invoke(app, ["run", "--turns", "1", "--brain", "scripted", "--save", str(path), "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["run", "--resume", str(path), "--turns", "1", "--json"], env={"TTWOOD_BRAIN": None})
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["brain"] == "scripted" and data["model"]["name"] == "scripted"  # it said "llama", the default


def test_a_game_saved_from_the_terminal_ui_records_its_model_and_adapter(tmp_path: Path) -> None:
    """`ttwood play` saves what decided as `ttwood run --save` does (the brain choice, each model
    and its adapter's sha256): it saved only the brain's kind, so a resumed or exported game lost
    which adapter played."""
    from ttwood.cli_play import open_session

    session = open_session(None, "llama", 2, patron=False)
    try:
        assert session.minds == "SmolLM2-135M-Instruct + adapter wood", session.minds  # what the header shows
        path = session.start_saving(folder=tmp_path)
        session.close()
    finally:
        for name in {c.name for c in session.game.wood.creatures}:
            close = getattr(session.game.brain_of(name), "close", None)
            if callable(close):
                close()
    info = inspect(path)
    brains = info["brains"]
    assert brains["kind"] == "llama" and brains["seed"] == 2 and "adapter" in brains
    # it played the shipped adapter by default: --model alone, even the same model, leaves it out
    from engine.minds.brains.models import runtime_model_path

    r = runner.invoke(app, ["run", "--resume", str(path), "--turns", "1", "--model", str(runtime_model_path())])
    assert r.exit_code != 0 and "with --model the shipped adapter is not applied" in str(r.exception), r.output
    (card,) = brains["models"]
    import hashlib

    from engine.minds.brains.models import SHIPPED_ADAPTER

    assert card["adapter"]["sha256"] == hashlib.sha256(SHIPPED_ADAPTER.read_bytes()).hexdigest(), card


def test_the_terminal_ui_opens_a_save_with_the_brains_it_records(tmp_path: Path) -> None:
    """`ttwood play SAVE` went on with its own --brain (llama by default) whatever had played,
    writing on under the old record; now it goes on as `ttwood run --resume` does."""
    from engine.saves import SaveError
    from ttwood.cli_play import open_session

    path = tmp_path / "s.ttwood"
    r = runner.invoke(app, ["run", "--turns", "1", "--brain", "scripted", "--save", str(path), "--json"])
    assert r.exit_code == 0, r.output
    session = open_session(str(path), "llama", 1)  # --brain not given: llama is only the default
    try:
        assert session.brain_label == "scripted" and session.minds == ""
        assert {session.game.brain_of(c.name).name for c in session.game.wood.creatures} == {"scripted"}
    finally:
        session.close()
    with pytest.raises(SaveError, match="Drop --brain"):
        open_session(str(path), "llama", 1, asked=frozenset({"brain"}))


def test_a_save_opens_with_its_recorded_kind_in_every_front_end_and_a_garbled_one_is_refused(tmp_path: Path) -> None:
    """A save that names its brains' kind but no models (as `run --save` wrote before) opens with
    that kind in `ttwood play` as in `run --resume` (play took its own default, llama); `ttwood
    serve`'s tabs open a save without --brain (each tab was refused); a brains record that is not
    a brain choice is one message, not a traceback."""
    from engine import scenario as scenarios
    from engine.elders.scripted import ScriptedBrain
    from engine.minds.factory import BrainChoice
    from engine.saves import Autosaver, SaveError
    from engine.turn.game import Game
    from ttwood.cli_play import open_session, tab_args

    def save(name: str, brains: dict[str, object]) -> Path:
        sc, text = scenarios.load(None)
        game = Game(sc, 1, ScriptedBrain())
        path = tmp_path / name
        with Autosaver.create(path, game, scenario_text=text, brains=brains) as saver:
            saver.record(game.step())
        return path

    old = save("old.ttwood", BrainChoice(kind="scripted").describe())
    session = open_session(str(old), "llama", 1)  # llama is only --brain's default here
    try:
        assert session.brain_label == "scripted"
    finally:
        session.close()
    assert "--brain" not in tab_args(str(old), "llama", 1) and "--brain" in tab_args(None, "llama", 1)
    garbled = save("garbled.ttwood", {"kind": "scripted", "overrides": [1]})
    with pytest.raises(SaveError, match="garbled.ttwood: its brains cannot be rebuilt"):
        open_session(str(garbled), "llama", 1)
    r = runner.invoke(app, ["run", "--resume", str(garbled), "--turns", "1", "--brain", "scripted"])
    assert r.exit_code != 0 and "cannot be rebuilt" in str(r.exception)
