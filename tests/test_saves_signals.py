"""A game stopped from outside keeps its save: ``kill -9`` before the log is ever folded into the
file, SIGTERM and SIGHUP (handled like Ctrl-C: the save is closed whole), and a save whose header
an older version left in the log."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.saves import open_save
from engine.saves.guard import APPLICATION_ID, FORMAT_VERSION, ddl

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]


def _start(path: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, TTWOOD_BRAIN="scripted")
    args = [*CMD, "run", "--turns", "100000", "--seed", "5", "--save", str(path)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def _wal_grew(proc: subprocess.Popen[str], path: Path, size: int = 200_000) -> None:
    """Wait until the running game has written some turns to its log (and nothing to the file)."""
    wal = Path(f"{path}-wal")
    deadline = time.monotonic() + 60
    while not (wal.exists() and wal.stat().st_size > size):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run wrote nothing"
        time.sleep(0.05)


def test_kill_9_before_the_first_checkpoint_leaves_a_save_that_opens(tmp_path: Path) -> None:
    path = tmp_path / "k.ttwood"
    proc = _start(path)
    _wal_grew(proc, path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # The main file was written whole before the first turn went to the log: its header says what it is.
    head = path.read_bytes()[:100]
    assert int.from_bytes(head[68:72], "big") == APPLICATION_ID
    assert int.from_bytes(head[60:64], "big") == FORMAT_VERSION
    with open_save(path) as save:
        assert save.turns >= 1
        assert save.game_at().turn == save.turns


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_sigterm_and_sighup_close_the_save_like_ctrl_c(tmp_path: Path, sig: signal.Signals) -> None:
    path = tmp_path / "s.ttwood"
    proc = _start(path)
    _wal_grew(proc, path)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGINT else 128 + sig), stderr
    assert sig == signal.SIGINT or f"stopped by {sig.name}" in stderr
    assert "Traceback" not in stderr
    # Closed cleanly: the log folded into one self-contained file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.ttwood"]
    with open_save(path) as save:
        assert save.turns >= 1
        # and it says where the game is and how to go on (it said nothing of the save)
        assert f"saved {path} at turn {save.turns}: go on with `ttwood run --resume {path}`\n" in stderr


def test_a_save_whose_header_is_still_in_the_log_opens(tmp_path: Path) -> None:
    """What an older autosaver left when killed: WAL switched on before the header was written,
    so the header's ids (and every turn) are only in the ``-wal`` file."""
    good = tmp_path / "good.ttwood"
    proc = _start(good)
    _wal_grew(proc, good)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with open_save(good) as save:
        turns = save.turns
    # Rebuild the same database the old way: WAL first, then the ids, all of it left in the log.
    old = tmp_path / "old.ttwood"
    src = sqlite3.connect(good)
    con = sqlite3.connect(old, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("BEGIN")
    con.execute(f"PRAGMA application_id={APPLICATION_ID}")
    con.execute(f"PRAGMA user_version={FORMAT_VERSION}")
    for stmt in ddl():
        con.execute(stmt)
    for table in ("meta", "turns", "contracts"):
        rows = src.execute(f"SELECT * FROM {table}").fetchall()
        if rows:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    con.execute("COMMIT")
    src.close()
    # (The connection stays open, as a killed process leaves it: nothing folded into the file.)
    assert int.from_bytes(old.read_bytes()[68:72], "big") == 0
    assert Path(f"{old}-wal").stat().st_size > 0
    with open_save(old) as save:
        assert save.turns == turns
    con.close()


def test_a_stop_that_lands_while_a_state_is_written_stops_rather_than_blaming_the_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """orjson wraps an exception raised in its ``default`` hook in a TypeError: a SIGTERM landing
    there (while a set is written) said "cannot save the state" instead of stopping cleanly."""
    from engine.saves import snapshot
    from engine.world import state

    def interrupted(value: object) -> bytes:
        import orjson

        def default(obj: object) -> object:
            raise KeyboardInterrupt

        return orjson.dumps(value, default=default)

    monkeypatch.setattr(snapshot, "to_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        snapshot.dumps([{"a set"}])
    assert state.to_json([{"a set"}]) == b'[["a set"]]'
