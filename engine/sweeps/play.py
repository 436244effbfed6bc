"""Play one game of a sweep: the task a worker runs (and ``ttwood compare`` runs twice).

The game plays through the engine's one loop (:meth:`Game.run`), autosaving every turn as
``ttwood run --save`` does, with the placed legends called up before their turns; what comes
back is ``ttwood run --json``'s object and the save file's bytes (so a worker on another machine
needs no shared folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.minds.factory import close_brains, make_brains, model_cards, run_card
from engine.saves import SUFFIX, Autosaver
from engine.scenario import parse
from engine.sweeps.spec import GameSpec
from engine.turn.game import Game
from engine.turn.report import TurnReport, run_json

_MODELS: dict[tuple[Any, ...], Any] = {}
"""This process's loaded models: every game a worker plays reuses them (each loaded once per process)."""
_PREFIX = "ttwood-game-"
_swept = False


def _sweep_stale() -> None:
    """Once per process: remove the temporary folders of games whose worker was killed mid-game
    (their folder names carry the dead process's id)."""
    global _swept
    if _swept:
        return
    _swept = True
    for d in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        pid = d.name[len(_PREFIX):].split("-", 1)[0]
        if not (pid.isascii() and pid.isdigit() and len(pid) < 10) or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


@dataclass(slots=True)
class Played:
    """A finished game: its run report, its save, and where and how fast it ran."""

    data: dict[str, Any]
    """What ``ttwood run --json`` prints for this game."""
    save: bytes
    """The save file (SQLite), complete and closed."""
    wall_s: float
    worker: str


def play_game(spec: GameSpec) -> Played:
    """Play ``spec`` start to end in a temporary folder and return the report and the save.

    Raises whatever the game raises (a worker's failure is the sweep's to retry or record)."""
    sc = parse(spec.scenario_text, spec.source)
    choice = spec.choice()
    brains = make_brains(sc, choice, models=_MODELS)
    game = Game(sc, spec.seed, brains)
    at: dict[int, list[str]] = {}
    for lid, turn in spec.legends.placed:
        at.setdefault(turn, []).append(lid)
    played = choice.describe() | {"models": model_cards(brains)}
    started = time.perf_counter()
    try:
        _sweep_stale()
        with tempfile.TemporaryDirectory(prefix=f"{_PREFIX}{os.getpid()}-") as tmp:
            path = Path(tmp) / f"{spec.name}{SUFFIX}"
            with Autosaver.create(path, game, scenario_text=spec.scenario_text, brains=played, source=spec.source) as saver:
                for lid in at.get(1, []):
                    game.inject(lid)

                def on_turn(r: TurnReport) -> None:
                    saver.record(r)
                    for lid in at.get(r.turn + 1, []):
                        game.inject(lid)

                reports = game.run(spec.turns, on_turn)
            data = run_json(game, reports, brain=spec.brains.label, model=run_card(brains))
            save = path.read_bytes()
    finally:
        close_brains(brains)
    return Played(data, save, round(time.perf_counter() - started, 3), f"{socket.gethostname()}:{os.getpid()}")
