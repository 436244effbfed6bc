"""Where a save, a branch or an export cannot be written: a read-only folder, a folder given as
the file (``--traces DIR --force``). Each is one line naming the target (they were sqlite3 and
PermissionError tracebacks, and ``--force`` at a folder failed inside the rename), and nothing
is left behind in the folder."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine.saves import Autosaver
from engine.turn.game import Game

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
SETPRIV = shutil.which("setpriv")
CAPS = "-dac_override,-dac_read_search"


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine import scenario as scenarios
    from engine.elders.scripted import ScriptedBrain

    sc, text = scenarios.load(None)
    game = Game(sc, 5, ScriptedBrain())
    path = tmp_path_factory.mktemp("honest") / "honest.ttwood"
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}) as saver:
        game.run(3, saver.record)
    return path


def _as_a_user(args: list[str], saves: Path) -> subprocess.CompletedProcess[str]:
    """``ttwood ARGS`` as a user whom file permissions bind (root is run without its override)."""
    prefix = [SETPRIV, f"--bounding-set={CAPS}", f"--inh-caps={CAPS}"] if ROOT and SETPRIV else []
    return subprocess.run([*prefix, *CMD, *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TTWOOD_SAVES_DIR=str(saves)))


@pytest.mark.skipif(ROOT and not SETPRIV, reason="as root, a read-only folder needs setpriv to bind")
@pytest.mark.parametrize("args", [
    ["saves", "export", "SAVE", "--to", "RO/copy.ttwood"],
    ["saves", "export", "SAVE", "--traces", "RO/t.parquet"],
    ["saves", "export", "SAVE", "--traces", "RO/t.jsonl"],
    ["saves", "branch", "SAVE", "--at", "2", "RO/b.ttwood"],
    ["saves", "branch", "SAVE", "--at", "2", "RO/deeper/b.ttwood"],
    ["run", "--turns", "1", "--brain", "scripted", "--save", "RO/new.ttwood"],
], ids=["export-copy", "traces-parquet", "traces-jsonl", "branch", "branch-deeper", "run-save"])
def test_a_read_only_target_is_one_line(honest: Path, tmp_path: Path, args: list[str]) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    argv = [str(honest) if a == "SAVE" else a.replace("RO", str(ro)) for a in args]
    try:
        done = _as_a_user(argv, tmp_path)
        assert done.returncode == 2, (done.returncode, done.stderr[-1500:])
        assert "cannot write it there (Permission denied)" in done.stderr and "Traceback" not in done.stderr
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_traces_at_a_folder_with_force_is_one_line(honest: Path, tmp_path: Path) -> None:
    folder = tmp_path / "traces"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    for out in (folder, tmp_path / "t.parquet"):
        if out.suffix:
            out.mkdir()
        done = subprocess.run([*CMD, "saves", "export", str(honest), "--traces", str(out), "--force"], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2, done.stderr[-1500:]
        assert "is a folder; name the file to write" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in folder.iterdir()] == ["keep.txt"] and (folder / "keep.txt").read_text() == "mine"
