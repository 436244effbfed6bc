"""Sweeps, comparisons and reports given hostile input: seeds and turns in the wrong digits, an
address that is not a Dask scheduler, two sweeps into one folder, tables ttwood did not write,
a full disk, labels made to break matplotlib. Each is one clear line (exit 2), bounded in time,
and no game already written is lost."""

from __future__ import annotations

import errno
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine.core.errors import TTWoodError
from engine.sweeps import Options, Sweep, SweepError, grid, parse_brain, parse_legends, parse_seeds
from engine.sweeps.report import write_report
from engine.sweeps.spec import BrainSet
from ttwood.cli import app

runner = CliRunner()


def _fails(args: list[str], says: str) -> str:
    """Run ``ttwood ARGS`` in this process: it ends in one :class:`TTWoodError` whose one-line
    message has ``says`` (what ``main()`` prints as one line, exit status 2), or in a usage error."""
    result = runner.invoke(app, args)
    if result.exit_code == 2:  # refused by the option parser itself
        assert says in result.output, result.output
        return result.output
    assert isinstance(result.exception, TTWoodError), (result.exception, result.output)
    message = result.exception.message
    assert says in message and "\n" not in message, message
    return message


def _cli(args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """``ttwood ARGS`` as a user runs it."""
    return subprocess.run([sys.executable, "-c", "from ttwood.cli import main; main()", *args], capture_output=True,
                          text=True, timeout=120, **kw)


def _specs(seeds: list[int], turns: int = 3) -> list[Any]:
    return grid([], seeds, [parse_brain("scripted")], [parse_legends("none")], Options(turns=turns))


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep of two scripted games (3 turns each): copy it before changing it."""
    out = tmp_path_factory.mktemp("swept") / "out"
    Sweep(out, _specs([1, 2])).play_here()
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


# ------------------------------------------------------------------ inputs checked before any cluster
@pytest.mark.parametrize(("spec", "says"), [
    (str(2**64), "is too large; a seed is a whole number from 0 to"),
    (f"1-{2**63}", "is too large"),
    ("-1", "whole numbers from 0"),
    ("-3-2", "whole numbers from 0"),
    ("1²", "whole numbers from 0"),
])
def test_seeds_beyond_64_bits_or_below_zero_are_refused(spec: str, says: str) -> None:
    with pytest.raises(SweepError, match=says):
        parse_seeds(spec)


def test_the_largest_seed_is_taken() -> None:
    assert parse_seeds(str(2**63 - 1)) == [2**63 - 1]


@pytest.mark.parametrize("legend", ["run-on-oonas-hoard@²", "run-on-oonas-hoard@٣", "run-on-oonas-hoard@" + "9" * 40])
def test_a_legend_turn_in_other_digits_is_refused(legend: str) -> None:
    with pytest.raises(SweepError, match="write ID@TURN"):
        parse_legends(legend)


@pytest.mark.parametrize("command", [["sweep", "--brain", "scripted"], ["compare", "--brain", "scripted"]])
def test_sweep_and_compare_say_so_for_a_superscript_turn(tmp_path: Path, command: list[str]) -> None:
    _fails([*command, "--legend", "run-on-oonas-hoard@²", "--out", str(tmp_path / "o")], "write ID@TURN")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("brain", "says"), [
    (BrainSet("llama", "/nowhere/model.gguf"), "no such model file"),
    (BrainSet("http", None), "an http brain needs a model name"),
])
def test_brains_that_cannot_play_are_refused_before_the_cluster_starts(brain: BrainSet, says: str) -> None:
    with pytest.raises(SweepError, match=says):
        grid([], [1], [brain], [parse_legends("none")], Options(turns=2))


def test_a_missing_adapter_is_refused_before_the_cluster_starts() -> None:
    with pytest.raises(SweepError, match="no such adapter file"):
        grid([], [1], [parse_brain("llama")], [parse_legends("none")], Options(turns=2, adapter="/nowhere/a.gguf"))


def test_a_remote_sweep_leaves_model_paths_to_its_workers() -> None:
    specs = grid([], [1], [BrainSet("llama", "/on/the/workers.gguf")], [parse_legends("none")], Options(turns=2),
                 files_here=False)
    assert len(specs) == 1


def test_the_sweep_command_refuses_a_missing_model_at_once(tmp_path: Path) -> None:
    t0 = time.monotonic()
    _fails(["sweep", "--brain", "llama:/nowhere/model.gguf", "--seeds", "1-4", "--out", str(tmp_path / "o")],
           "no such model file")
    assert time.monotonic() - t0 < 20 and not (tmp_path / "o").exists()  # no cluster was started, nothing written


# ------------------------------------------------------------------ the scheduler's address
@pytest.mark.parametrize(("address", "says"), [
    ("http://127.0.0.1:8786", "unknown address scheme 'http'"),
    ("foo://x", "unknown address scheme 'foo'"),
    ("tcp://[::1", "invalid address"),
    ("", "missing port number"),
])
def test_a_bad_address_is_one_line(tmp_path: Path, address: str, says: str) -> None:
    _fails(["sweep", "--brain", "scripted", "--address", address, "--out", str(tmp_path / "o")], says)


def test_a_bad_address_is_one_line_through_the_command(tmp_path: Path) -> None:
    done = _cli(["sweep", "--brain", "scripted", "--address", "http://127.0.0.1:8786", "--out", str(tmp_path / "o")])
    assert done.returncode == 2 and "unknown address scheme 'http'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().startswith("sweep error:")
    assert not (tmp_path / "o").exists()


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A port that takes connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(srv.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for c in held:
            c.close()
        srv.close()


def test_a_port_that_never_speaks_dask_is_given_up_on_in_time(silent_port: int) -> None:
    from engine.sweeps.cluster import probe_scheduler

    t0 = time.monotonic()
    with pytest.raises(SweepError, match="no Dask scheduler answered there within 1 s"):
        probe_scheduler(f"tcp://127.0.0.1:{silent_port}", seconds=1)
    assert time.monotonic() - t0 < 5  # it hung for ever before


# ------------------------------------------------------------------ the sweep's folder
def test_two_sweeps_into_one_folder_the_second_is_refused(tmp_path: Path) -> None:
    first, second = Sweep(tmp_path, _specs([1])), Sweep(tmp_path, _specs([2]))
    first.load()
    with pytest.raises(SweepError, match="another sweep .*is writing into this folder"):
        second.load()
    _fails(["sweep", "--brain", "scripted", "--seeds", "3", "--out", str(tmp_path)], "another sweep")
    first.release()
    second.play_here()
    first.play_here()
    rows = pq.read_table(tmp_path / "results.parquet").to_pylist()
    assert sorted(r["seed"] for r in rows) == [1, 2]  # both sweeps' games kept (one of them was lost before)


def test_a_foreign_results_table_is_one_line(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "results.parquet")
    with pytest.raises(SweepError, match="no column 'game': not a table ttwood wrote"):
        Sweep(tmp_path, _specs([1])).load()
    _fails(["sweep", "--brain", "scripted", "--out", str(tmp_path)], "not a table ttwood wrote")
    _fails(["report", str(tmp_path)], "not a table ttwood wrote")


def test_a_full_disk_stops_the_sweep_in_one_line_and_keeps_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "o"
    Sweep(out, _specs([1])).play_here()
    before = (out / "results.parquet").read_bytes()
    real = pq.write_table

    def full(table: Any, where: Any, **kw: Any) -> None:
        real(table, where, **kw)  # half a file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full)
    with pytest.raises(SweepError, match=r"cannot write the sweep's tables \(No space left on device\).*run the same command"):
        Sweep(out, _specs([1, 2])).play_here()
    assert (out / "results.parquet").read_bytes() == before  # the last whole table stays
    assert not [p.name for p in out.rglob(".*.tmp")]  # and no half one is left
    monkeypatch.setattr(pq, "write_table", real)
    Sweep(out, _specs([1, 2])).play_here()  # the same command again finishes it
    assert len(pq.read_table(out / "results.parquet")) == 2


def test_a_full_disk_while_a_save_is_written_leaves_no_half_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(SweepError, match=r"cannot write .*save \(No space left on device\)"):
        Sweep(tmp_path, _specs([1])).play_here()
    assert not list((tmp_path / "saves").iterdir())


# ------------------------------------------------------------------ reports
def _rewrite(path: Path, **columns: Any) -> None:
    table = pq.read_table(path)
    for name, value in columns.items():
        values = value if isinstance(value, list) else [value] * len(table)
        i = table.column_names.index(name) if name in table.column_names else -1
        table = table.set_column(i, name, pa.array(values)) if i >= 0 else table.append_column(name, pa.array(values))
    pq.write_table(table, path)


def _drop(path: Path, column: str) -> None:
    table = pq.read_table(path)
    pq.write_table(table.drop_columns([column]), path)


@pytest.mark.parametrize(("table", "change", "says"), [
    ("results.parquet", ("drop", "status"), "no column 'status'"),
    ("turns.parquet", ("drop", "gini"), "no column 'gini'"),
    ("turns.parquet", ("set", "gini", "high"), "column 'gini' holds string, not number"),
    ("turns.parquet", ("set", "price_honey", "dear"), "column 'price_honey' holds string, not numbers"),
    ("results.parquet", ("set", "trades", "many"), "column 'trades' holds string, not numbers"),
    ("results.parquet", ("set", "brain_set", "x" * 50_000), "holds a text of 50,000 characters"),
])
def test_a_report_of_changed_tables_is_one_line(swept: Path, tmp_path: Path, table: str, change: tuple[Any, ...],
                                                 says: str) -> None:
    folder = _copy(swept, tmp_path / "f")
    if change[0] == "drop":
        _drop(folder / table, change[1])
    else:
        _rewrite(folder / table, **{change[1]: change[2]})
    _fails(["report", str(folder)], says)


def test_matplotlib_math_and_long_labels_are_drawn_as_text(swept: Path, tmp_path: Path) -> None:
    folder = _copy(swept, tmp_path / "f")
    odd = ["$\\notacommand{$ " + "y" * 900, "a$b", ]
    _rewrite(folder / "results.parquet", brain_set=odd, legend_set=["$x^$@2", "run-on-oonas-hoard@²"])
    _rewrite(folder / "turns.parquet", brain_set=[odd[0]] * 3 + [odd[1]] * 3)
    rep = write_report(folder)  # matplotlib raised on the mathtext, and int("²") on the legend's turn
    assert rep.html.is_file() and len(rep.groups) == 2


def test_a_report_that_cannot_be_written_is_one_line(swept: Path, tmp_path: Path) -> None:
    folder = _copy(swept, tmp_path / "f")
    (folder / "report").write_text("a file where the report folder goes")
    _fails(["report", str(folder)], "cannot write the report there")


# ------------------------------------------------------------------ a comparison's folder reused
@pytest.mark.parametrize("damage", [b"{not json", b'{"per_turn": "x"}', b"[]", b""])
def test_a_damaged_run_file_in_a_reused_compare_folder_is_played_again(tmp_path: Path, damage: bytes) -> None:
    args = ["compare", "--seed", "2", "--turns", "4", "--legend", "beetle-blight@2", "--brain", "scripted",
            "--out", str(tmp_path), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    runs = sorted((tmp_path / "runs").glob("*.json"))
    runs[0].write_bytes(damage)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    a, b = (json.loads(r.stdout.strip().splitlines()[-1]) for r in (first, again))
    assert a["verdict"] == b["verdict"] and a["with"]["per_turn"] == b["with"]["per_turn"]

