"""``ttwood sweep``: many games on a real Dask cluster (local, or a scheduler and workers started by
hand on loopback), results read back from real parquet files, resumed, retried, and a worker killed
mid-sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import engine
from engine.saves import replay
from engine.sweeps import Options, Sweep, SweepError, grid, parse_brain, parse_legends, parse_seeds
from engine.sweeps import cluster as cluster_mod
from engine.sweeps.play import Played, play_game
from ttwood.cli import app

runner = CliRunner()
ROOT = Path(engine.__file__).resolve().parent.parent


def sweep_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["sweep", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_seed_specs() -> None:
    assert parse_seeds("1-4,10,3") == [1, 2, 3, 4, 10]
    assert parse_seeds("7") == [7]
    for bad in ("1..4", "5-2", "a"):
        with pytest.raises(SweepError, match="--seeds"):
            parse_seeds(bad)


def test_legend_and_brain_specs_are_checked_before_any_worker() -> None:
    assert parse_legends("none").placed == ()
    assert parse_legends("b@12+a@5").label == "a@5+b@12"
    with pytest.raises(SweepError, match="ID@TURN"):
        parse_legends("run-on-oonas-hoard")
    with pytest.raises(SweepError, match="unknown brain"):
        parse_brain("llamma")
    opts = Options(turns=5)
    with pytest.raises(SweepError, match="no legend 'nope'.*run-on-oonas-hoard"):
        grid([], [1], [parse_brain("scripted")], [parse_legends("nope@2")], opts)
    with pytest.raises(SweepError, match="only 5 turns"):
        grid([], [1], [parse_brain("scripted")], [parse_legends("run-on-oonas-hoard@9")], opts)
    specs = grid(["thousand-token-wood", "credit-crunch"], [1, 2], [parse_brain("scripted")],
                 [parse_legends("none"), parse_legends("run-on-oonas-hoard@3")], opts)
    assert len(specs) == 8 and len({s.id for s in specs}) == 8


@pytest.mark.slow
def test_local_cluster_sweep_matches_single_runs_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    args = ("thousand-token-wood", "long-winter", "--seeds", "1-2", "--turns", "6", "--brain", "scripted",
            "--workers", "2", "--out", str(out))
    first = sweep_json(*args)
    assert first == first | {"games": 4, "done": 4, "failed": 0, "results": str(out / "results.parquet"), "skipped": 0}
    results = pq.read_table(out / "results.parquet").to_pylist()
    turns = pq.read_table(out / "turns.parquet").to_pylist()
    assert len(results) == 4 and len(turns) == 4 * 6
    assert {r["worker"] for r in results} and all(r["status"] == "done" and r["books_ok"] for r in results)
    # Each row is the same game `ttwood run` plays with that seed.
    for r in results:
        single = run_json(r["scenario"], "--seed", str(r["seed"]), "--turns", "6", "--brain", "scripted")
        assert r["trades"] == single["totals"]["trades"] and r["defaults"] == single["totals"]["defaults"]
        assert r["gini_end"] == single["per_turn"][-1]["gini"]
        mine = sorted((t for t in turns if t["game"] == r["game"]), key=lambda t: t["turn"])
        assert [t["trades"] for t in mine] == [p["trades"] for p in single["per_turn"]]
        assert [t["price_honey"] if "price_honey" in t else None for t in mine] == [p["prices"].get("honey") for p in single["per_turn"]]
        assert replay(out / r["save"], verify=True).ok
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "saves").iterdir()}
    again = sweep_json(*args)
    assert again["skipped"] == 4 and again["done"] == 4 and again["failed"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "saves").iterdir()} == stamps
    # One more seed: only the new games are played.
    more = sweep_json(*[a if a != "1-2" else "1-3" for a in args])
    assert more["games"] == 6 and more["skipped"] == 4 and more["done"] == 6
    assert len(pq.read_table(out / "results.parquet")) == 6


def test_a_failing_game_is_retried_then_recorded_and_never_stops_the_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marks = tmp_path / "tries"
    marks.mkdir()

    def flaky(spec: Any) -> Played:  # counts its calls in files: the task function travels pickled
        n = len(list(marks.glob(f"{spec.seed}-*"))) + 1
        (marks / f"{spec.seed}-{n}").touch()
        if spec.seed == 2:
            raise RuntimeError("the model ran out of memory")
        if spec.seed == 3 and n == 1:
            raise RuntimeError("a passing hiccup")
        return play_game(spec)

    monkeypatch.setattr(cluster_mod, "play_game", flaky)
    from distributed import Client, LocalCluster

    specs = grid([], [1, 2, 3], [parse_brain("scripted")], [parse_legends("none")], Options(turns=3))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc, Client(lc) as client:
        tally = Sweep(tmp_path / "out", specs, retries=1).run(client)
    rows = {r["seed"]: r for r in pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()}
    assert (tally.done, tally.failed, tally.retried) == (2, 1, 2)
    assert rows[2]["status"] == "failed" and "out of memory" in rows[2]["error"] and rows[2]["attempts"] == 2
    assert rows[3]["status"] == "done" and rows[3]["attempts"] == 2 and rows[1]["attempts"] == 1
    assert sorted(p.name for p in marks.iterdir()) == ["1-1", "2-1", "2-2", "3-1", "3-2"]


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    dask = Path(sys.executable).with_name("dask")
    return subprocess.Popen([str(dask), *args], stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def _wait_for(cond: Any, what: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
def test_hand_started_scheduler_and_two_workers_a_worker_killed_mid_sweep_loses_no_game(tmp_path: Path) -> None:
    sched_file = tmp_path / "scheduler.json"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                    tmp_path / "scheduler.log")]
    try:
        _wait_for(sched_file.is_file, "the scheduler")
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for name in ("w1", "w2"):
            args = ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", name, "--host", "127.0.0.1"]
            procs.append(_start([*args, "--death-timeout", "60"], tmp_path / f"{name}.log"))
        from distributed import Client

        specs = grid(["thousand-token-wood"], list(range(1, 9)), [parse_brain("scripted")], [parse_legends("none")], Options(turns=150))
        with Client(address, timeout="20s") as client:
            client.wait_for_workers(2, timeout=60)
            victim = next(w for w, info in client.scheduler_info()["workers"].items() if info["name"] == "w2")
            killed: list[int] = []

            def kill_when_busy(p: cluster_mod.Progress) -> None:
                if killed or p.done < 1:
                    return
                if client.processing(victim).get(victim):  # w2 is in the middle of a game
                    os.kill(procs[2].pid, signal.SIGKILL)
                    killed.append(p.done)

            tally = Sweep(tmp_path / "out", specs, retries=0).run(client, kill_when_busy)
        assert killed, "the worker was never caught mid-game"
        assert procs[2].wait(10) == -signal.SIGKILL
        assert (tally.done, tally.failed) == (8, 0)
        rows = pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()
        assert sorted(r["seed"] for r in rows if r["status"] == "done") == list(range(1, 9))
        assert all(replay(tmp_path / "out" / r["save"], verify=True).ok for r in rows)
        # Through the command line against the same scheduler (one worker left): two more seeds, the rest skipped.
        again = sweep_json("thousand-token-wood", "--seeds", "1-10", "--turns", "150", "--brain", "scripted",
                           "--address", address, "--out", str(tmp_path / "out"))
        assert again == again | {"games": 10, "done": 10, "skipped": 8, "failed": 0}
        assert len(pq.read_table(tmp_path / "out" / "results.parquet")) == 10
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.model
def test_a_worker_loads_each_model_once_for_all_its_games() -> None:
    from engine import scenario as scenarios
    from engine.minds.factory import close_brains, make_brains
    from engine.sweeps import play

    specs = grid(["thousand-token-wood", "credit-crunch"], [1], [parse_brain("llama")], [parse_legends("none")], Options(turns=1))
    loaded = []
    for spec in specs:
        sc, _ = scenarios.load(spec.scenario)
        brains = make_brains(sc, spec.choice(), models=play._MODELS)
        loaded.append(brains["*"].model)  # type: ignore[attr-defined]
        close_brains(brains)
    assert loaded[0] is loaded[1] and len(play._MODELS) == 1
    assert loaded[0].model is not None  # closing a game's brains left the shared model loaded


def test_a_killed_workers_leftover_game_folder_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from engine.sweeps import play

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"ttwood-game-{dead.pid}-abc"
    alive = tmp_path / f"ttwood-game-{os.getppid()}-def"
    for d in (stale, alive):
        d.mkdir()
        (d / "x.ttwood").write_bytes(b"half a game")
    monkeypatch.setattr(play, "_swept", False)
    spec = grid([], [1], [parse_brain("scripted")], [parse_legends("none")], Options(turns=1))[0]
    assert play.play_game(spec).data["turns"] == 1
    assert not stale.exists() and alive.exists()


def test_bench_sweep_reports_each_cluster_size() -> None:
    result = runner.invoke(app, ["bench", "sweep", "--games", "2", "--turns", "2", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["games"] == 2 and [r["workers"] for r in data["runs"]] == [1]
    run = data["runs"][0]
    assert run["games"] == 2 and run["failed"] == 0 and run["speedup"] == 1.0 and run["games_per_s"] > 0
