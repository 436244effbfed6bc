"""Untrusted saves: a corpus of damaged and hostile files, each refused with one clear message
naming the file and the reason, a non-zero exit, no traceback, and the file unchanged; and a
fuzz test over the loader (a flipped bit is refused or changes nothing)."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.saves import MAX_SAVE_BYTES, Autosaver, SaveError, open_save, state_hash
from engine.saves.convert import seal
from engine.saves.guard import APPLICATION_ID, FORMAT_VERSION
from engine.saves.rows import TURN_COLUMNS
from engine.turn.game import Game
from ttwood.cli import app

runner = CliRunner()
TURNS = 8


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good save of 8 scripted turns (keyframes at 0, 4, 8)."""
    path = tmp_path_factory.mktemp("good") / "good.ttwood"
    sc, text = scenarios.load(None)
    game = Game(sc, 5, ScriptedBrain())
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}, keyframe_every=4) as saver:
        for _ in range(TURNS):
            saver.record(game.step())
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edit(sql: str, *params: object) -> Callable[[Path], None]:
    def run(p: Path) -> None:
        con = sqlite3.connect(p)
        con.execute(sql, params)
        con.commit()
        con.close()
    return run


def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2 + 123])


def _truncate_at_page(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: (len(data) // 4096 // 2) * 4096])


def _flip_in_turn_json(p: Path) -> None:
    """Flip one bit inside a stored turn's events JSON (a real change to the game's record)."""
    data = bytearray(p.read_bytes())
    i = data.find(b"sold ")
    assert i > 0
    data[i + 2] ^= 0x01
    p.write_bytes(bytes(data))


def _flip_header_bit(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[21] ^= 0x10  # the header's max payload fraction
    p.write_bytes(bytes(data))


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _not_sqlite(p: Path) -> None:
    p.write_text('{"turns": 20, "note": "a JSON file with the right name"}\n' * 200)


def _set_header_int(offset: int, value: int) -> Callable[[Path], None]:
    def run(p: Path) -> None:
        data = bytearray(p.read_bytes())
        data[offset:offset + 4] = value.to_bytes(4, "big")
        p.write_bytes(bytes(data))
    return run


def _plain_sqlite(p: Path) -> None:
    p.unlink()
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()


def _huge(p: Path) -> None:
    with open(p, "r+b") as f:
        f.truncate(MAX_SAVE_BYTES + 4096)  # sparse: no disk is used


def _reseal_turn(p: Path, turn: int, change: Callable[[list[object]], None]) -> None:
    """Change a turn's row and seal it again, so only deeper checks can catch it."""
    con = sqlite3.connect(p)
    cols = TURN_COLUMNS[:-3]
    row = list(con.execute(f"SELECT {', '.join(cols)} FROM turns WHERE turn=?", (turn,)).fetchone())
    change(row)
    sets = ", ".join(f"{c}=?" for c in cols)
    con.execute(f"UPDATE turns SET {sets}, digest=? WHERE turn=?", (*row, seal(*row), turn))
    con.commit()
    con.close()


def _bad_action_on_tape(p: Path) -> None:
    def change(row: list[object]) -> None:
        at = TURN_COLUMNS.index("tape")
        tape = orjson.loads(str(row[at]))
        tape[0][2] = [{"type": "order", "side": "steal", "good": "honey", "qty": 1, "price": 1}]
        row[at] = orjson.dumps(tape).decode()
    _reseal_turn(p, 3, change)


def _pebbles_from_nowhere(p: Path) -> None:
    """A keyframe whose state gives a creature extra pebbles, with its hash made to match."""
    con = sqlite3.connect(p)
    (state,) = con.execute("SELECT state FROM turns WHERE turn=8").fetchone()
    s = orjson.loads(state)
    s["wood"]["creatures"][0][14]["pebbles"] += 1000  # Creature.free
    text = orjson.dumps(s).decode()
    con.execute("UPDATE turns SET state=?, full_hash=? WHERE turn=8", (text, hashlib.sha256(text.encode()).hexdigest()))
    con.commit()
    con.close()


CORPUS: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty": (_empty, "is empty"),
    "not-sqlite": (_not_sqlite, "not an SQLite database"),
    "truncated": (_truncate, "truncated"),
    "truncated-at-a-page": (_truncate_at_page, "truncated or damaged"),
    "bit-flipped": (_flip_in_turn_json, "changed after it was written"),
    "bit-flipped-header": (_flip_header_bit, "header's format bytes"),
    "foreign-application-id": (_set_header_int(68, 0x12345678), "another program"),
    "plain-sqlite": (_plain_sqlite, "another program"),
    "future-version": (_set_header_int(60, FORMAT_VERSION + 7), f"newer Thousand Token Wood (save format {FORMAT_VERSION + 7}"),
    "no-version": (_set_header_int(60, 0), "no save format version"),
    "extra-trigger": (_edit("CREATE TRIGGER boom AFTER INSERT ON meta BEGIN DELETE FROM turns; END"), "trigger 'boom'"),
    "extra-view": (_edit("CREATE VIEW peek AS SELECT * FROM meta"), "view 'peek'"),
    "changed-view": (_edit("DROP VIEW tape"), "lacks the view 'tape'"),
    "extra-table": (_edit("CREATE TABLE notes (x)"), "table 'notes'"),
    "extra-index": (_edit("CREATE INDEX i ON turns (season)"), "index 'i'"),
    "virtual-table": (_edit("CREATE VIRTUAL TABLE search USING fts5(body)"), "virtual table 'search'"),
    "huge": (_huge, "over the"),
    "edited-meta": (_edit("UPDATE meta SET value='99' WHERE key='seed'"), "meta table was changed"),
    "edited-metrics": (_edit("UPDATE turns SET metrics=replace(metrics, '\"trades\":', '\"trades\":1') WHERE turn=2"),
                       "turn 2 was changed"),
    "edited-state": (_edit("UPDATE turns SET state=replace(state, '\"turn\":4', '\"turn\":5') WHERE turn=4"),
                     "turn 4: its stored state was changed"),
    "bad-action-on-tape": (_bad_action_on_tape, "turn 3 tape #0: actions.0"),
    # (Derived from the tape before the books are looked at: the edited state is caught as edited.)
    "books-do-not-balance": (_pebbles_from_nowhere, "at turn 8, its stored state is not what the scenario, the seed and the tape make"),
    "dropped-turn": (_edit("DELETE FROM turns WHERE turn=3"), "without gaps"),
    "wrong-type-resealed": (lambda p: _reseal_turn(p, 5, lambda row: row.__setitem__(3, 12345)), "at turn 5, its stored record"),
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "huge" else n for n in sorted(CORPUS)])
def test_each_bad_save_is_refused_clearly_and_left_unchanged(good: Path, tmp_path: Path, name: str) -> None:
    damage, reason = CORPUS[name]
    bad = tmp_path / f"{name}.ttwood"
    shutil.copyfile(good, bad)
    damage(bad)
    before = _sha(bad)
    with pytest.raises(SaveError) as exc:
        open_save(bad).close()
    assert str(bad) in exc.value.message and reason in exc.value.message, exc.value.message
    r = runner.invoke(app, ["saves", "inspect", str(bad), "--json"])
    assert r.exit_code != 0 and r.stdout == ""
    assert isinstance(r.exception, SaveError) and str(bad) in r.exception.message, r.exception
    # Replay re-simulates from the seed: it refuses the file, or names the turn that differs.
    r = runner.invoke(app, ["replay", str(bad), "--verify"])
    assert r.exit_code != 0
    if isinstance(r.exception, SaveError):
        assert str(bad) in r.exception.message
    else:
        assert r.exit_code == 1 and "replay differs" in r.stderr and str(bad) in r.stderr, (r.exception, r.stderr)
    assert _sha(bad) == before, "a refused save must never be changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name], "no sidecar files appear"


def test_refusal_through_the_real_command_is_one_line_without_traceback(good: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "trigger.ttwood"
    shutil.copyfile(good, bad)
    _edit("CREATE TRIGGER boom AFTER INSERT ON meta BEGIN DELETE FROM turns; END")(bad)
    before = _sha(bad)
    for args in (["saves", "inspect", str(bad)], ["run", "--resume", str(bad), "--turns", "2"]):
        p = subprocess.run([sys.executable, "-c", "from ttwood.cli import main; main()", *args],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2
        assert "Traceback" not in p.stderr and p.stdout == ""
        assert p.stderr.strip().startswith("save refused:")
        assert str(bad) in p.stderr and "trigger 'boom'" in p.stderr
    assert _sha(bad) == before


def test_the_good_save_passes_every_check(good: Path) -> None:
    before = _sha(good)
    with open_save(good) as save:
        assert save.turns == TURNS and save.keyframes == [0, 4, 8]
    assert _sha(good) == before


def test_fuzz_a_flipped_bit_is_refused_or_changes_nothing(good: Path, tmp_path: Path) -> None:
    """Flip one bit at 120 seeded places: the loader either refuses the file with a SaveError
    (never another exception) or gives back exactly the game that was saved."""
    with open_save(good) as save:
        want = state_hash(save.game_at())
    data = good.read_bytes()
    rng = random.Random(4)
    refused = same = 0
    for k in range(120):
        i = rng.randrange(len(data))
        flipped = bytearray(data)
        flipped[i] ^= 1 << rng.randrange(8)
        p = tmp_path / f"fuzz{k}.ttwood"
        p.write_bytes(bytes(flipped))
        try:
            with open_save(p) as save:
                assert save.turns == TURNS
                assert state_hash(save.game_at()) == want
            same += 1
        except SaveError as exc:
            assert str(p) in exc.message
            refused += 1
        os.unlink(p)
    assert refused + same == 120 and refused > 0


def test_format_constants_are_in_the_header(good: Path) -> None:
    head = good.read_bytes()[:100]
    assert int.from_bytes(head[68:72], "big") == APPLICATION_ID
    assert int.from_bytes(head[60:64], "big") == FORMAT_VERSION
    assert head[18] == head[19] == 1, "a closed save is in rollback-journal mode: no -wal file needed"
