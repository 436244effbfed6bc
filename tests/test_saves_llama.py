"""A game with a real model brain (the embedded SmolLM2 through llama.cpp) replays exactly from
its save's tape with no model loaded."""

from __future__ import annotations

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
