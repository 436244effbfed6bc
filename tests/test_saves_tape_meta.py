"""A shared save whose tape records a model call's numbers as the wrong types (a count as text, a
prompt as a number), resealed so its digests match: every command that reads the tape refuses it
in one line naming the turn and the key. Before, inspect, ``replay --verify`` and ``saves list``
passed it, and ``play``, ``serve`` and ``export --traces`` crashed with tracebacks."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.core.errors import TTWoodError
from engine.saves import Autosaver, open_save
from engine.saves.convert import seal
from engine.saves.rows import TURN_COLUMNS
from engine.session.seeing import decided_view
from engine.turn.game import Game

CMD = [sys.executable, "-c", "from ttwood.cli import main; main()"]
LLAMA_META = {"prompt": "[system]…", "sections": {"rules": 120, "state": 80}, "prompt_tokens": 412, "answer_tokens": 57,
              "forced_tokens": 20, "max_tokens": 588, "latency_ms": 812.4, "seed": 3_141_592_653, "grammar_full_passes": 2,
              "shared_prefix_tokens": 300, "model": "SmolLM2-135M", "sampler": {"temperature": 0.7}, "mode": "batched"}
HTTP_REFUSED = {"model": "m", "refused": "the server answered HTTP 500", "deadline": False, "max_tokens": 375}


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine import scenario as scenarios
    from engine.elders.scripted import ScriptedBrain

    sc, text = scenarios.load(None)
    game = Game(sc, 5, ScriptedBrain())
    path = tmp_path_factory.mktemp("honest") / "honest.ttwood"
    with Autosaver.create(path, game, scenario_text=text, brains={"kind": "scripted"}) as saver:
        game.run(4, saver.record)
    return path


def _with_meta(honest: Path, tmp_path: Path, meta: dict[str, Any]) -> Path:
    """A copy of the save whose turn 2 records ``meta`` for its first answer, its row resealed."""
    path = tmp_path / "shared.ttwood"
    path.write_bytes(honest.read_bytes())
    con = sqlite3.connect(path)
    cols = TURN_COLUMNS[:-3]
    row = list(con.execute(f"SELECT {', '.join(cols)} FROM turns WHERE turn=2").fetchone())
    at = cols.index("tape")
    tape = orjson.loads(row[at])
    tape[0][7] = meta
    row[at] = orjson.dumps(tape).decode()
    con.execute(f"UPDATE turns SET {', '.join(c + '=?' for c in cols)}, digest=? WHERE turn=2", (*row, seal(*row)))
    con.commit()
    con.close()
    return path


BAD = [
    ({"prompt_tokens": "many", "answer_tokens": 3}, "meta.prompt_tokens"),
    ({"prompt_tokens": 3, "answer_tokens": [1]}, "meta.answer_tokens"),
    ({"prompt": 5}, "meta.prompt"),
    ({"sections": [1, 2]}, "meta.sections"),
    ({"sections": {"rules": "long"}}, "meta.sections.rules"),
    ({"latency_ms": "slow"}, "meta.latency_ms"),
    ({"seed": -1}, "meta.seed"),
    ({"answer_tokens": 2**63 - 1}, "meta.answer_tokens"),
    ({"sampler": "hot"}, "meta.sampler"),
    ({"model": {"name": "m"}}, "meta.model"),
]


@pytest.mark.parametrize(("meta", "where"), BAD, ids=[w for _, w in BAD])
def test_a_tape_meta_of_the_wrong_types_is_refused_on_opening(honest: Path, tmp_path: Path, meta: dict[str, Any],
                                                              where: str) -> None:
    path = _with_meta(honest, tmp_path, meta)
    with pytest.raises(TTWoodError, match=f"turn 2 tape #0: {where}") as got, open_save(path) as save:
        save.tape()
    assert "\n" not in got.value.message


@pytest.mark.parametrize("args", [["saves", "inspect"], ["replay", "--verify"], ["saves", "export", "--traces", "OUT"],
                                  ["run", "--turns", "1", "--resume"]])
def test_every_command_refuses_it_in_one_line(honest: Path, tmp_path: Path, args: list[str]) -> None:
    path = _with_meta(honest, tmp_path, {"prompt_tokens": "many", "answer_tokens": [1], "prompt": 5})
    before = path.read_bytes()
    argv = [str(tmp_path / "t.parquet") if a == "OUT" else a for a in args]
    argv.insert(len(argv) if args[0] == "run" else 2 if args[0] == "saves" else 1, str(path))
    done = subprocess.run([*CMD, *argv], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TTWOOD_SAVES_DIR=str(tmp_path)))
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-1500:])
    assert "turn 2 tape #0: meta." in done.stderr and "Traceback" not in done.stderr
    assert path.read_bytes() == before and not (tmp_path / "t.parquet").exists()


@pytest.mark.parametrize("meta", [LLAMA_META, HTTP_REFUSED, {"brain": "human"}, {}, {"a key of tomorrow": [1, {"x": None}]}])
def test_the_metas_brains_write_are_taken(honest: Path, tmp_path: Path, meta: dict[str, Any]) -> None:
    from engine.saves.convert import TapeMeta

    TapeMeta.model_validate(meta)
    path = _with_meta(honest, tmp_path, meta)
    with open_save(path) as save:
        entry = save.tape_entries(2, 2)[2][0]
        assert entry.meta == meta
        report = save.reports(2, 2)[0]
    view = decided_view(report.decided[0], 2, "llama")  # what the inspector shows of it
    if "prompt" in meta:
        assert view.prompt is not None and view.tokens == meta["prompt_tokens"] + meta["answer_tokens"]
