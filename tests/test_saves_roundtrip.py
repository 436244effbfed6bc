"""load(save(world)) equals world: every attribute of the restored game, over random games;
the save format fails loudly on state it does not know; migrations; model-like tapes; export;
the saves folder."""

from __future__ import annotations

import copy
import json
import sqlite3
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.core.errors import EngineBug
from engine.elders.scripted import ScriptedBrain
from engine.saves import Autosaver, inspect, open_save, replay, state_hash
from engine.saves.convert import _tape_default
from engine.saves.guard import FORMAT_VERSION
from engine.saves.snapshot import Snapshotter
from engine.turn.actions import ACTION_TYPES, Accept, Borrow, MakeOffer, Note, PlaceOrder, Produce, Say
from engine.turn.brain import Answer, HoldsNothing
from engine.turn.game import Game
from engine.turn.observation import Observation
from engine.world.wood import Wood
from tests.helpers import TINY
from ttwood.cli import app

runner = CliRunner()
DEFAULT = scenarios.load(None)
TINY_SC = (scenarios.parse(TINY, "tiny.toml"), TINY)
ON_DEMAND = [lg.id for lg in DEFAULT[0].legends if lg.when.on_demand]


# ------------------------------------------------------------------ comparing every attribute
def assert_same(a: Any, b: Any, where: str) -> None:
    """Every attribute of ``a`` equals ``b``'s (indexes by identity where the engine aliases)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, Game):
        assert set(vars(a)) == set(vars(b)), where
        for k in vars(a):
            if k != "_brain_of":
                assert_same(getattr(a, k), getattr(b, k), f"{where}.{k}")
        return
    if isinstance(a, Wood):
        assert set(vars(a)) == set(vars(b)), f"{where}: attributes differ"
        for k, v in vars(a).items():
            w = getattr(b, k)
            if k == "rng":
                assert v.getstate() == w.getstate(), f"{where}.rng"
            elif k == "patches":
                continue  # a cache of tiles near each den, filled on demand
            elif k == "by_name":
                assert list(v) == list(w), where
                assert all(w[n] is c for n, c in zip(w, [b.by_name[n] for n in w], strict=True)), where
                assert all(w[c.name] is c for c in b.creatures), f"{where}.by_name points at the creatures"
            elif k in ("forest", "forest_at"):
                ids = {id(t) for t in b.tiles}
                assert all(id(t) in ids for t in (w.values() if isinstance(w, dict) else w)), f"{where}.{k} points at the tiles"
                assert_same(v, w, f"{where}.{k}")
            else:
                assert_same(v, w, f"{where}.{k}")
        return
    if type(a).__module__.startswith("engine.") and hasattr(a, "__dict__") and not hasattr(a, "__dataclass_fields__"):
        assert set(vars(a)) == set(vars(b)), f"{where}: attributes differ"
        for k, v in vars(a).items():
            w = getattr(b, k)
            if k in ("by_owner", "by_sender"):
                assert {o: list(d) for o, d in v.items() if d} == {o: list(d) for o, d in w.items() if d}, where
                indexed = b.orders if k == "by_owner" else b.offers
                assert all(d[i] is indexed[i] for d in w.values() for i in d), f"{where}.{k} points at the open ones"
            else:
                assert_same(v, w, f"{where}.{k}")
        return
    if isinstance(a, deque):
        assert a.maxlen == b.maxlen and list(a) == list(b), where
        return
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys (and their order) differ"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
        return
    if isinstance(a, list):
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
        return
    assert a == b, f"{where}: {a!r} != {b!r}"


def _play(sc: Any, text: str, seed: int, turns: int, at: int, every: int, injects: dict[int, str], path: Path) -> tuple[Game, Game]:
    game = Game(sc, seed, ScriptedBrain())
    snap = copy.deepcopy(game)
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}, keyframe_every=every) as saver:
        for t in range(1, turns + 1):
            if t in injects:
                game.inject(injects[t])
            saver.record(game.step())
            if t == at:
                snap = copy.deepcopy(game)
    return game, snap


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tiny=st.booleans(),
    seed=st.integers(0, 10**6),
    turns=st.integers(0, 30),
    every=st.integers(1, 12),
    at_frac=st.floats(0, 1),
    injects=st.dictionaries(st.integers(1, 30), st.sampled_from(ON_DEMAND), max_size=3),
)
def test_load_of_save_equals_the_world(tiny: bool, seed: int, turns: int, every: int, at_frac: float, injects: dict[int, str]) -> None:
    sc, text = TINY_SC if tiny else DEFAULT
    if tiny:
        injects = {}
    at = round(at_frac * turns)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.ttwood"
        live, then = _play(sc, text, seed, turns, at, every, injects, path)
        with open_save(path) as save:
            assert save.turns == turns
            assert_same(then, save.game_at(at), f"game@{at}")
            last = save.game_at(turns)
            assert_same(live, last, f"game@{turns}")
            # Played on from the restored turn, the game is the one played straight through.
            resumed = save.game_at(at, ScriptedBrain())
        for t in range(at + 1, turns + 1):
            if t in injects:
                resumed.inject(injects[t])
            assert resumed.step().summary() == live.reports[t - 1].summary()
        assert state_hash(resumed) == state_hash(live)
        assert replay(path, verify=True).ok


def test_state_the_format_does_not_know_makes_saving_fail(default_scenario: scenarios.Scenario) -> None:
    game = Game(default_scenario, 1, ScriptedBrain())
    game.step()
    game.wood.weather = "rain"  # a field someone adds later without teaching the save format
    with pytest.raises(EngineBug, match=r"Wood\.weather is neither saved nor derived"):
        Snapshotter().state(game)
    del game.wood.weather
    game.wood.book.spread = 2
    with pytest.raises(EngineBug, match=r"OrderBook\.spread"):
        Snapshotter().state(game)


def test_tape_actions_are_exactly_their_model_dump() -> None:
    """The tape writes an action's fields directly; for every action type that is its model_dump."""
    samples = [
        Produce(qty=3), PlaceOrder(side="buy", good="honey", qty=2, price=7), Say(text="héllo \"wood\""),
        MakeOffer(to="Oona", give={"honey": 1}, get={"pebbles": 5}, due=None), Accept(id=4), Note(text="x"),
        Borrow(to="Oona", pebbles=10, interest=2, due=3, collateral={"acorns": 1}),
    ]
    assert {type(a) for a in samples} | set(ACTION_TYPES) == set(ACTION_TYPES)
    for a in samples:
        assert orjson.loads(orjson.dumps(a, default=_tape_default)) == a.model_dump(mode="json")
    for cls in ACTION_TYPES:  # every type: its fields are plain data
        for name, f in cls.model_fields.items():
            assert "BaseModel" not in str(f.annotation), f"{cls.__name__}.{name} holds a model"


# ------------------------------------------------------------------ model-like brains
class FakeModelBrain(HoldsNothing):
    """Answers like a model brain: raw text, thinking, an unreadable part now and then, and a
    call record in meta; the actions are the scripted brain's."""

    name = "fake"

    def __init__(self) -> None:
        self.inner = ScriptedBrain()
        self.calls = 0

    def decide(self, observations: list[Observation]) -> list[Answer]:
        out = []
        for o, a in zip(observations, self.inner.decide(observations), strict=True):
            self.calls += 1
            raw = json.dumps({"thinking": f"{o.name} ponders", "actions": [x.model_dump() for x in a.actions]})
            problems = ["action 9 (fly): unknown action"] if self.calls % 7 == 0 else []
            meta = {"prompt": f"<prompt for {o.name} on turn {o.turn}>", "sections": {"rules": 180, "state": 40},
                    "prompt_tokens": 220, "answer_tokens": 40, "latency_ms": 12.5, "model": "fake-1",
                    "sampler": {"temperature": 0.7}, "seed": 1000 + self.calls}
            out.append(Answer(a.actions, problems, raw, f"{o.name} ponders", meta))
        return out


def _fake_save(path: Path, turns: int = 6) -> Game:
    sc, text = DEFAULT
    game = Game(sc, 9, FakeModelBrain())
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "fake", "model": "fake-1"}) as saver:
        for _ in range(turns):
            saver.record(game.step())
    return game


def test_a_model_brains_game_replays_from_the_tape_with_no_model(tmp_path: Path) -> None:
    path = tmp_path / "model.ttwood"
    game = _fake_save(path)
    result = replay(path, verify=True)
    assert result.ok and result.turns == 6
    assert [r.rejected_actions for r in result.reports] == [r.rejected_actions for r in game.reports]
    info = inspect(path)
    assert info["models"] == ["fake-1"] and info["brains_used"] == ["fake"] and info["answers_on_tape"] == 30
    with open_save(path) as save:
        entry = save.tape_entries(2, 2)[2][0]
    assert entry.raw and entry.thinking.endswith("ponders") and entry.meta["prompt"].startswith("<prompt")


def test_export_copy_without_prompts_and_traces(tmp_path: Path) -> None:
    src = tmp_path / "model.ttwood"
    _fake_save(src)
    before = src.read_bytes()
    code = runner.invoke(app, ["saves", "export", str(src), "--to", str(tmp_path / "share.ttwood"), "--no-prompts",
                               "--traces", str(tmp_path / "calls.jsonl")]).exit_code
    assert code == 0 and src.read_bytes() == before
    with open_save(tmp_path / "share.ttwood") as copy_:
        metas = [e.meta for es in copy_.tape_entries().values() for e in es]
    assert metas and all("prompt" not in m and "sections" not in m and m["model"] == "fake-1" for m in metas)
    assert replay(tmp_path / "share.ttwood", verify=True).ok
    rows = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert len(rows) == 30
    first = rows[0]
    assert first["turn"] == 1 and first["creature"] == "Barnaby" and first["prompt"].startswith("<prompt for Barnaby")
    assert first["raw"] and first["parsed"] and first["prompt_tokens"] == 220 and first["latency_ms"] == 12.5
    assert any(r["problems"] for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.jsonl", "model.ttwood", "share.ttwood"]
    assert runner.invoke(app, ["saves", "export", str(src), "--to", str(tmp_path / "share.ttwood")]).exit_code != 0


def test_an_older_format_is_migrated_on_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "old.ttwood"
    _fake_save(path, 3)
    con = sqlite3.connect(path)
    con.execute("DROP VIEW messages")
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    before = path.read_bytes()
    with open_save(path) as save:
        assert save.migrated_from == 1 and save.turns == 3
        assert save.con.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION
        assert save.con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name='messages'").fetchone()[0] == 1
    assert path.read_bytes() == before, "the original is never migrated in place"
    assert inspect(path)["migrated_from"] == 1


def test_the_saves_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTWOOD_SAVES_DIR", str(tmp_path))
    assert runner.invoke(app, ["run", "--turns", "4", "--save", "first"]).exit_code == 0
    assert (tmp_path / "first.ttwood").exists()
    (tmp_path / "junk.ttwood").write_text("not a save")
    r = runner.invoke(app, ["saves", "list", "--json"])
    assert r.exit_code == 0
    rows = {row["name"]: row for row in json.loads(r.stdout)["saves"]}
    assert rows["first"]["turns"] == 4 and rows["first"]["status"] == "ok"
    assert rows["junk"]["status"].startswith("refused: is not a Thousand Token Wood save")
    # the table, in 80 columns (a pipe): a long name is folded, never cut short
    assert runner.invoke(app, ["run", "--turns", "1", "--save", "a-rather-long-name-for-a-wood-save"]).exit_code == 0
    table = runner.invoke(app, ["saves", "list"]).stdout
    assert "…" not in table and "a-rather-long-name-for-a-wood-save" in "".join(
        cell.strip() for line in table.splitlines() for cell in line.split("│")[1:2])
    # A bare name finds the save in the folder; --save refuses to overwrite it.
    assert json.loads(runner.invoke(app, ["saves", "inspect", "first", "--json"]).stdout)["turns"] == 4
    r = runner.invoke(app, ["run", "--turns", "2", "--save", "first"])
    assert r.exit_code != 0 and "already exists" in r.exception.message
    r = runner.invoke(app, ["run", "--resume", "first", "--turns", "2", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["final"]["turn"] == 6
