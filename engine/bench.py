"""Engine speed: scripted creatures only, so the figure is the engine's own cost."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from engine.brains.scripted import ScriptedBrain
from engine.game import Game
from engine.scenario import Scenario


def bench_engine(
    scenario: Scenario, creatures: int, turns: int, seed: int = 1, on_turn: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Play ``turns`` turns with ``creatures`` scripted creatures and time them (set-up excluded)."""
    game = Game(scenario.scaled(creatures), seed, ScriptedBrain())
    agent_turns = 0
    start = time.perf_counter()
    for i in range(turns):
        report = game.step()
        agent_turns += len(report.decided)
        if on_turn is not None:
            on_turn(i + 1)
    seconds = time.perf_counter() - start
    ok, _ = game.conservation()
    return {
        "creatures": creatures,
        "turns": turns,
        "agent_turns": agent_turns,
        "seconds": round(seconds, 4),
        "agent_turns_per_s": round(agent_turns / seconds, 1) if seconds > 0 else None,
        "us_per_agent_turn": round(1e6 * seconds / agent_turns, 1) if agent_turns else None,
        "trades": sum(r.trades for r in game.reports),
        "conservation_ok": ok,
    }
