"""Save files: the must-shows through the real command line, resume, branch, replay."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.saves import Autosaver, branch, inspect, open_save, replay, state_hash
from engine.saves.convert import seal
from engine.saves.rows import TURN_COLUMNS
from engine.turn.game import Game
from ttwood.cli import app

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, r.stdout, r.stderr


def saved_game(path: Path, turns: int, seed: int = 7, keyframe_every: int = 10) -> list[str]:
    """Play and save ``turns`` scripted turns; return the state hash after each turn (0 first)."""
    sc, text = scenarios.load(None)
    game = Game(sc, seed, ScriptedBrain())
    hashes = [state_hash(game)]
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}, keyframe_every=keyframe_every) as saver:
        for _ in range(turns):
            saver.record(game.step())
            hashes.append(state_hash(game))
    return hashes


def test_must_show_through_the_cli(tmp_path: Path) -> None:
    save, new = tmp_path / "wood.ttwood", tmp_path / "what-if.ttwood"
    code, stdout, _ = cli("run", "--turns", "20", "--seed", "7", "--save", str(save), "--json")
    assert code == 0
    assert json.loads(stdout)["turns"] == 20
    code, stdout, _ = cli("saves", "inspect", str(save), "--json")
    info = json.loads(stdout)
    assert code == 0 and info["turns"] == 20 and info["integrity"] == "ok"
    assert info["seed"] == 7 and info["scenario"]["id"] == "thousand-token-wood"
    assert [c["name"] for c in info["creatures"]] == ["Barnaby", "Oona", "Hazel", "Clover", "Rusk"]
    assert info["alive"] == 5 and info["answers_on_tape"] == 5 * 20
    code, stdout, _ = cli("replay", str(save), "--verify", "--json")
    rep = json.loads(stdout)
    assert code == 0 and rep["ok"] and rep["verified"] and rep["turns"] == 20 and rep["first_mismatch"] is None
    code, _, _ = cli("saves", "branch", str(save), "--at", "10", str(new))
    assert code == 0
    code, stdout, _ = cli("run", "--resume", str(new), "--turns", "5", "--json")
    assert code == 0
    assert json.loads(stdout)["final"]["turn"] == 15
    code, stdout, _ = cli("saves", "inspect", str(new), "--json")
    info = json.loads(stdout)
    assert info["turns"] == 15 and info["branched_from"]["turn"] == 10
    code, _, _ = cli("replay", str(new), "--verify")
    assert code == 0
    # No sidecars: each closed save is one self-contained file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["what-if.ttwood", "wood.ttwood"]


def test_resume_plays_exactly_the_same_turns_as_straight_through(tmp_path: Path) -> None:
    sc, text = scenarios.load(None)
    straight = Game(sc, 11, ScriptedBrain())
    want = []
    for _ in range(20):
        r = straight.step()
        want.append((r.summary(), state_hash(straight)))
    path = tmp_path / "half.ttwood"
    game = Game(sc, 11, ScriptedBrain())
    got = []
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}, keyframe_every=3) as saver:
        for _ in range(10):
            r = game.step()
            saver.record(r)
            got.append((r.summary(), state_hash(game)))
    with open_save(path) as save:
        assert save.turns == 10
        resumed = save.game_at(None, ScriptedBrain())
    assert resumed.turn == 10 and len(resumed.reports) == 10
    with Autosaver.resume(path, resumed) as saver:
        for _ in range(10):
            r = resumed.step()
            saver.record(r)
            got.append((r.summary(), state_hash(resumed)))
    assert got == want
    assert replay(path, verify=True).ok


@pytest.mark.parametrize("keyframe_every", [1, 4, 10])
def test_game_at_every_turn_matches_the_recorded_state(tmp_path: Path, keyframe_every: int) -> None:
    path = tmp_path / "g.ttwood"
    hashes = saved_game(path, 12, keyframe_every=keyframe_every)
    with open_save(path) as save:
        stored = dict(save.con.execute("SELECT turn, full_hash FROM turns WHERE full_hash IS NOT NULL"))
        assert sorted(stored) == sorted({0, 12, *range(keyframe_every, 13, keyframe_every)})
        assert all(stored[t] == hashes[t] for t in stored)
        for t in (0, 1, 5, 11, 12):
            g = save.game_at(t, ScriptedBrain())
            assert g.turn == t and state_hash(g) == hashes[t]
            assert [r.turn for r in g.reports] == list(range(1, t + 1))


def test_branch_is_a_new_save_that_resumes_from_its_turn(tmp_path: Path) -> None:
    src, dst = tmp_path / "a.ttwood", tmp_path / "b.ttwood"
    hashes = saved_game(src, 14, keyframe_every=5)
    before = src.read_bytes()
    branch(src, 8, dst)
    assert src.read_bytes() == before
    with open_save(dst) as save:
        assert save.turns == 8 and 8 in save.keyframes
        assert save.meta.branched_from == {"file": "a.ttwood", "turn": 8, "state_hash": hashes[8]}
        g = save.game_at(None, ScriptedBrain())
    assert state_hash(g) == hashes[8]


def _tamper_tape(path: Path, turn: int) -> None:
    """Change one recorded answer and seal the row again, as a diverging engine would record it."""
    con = sqlite3.connect(path)
    cols = TURN_COLUMNS[:-3]
    row = list(con.execute(f"SELECT {', '.join(cols)} FROM turns WHERE turn=?", (turn,)).fetchone())
    at = cols.index("tape")
    tape = orjson.loads(row[at])
    entry = next(e for e in tape if e[2])
    entry[2], entry[3] = [], []
    row[at] = orjson.dumps(tape).decode()
    con.execute("UPDATE turns SET tape=?, digest=? WHERE turn=?", (row[at], seal(*row), turn))
    con.commit()
    con.close()


def test_replay_verify_names_the_first_turn_that_differs(tmp_path: Path) -> None:
    path = tmp_path / "t.ttwood"
    saved_game(path, 12, keyframe_every=100)
    _tamper_tape(path, 7)
    result = replay(path, verify=True)
    assert not result.ok and result.first_mismatch == 7
    code, _, stderr = cli("replay", str(path), "--verify")
    assert code == 1 and "turn 7 does not match" in stderr
    # Without --verify the replay runs to the end and reports nothing wrong it could not see.
    assert replay(path, verify=False).turns == 12


def test_inspect_reports_models_and_brains_from_the_tape(tmp_path: Path) -> None:
    path = tmp_path / "m.ttwood"
    saved_game(path, 3)
    info = inspect(path)
    assert info["brains_used"] == ["scripted"] and info["models"] == []
    assert info["answers_on_tape"] == 15


def test_bench_engine_reports_the_autosave_figure_beside_the_engine_one() -> None:
    code, stdout, _ = cli("bench", "engine", "--creatures", "12", "--turns", "5", "--repeats", "1", "--json")
    data = json.loads(stdout)
    assert code == 0 and data["conservation_ok"]
    assert data["agent_turns_per_s"] > 0 and data["with_autosave_agent_turns_per_s"] > 0
    assert data["autosave_speed_ratio"] == pytest.approx(data["seconds"] / data["with_autosave_seconds"], rel=0.02)
    assert data["save_bytes"] > 0 and data["autosave_close_seconds"] >= 0
    code, stdout, _ = cli("bench", "engine", "--creatures", "12", "--turns", "5", "--repeats", "1", "--no-autosave", "--json")
    assert code == 0 and "with_autosave_agent_turns_per_s" not in json.loads(stdout)


def test_the_file_reads_in_the_plain_sqlite3_shell(tmp_path: Path) -> None:
    """The tables and views as a person with ``sqlite3`` sees them (its JSON functions on)."""
    from engine.saves.rows import CONTRACT_COLUMNS, ContractRow, TurnRow

    assert TURN_COLUMNS == tuple(c.name for c in TurnRow.__table__.columns)
    assert CONTRACT_COLUMNS == tuple(c.name for c in ContractRow.__table__.columns)
    path = tmp_path / "shell.ttwood"
    saved_game(path, 6)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    rows = con.execute("SELECT turn, name, health, json_extract(free, '$.pebbles') FROM creatures ORDER BY turn, creature_id").fetchall()
    assert len(rows) == 7 * 5 and rows[0][:2] == (0, "Barnaby") and all(isinstance(r[3], int) for r in rows)
    trades = con.execute("SELECT turn, good, qty, price, buyer, seller FROM trades").fetchall()
    assert trades and all(q > 0 and p > 0 and b and s for _, _, q, p, b, s in trades)
    tape = con.execute("SELECT turn, creature, brain, actions FROM tape WHERE turn = 1").fetchall()
    assert [r[1] for r in tape] == ["Barnaby", "Oona", "Hazel", "Clover", "Rusk"] and all(r[2] == "scripted" for r in tape)
    assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] >= len(trades)
    assert con.execute("SELECT COUNT(*) FROM turns WHERE state IS NOT NULL").fetchone()[0] == 2  # turn 0 and the last
    con.close()


def test_inspect_says_what_decided_in_a_line() -> None:
    """`saves inspect` printed the brains record as fifteen wrapped lines of JSON; it says the
    kind, the creatures that differ and each model with its adapter (`--json` keeps it all)."""
    from ttwood.cli_saves import brains_line

    card = {"name": "Smollm2 135M 8k Lc100K Mix1 Ep2", "threads": 2,
            "path": "/root/.cache/ttwood/models/SmolLM2-135M-Instruct.Q4_1-as-Q8_0.1-2.gguf",
            "adapter": {"name": "wood", "sha256": "d0e84098d74960d20dfc9cf29a235d4f0b35080b86ad465e140874c9ac8a9efb"}}
    record = {"kind": "llama", "overrides": {"Oona": "scripted"}, "base_url": "http://127.0.0.1:8000/v1", "models": [card]}
    assert brains_line(record) == "llama · Oona=scripted · SmolLM2-135M-Instruct + adapter wood (sha256 d0e84098d749…)"
    other = {"name": "Qwen2.5 3B Instruct", "path": "/m/qwen.gguf", "adapter": None}
    assert brains_line({"kind": "llama", "models": [other]}) == "llama · Qwen2.5 3B Instruct"
    assert brains_line({"kind": "scripted", "overrides": {}, "models": []}) == "scripted"
    assert brains_line({}) == "not recorded (a save from before saves said)"


def test_odd_records_and_paths_do_not_break_the_lines_that_name_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A brains record whose models is not a list (a forged save `saves list` calls ok) ended
    `saves inspect` in a TypeError; a save path with square brackets was read as Rich markup by
    the line a stopped run prints (the wrong file named, or a MarkupError)."""
    from ttwood.cli import _say_saved
    from ttwood.cli_saves import brains_line

    assert brains_line({"kind": "llama", "models": 5, "overrides": 3}) == "llama"
    odd = tmp_path / "d[/b]x[b]y.ttwood"
    _say_saved(odd)
    err = capsys.readouterr().err
    assert f"saved {odd}: go on with `ttwood run --resume" in err and "[/b]x[b]y.ttwood" in err
