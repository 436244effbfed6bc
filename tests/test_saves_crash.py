"""Crash safety: a real ``ttwood run --save`` killed with SIGKILL three times in the middle of a
long run (then ``--resume``d each time) leaves a save that opens, passes its checks, resumes
with turn numbers that continue, and replays exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.saves import open_save, replay

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]


def _start(args: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, TTWOOD_BRAIN="scripted")
    return subprocess.Popen([*CMD, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def _turns_so_far(path: Path) -> int:
    """Turns committed in a save that a live process is writing (read from a checked copy)."""
    try:
        with open_save(path, full_check=False) as save:
            return save.turns
    except Exception:
        return 0


def _kill_after(proc: subprocess.Popen[str], path: Path, more_than: int) -> None:
    deadline = time.monotonic() + 60
    while _turns_so_far(path) <= more_than:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.2)
    time.sleep(0.15)  # land somewhere in the middle of a turn
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_three_kill_9s_then_resume(tmp_path: Path) -> None:
    path = tmp_path / "long.ttwood"
    seen = 0
    for k in range(3):
        args = ["run", "--turns", "100000", "--seed", "3"]
        args += ["--save", str(path)] if k == 0 else ["--resume", str(path)]
        _kill_after(_start(args), path, seen + 5)
        # The killed writer left its log beside the save; the save still opens and checks out.
        assert Path(f"{path}-wal").exists()
        before = path.read_bytes()
        with open_save(path) as save:
            assert save.turns > seen + 5
            seen = save.turns
            assert save.game_at().turn == seen
        assert path.read_bytes() == before, "checking a save never writes to it"
    # A clean resume continues the numbering and closes the file into one self-contained file.
    env = dict(os.environ, TTWOOD_BRAIN="scripted")
    done = subprocess.run([*CMD, "run", "--resume", str(path), "--turns", "3", "--json"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["final"]["turn"] == seen + 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.ttwood"]
    result = replay(path, verify=True)
    assert result.ok and result.turns == seen + 3
