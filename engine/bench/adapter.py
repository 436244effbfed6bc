"""What a LoRA adapter costs: the model brain with and without it, timed in one run on the same turns.

Each turn every creature's observation is decided twice, by the bare model (the full prompt, with
its worked example and action shapes) and by the model with the adapter (the lean prompt it was
trained on; jump-forward when the adapter learned the decoder's spelling), in alternating order so
the machine's noise falls on both alike. The game plays on with the adapter's answers. A richer
answer costs more tokens, so the answers' lengths are reported beside the times (all tokens, and
those sampled: the decoding steps), and the time per sampled token too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from engine.minds.brains.llama import LlamaBrain, LlamaModel, Sampler
from engine.minds.factory import STUDENT_TEMPERATURE
from engine.scenario import Scenario
from engine.turn.brain import Answer
from engine.turn.game import Game
from engine.turn.observation import Observation

WAYS = ("bare", "adapter")


class _Pair:
    """A brain that decides every turn with and without the adapter, times each, and plays the
    adapter's answers."""

    name = "llama"

    def __init__(self, bare: LlamaBrain, adapted: LlamaBrain) -> None:
        self.brains = {"bare": bare, "adapter": adapted}
        self.seconds = dict.fromkeys(WAYS, 0.0)
        self.answers: dict[str, list[Answer]] = {w: [] for w in WAYS}
        self.turns = 0

    def decide(self, observations: list[Observation]) -> list[Answer]:
        order = list(WAYS) if self.turns % 2 == 0 else list(reversed(WAYS))
        got: dict[str, list[Answer]] = {}
        for way in order:
            t0 = time.perf_counter()
            got[way] = self.brains[way].decide(observations)
            self.seconds[way] += time.perf_counter() - t0
            self.answers[way] += got[way]
        self.turns += 1
        return got["adapter"]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _figures(answers: list[Answer], seconds: float, setup: float) -> dict[str, Any]:
    n = len(answers)
    sampled = sum(a.meta["answer_tokens"] - a.meta.get("forced_tokens", 0) for a in answers)
    return {
        "ms_per_agent_turn": round(1000 * (seconds - setup) / n, 1) if n else None,
        "static_prefix_ms": round(1000 * setup, 1),
        "prompt_tokens": _mean([a.meta["prompt_tokens"] for a in answers]),
        "answer_tokens": _mean([a.meta["answer_tokens"] for a in answers]),
        "sampled_tokens": _mean([a.meta["answer_tokens"] - a.meta.get("forced_tokens", 0) for a in answers]),
        "answer_chars": _mean([len(a.raw or "") for a in answers]),
        "actions_per_answer": _mean([len(a.actions) for a in answers]),
        "ms_per_sampled_token": round(1000 * (seconds - setup) / sampled, 2) if sampled else None,
        "valid_rate": round(sum(1 for a in answers if not a.problems) / n, 4) if n else None,
    }


def bench_adapter(scenario: Scenario, bare: LlamaModel, adapted: LlamaModel, creatures: int, turns: int = 4,
                  seed: int = 1, on_turn: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Play ``turns`` turns with ``creatures`` model creatures, every turn decided by ``bare`` (no
    adapter, full prompt) and by ``adapted`` (its adapter, lean prompt). The static prefix, once a
    game, is shown apart and left out of the per-agent-turn figures."""
    sc = scenario.scaled(creatures)
    jump = adapted.adapter_spelling == "decoder"
    student = LlamaBrain(sc, adapted, seed=seed, lean=True, jump_forward=jump, sampler=Sampler(temperature=STUDENT_TEMPERATURE))
    pair = _Pair(LlamaBrain(sc, bare, seed=seed), student)
    game = Game(sc, seed, pair)
    first = game.turn
    try:
        reports = game.run(turns, None if on_turn is None else lambda r: on_turn(r.turn - first))
    finally:
        for b in pair.brains.values():
            b.close()
    figures = {w: _figures(pair.answers[w], pair.seconds[w], pair.brains[w].setup_seconds) for w in WAYS}
    base_ms, with_ms = figures["bare"]["ms_per_agent_turn"], figures["adapter"]["ms_per_agent_turn"]
    base_tok, with_tok = figures["bare"]["ms_per_sampled_token"], figures["adapter"]["ms_per_sampled_token"]
    return {
        "creatures": creatures,
        "turns": turns,
        "agent_turns": len(pair.answers["adapter"]),
        "model": bare.name,
        "adapter": {"name": adapted.adapter_name, "sha256": adapted.adapter_sha256},
        "threads": bare.threads,
        "gpu_layers": bare.gpu_layers,
        **{f"{w}_{k}": v for w in WAYS for k, v in figures[w].items()},
        "jump_forward": jump,
        "time_ratio": round(with_ms / base_ms, 3) if base_ms and with_ms else None,
        "time_ratio_per_sampled_token": round(with_tok / base_tok, 3) if base_tok and with_tok else None,
        "trades": sum(r.trades for r in reports),
    }
