"""``ttwood dataset``: teacher games to examples the model brain could have produced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.core.errors import TTWoodError
from engine.learn.dataset import (
    DEFAULT_SCENARIOS,
    HELD_OUT_SCENARIOS,
    Recorder,
    Stats,
    cast_for,
    part_path,
    plan_games,
    variant_cast,
    write_jsonl,
)
from engine.minds.brains.llama import LlamaBrain
from engine.minds.brains.llama_model import LlamaModel
from engine.minds.brains.models import resolve_model
from engine.turn import actions as A
from engine.turn.brain import Answer, HoldsNothing
from engine.turn.game import Game
from engine.turn.observation import Observation
from ttwood.cli import app

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def model() -> LlamaModel:
    m = LlamaModel(resolve_model(None))
    yield m
    m.close()


def test_examples_are_the_brains_own_prompts_and_answers_its_grammar_admits(model: LlamaModel) -> None:
    sc, _ = scenarios.load(None)
    rows: list[dict[str, object]] = []
    stats = Stats()
    student = LlamaBrain(sc, model, seed=3, lean=True)
    recorder = Recorder(student, {"scenario": sc.meta.id, "cast": "bundled", "seed": 3, "split": "train"}, stats, rows.append)
    game = Game(sc, 3, recorder)
    seen: list[tuple[Observation, str, list[int]]] = []
    inner = recorder.decide

    def spy(obs: list[Observation]) -> list[Answer]:
        for o in obs:
            text, ids, _ = student.prompt_for(o)
            seen.append((o, text, ids))
        return inner(obs)

    recorder.decide = spy  # type: ignore[method-assign]
    game.run(3)
    student.close()
    assert stats.examples == len(rows) == 15 - sum(stats.refused.values())
    assert len(rows) >= 12
    by_key = {(o.turn, o.name): (text, ids) for o, text, ids in seen}
    for r in rows:
        text, ids = by_key[(r["turn"], r["creature"])]
        assert r["prompt"] == text and r["prompt_ids"] == ids
        assert "Example answer" not in str(r["prompt"]) and "Action shapes" not in str(r["prompt"])
        answer = json.loads(str(r["answer"]))
        assert set(answer) == {"thinking", "actions"} and len(answer["actions"]) <= sc.budget.max_actions
        # the decoder's spelling: it spells the answer, and starts with the forced head as its own tokens
        ids = r["answer_ids"]
        assert isinstance(ids, list) and b"".join(model.piece(i) for i in ids) == str(r["answer"]).encode()
        head = model.tokenize('{"thinking":"', special=False)
        assert ids[: len(head)] == head
    assert any(r["answer_ids"] != model.tokenize(str(r["answer"]), special=False) for r in rows)
    assert stats.summary()["answer_sampled_tokens_median"] < stats.summary()["answer_chars_median"] // 3
    # the teacher really talks and deals in the examples, not only produces
    kinds = {a["type"] for r in rows for a in json.loads(str(r["answer"]))["actions"]}
    assert {"produce", "order"} <= kinds and kinds & {"say", "whisper", "borrow", "lend", "offer", "accept"}


def test_an_answer_the_grammar_refuses_is_counted_and_left_out(model: LlamaModel) -> None:
    sc, _ = scenarios.load(None)
    rows: list[dict[str, object]] = []
    stats = Stats()
    student = LlamaBrain(sc, model, seed=1, lean=True)
    recorder = Recorder(student, {"scenario": sc.meta.id, "cast": "bundled", "seed": 1, "split": "train"}, stats, rows.append)

    class Liar(HoldsNothing):
        """A teacher that buys a good nobody has heard of: no grammar admits it."""

        def decide(self, obs: list[Observation]) -> list[Answer]:
            return [Answer([A.PlaceOrder(side="buy", good="moonbeams", qty=1, price=1)], thinking="buy") for _ in obs]

    recorder.teacher = Liar()  # type: ignore[assignment]
    Game(sc, 1, recorder).run(1)
    student.close()
    assert rows == []
    assert sum(stats.refused.values()) == 5
    assert all("not admitted" in k for k in stats.refused)


def test_plan_states_the_split_by_seed_and_keeps_river_bend_out() -> None:
    plans = plan_games(["thousand-token-wood", "long-winter"], 10, first_seed=1, validation=0.2)
    assert [p.seed for p in plans] == list(range(1, 11))
    assert [p.split for p in plans] == ["train"] * 8 + ["validation"] * 2
    assert {p.scenario for p in plans} == {"thousand-token-wood", "long-winter"}
    assert any(p.generated_cast for p in plans) and not all(p.generated_cast for p in plans)
    # the default woods leave out the ones kept unseen
    assert not set(HELD_OUT_SCENARIOS) & set(DEFAULT_SCENARIOS)
    assert {"river-bend", "market-50"} <= set(HELD_OUT_SCENARIOS)


def test_validation_holds_out_every_scenario_and_honours_zero() -> None:
    # 40 games over 5 woods: 10% would be 4 games, on 4 woods; the split takes the last 5 instead
    plans = plan_games(DEFAULT_SCENARIOS, 40)
    held = [p for p in plans if p.split == "validation"]
    assert [p.seed for p in held] == [36, 37, 38, 39, 40]
    assert {p.scenario for p in held} == set(DEFAULT_SCENARIOS)
    # the shipped adapter's data (48 games): seeds 44-48, as its card says
    assert [p.seed for p in plan_games(DEFAULT_SCENARIOS, 48) if p.split == "validation"] == [44, 45, 46, 47, 48]
    # too few games for one of each: the share alone, and never every game
    assert [p.split for p in plan_games(DEFAULT_SCENARIOS, 6)].count("validation") == 1
    # one game of each wood would be half of ten games, five times the share asked: the share alone
    assert [p.split for p in plan_games(DEFAULT_SCENARIOS, 10)].count("validation") == 1
    assert [p.split for p in plan_games(DEFAULT_SCENARIOS, 30)].count("validation") == 5  # 3 asked: 5 is within twice
    assert [p.split for p in plan_games(DEFAULT_SCENARIOS, 20)].count("validation") == 2  # 2 asked: 5 is not
    assert [p.split for p in plan_games(["thousand-token-wood"], 2, validation=0.9)] == ["train", "validation"]
    assert all(p.split == "train" for p in plan_games(DEFAULT_SCENARIOS, 10, validation=0.0))


def test_generated_casts_of_big_woods_get_enough_names() -> None:
    sc, _ = scenarios.load("market-50")
    assert len(sc.expanded_cast()) >= 30  # more than the plain list of names
    v = variant_cast(sc, 2)
    names = [c.name for c in v.creatures]
    assert len(names) >= len(sc.expanded_cast()) and len(set(names)) == len(names)
    assert v.problems() == []


def test_a_generated_cast_that_breaks_the_wood_falls_back_to_its_own() -> None:
    sc, _ = scenarios.load("credit-crunch")
    assert variant_cast(sc, 2).problems()  # a legend names Oona, whom the generated cast renames
    plan = next(p for p in plan_games(["credit-crunch"], 4) if p.generated_cast)
    played, cast = cast_for(sc, plan)
    assert (played, cast) == (sc, "bundled")
    wood, _ = scenarios.load(None)
    played, cast = cast_for(wood, plan)
    assert cast == "generated" and played != wood and played.problems() == []


def test_generated_casts_rename_and_stay_valid() -> None:
    sc, _ = scenarios.load(None)
    a, b = variant_cast(sc, 1), variant_cast(sc, 2)
    assert variant_cast(sc, 1) == a
    names = {c.name for c in sc.creatures}
    assert not names & {c.name for c in a.creatures}
    assert [c.name for c in a.creatures] != [c.name for c in b.creatures]
    assert [c.role for c in a.creatures][: len(sc.creatures)] == [c.role for c in sc.creatures]
    assert a.problems() == []


def test_the_command_writes_jsonl_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    r = CliRunner().invoke(app, ["dataset", "--games", "2", "--turns", "2", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    lines = out.read_text().splitlines()
    assert summary["examples"] == len(lines) > 0
    assert summary["train"] + summary["validation"] == len(lines)
    row = json.loads(lines[0])
    assert {"prompt", "prompt_ids", "answer", "split", "scenario", "seed", "turn", "creature", "cast"} <= set(row)
    assert summary["scenarios"] and "river-bend" not in summary["scenarios"]
    assert not (tmp_path / "d.jsonl.part").exists()


def test_a_dataset_that_cannot_be_written_is_said_at_once(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    r = CliRunner().invoke(app, ["dataset", "--games", "1", "--turns", "1", "--out", str(blocked / "d.jsonl")])
    assert r.exit_code != 0 and isinstance(r.exception, TTWoodError), r.output
    assert "cannot write the dataset here" in r.exception.message and str(blocked / "d.jsonl") in r.exception.message


def test_a_dataset_out_that_is_a_folder_is_said_before_any_game(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["dataset", "--games", "1", "--turns", "1", "--out", str(tmp_path)])
    assert r.exit_code != 0 and isinstance(r.exception, TTWoodError), r.output
    assert "is a folder" in r.exception.message and not list(tmp_path.iterdir())


def test_a_stopped_dataset_leaves_no_part_file_and_the_old_file_whole(tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    out.write_text("the old dataset\n")

    def rows() -> Iterator[dict[str, Any]]:
        yield {"a": 1}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_jsonl(out, rows())
    assert out.read_text() == "the old dataset\n" and not part_path(out).exists()
