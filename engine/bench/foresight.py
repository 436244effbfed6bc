"""The foresight elder's cost per decision, against the plain elder's, in one run.

The same scenario and seed are played twice, one after the other: every creature on the plain
elder, then every creature on the foresight elder. The brains' own time (the orchestrator's
``think_seconds``) is what is compared, per agent-turn; the foresight elder also counts its
decisions, the candidates it tried and the turns it played on copies.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from engine.elders.foresight import ForesightBrain, Settings
from engine.elders.scripted import ScriptedBrain
from engine.scenario import Scenario
from engine.turn.brain import Brain
from engine.turn.game import Game
from engine.turn.report import TurnReport


def _play(sc: Scenario, seed: int, turns: int, brain: Brain, on_turn: Callable[[str, int], None], label: str) -> dict[str, float]:
    gc.collect()
    game = Game(sc, seed, brain)
    start = time.perf_counter()
    reports = game.run(turns, lambda r: on_turn(label, r.turn))
    wall = time.perf_counter() - start
    return _totals(reports, wall)


def _totals(reports: list[TurnReport], wall: float) -> dict[str, float]:
    agent_turns = sum(len(r.decided) for r in reports)
    think = sum(r.think_seconds for r in reports)
    return {"agent_turns": agent_turns, "seconds": round(wall, 3), "think_seconds": round(think, 3),
            "ms_per_agent_turn": round(1000 * think / max(1, agent_turns), 3), "alive": reports[-1].alive if reports else 0}


def bench_foresight(sc: Scenario, turns: int, seed: int, settings: Settings,
                    on_turn: Callable[[str, int], None] = lambda label, turn: None) -> dict[str, Any]:
    """Time the plain elder and the foresight elder on the same game (every creature on each)."""
    chars = sc.budget.message_chars
    elder = _play(sc, seed, turns, ScriptedBrain(message_chars=chars), on_turn, "elder")
    foresight = ForesightBrain(settings, message_chars=chars)
    ahead = _play(sc, seed, turns, foresight, on_turn, "foresight")
    cost = foresight.cost
    per_decision = cost.seconds / max(1, cost.decisions)
    return {
        "scenario": sc.meta.id, "seed": seed, "turns": turns, "settings": settings.text(),
        "elder": elder, "foresight": ahead,
        "decisions": cost.decisions,
        "candidates_per_decision": round(cost.candidates / max(1, cost.decisions), 2),
        "turns_ahead_per_decision": round(cost.turns_ahead / max(1, cost.decisions), 2),
        "ms_per_decision": round(1000 * per_decision, 2),
        "ms_per_turn_ahead": round(1000 * cost.seconds / max(1, cost.turns_ahead), 3),
        "think_ratio": round(ahead["ms_per_agent_turn"] / max(1e-9, elder["ms_per_agent_turn"]), 1),
        "chose": dict(sorted(cost.chose.items(), key=lambda kv: -kv[1])),
    }
