"""A forged save does not play on: states edited with every hash recomputed (pebbles moved
between creatures, pebbles minted with a matching source flow in the books, a finished contract
rewritten) are refused by ``saves inspect``, by ``run --resume`` and by opening, because the game
is derived from the scenario, the seed and the tape, never read from the stored states."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from engine.saves import Autosaver, SaveError, open_save, replay
from engine.saves.convert import seal
from engine.saves.rows import CONTRACT_COLUMNS
from engine.saves.snapshot import field_names
from engine.turn.game import Game

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]
FREE = field_names()["Creature"].index("free")


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 turns of the default wood (keyframes at 0, 50 and 60) with finished contracts."""
    from engine import scenario as scenarios
    from engine.elders.scripted import ScriptedBrain

    sc, text = scenarios.load(None)
    game = Game(sc, 7, ScriptedBrain())
    path = tmp_path_factory.mktemp("honest") / "honest.ttwood"
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}) as saver:
        game.run(60, saver.record)
    return path


def _edit_state(path: Path, turn: int, change: Callable[[dict[str, object]], None]) -> None:
    """Change a stored state and recompute its hash, as anyone can (the row's digest does not cover it)."""
    con = sqlite3.connect(path)
    (state,) = con.execute("SELECT state FROM turns WHERE turn=?", (turn,)).fetchone()
    s = orjson.loads(state)
    change(s)
    text = orjson.dumps(s).decode()
    con.execute("UPDATE turns SET state=?, full_hash=? WHERE turn=?", (text, hashlib.sha256(text.encode()).hexdigest(), turn))
    con.commit()
    con.close()


def _move_pebbles(s: dict[str, object]) -> None:
    creatures = s["wood"]["creatures"]  # type: ignore[index]
    a, b = creatures[0][FREE], creatures[1][FREE]
    n = min(5, a.get("pebbles", 0))
    assert n > 0
    a["pebbles"] -= n
    b["pebbles"] = b.get("pebbles", 0) + n


def _mint_with_a_flow(s: dict[str, object]) -> None:
    free = s["wood"]["creatures"][2][FREE]  # type: ignore[index]
    free["pebbles"] = free.get("pebbles", 0) + 500
    s["ledger"]["flows"].append(["pebbles", "legend", 500])  # type: ignore[index]


def _forged(honest: Path, tmp_path: Path, turn: int, change: Callable[[dict[str, object]], None]) -> Path:
    path = tmp_path / "forged.ttwood"
    path.write_bytes(honest.read_bytes())
    _edit_state(path, turn, change)
    return path


@pytest.mark.parametrize(("turn", "change"), [(60, _move_pebbles), (60, _mint_with_a_flow), (50, _move_pebbles), (0, _mint_with_a_flow)],
                         ids=["moved-last", "minted-last", "moved-keyframe-50", "minted-at-the-start"])
def test_an_edited_state_with_its_hash_recomputed_is_refused(
    honest: Path, tmp_path: Path, turn: int, change: Callable[[dict[str, object]], None]
) -> None:
    path = _forged(honest, tmp_path, turn, change)
    at = "the start" if turn == 0 else f"turn {turn}"
    with pytest.raises(SaveError, match=f"at {at}, its stored state is not what the scenario, the seed and the tape make"):
        open_save(path).close()
    assert not replay(path).ok  # and replay --verify agrees


def test_a_rewritten_finished_contract_is_refused(honest: Path, tmp_path: Path) -> None:
    path = tmp_path / "forged.ttwood"
    path.write_bytes(honest.read_bytes())
    con = sqlite3.connect(path)
    row = list(con.execute(f"SELECT {', '.join(CONTRACT_COLUMNS)} FROM contracts ORDER BY seq LIMIT 1").fetchone())
    record = orjson.loads(row[-2])
    record[list(field_names()["Contract"]).index("status")] = "defaulted" if "kept" in str(row[4]) else "kept"
    row[-2] = orjson.dumps(record).decode()
    row[4] = record[list(field_names()["Contract"]).index("status")]
    row[-1] = seal(*row[:-1])
    con.execute("DELETE FROM contracts WHERE seq=?", (row[0],))
    con.execute(f"INSERT INTO contracts VALUES ({', '.join('?' * len(row))})", row)
    con.commit()
    con.close()
    with pytest.raises(SaveError, match="its stored finished contracts is not what the scenario, the seed and the tape make"):
        open_save(path).close()


def test_the_honest_save_opens_and_every_turn_is_derived(honest: Path) -> None:
    with open_save(honest) as save:
        assert save.turns == 60
        game = save.game_at(57)
        assert game.turn == 57 and len(game.reports) == 57


@pytest.mark.parametrize("args", [["saves", "inspect"], ["run", "--turns", "2", "--resume"]], ids=["inspect", "resume"])
def test_the_commands_refuse_a_forged_save_in_one_line(honest: Path, tmp_path: Path, args: list[str]) -> None:
    path = _forged(honest, tmp_path, 60, _move_pebbles)
    before = path.read_bytes()
    env = dict(os.environ, TTWOOD_BRAIN="scripted")
    done = subprocess.run([*CMD, *args, str(path)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert "save refused:" in done.stderr and "turn 60, its stored state is not what" in done.stderr
    assert "Traceback" not in done.stderr and "integrity" not in done.stdout
    assert path.read_bytes() == before


def test_a_row_sqlite_cannot_decode_is_refused_in_one_line_by_every_command(honest: Path, tmp_path: Path) -> None:
    """One flipped byte inside a stored state can leave text that is not UTF-8: SQLite cannot read
    the row. `ttwood replay` printed a Python traceback, `saves list` said "ok", and the others
    quoted a page of the damaged JSON in their message."""
    from engine.saves import list_saves

    folder = tmp_path / "saves"
    folder.mkdir()
    path = folder / "flipped.ttwood"
    path.write_bytes(honest.read_bytes())
    con = sqlite3.connect(path)
    (state,) = con.execute("SELECT state FROM turns WHERE turn=50").fetchone()
    con.execute("UPDATE turns SET state=CAST(? AS TEXT) WHERE turn=50", (state.encode()[:40] + b"\xff\xfe" + state.encode()[42:],))
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(SaveError, match=r"is damaged \(Could not decode to UTF-8 column 'state'\)$"):
        replay(path)
    (row,) = list_saves(folder)
    assert row["status"].startswith("refused: is damaged") and row["turns"] is None
    for args in (["replay"], ["saves", "inspect"], ["run", "--turns", "1", "--resume"]):
        done = subprocess.run([*CMD, *args, str(path)], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, TTWOOD_BRAIN="scripted"))
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and "is damaged (Could not decode" in done.stderr, (args, done.stderr)
        assert '"fields"' not in done.stderr  # none of the damaged text
    assert path.read_bytes() == before
