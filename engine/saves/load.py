"""Opening a save: checks, then the game at any turn, its history and its tape.

:func:`open_save` runs every check in :mod:`engine.saves.guard` on a private copy, migrates an
older format on that copy, validates the meta rows and every row's digest, and derives the game
from the scenario, the seed and the tape, comparing every turn with what the file stores
(:mod:`engine.saves.derive`): a stored state is never believed, however its hashes were made.
What it returns reads from the copy; the original file is never opened by SQLite nor changed.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from engine.core.errors import TTWoodError
from engine.saves import migrate
from engine.saves.convert import TapeEntry, seal, tape_entries, turn_report
from engine.saves.guard import MAX_SAVE_BYTES, SaveError, checked_copy, connect_untrusted
from engine.saves.rows import CONTRACT_COLUMNS, TURN_COLUMNS, ContractRow, SaveTable, TurnRow
from engine.saves.snapshot import SnapshotError
from engine.saves.store import meta_digest
from engine.scenario import Scenario
from engine.turn.brain import Answer, Brain
from engine.turn.game import Game
from engine.turn.report import TurnReport

_LEGEND_IDS = TypeAdapter(list[str])


class SaveMeta(BaseModel):
    """The ``meta`` table, validated."""

    model_config = ConfigDict(extra="forbid")

    format: int
    app: str
    app_version: str
    created: str
    scenario_id: str
    scenario_name: str
    scenario_source: str | None
    scenario_text: str
    scenario_sha256: str
    scenario_json: dict[str, Any]
    seed: int
    brains: dict[str, Any]
    creatures: list[str]
    keyframe_every: int
    branched_from: dict[str, Any] | None
    digest: str


class LoadedSave:
    """A checked save, open for reading. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, tmp: tempfile.TemporaryDirectory[str], db: Path, migrated_from: int | None) -> None:
        self.path = path
        """The file the player named."""
        self._tmp = tmp
        self.db = db
        """The private checked copy everything is read from."""
        self.migrated_from = migrated_from
        """The older format version the copy was migrated from, if it was."""
        self.con = connect_untrusted(db)
        self.meta = self._read_meta()
        try:
            self.scenario = Scenario.model_validate(self.meta.scenario_json)
        except ValidationError as exc:
            e = exc.errors()[0]
            raise self._bad(f"its scenario is not valid ({'.'.join(map(str, e['loc']))}: {e['msg']})") from None
        if [c.name for c in self.scenario.expanded_cast()] != self.meta.creatures:
            raise self._bad("its scenario's cast is not the cast it lists")
        rows = self.con.execute("SELECT turn, state_hash, state IS NOT NULL, injected FROM turns ORDER BY turn").fetchall()
        turns = [r[0] for r in rows]
        if not turns or turns != list(range(len(turns))):
            raise self._bad("its turns are not numbered 0, 1, 2, … without gaps")
        self.hashes: dict[int, str] = {r[0]: r[1] for r in rows}
        """The recorded check hash of every turn (0 is the start)."""
        self.keyframes: list[int] = [r[0] for r in rows if r[2]]
        """Turns whose whole state is stored."""
        if 0 not in self.keyframes:
            raise self._bad("it does not hold the starting state")
        known = {lg.id for lg in self.scenario.legends}
        self.injected: dict[int, list[str]] = {}
        """Legends the player asked for before each turn (replay asks for them again)."""
        for r in rows:
            try:
                ids = _LEGEND_IDS.validate_json(r[3])
            except ValidationError:
                raise self._bad(f"turn {r[0]}: its list of legends asked for is not valid") from None
            if not set(ids) <= known:
                raise self._bad(f"turn {r[0]} asks for a legend the scenario does not have")
            if ids:
                self.injected[r[0]] = ids
        self.turns = turns[-1]
        """The last turn played."""

    # ------------------------------------------------------------------ basics
    @property
    def scenario_text(self) -> str:
        """The scenario's TOML as the player gave it (empty when the game was built in code)."""
        return self.meta.scenario_text

    @property
    def seed(self) -> int:
        return self.meta.seed

    @property
    def brains(self) -> dict[str, Any]:
        """What decided for the creatures when the game was played (``BrainChoice.describe()``)."""
        return self.meta.brains

    def _bad(self, why: str) -> SaveError:
        return SaveError(f"{self.path}: {why}")

    def _read_meta(self) -> SaveMeta:
        raw = dict(self.con.execute("SELECT key, value FROM meta").fetchall())
        try:
            meta = SaveMeta.model_validate({k: orjson.loads(v) for k, v in raw.items()})
        except orjson.JSONDecodeError:
            raise self._bad("its meta table is not JSON") from None
        except ValidationError as exc:
            e = exc.errors()[0]
            raise self._bad(f"its meta table is not valid ({'.'.join(map(str, e['loc']))}: {e['msg']})") from None
        if meta.digest != meta_digest(raw):
            raise self._bad("its meta table was changed after it was written (digest mismatch)")
        if hashlib.sha256(meta.scenario_text.encode()).hexdigest() != meta.scenario_sha256:
            raise self._bad("its scenario text does not match its hash")
        return meta

    def close(self) -> None:
        """Close the copy and delete it."""
        try:
            self.con.close()
        finally:
            self._tmp.cleanup()

    def __enter__(self) -> LoadedSave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ checks
    def check_digests(self) -> None:
        """Refuse if any row differs from what was written (a flipped bit, an edit by hand)."""
        try:
            self._check_digests()
        except sqlite3.DatabaseError as exc:  # a row SQLite cannot read (text that is not UTF-8 …)
            raise damaged(self.path, exc) from None

    def _check_digests(self) -> None:
        cols = ", ".join(TURN_COLUMNS)
        for row in self.con.execute(f"SELECT {cols} FROM turns ORDER BY turn"):
            self._valid_row(TurnRow, TURN_COLUMNS, row, f"turn {row[0]}")
            *values, state, full, digest = row
            if seal(*values) != digest:
                raise self._bad(f"turn {row[0]} was changed after it was written (digest mismatch)")
            if (state is None) != (full is None):
                raise self._bad(f"turn {row[0]}: its state and the state's hash do not go together")
            if state is not None and hashlib.sha256(str(state).encode()).hexdigest() != full:
                raise self._bad(f"turn {row[0]}: its stored state was changed after it was written (hash mismatch)")
        seqs = []
        for row in self.con.execute(f"SELECT {', '.join(CONTRACT_COLUMNS)} FROM contracts ORDER BY seq"):
            self._valid_row(ContractRow, CONTRACT_COLUMNS, row, f"finished contract {row[0]}")
            *values, digest = row
            if seal(*values) != digest:
                raise self._bad(f"finished contract {row[0]} was changed after it was written (digest mismatch)")
            if not isinstance(row[2], int) or not 0 < row[2] <= self.turns:
                raise self._bad(f"finished contract {row[0]} finished on a turn that was never played")
            seqs.append(row[0])
        if seqs != list(range(len(seqs))):
            raise self._bad("its finished contracts are not numbered without gaps")

    def _valid_row(self, model: type[SaveTable], cols: Any, row: tuple[Any, ...], where: str) -> None:
        """Every column holds the type its SQLModel table says (SQLite itself does not insist)."""
        try:
            model.model_validate(dict(zip(cols, row, strict=True)), strict=True)
        except ValidationError as exc:
            e = exc.errors()[0]
            raise self._bad(f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg']}") from None

    # ------------------------------------------------------------------ reading
    def tape_entries(self, first: int = 1, last: int | None = None) -> dict[int, list[TapeEntry]]:
        """Every recorded answer of turns ``first``..``last``, validated (actions re-checked by
        ``engine.turn.actions``)."""
        last = self.turns if last is None else last
        out = {}
        for turn, tape in self.con.execute("SELECT turn, tape FROM turns WHERE turn BETWEEN ? AND ? ORDER BY turn",
                                           (max(first, 1), last)):
            try:
                out[turn] = tape_entries(tape, f"turn {turn} tape")
            except SnapshotError as exc:
                raise self._bad(str(exc)) from None
        return out

    def tape(self, first: int = 1, last: int | None = None) -> dict[int, dict[str, Answer]]:
        """The tape as the tape brain reads it: turn -> creature -> answer."""
        return {t: {e.creature: e.answer() for e in es} for t, es in self.tape_entries(first, last).items()}

    def reports(self, last: int | None = None, first: int = 1) -> list[TurnReport]:
        """Turn reports rebuilt from the file (for history, charts and a resumed game)."""
        last = self.turns if last is None else last
        out = []
        q = "SELECT turn, metrics, gini, events, tape FROM turns WHERE turn BETWEEN ? AND ? ORDER BY turn"
        for turn, metrics, gini, events, tape in self.con.execute(q, (max(first, 1), last)):
            try:
                out.append(turn_report(turn, metrics, gini, events, tape))
            except SnapshotError as exc:
                raise self._bad(str(exc)) from None
        return out

    def _state(self, turn: int) -> tuple[str, str]:
        row = self.con.execute("SELECT state, full_hash FROM turns WHERE turn=?", (turn,)).fetchone()
        if row is None or row[0] is None:
            raise self._bad(f"no stored state at turn {turn}")
        return str(row[0]), str(row[1])

    def ask_legends(self, game: Game, turn: int) -> None:
        """Before ``turn`` of a replaying game: the legends the player asked for then."""
        game.wood.pending_legends.extend(self.injected.get(turn, []))

    def game_at(self, turn: int | None = None, brains: Brain | Mapping[str, Brain] | None = None) -> Game:
        """The game as it stood right after ``turn`` (default: the last), ready to step on.

        The game is derived, never read: played again from turn 0 with the scenario, the seed and
        the tape, and every turn compared with what the file stores (:mod:`engine.saves.derive`),
        so an edited state is refused however its hashes were recomputed. ``brains`` (default: the
        tape brain, which can only replay) decide from then on. ``game.reports`` holds every
        turn's report. Raises :class:`SaveError` if anything does not match.
        """
        from engine.saves.derive import derive

        turn = self.turns if turn is None else turn
        if not 0 <= turn <= self.turns:
            raise self._bad(f"has turns 0 to {self.turns}; there is no turn {turn}")
        try:
            game, result = derive(self, turn)
        except TTWoodError as exc:
            raise self._bad(f"its game cannot be rebuilt: {exc}") from None
        if not result.ok:
            raise self._bad(f"{result.why()}: it was changed after it was played, and is not opened")
        if turn:
            # The replayed reports match the recorded ones but for the machine's timings: keep the record.
            game.reports = self.reports(turn)
        ok, detail = game.conservation()
        if not ok:
            raise self._bad(f"its books do not balance at turn {turn}: {detail['problems'][0]}")
        if brains is not None:
            chosen = Game(self.scenario, self.seed, brains)  # one brain per creature, as a new game picks them
            for c in game.wood.creatures:
                game.set_brain(c.name, chosen.brain_of(c.name))
        return game


def open_save(path: str | Path, *, max_bytes: int = MAX_SAVE_BYTES, full_check: bool = True) -> LoadedSave:
    """Check a save file and open it for reading (see the module's docstring for every check).

    Raises :class:`SaveError` with one message naming the file and the reason. ``full_check``
    also verifies every row's digest and restores the last turn (what ``inspect`` reports as
    integrity); turn it off only for a quick listing.
    """
    path = Path(path)
    tmp = tempfile.TemporaryDirectory(prefix="ttwood-save-")
    loaded = None
    try:
        copy, version = checked_copy(path, Path(tmp.name), max_bytes)
        migrated_from = None
        if version < migrate.CURRENT:
            migrate.upgrade(copy, path, version)
            migrated_from = version
        loaded = LoadedSave(path, tmp, copy, migrated_from)
        if full_check:
            loaded.check_digests()
            loaded.game_at(loaded.turns)
        return loaded
    except BaseException as exc:
        if loaded is not None:
            loaded.close()
        else:
            tmp.cleanup()
        if isinstance(exc, sqlite3.DatabaseError):
            raise damaged(path, exc) from None
        raise


def damaged(path: str | Path, exc: sqlite3.DatabaseError) -> SaveError:
    """A save SQLite cannot read, with SQLite's reason but not the damaged text it quotes (a page
    of JSON is no help to read)."""
    reason = str(exc).split(" with text '", 1)[0]
    return SaveError(f"{path}: is damaged ({reason})")
