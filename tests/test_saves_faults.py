"""Fault injection: the autosaver killed (SIGKILL) at random points across many turns, each time
in a forked process, then resumed from what it left. Every kill must leave a save that opens
(every check, the game derived from its tape) and resumes, having lost at most the turn in
flight; at the end the whole game replays exactly.

The kill points are drawn from a seeded generator: a timer at a random instant while turns are
written, or one of the autosaver's own steps (inside the turn's transaction before or after its
rows are written, right after the commit, while the new file is made, while the closed save is
folded). ``KILLS`` kills in all.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from engine import scenario as scenarios
from engine.elders.scripted import ScriptedBrain
from engine.saves import Autosaver, open_save, replay
from engine.saves import store as store_module
from engine.turn.game import Game

KILLS = 30
TURNS_PER_LIFE = 12
POINTS = ("making-the-file", "timer", "in-transaction", "after-rows", "after-commit", "closing")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _life(path: str, point: str, nth: int, conn: Connection) -> None:
    """A child's life: open or make the save, then play and record turns, reporting each turn
    committed; a kill point set up in the autosaver's own steps ends it, else the parent does."""
    calls = {"n": 0}

    def count() -> bool:
        calls["n"] += 1
        return calls["n"] == nth

    real_insert, real_record, real_close = store_module.insert_turn, Autosaver.record, Autosaver.close
    real_schema = store_module.create_schema

    def insert(con: Any, rows: Any, state: Any) -> None:
        if point == "in-transaction" and count():
            _die()
        real_insert(con, rows, state)
        if point == "after-rows" and count():
            _die()

    def record(self: Autosaver, report: Any) -> None:
        real_record(self, report)
        if point == "after-commit" and count():
            _die()

    def schema(con: Any) -> None:
        real_schema(con)
        if point == "making-the-file":
            _die()

    def close(self: Autosaver) -> None:
        if point == "closing":
            con = self._con
            assert con is not None
            con.execute("PRAGMA wal_checkpoint(PASSIVE)")  # part of the log folded in, then killed
            _die()
        real_close(self)

    store_module.insert_turn = insert  # type: ignore[assignment]
    store_module.create_schema = schema  # type: ignore[assignment]
    Autosaver.record = record  # type: ignore[method-assign]
    Autosaver.close = close  # type: ignore[method-assign]
    try:
        if Path(path).exists():
            with open_save(path) as save:
                game = save.game_at(None, ScriptedBrain())
            saver = Autosaver.resume(path, game)
        else:
            sc, text = scenarios.load(None)
            game = Game(sc, 11, ScriptedBrain())
            saver = Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"})
        conn.send(("start", game.turn))
        with saver:
            for _ in range(TURNS_PER_LIFE):
                report = game.step()
                saver.record(report)
                conn.send(("turn", report.turn))
        conn.send(("closed", game.turn))
    except BaseException as exc:  # noqa: BLE001 - the parent reports it
        conn.send(("error", repr(exc)))
    finally:
        conn.close()
        os._exit(0)


def _drain(conn: Connection) -> list[tuple[str, Any]]:
    out = []
    while conn.poll(0):
        try:
            out.append(conn.recv())
        except EOFError:
            break
    return out


@pytest.mark.slow
def test_killed_anywhere_a_save_opens_and_resumes_losing_at_most_the_turn_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "faults.ttwood"
    rng = random.Random(20261129)
    ctx = multiprocessing.get_context("fork")
    t0 = time.monotonic()
    committed = 0  # turns known to be in the save
    kinds: dict[str, int] = {}
    for k in range(KILLS):
        # The first life is killed while its file is made; then every other point in turn, then at random.
        later = POINTS[1:]
        point = POINTS[0] if k == 0 else later[(k - 1) % len(later)] if k <= len(later) else rng.choice(later)
        nth = rng.randint(1, TURNS_PER_LIFE)
        kinds[point] = kinds.get(point, 0) + 1
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_life, args=(str(path), point, nth, child))
        proc.start()
        child.close()
        seen: list[tuple[str, Any]] = []
        if point == "timer":
            deadline = time.monotonic() + 60
            while not any(e[0] == "turn" for e in seen):  # some turns written, then a random instant
                assert proc.is_alive() or parent.poll(0), f"kill {k}: the child died early: {seen}"
                assert time.monotonic() < deadline, f"kill {k}: no turn written"
                if parent.poll(0.05):
                    seen.append(parent.recv())
            time.sleep(rng.uniform(0, 0.3))
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
        proc.join(60)
        seen += _drain(parent)
        parent.close()
        errors = [e for e in seen if e[0] == "error"]
        assert not errors, f"kill {k} ({point}): {errors}"
        reported = max([e[1] for e in seen if e[0] in ("turn", "start", "closed")], default=committed)
        if not path.exists():
            # Killed while the file was being made: no save, and nothing was played.
            assert point == "making-the-file" and committed == 0 and reported == 0, seen
            continue
        with open_save(path) as save:  # every check, and the game derived from the tape
            turns = save.turns
            assert save.game_at().turn == turns
        # At most the turn in flight is lost: every turn reported as committed is there, and at
        # most one more (committed, killed before it was reported).
        assert reported <= turns <= reported + 1, (k, point, seen, turns)
        assert turns >= committed
        committed = turns
    elapsed = time.monotonic() - t0
    # The temporary file the first kill left while the file was made is gone: the next save removed it.
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []
    result = replay(path, verify=True)
    assert result.ok and result.turns == committed
    print(f"autosaver fault injection: {KILLS} kills {kinds}, {committed} turns in the end, {elapsed:.1f} s")
