"""Engine speed: scripted creatures only, so the figure is the engine's own cost."""

from __future__ import annotations

import gc
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.elders.scripted import ScriptedBrain
from engine.scenario import Scenario
from engine.turn.game import Game
from engine.turn.report import TurnReport


@dataclass
class _Played:
    """One timed game."""

    seconds: float
    """Wall time of the turns (set-up excluded)."""
    closing: float
    """Seconds to close the save: folding the write-ahead log into the file (a few disk
    flushes), once per game however long it is."""
    cpu: float
    """This process's CPU time over the turns (what other programs take of the machine is not in it)."""
    turn_seconds: list[float]
    """Wall time of each turn."""
    game: Game


def _play(sc: Scenario, seed: int, turns: int, save: Path | None, on_turn: Callable[[int], None] | None) -> _Played:
    """Play one timed game (set-up excluded), autosaving into ``save`` when given."""
    from engine.saves import Autosaver

    gc.collect()
    game = Game(sc, seed, ScriptedBrain())
    saver = Autosaver.create(save, game, scenario_text=None, brains={"kind": "scripted"}) if save is not None else None

    ends: list[float] = []

    def after(report: TurnReport) -> None:
        if saver is not None:
            saver.record(report)
        ends.append(time.perf_counter())
        if on_turn is not None:
            on_turn(report.turn)

    cpu = time.process_time()
    start = time.perf_counter()
    game.run(turns, after)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    closing = 0.0
    if saver is not None:
        start = time.perf_counter()
        saver.close()
        closing = time.perf_counter() - start
    return _Played(seconds, closing, cpu, [b - a for a, b in zip([start, *ends], ends, strict=False)], game)


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

    With ``autosave``, the same game is also played recording every turn into a save file (each
    turn one committed transaction). The two alternate ``repeats`` times in this one run and the
    fastest of each counts, so both see the same machine; their ratio is the cost of saving
    every turn. Closing the save, once per game, is timed apart and also folded into a second
    ratio (at 50 turns it weighs; over a long game it vanishes).

    On a shared machine two more engine-only figures help: the process's CPU time (fastest run),
    and the sum over turns of each turn's fastest time (every run plays the same turns, so a
    burst of other work spoils one turn of one run, not the whole figure).
    """
    sc = scenario.scaled(creatures)
    engine_runs: list[float] = []
    cpu_runs: list[float] = []
    turn_runs: list[list[float]] = []
    saved_runs: list[float] = []
    close_runs: list[float] = []
    save_bytes = None
    played = (0, 0, False)
    with tempfile.TemporaryDirectory(prefix="ttwood-bench-") as tmp:
        for r in range(max(1, repeats)):
            # No other game is alive during a run, so the collector's work is alike in both.
            run = _play(sc, seed, turns, None, on_turn)
            engine_runs.append(run.seconds)
            cpu_runs.append(run.cpu)
            turn_runs.append(run.turn_seconds)
            reports = run.game.reports
            played = (sum(len(x.decided) for x in reports), sum(x.trades for x in reports), run.game.conservation()[0])
            del run, reports
            if autosave:
                path = Path(tmp) / f"bench-{r}.ttwood"
                saved = _play(sc, seed, turns, path, on_turn)
                saved_runs.append(saved.seconds)
                close_runs.append(saved.closing)
                del saved
                save_bytes = path.stat().st_size
    agent_turns, trades, ok = played
    seconds = min(engine_runs)
    result: dict[str, Any] = {
        "creatures": creatures,
        "turns": turns,
        "agent_turns": agent_turns,
        **_engine_figures(agent_turns, seconds, cpu_runs, turn_runs),
        "trades": trades,
        "conservation_ok": ok,
        "repeats": max(1, repeats),
    }
    if saved_runs:
        result.update(_autosave_figures(seconds, agent_turns, saved_runs, close_runs, save_bytes, engine_runs))
    return result


def _engine_figures(agent_turns: int, seconds: float, cpu_runs: list[float], turn_runs: list[list[float]]) -> dict[str, Any]:
    """The engine-only figures: the fastest run's wall and CPU time, and each turn's fastest summed."""
    best_turns = sum(map(min, zip(*turn_runs, strict=True)))
    return {
        "seconds": round(seconds, 4),
        "agent_turns_per_s": round(agent_turns / seconds, 1) if seconds > 0 else None,
        "us_per_agent_turn": round(1e6 * seconds / agent_turns, 1) if agent_turns else None,
        "cpu_us_per_agent_turn": round(1e6 * min(cpu_runs) / agent_turns, 1) if agent_turns else None,
        "best_turns_us_per_agent_turn": round(1e6 * best_turns / agent_turns, 1) if agent_turns else None,
    }


def _autosave_figures(seconds: float, agent_turns: int, saved_runs: list[float], close_runs: list[float],
                      save_bytes: int | None, engine_runs: list[float]) -> dict[str, Any]:
    """The autosave half of the bench: its fastest run against the engine's, closing apart and folded in."""
    saved = min(saved_runs)
    closing = min(close_runs)
    return {
        "with_autosave_seconds": round(saved, 4),
        "with_autosave_agent_turns_per_s": round(agent_turns / saved, 1) if saved > 0 else None,
        "autosave_speed_ratio": round(seconds / saved, 3) if saved > 0 else None,
        "autosave_close_seconds": round(closing, 4),
        "autosave_speed_ratio_with_close": round(seconds / (saved + closing), 3) if saved > 0 else None,
        "save_bytes": save_bytes,
        "runs_seconds": {
            "engine": [round(x, 4) for x in engine_runs],
            "with_autosave": [round(x, 4) for x in saved_runs],
            "autosave_close": [round(x, 4) for x in close_runs],
        },
    }
