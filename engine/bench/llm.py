"""Model speed: the naive way and the optimized way, timed in one run on the same turns.

Each turn every creature's observation is decided twice — once naively (one creature at a time,
the whole prompt evaluated from scratch, the grammar over the whole vocabulary at every token)
and once optimized (shared prefix cached, all creatures batched, lazy grammar check,
jump-forward of forced text) — in alternating order, so the machine's noise falls on both
alike. The game then plays on with the optimized answers, so later turns have real offers,
orders and debts to decide about.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from engine.minds.brains.llama import LlamaBrain, LlamaModel
from engine.minds.brains.llama_naive import NaiveLlamaBrain
from engine.scenario import Scenario
from engine.turn.brain import Answer
from engine.turn.game import Game
from engine.turn.observation import Observation


class _Both:
    """A brain that decides every turn both ways, times each, and plays the optimized answers."""

    name = "llama"

    def __init__(self, naive: NaiveLlamaBrain, optimized: LlamaBrain) -> None:
        self.naive = naive
        self.optimized = optimized
        self.seconds = {"naive": 0.0, "optimized": 0.0}
        self.answers: dict[str, list[Answer]] = {"naive": [], "optimized": []}
        self.turns = 0

    def card(self) -> dict[str, Any]:
        """The optimized brain's card (the answers played are its)."""
        return self.optimized.card()

    def close(self) -> None:
        self.naive.close()
        self.optimized.close()

    def decide(self, observations: list[Observation]) -> list[Answer]:
        order = [("naive", self.naive), ("optimized", self.optimized)]
        if self.turns % 2:
            order.reverse()
        got: dict[str, list[Answer]] = {}
        for key, brain in order:
            t0 = time.perf_counter()
            got[key] = brain.decide(observations)
            self.seconds[key] += time.perf_counter() - t0
            self.answers[key] += got[key]
        self.turns += 1
        return got["optimized"]


def _rate(answers: list[Answer]) -> float | None:
    return round(sum(1 for a in answers if not a.problems) / len(answers), 4) if answers else None


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _passes(answers: list[Answer]) -> float | None:
    sampled = sum(a.meta["answer_tokens"] - a.meta["forced_tokens"] for a in answers)
    return round(sum(a.meta.get("grammar_full_passes", 0) for a in answers) / sampled, 3) if sampled else None


def bench_llm(
    scenario: Scenario,
    model: LlamaModel,
    creatures: int,
    turns: int = 4,
    seed: int = 1,
    on_turn: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Play ``turns`` turns with ``creatures`` model creatures, each turn decided both ways
    (``on_turn`` gets how many turns are done)."""
    sc = scenario.scaled(creatures)
    # Touch the weights once so page faults are not charged to whichever way runs first.
    warm = NaiveLlamaBrain(sc, model, seed=seed, form="json")
    warm._context(1)
    warm._decode([(t, p, 0, p == len(warm.static_tokens) - 1) for p, t in enumerate(warm.static_tokens)])
    warm.close()
    # the untrained model, both ways, in the spelling whose keys the grammar mostly forces (JSON)
    both = _Both(NaiveLlamaBrain(sc, model, seed=seed, form="json"), LlamaBrain(sc, model, seed=seed, form="json"))
    game = Game(sc, seed, both)
    first = game.turn
    reports = game.run(turns, None if on_turn is None else lambda r: on_turn(r.turn - first))
    both.naive.close()
    both.optimized.close()
    opt, naive = both.answers["optimized"], both.answers["naive"]
    n = len(opt)
    results = [why for r in reports for d in r.decided for _, why in d.results]
    problems = sum(len(d.answer.problems) for r in reports for d in r.decided)
    actions = len(results) + problems
    naive_ms = 1000 * both.seconds["naive"] / n if n else None
    opt_ms = 1000 * both.seconds["optimized"] / n if n else None
    opt_rest_ms = 1000 * (both.seconds["optimized"] - both.optimized.setup_seconds) / n if n else None
    return {
        "creatures": creatures,
        "turns": turns,
        "agent_turns": n,
        "model": model.name,
        "gpu_layers": model.gpu_layers,
        "gpu": model.gpu,
        "threads": model.threads,
        "naive_ms_per_agent_turn": round(naive_ms, 1) if naive_ms else None,
        "optimized_ms_per_agent_turn": round(opt_ms, 1) if opt_ms else None,
        "speedup": round(naive_ms / opt_ms, 2) if naive_ms and opt_ms else None,
        # the static prefix is evaluated once a game: included above, and shown apart here
        "optimized_static_prefix_ms": round(1000 * both.optimized.setup_seconds, 1),
        "optimized_ms_per_agent_turn_without_it": round(opt_rest_ms, 1) if opt_rest_ms is not None else None,
        "valid_rate": _rate(opt),
        "naive_valid_rate": _rate(naive),
        "accepted_rate": round(sum(1 for w in results if w is None) / actions, 4) if actions else None,
        "prompt_tokens": _mean([a.meta["prompt_tokens"] for a in opt]),
        "answer_tokens": _mean([a.meta["answer_tokens"] for a in opt]),
        "forced_tokens": _mean([a.meta["forced_tokens"] for a in opt]),
        "shared_prefix_tokens": _mean([a.meta["shared_prefix_tokens"] for a in opt]),
        # how often the grammar refused the sampled token and scanned the whole vocabulary (rare
        # for a model that learned the JSON; frequent for random weights, which it makes slow)
        "grammar_full_passes_per_sampled_token": _passes(opt),
        "tokens_max": max((a.meta["prompt_tokens"] + a.meta["answer_tokens"] for a in opt + naive), default=None),
        "budget": sc.budget.tokens,
    }
