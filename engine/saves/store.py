"""Writing saves: the autosaver that records every turn, and atomic copies for sharing.

While a game runs, its save is written in SQLite's WAL mode with ``synchronous=NORMAL``: each
turn is one transaction, so a crash (even ``kill -9``) loses at most the turn in flight, and a
commit costs no disk flush. When the autosaver closes, the log is folded back into the file
and the journal mode set back to ``DELETE``: the closed save is one self-contained file.

Files written for sharing (``branch``, ``export``) are built in a temporary file in the same
folder, flushed to disk, and renamed over the target, so a reader never sees half a file.
"""

from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson

import engine
from engine.saves.convert import TurnRows, start_rows, turn_rows
from engine.saves.guard import APPLICATION_ID, FORMAT_VERSION, SaveError, ddl
from engine.saves.rows import CONTRACT_COLUMNS, TURN_COLUMNS
from engine.saves.snapshot import Snapshotter
from engine.turn.game import Game
from engine.turn.report import TurnReport

KEYFRAME_EVERY = 50
"""A full state is stored every this many turns (and on the last turn when the saver closes);
the turns between are rebuilt from the nearest keyframe and the tape, checked by their hashes."""
SUFFIX = ".ttwood"
PAGE_SIZE = 4096
"""Bytes per database page: a turn's row is tens of kilobytes of JSON, so big pages mean
fewer overflow pages to chain and write."""


def insert_sql(table: str, columns: tuple[str, ...] | list[str]) -> str:
    """``INSERT`` into ``table`` with ``columns`` in order."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO {table} ({quoted}) VALUES ({", ".join("?" * len(columns))})'


INSERT_TURN = insert_sql("turns", TURN_COLUMNS)
INSERT_CONTRACT = insert_sql("contracts", CONTRACT_COLUMNS)
INSERT_META = insert_sql("meta", ["key", "value"])


def meta_digest(meta: dict[str, str]) -> str:
    """sha256 over every meta row but ``digest`` itself (checked on open)."""
    items = sorted((k, v) for k, v in meta.items() if k != "digest")
    return hashlib.sha256(orjson.dumps(items)).hexdigest()


def write_meta(con: sqlite3.Connection, meta: dict[str, Any]) -> None:
    """Replace the ``meta`` table with ``meta`` (values as JSON) and its digest."""
    rows = {k: orjson.dumps(v).decode() for k, v in meta.items() if k != "digest"}
    rows["digest"] = orjson.dumps(meta_digest(rows)).decode()
    con.execute("DELETE FROM meta")
    con.executemany(INSERT_META, sorted(rows.items()))


def insert_turn(con: sqlite3.Connection, rows: TurnRows, state: bytes | None) -> None:
    """Insert one turn's rows (``state``: the whole state, on keyframe turns)."""
    text = full = None
    if state is not None:
        text, full = state.decode(), sha256(state).hexdigest()
    con.execute(INSERT_TURN, rows.row(text, full))
    if rows.contracts:
        con.executemany(INSERT_CONTRACT, rows.contracts)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale(folder: Path, name: str) -> None:
    """Delete the temporary files of ``name`` that a killed process left (its pid is gone)."""
    for stale in folder.glob(f".{glob.escape(name)}.*.tmp*"):
        pid = stale.name[len(name) + 2:].split(".", 1)[0]
        if not (pid.isascii() and pid.isdigit() and len(pid) < 10):  # a process id, not "²" nor 10**30
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            stale.unlink(missing_ok=True)
        except OSError:
            pass  # alive (or not ours to judge)


@contextmanager
def atomic_file(dst: Path) -> Iterator[Path]:
    """A temporary path in ``dst``'s folder; on success it is flushed and renamed to ``dst``.
    A :class:`SaveError` naming ``dst`` when it cannot be written there (a folder, a read-only
    place, a full disk): the temporary file is made empty first, so such a place is found
    before any work, and a failed write leaves nothing behind."""
    dst = Path(dst)
    if dst.is_dir():
        raise SaveError(f"{dst}: is a folder; name the file to write (--force replaces a file, never a folder)")
    folder = dst.parent if str(dst.parent) else Path(".")
    tmp = folder / f".{dst.name}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale(folder, dst.name)
        for p in (tmp, Path(f"{tmp}-journal")):
            p.unlink(missing_ok=True)
        tmp.touch()
    except OSError as exc:
        raise SaveError(f"{dst}: cannot write it there ({exc.strerror or exc})") from None
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dst)
        _fsync_dir(folder)
    except OSError as exc:
        raise SaveError(f"{dst}: cannot write it ({exc.strerror or exc}); nothing was written") from None
    finally:
        for p in (tmp, Path(f"{tmp}-journal")):
            p.unlink(missing_ok=True)


def create_schema(con: sqlite3.Connection) -> None:
    """Format a new, empty database as a save."""
    con.execute(f"PRAGMA application_id={APPLICATION_ID}")
    con.execute(f"PRAGMA user_version={FORMAT_VERSION}")
    for stmt in ddl():
        con.execute(stmt)


def game_meta(game: Game, scenario_text: str | None, brains: dict[str, Any], source: str | None) -> dict[str, Any]:
    """The ``meta`` rows of a new save."""
    text = scenario_text or ""
    return {
        "format": FORMAT_VERSION,
        "app": "ttwood",
        "app_version": engine.__version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "scenario_id": game.scenario.meta.id,
        "scenario_name": game.scenario.meta.name,
        "scenario_source": source,
        "scenario_text": text,
        "scenario_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "scenario_json": game.scenario.model_dump(mode="json"),
        "seed": game.seed,
        "brains": brains,
        "creatures": [c.name for c in game.wood.creatures],
        "keyframe_every": KEYFRAME_EVERY,
        "branched_from": None,
    }


class Autosaver:
    """Records a game into its save file, one transaction per turn.

    Make one with :meth:`create` (a new save, holding turn 0) or :meth:`resume` (an existing
    save whose game was restored with :meth:`LoadedSave.game_at`); call :meth:`record` with each
    turn's report right after ``game.step()``; call :meth:`close` at the end (or use ``with``).
    When :meth:`record` returns, the turn is committed: a crash costs at most the turn in flight.
    """

    def __init__(self, path: Path, game: Game, con: sqlite3.Connection, keyframe_every: int) -> None:
        self.path = Path(path)
        self.game = game
        self._con: sqlite3.Connection | None = con
        self.keyframe_every = max(1, keyframe_every)
        self._snap = Snapshotter()
        self._last_keyframe = -1
        self.last_turn = game.turn
        """The last turn in the file."""
        self._pending = list(game.wood.pending_legends)
        self._on_demand = {lg.id for lg in game.scenario.legends if lg.when.on_demand}

    # ------------------------------------------------------------ making one
    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA wal_autocheckpoint=16384")  # fold the log in rarely (and always on close)
        return con

    @classmethod
    def create(
        cls,
        path: str | Path,
        game: Game,
        *,
        scenario_text: str | None,
        brains: dict[str, Any],
        source: str | None = None,
        overwrite: bool = False,
        keyframe_every: int = KEYFRAME_EVERY,
    ) -> Autosaver:
        """Start a new save at ``path`` for ``game`` (which must not have played yet).

        ``brains``: what decides (``BrainChoice.describe()``), kept so a resumed game builds the
        same brains. ``scenario_text``: the scenario's TOML as the player gave it (the save also
        keeps the validated scenario itself, which is what a resumed game uses)."""
        path = Path(path)
        if game.turn != 0:
            raise SaveError(f"{path}: a new save starts before the first turn (this game is at turn {game.turn})")
        if path.exists() and not overwrite:
            raise SaveError(f"{path}: already exists (resume it with --resume, or choose another name)")
        meta = game_meta(game, scenario_text, brains, source)
        meta["keyframe_every"] = max(1, keyframe_every)
        snap = Snapshotter()
        try:
            # The file's header, schema, meta and turn 0 are written in rollback-journal mode in a
            # temporary file that is then renamed into place: the main file is a whole save (its
            # header says so) before any turn goes to the write-ahead log, and a failure leaves nothing.
            for p in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
                p.unlink(missing_ok=True)
            with atomic_file(path) as tmp:
                first = sqlite3.connect(str(tmp), isolation_level=None)
                try:
                    first.execute(f"PRAGMA page_size={PAGE_SIZE}")
                    first.execute("PRAGMA journal_mode=DELETE")
                    first.execute("BEGIN")
                    create_schema(first)
                    write_meta(first, meta)
                    insert_turn(first, start_rows(game), snap.state(game))
                    first.execute("COMMIT")
                finally:
                    first.close()
            con = cls._open(path)
        except (sqlite3.Error, OSError, orjson.JSONEncodeError) as exc:
            raise SaveError(f"{path}: cannot be written ({exc})") from None
        saver = cls(path, game, con, keyframe_every)
        saver._snap = snap
        snap.take_finished()
        saver._last_keyframe = 0
        return saver

    @classmethod
    def resume(cls, path: str | Path, game: Game) -> Autosaver:
        """Continue writing ``path`` after ``game``'s current turn, which must be its last saved turn."""
        path = Path(path)
        try:
            con = cls._open(path)
            last, has_state = con.execute("SELECT turn, state IS NOT NULL FROM turns ORDER BY turn DESC LIMIT 1").fetchone()
            every = con.execute("SELECT value FROM meta WHERE key='keyframe_every'").fetchone()
        except (sqlite3.Error, TypeError) as exc:
            raise SaveError(f"{path}: cannot be written ({exc})") from None
        if last != game.turn:
            con.close()
            raise SaveError(f"{path}: its last turn is {last}, the game is at turn {game.turn}")
        saver = cls(path, game, con, int(orjson.loads(every[0])) if every else KEYFRAME_EVERY)
        saver._snap.state(game)  # fold the finished contracts the file already holds
        saver._snap.take_finished()
        saver._last_keyframe = game.turn if has_state else -1
        return saver

    # ------------------------------------------------------------ writing
    def record(self, report: TurnReport) -> None:
        """Save the turn ``report`` describes (the game's latest), as one transaction."""
        game, con = self.game, self._con
        if con is None:
            raise SaveError(f"{self.path}: this autosaver is closed")
        if report.turn != self.last_turn + 1 or report.turn != game.turn:
            raise SaveError(f"{self.path}: turn {report.turn} cannot follow turn {self.last_turn} in this save")
        keyframe = self._last_keyframe < 0 or report.turn - self._last_keyframe >= self.keyframe_every
        state = self._snap.state(game) if keyframe else None
        if not keyframe:
            self._snap.fold_finished(game)
        pending = game.wood.pending_legends
        # Legends the player asked for before this turn: the on-demand ones that fired (asking
        # again for one that fires anyway changes nothing) and any still waiting.
        fired = set(report.legends)
        still = [p for p in self._pending if p not in fired]
        injected = [lg for lg in report.legends if lg in self._on_demand] + pending[len(still):]
        self._pending = list(pending)
        rows = turn_rows(game, report, self._snap.take_finished(), injected)
        try:
            con.execute("BEGIN")
            insert_turn(con, rows, state)
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(con)
            raise SaveError(f"{self.path}: turn {report.turn} could not be saved ({exc})") from None
        except BaseException:  # Ctrl-C, SIGTERM or SIGHUP in the middle: the turn in flight is not kept
            _rollback(con)
            raise
        if keyframe:
            self._last_keyframe = report.turn
        self.last_turn = report.turn

    def close(self) -> None:
        """Store the last turn's full state, fold the log into the file, and close it."""
        con = self._con
        if con is None:
            return
        try:
            _rollback(con)  # a turn interrupted half-written is the turn in flight: not kept
            if self._last_keyframe != self.last_turn and self.game.turn == self.last_turn:
                state = self._snap.state(self.game)
                con.execute("UPDATE turns SET state=?, full_hash=? WHERE turn=?",
                            (state.decode(), sha256(state).hexdigest(), self.last_turn))
                self._last_keyframe = self.last_turn
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as exc:
            raise SaveError(f"{self.path}: could not be closed cleanly ({exc})") from None
        finally:
            con.close()
            self._con = None

    def __enter__(self) -> Autosaver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rollback(con: sqlite3.Connection) -> None:
    if con.in_transaction:
        con.execute("ROLLBACK")


def build_copy(dst: Path, fill: Callable[[sqlite3.Connection], None], attach: Path | None = None) -> None:
    """Write a self-contained save at ``dst`` atomically; ``fill`` writes its rows (with the
    database ``attach``, if given, attached as ``src``)."""
    with atomic_file(dst) as tmp:
        con = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=DELETE")
            if attach is not None:
                con.execute("ATTACH DATABASE ? AS src", (str(attach),))
            con.execute("BEGIN")
            create_schema(con)
            fill(con)
            con.execute("COMMIT")
            if attach is not None:
                con.execute("DETACH DATABASE src")
            con.execute("VACUUM")
        except sqlite3.Error as exc:
            raise SaveError(f"{dst}: cannot be written ({exc})") from None
        finally:
            con.close()
