"""Run a sweep's games on a Dask cluster: a local one by default, or a running scheduler.

One task per game (:func:`engine.sweeps.play.play_game`). The client writes each finished game's
save into ``DIR/saves/`` and its rows into ``DIR/results.parquet`` and ``DIR/turns.parquet`` as
they come in. A failed game is submitted again up to ``retries`` times, then recorded with its
error; it never stops the sweep. A worker that dies mid-game costs nothing: the scheduler gives
its game to another worker. Games already ``done`` in ``results.parquet`` (with their save on
disk) are skipped, so running the same command again finishes a sweep that was cut short.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from engine.saves import SUFFIX
from engine.sweeps.play import Played, play_game
from engine.sweeps.spec import GameSpec, SweepError
from engine.sweeps.tables import (
    FIXED_RESULT_COLUMNS,
    RESULTS,
    RUNS,
    SAVES,
    TURN_COLUMNS,
    TURNS,
    failed_row,
    read_table,
    result_row,
    turn_rows,
    write_table,
)

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


@contextmanager
def connect(workers: int | None = None, address: str | None = None) -> Iterator[Any]:
    """A Dask client: on a scheduler already running at ``address``, or on a new local cluster of
    ``workers`` single-threaded worker processes (default: one per core), closed afterwards."""
    from distributed import Client, LocalCluster

    if address is not None:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
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

    # ------------------------------------------------------------------ what is done already
    def load(self) -> list[GameSpec]:
        """Read what an earlier run of this folder finished; return the games still to play."""
        try:
            self.saves.mkdir(parents=True, exist_ok=True)
            old = read_table(self.out / RESULTS)
            old_turns = read_table(self.out / TURNS)
        except OSError as exc:
            raise SweepError(f"{self.out}: cannot be used as the sweep's folder ({exc})") from None
        except Exception as exc:  # pyarrow's errors for a damaged file
            raise SweepError(f"{self.out}: its tables cannot be read ({exc}); move them away to start afresh") from None
        self._results, self._turns = {}, {}
        for r in old:
            self._results[r["game"]] = r
        for r in old_turns:
            self._turns.setdefault(r["game"], []).append(r)
        return [s for s in self.specs if not self.is_done(s.id)]

    def is_done(self, game: str) -> bool:
        r = self._results.get(game)
        return bool(r and r.get("status") == "done" and r.get("save") and (self.out / r["save"]).is_file()
                    and (self.out / RUNS / f"{r['name']}.json").is_file())

    # ------------------------------------------------------------------ running
    def run(self, client: Any, on_progress: Callable[[Progress], None] = lambda p: None) -> Progress:
        """Play every game not done yet on ``client``'s cluster; returns the final tally."""
        from distributed import as_completed

        todo = self.load()
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
            self._flush(force=True)
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
        todo = self.load()
        if again:
            todo = list(self.specs)
        progress = Progress(games=len(self.specs), skipped=len(self.specs) - len(todo))
        played: dict[str, Played] = {}
        try:
            for spec in todo:
                progress.running = 1
                on_progress(progress)
                played[spec.id] = play_game(spec)
                self._record(spec, played[spec.id], 1)
                progress.done += 1
        finally:
            self._flush(force=True)
        progress.running = 0
        on_progress(progress)
        return played

    def _record(self, spec: GameSpec, played: Played, attempt: int) -> None:
        rel = f"{SAVES}/{spec.name}{SUFFIX}"
        dst = self.out / rel
        tmp = dst.with_name(f".{dst.name}.tmp")
        tmp.write_bytes(played.save)
        os.replace(tmp, dst)
        run = self.out / RUNS / f"{spec.name}.json"
        run.parent.mkdir(exist_ok=True)
        tmp = run.with_name(f".{run.name}.tmp")
        tmp.write_bytes(orjson.dumps(played.data))
        os.replace(tmp, run)
        labels = spec.labels()
        self._results[spec.id] = result_row(labels, played.data, save=rel, attempts=attempt, wall_s=played.wall_s, worker=played.worker)
        self._turns[spec.id] = turn_rows(labels, played.data)
        self._dirty = True
        self._flush(force=False)

    def run_data(self, spec: GameSpec) -> dict[str, Any] | None:
        """A finished game's ``ttwood run --json`` object (``None``: not finished, or failed)."""
        if not self.is_done(spec.id):
            return None
        try:
            data: dict[str, Any] = orjson.loads((self.out / RUNS / f"{spec.name}.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return data

    def error_of(self, spec: GameSpec) -> str | None:
        """Why a game failed (``None``: it did not)."""
        r = self._results.get(spec.id)
        return None if r is None or r.get("status") == "done" else str(r.get("error"))

    def _flush(self, *, force: bool) -> None:
        if not self._dirty or (not force and time.monotonic() - self._flushed < FLUSH_EVERY_S):
            return
        write_table(self.out / RESULTS, list(self._results.values()), FIXED_RESULT_COLUMNS)
        write_table(self.out / TURNS, [r for rows in self._turns.values() for r in rows], TURN_COLUMNS)
        self._dirty = False
        self._flushed = time.monotonic()


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
