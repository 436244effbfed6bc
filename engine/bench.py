"""Engine speed: scripted creatures only, so the figure is the engine's own cost."""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any

from engine.brains.scripted import ScriptedBrain
from engine.game import Game
from engine.scenario import Scenario


def _play(sc: Scenario, seed: int, turns: int, save: Path | None, on_turn: Callable[[int], None] | None) -> tuple[float, Game]:
    """Play one timed game (set-up excluded), autosaving into ``save`` when given (closing included)."""
    from engine.saves import Autosaver

    gc.collect()
    game = Game(sc, seed, ScriptedBrain())
    saver = Autosaver.create(save, game, scenario_text=None, brains={"kind": "scripted"}) if save is not None else None
    start = time.perf_counter()
    for i in range(turns):
        report = game.step()
        if saver is not None:
            saver.record(report)
        if on_turn is not None:
            on_turn(i + 1)
    if saver is not None:
        saver.close()
    return time.perf_counter() - start, game


def bench_engine(
    scenario: Scenario,
    creatures: int,
    turns: int,
    seed: int = 1,
    on_turn: Callable[[int], None] | None = None,
    autosave: bool = True,
    repeats: int = 3,
) -> dict[str, Any]:
    """Play ``turns`` turns with ``creatures`` scripted creatures and time them (set-up excluded).

    With ``autosave``, the same game is also played recording every turn into a save file
    (closing the file included). The two alternate ``repeats`` times in this one run and the
    fastest of each counts, so both see the same machine; their ratio is the cost of saving.
    """
    sc = scenario.scaled(creatures)
    engine_runs: list[float] = []
    saved_runs: list[float] = []
    save_bytes = None
    game = None
    with tempfile.TemporaryDirectory(prefix="ttwood-bench-") as tmp:
        for r in range(max(1, repeats)):
            seconds, game = _play(sc, seed, turns, None, on_turn)
            engine_runs.append(seconds)
            if autosave:
                path = Path(tmp) / f"bench-{r}.ttwood"
                seconds, _ = _play(sc, seed, turns, path, on_turn)
                saved_runs.append(seconds)
                save_bytes = path.stat().st_size
    assert game is not None
    agent_turns = sum(len(r.decided) for r in game.reports)
    seconds = min(engine_runs)
    ok, _ = game.conservation()
    result: dict[str, Any] = {
        "creatures": creatures,
        "turns": turns,
        "agent_turns": agent_turns,
        "seconds": round(seconds, 4),
        "agent_turns_per_s": round(agent_turns / seconds, 1) if seconds > 0 else None,
        "us_per_agent_turn": round(1e6 * seconds / agent_turns, 1) if agent_turns else None,
        "trades": sum(r.trades for r in game.reports),
        "conservation_ok": ok,
        "repeats": max(1, repeats),
    }
    if saved_runs:
        saved = min(saved_runs)
        result.update({
            "with_autosave_seconds": round(saved, 4),
            "with_autosave_agent_turns_per_s": round(agent_turns / saved, 1) if saved > 0 else None,
            "autosave_speed_ratio": round(seconds / saved, 3) if saved > 0 else None,
            "save_bytes": save_bytes,
            "runs_seconds": {"engine": [round(x, 4) for x in engine_runs], "with_autosave": [round(x, 4) for x in saved_runs]},
        })
    return result
