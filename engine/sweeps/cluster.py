"""Run a sweep's games on a Dask cluster: a local one by default, or a running scheduler.

One task per game (:func:`engine.sweeps.play.play_game`). The client writes each finished game's
save into ``DIR/saves/`` and its rows into ``DIR/results.parquet`` and ``DIR/turns.parquet`` as
they come in. A failed game is submitted again up to ``retries`` times, then recorded with its
error; it never stops the sweep. A worker that dies mid-game costs nothing: the scheduler gives
its game to another worker. Games already ``done`` in ``results.parquet`` (with their save on
disk) are skipped, so running the same command again finishes a sweep that was cut short.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

import orjson

from engine.saves import SUFFIX
from engine.sweeps.play import Played, play_game
from engine.sweeps.spec import GameSpec, SweepError
from engine.sweeps.tables import (
    FIXED_RESULT_COLUMNS,
    RESULT_NEEDS,
    RESULTS,
    RUNS,
    SAVES,
    TURN_COLUMNS,
    TURN_NEEDS,
    TURNS,
    TableError,
    failed_row,
    read_table,
    result_row,
    run_data_ok,
    turn_rows,
    write_table,
)

LOCK = ".sweep.lock"
"""The file a running sweep holds locked in its folder."""
MAX_RUN_BYTES = 256 * 1024 * 1024
"""The largest ``runs/NAME.json`` read back (a longer one is not one this sweep wrote: the game plays again)."""
FLUSH_EVERY_S = 2.0
"""The tables are rewritten at most this often while games finish (and always at the end)."""


@dataclass(slots=True)
class Progress:
    """Where a sweep stands, for a progress bar."""

    games: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    running: int = 0
    retried: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.skipped + self.done + self.failed

    @property
    def rate_per_min(self) -> float:
        """Games finished by this run per minute so far."""
        elapsed = time.monotonic() - self.started
        return 60 * (self.done + self.failed) / elapsed if elapsed > 0 else 0.0


CONNECT_S = 10.0
"""Seconds a scheduler's address has to answer, in Dask's own words, before a sweep gives up."""


def probe_scheduler(address: str, seconds: float = CONNECT_S) -> None:
    """A clear :class:`SweepError` unless something speaking Dask answers at ``address`` within
    ``seconds``: a bad scheme, nothing listening, or a port that takes the connection and never
    speaks (Dask's own client waits for that one's handshake for ever)."""
    import asyncio

    from distributed.comm import connect as dask_connect

    async def shake() -> None:
        comm = await asyncio.wait_for(dask_connect(address, timeout=seconds), seconds)
        await comm.close()

    try:
        asyncio.run(shake())
    except TimeoutError:
        raise SweepError(f"--address {address}: no Dask scheduler answered there within {seconds:g} s (is it a Dask "
                         "scheduler's port? `dask scheduler` prints its address)") from None
    except Exception as exc:  # noqa: BLE001 - a bad address raises many kinds (ValueError, TypeError, OSError)
        raise SweepError(f"--address {address}: no Dask scheduler answers there ({exc}); give the address "
                         "`dask scheduler` prints, e.g. tcp://127.0.0.1:8786") from None


@contextmanager
def connect(workers: int | None = None, address: str | None = None) -> Iterator[Any]:
    """A Dask client: on a scheduler already running at ``address``, or on a new local cluster of
    ``workers`` single-threaded worker processes (default: one per core), closed afterwards."""
    from distributed import Client, LocalCluster

    if address is not None:
        probe_scheduler(address)
        try:
            client = Client(address, timeout=f"{CONNECT_S}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"--address {address}: no Dask scheduler answers there ({exc}); "
                             "start one with `dask scheduler` and workers with `dask worker ADDRESS`") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


class Sweep:
    """The games of one sweep and its output folder."""

    def __init__(self, out: Path, specs: list[GameSpec], *, retries: int = 1) -> None:
        self.out = Path(out)
        self.specs = specs
        self.retries = max(0, retries)
        self.saves = self.out / SAVES
        self._results: dict[str, dict[str, Any]] = {}
        self._turns: dict[str, list[dict[str, Any]]] = {}
        self._dirty = False
        self._flushed = 0.0
        self._lock: IO[str] | None = None

    # ------------------------------------------------------------------ what is done already
    def load(self, *, verify: bool = False) -> list[GameSpec]:
        """Read what an earlier run of this folder finished; return the games still to play
        (``verify``: a game whose run file is damaged is played again; each file is read, so a
        comparison of two games verifies and a sweep of thousands does not)."""
        try:
            self.saves.mkdir(parents=True, exist_ok=True)
            self._hold()
            old = read_table(self.out / RESULTS, RESULT_NEEDS)
            old_turns = read_table(self.out / TURNS, TURN_NEEDS)
        except TableError as exc:
            raise SweepError(str(exc)) from None
        except OSError as exc:
            raise SweepError(f"{self.out}: cannot be used as the sweep's folder ({exc.strerror or exc})") from None
        except SweepError:
            raise
        except Exception as exc:  # pyarrow's errors for a damaged file
            raise SweepError(f"{self.out}: its tables cannot be read ({exc}); move them away to start afresh") from None
        self._results, self._turns = {}, {}
        for r in old:
            self._results[r["game"]] = r
        for r in old_turns:
            self._turns.setdefault(r["game"], []).append(r)
        return [s for s in self.specs if not self.is_done(s.id, verify=verify)]

    def _hold(self) -> None:
        """Take the folder for this sweep alone (an advisory lock on ``DIR/.sweep.lock``, let go by
        :meth:`release` or when the process ends): two sweeps writing one folder would each rewrite
        ``results.parquet`` with only their own games."""
        if self._lock is not None:
            return
        path = self.out / LOCK
        f = path.open("a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            who = f.read(40).strip()
            f.close()
            raise SweepError(f"{self.out}: another sweep{f' (process {who})' if who.isdigit() else ''} is writing into "
                             "this folder; wait for it to finish, or give another --out") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._lock = f

    def release(self) -> None:
        """Let another sweep use the folder."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def is_done(self, game: str, *, verify: bool = False) -> bool:
        """Whether the game finished, its save and its run file on disk (``verify``: the run file read
        and checked too, as :meth:`run_data` reads it)."""
        r = self._results.get(game)
        return bool(r and r.get("status") == "done" and r.get("save") and (self.out / str(r["save"])).is_file()
                    and (self.out / RUNS / f"{r['name']}.json").is_file() and (not verify or self._run_file(r) is not None))

    def _run_file(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """A finished game's ``runs/NAME.json`` (``None``: missing or damaged: the game is played again)."""
        path = self.out / RUNS / f"{row['name']}.json"
        try:
            if path.stat().st_size > MAX_RUN_BYTES:
                return None
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        turns = row.get("turns")
        return data if run_data_ok(data, turns if isinstance(turns, int) else None) else None

    # ------------------------------------------------------------------ running
    def run(self, client: Any, on_progress: Callable[[Progress], None] = lambda p: None, *, verify: bool = False) -> Progress:
        """Play every game not done yet on ``client``'s cluster (``verify``: see :meth:`load`);
        returns the final tally."""
        from distributed import as_completed

        todo = self.load(verify=verify)
        progress = Progress(games=len(self.specs), skipped=len(self.specs) - len(todo))
        on_progress(progress)
        attempts: dict[str, int] = {}
        by_key: dict[str, GameSpec] = {}

        def submit(spec: GameSpec) -> Any:
            attempts[spec.id] = attempts.get(spec.id, 0) + 1
            key = f"game-{spec.id}-{attempts[spec.id]}"
            by_key[key] = spec
            return client.submit(play_game, spec, key=key, pure=False)

        ac = as_completed([submit(s) for s in todo], with_results=False)
        polled = 0.0
        try:
            while not ac.is_empty():
                if not ac.has_ready():
                    if time.monotonic() - polled > 1.0:
                        progress.running = _running(client, progress.running)
                        polled = time.monotonic()
                        on_progress(progress)
                    self._flush(force=False)
                    time.sleep(0.1)
                    continue
                for fut in ac.next_batch(block=False):
                    spec = by_key.pop(fut.key)
                    self._finish(fut, spec, attempts[spec.id], progress, partial(_again, ac, submit, spec))
                    fut.release()
                    on_progress(progress)
        finally:
            try:
                self._flush(force=True)
            finally:
                self.release()
        progress.running = 0
        on_progress(progress)
        return progress

    def _finish(self, fut: Any, spec: GameSpec, attempt: int, progress: Progress, again: Callable[[], None]) -> None:
        """Record a finished task: its game done, retried, or failed for good."""
        if fut.status == "finished":
            try:
                self._record(spec, fut.result(), attempt)
                progress.done += 1
                return
            except OSError as exc:
                error = f"its save could not be written: {exc}"
        else:
            problem = fut.exception()
            error = f"{type(problem).__name__}: {problem}"
        if attempt <= self.retries:
            progress.retried += 1
            again()
            return
        self._results[spec.id] = failed_row(spec.labels(), error, attempt)
        self._turns.pop(spec.id, None)
        self._dirty = True
        progress.failed += 1

    def play_here(self, on_progress: Callable[[Progress], None] = lambda p: None, *, again: bool = False) -> dict[str, Played]:
        """Play the games not done yet (``again``: every game) one after another in this process, with
        no cluster (what ``ttwood compare`` does with its two games); a failing game raises.
        Returns them by game id."""
        todo = self.load(verify=True)
        if again:
            todo = list(self.specs)
        progress = Progress(games=len(self.specs), skipped=len(self.specs) - len(todo))
        played: dict[str, Played] = {}
        try:
            for spec in todo:
                progress.running = 1
                on_progress(progress)
                played[spec.id] = play_game(spec)
                try:
                    self._record(spec, played[spec.id], 1)
                except OSError as exc:
                    raise SweepError(f"{self.out}: cannot write {spec.name}'s save ({exc.strerror or exc})") from None
                progress.done += 1
        finally:
            try:
                self._flush(force=True)
            finally:
                self.release()
        progress.running = 0
        on_progress(progress)
        return played

    def _record(self, spec: GameSpec, played: Played, attempt: int) -> None:
        rel = f"{SAVES}/{spec.name}{SUFFIX}"
        _write_whole(self.out / rel, played.save)
        run = self.out / RUNS / f"{spec.name}.json"
        run.parent.mkdir(exist_ok=True)
        _write_whole(run, orjson.dumps(played.data))
        labels = spec.labels()
        self._results[spec.id] = result_row(labels, played.data, save=rel, attempts=attempt, wall_s=played.wall_s, worker=played.worker)
        self._turns[spec.id] = turn_rows(labels, played.data)
        self._dirty = True
        self._flush(force=False)

    def run_data(self, spec: GameSpec) -> dict[str, Any] | None:
        """A finished game's ``ttwood run --json`` object (``None``: not finished, or failed)."""
        r = self._results.get(spec.id)
        return self._run_file(r) if r is not None and self.is_done(spec.id) else None

    def error_of(self, spec: GameSpec) -> str | None:
        """Why a game failed (``None``: it did not)."""
        r = self._results.get(spec.id)
        return None if r is None or r.get("status") == "done" else str(r.get("error"))

    def _flush(self, *, force: bool) -> None:
        if not self._dirty or (not force and time.monotonic() - self._flushed < FLUSH_EVERY_S):
            return
        try:
            write_table(self.out / RESULTS, list(self._results.values()), FIXED_RESULT_COLUMNS)
            write_table(self.out / TURNS, [r for rows in self._turns.values() for r in rows], TURN_COLUMNS)
        except OSError as exc:
            raise SweepError(f"{self.out}: cannot write the sweep's tables ({exc.strerror or exc}); the saves written so "
                             "far are kept: free some space and run the same command again to finish") from None
        self._dirty = False
        self._flushed = time.monotonic()


def _write_whole(dst: Path, data: bytes) -> None:
    """Write ``dst`` whole or not at all (a full disk leaves no half file behind)."""
    tmp = dst.with_name(f".{dst.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, dst)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _again(ac: Any, submit: Callable[[GameSpec], Any], spec: GameSpec) -> None:
    ac.add(submit(spec))


def _running(client: Any, last: int) -> int:
    """Games being played right now, counted on the workers (the last count if they do not answer)."""
    try:
        counts = client.run(_executing, wait=True)
    except Exception:  # a worker going away while we ask
        return last
    return int(sum(counts.values()))


def _executing(dask_worker: Any) -> int:
    return len(dask_worker.state.executing)
