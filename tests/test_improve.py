"""Whole-game data and DAgger: legends fired at random turns, a saved game labelled by the
teacher, student games labelled by the teacher, the loop's rounds written whole and resumed, and
training that goes on from an adapter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.learn.dataset import Stats, label_save, random_legends
from engine.learn.improve import ImproveConfig, improve, long_game_figures
from engine.minds.brains.llama_model import LlamaModel
from engine.minds.brains.models import SHIPPED_ADAPTER, resolve_model
from engine.minds.forms import form_of
from engine.saves.store import Autosaver
from engine.turn.game import Game
from engine.turn.report import run_json
from ttwood.cli import app


def test_random_legends_are_on_demand_ones_at_inner_turns_and_the_same_for_a_seed() -> None:
    sc, _ = scenarios.load(None)
    on_demand = {lg.id for lg in sc.legends if lg.when.on_demand}
    drawn = [random_legends(sc, seed, 60) for seed in range(1, 30)]
    assert all(lg in on_demand and 2 <= t <= 59 for d in drawn for t, lg in d)
    assert sum(map(len, drawn)) > 0 and len({tuple(d) for d in drawn}) > 5
    assert random_legends(sc, 7, 60) == random_legends(sc, 7, 60)


def test_long_game_figures_count_the_second_half() -> None:
    sc, _ = scenarios.load(None)
    game = Game(sc, 2, ScriptedBrain())
    data = run_json(game, game.run(20), brain="scripted")
    fig = long_game_figures(data)
    assert fig["late_from"] == 11 and fig["trades_late"] == sum(p["trades"] for p in data["per_turn"][10:])
    assert fig["alive"] == data["totals"]["alive"] and 0 < fig["message_turns"] <= 1


@pytest.fixture(scope="module")
def model() -> LlamaModel:
    m = LlamaModel(resolve_model(None))
    yield m
    m.close()


@pytest.mark.model
def test_a_saved_game_is_labelled_by_the_teacher_turn_by_turn(model: LlamaModel, tmp_path: Path) -> None:
    sc, text = scenarios.load(None)
    game = Game(sc, 4, ScriptedBrain())
    path = tmp_path / "g.ttwood"
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}) as saver:
        game.run(3, saver.record)
    stats = Stats()
    rows = label_save(path, model, stats)
    assert {(r["turn"], r["creature"]) for r in rows} == {(t, c.name) for t in (1, 2, 3) for c in sc.creatures}
    # in the spelling the llama brain writes by default: a thought, one action a line, an empty line
    assert all(r["source"] == "g.ttwood" and form_of(r["answer"]) == "lines" and r["answer"].endswith("\n\n") for r in rows)
    as_json = label_save(path, model, Stats(), form="json")
    assert [r["answer"].startswith('{"thinking":') for r in as_json] == [True] * len(rows)


def _fake_train(data: Path, init: Path, out: Path, cfg: ImproveConfig) -> None:
    assert data.is_file() and init.is_file()
    shutil.copyfile(init, out)


@pytest.mark.model
@pytest.mark.slow
def test_the_loop_plays_the_student_labels_trains_measures_and_goes_on_where_it_stopped(tmp_path: Path) -> None:
    sc, _ = scenarios.load(None)
    cfg = ImproveConfig(out=tmp_path / "run", rounds=1, games=1, turns=3, measure_turns=3, threads=1)
    calls: list[Path] = []

    def train(data: Path, init: Path, out: Path, c: ImproveConfig) -> None:
        calls.append(out)
        _fake_train(data, init, out, c)

    table = improve(cfg, lambda ref: sc, train=train)
    assert [row["round"] for row in table] == [0, 1] and calls == [cfg.out / "round-1" / "adapter.gguf"]
    assert table[0]["adapter"] == "shipped" and table[1]["adapter"] == str(cfg.out / "round-1" / "adapter.gguf")
    rows = [json.loads(x) for x in (cfg.out / "round-1" / "student.jsonl").read_text().splitlines()]
    assert len(rows) == 3 * len(sc.creatures) and all(r["seed"] == cfg.first_seed for r in rows)
    assert (cfg.out / "round-1" / "data.jsonl").read_text() == (cfg.out / "round-1" / "student.jsonl").read_text()
    assert json.loads((cfg.out / "rounds.json").read_text()) == table
    game = table[1]["games"][0]
    assert game["turns"] == 3 and game["valid_rate"] == 1.0
    before = (cfg.out / "round-1" / "student.jsonl").stat().st_mtime_ns
    assert improve(cfg, lambda ref: sc, train=train) == table  # all there: nothing played or trained again
    assert calls == [cfg.out / "round-1" / "adapter.gguf"]
    assert (cfg.out / "round-1" / "student.jsonl").stat().st_mtime_ns == before


@pytest.mark.model
@pytest.mark.slow
def test_training_goes_on_from_an_adapter(tmp_path: Path) -> None:
    """Started from the shipped adapter, training begins where it left off: the validation loss
    before the first step is the shipped adapter's (low), not a fresh LoRA's (~2.7)."""
    data = tmp_path / "d.jsonl"
    learned = json.loads(SHIPPED_ADAPTER.with_suffix(".json").read_text())["data"].get("answer_form", "json")
    r = CliRunner().invoke(app, ["dataset", "--games", "2", "--turns", "2", "--no-legends", "--form", learned,  # its spelling
                                 "--out", str(data), "--json"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "a.gguf"
    r = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(out), "--init", str(SHIPPED_ADAPTER), "--steps", "1",
                                 "--batch", "2", "--val-examples", "4", "--threads", "1", "--no-verify", "--json"])
    assert r.exit_code == 0, r.output
    card = json.loads(r.stdout.strip().splitlines()[-1])
    shipped = json.loads(SHIPPED_ADAPTER.with_suffix(".json").read_text())
    assert (card["training"]["rank"], card["training"]["alpha"], card["training"]["targets"]) == (
        shipped["training"]["rank"], shipped["training"]["alpha"], shipped["training"]["targets"])
    first = card["evaluations"][0]
    assert first["step"] == 0 and first["val_loss"] < 1.0, first  # a fresh LoRA starts at ~2.7
