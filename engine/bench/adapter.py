"""What a LoRA adapter costs: the model brain with and without it, timed in one run on the same turns.

Each turn every creature's observation is decided twice, by the bare model (the full prompt, with
its worked example and action shapes) and by the model with the adapter (the lean prompt it was
trained on; jump-forward when the adapter learned the decoder's spelling), in alternating order so
the machine's noise falls on both alike. The game plays on with the adapter's answers. A richer
answer costs more tokens, so the answers' lengths are reported beside the times (all tokens, and
those sampled: the decoding steps), the time per sampled token and per action too, and each way's
time split into reading the prompts and writing the answers.

What the adapter's own arithmetic costs (what its rank and target layers decide) is measured apart:
the adapter's answers are decoded again, token for token (same prompts, same decoding steps, the
sampled tokens read from a tape instead of sampled), once through the model with the adapter and
once through the model without it. Their ratio is the adapter's compute cost, free of how much
more the trained creature says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from engine.core.errors import EngineBug
from engine.minds.brains.llama import LlamaBrain, LlamaModel, Sampler
from engine.minds.brains.llama_model import adapter_shape
from engine.minds.brains.llama_sampling import Track
from engine.minds.factory import STUDENT_TEMPERATURE
from engine.scenario import Scenario
from engine.turn.brain import Answer
from engine.turn.game import Game
from engine.turn.observation import Observation

WAYS = ("bare", "adapter")
REPLAYS = ("replay_with", "replay_without")
"""The adapter's answers decoded again with and without the adapter (its own compute cost)."""

Tape = dict[tuple[int, str], list[int]]
"""The tokens a brain sampled, by (turn, creature), in the order it sampled them."""


class _Phased(LlamaBrain):
    """A model brain that keeps apart the time it spends reading prompts (the shared parts and
    each creature's own, fed in batches) and writing answers (the decoding steps)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phases = {"prompt": 0.0, "answer": 0.0}

    def _feed_shared(self, public_tokens: list[int]) -> None:
        t0 = time.perf_counter()
        super()._feed_shared(public_tokens)
        self.phases["prompt"] += time.perf_counter() - t0

    def _feed_own(self, seqs: list[Track]) -> None:
        t0 = time.perf_counter()
        super()._feed_own(seqs)
        spent = time.perf_counter() - t0
        self.phases["prompt"] += spent
        self.phases["answer"] -= spent  # it runs inside _run, counted there too

    def _run(self, seqs: list[Track]) -> None:
        t0 = time.perf_counter()
        super()._run(seqs)
        self.phases["answer"] += time.perf_counter() - t0


class _Recording(_Phased):
    """A model brain that writes down every token it samples."""

    def __init__(self, *args: Any, tape: Tape, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tape = tape

    def _sample(self, t: Track) -> int:
        tok = super()._sample(t)
        self.tape.setdefault((t.obs.turn, t.obs.name), []).append(tok)
        return tok


class _Replay(_Phased):
    """A model brain that samples nothing: it reads each creature's tokens from a tape, so it
    decodes exactly the answers recorded, in the same steps (its grammar follows them)."""

    def __init__(self, *args: Any, tape: Tape, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tape = tape
        self.read: dict[tuple[int, str], int] = {}

    def _sample(self, t: Track) -> int:
        key = (t.obs.turn, t.obs.name)
        i = self.read.get(key, 0)
        tokens = self.tape.get(key, [])
        if i >= len(tokens):
            raise EngineBug(f"the replay of {t.obs.name}'s answer on turn {t.obs.turn} ran past its tape")
        self.read[key] = i + 1
        self.lib.llama_sampler_accept(t.grammar, tokens[i])
        return tokens[i]


class _Pair:
    """A brain that decides every turn with and without the adapter, then decodes the adapter's
    answers again with and without it; it times each and plays the adapter's answers."""

    name = "llama"

    def __init__(self, brains: dict[str, _Phased]) -> None:
        self.brains = brains
        self.seconds = dict.fromkeys(brains, 0.0)
        self.answers: dict[str, list[Answer]] = {w: [] for w in brains}
        self.turns = 0

    def _time(self, ways: tuple[str, ...], observations: list[Observation], got: dict[str, list[Answer]]) -> None:
        for way in ways if self.turns % 2 == 0 else tuple(reversed(ways)):
            t0 = time.perf_counter()
            got[way] = self.brains[way].decide(observations)
            self.seconds[way] += time.perf_counter() - t0
            self.answers[way] += got[way]

    def card(self) -> dict[str, Any]:
        """The adapter's brain's card (the answers played are its)."""
        return self.brains["adapter"].card()

    def close(self) -> None:
        for brain in {id(b): b for b in self.brains.values()}.values():
            brain.close()

    def decide(self, observations: list[Observation]) -> list[Answer]:
        got: dict[str, list[Answer]] = {}
        self._time(WAYS, observations, got)
        self._time(REPLAYS, observations, got)  # after the adapter's turn: its tape is written
        for way in REPLAYS:
            if [a.raw for a in got[way]] != [a.raw for a in got["adapter"]]:
                raise EngineBug(f"{way}: the replayed answers are not the adapter's")
        self.turns += 1
        return got["adapter"]


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _figures(answers: list[Answer], seconds: float, brain: _Phased) -> dict[str, Any]:
    n = len(answers)
    setup = brain.setup_seconds
    sampled = sum(a.meta["answer_tokens"] - a.meta.get("forced_tokens", 0) for a in answers)
    return {
        "ms_per_agent_turn": round(1000 * (seconds - setup) / n, 1) if n else None,
        "prompt_ms_per_agent_turn": round(1000 * (brain.phases["prompt"] - setup) / n, 1) if n else None,
        "answer_ms_per_agent_turn": round(1000 * brain.phases["answer"] / n, 1) if n else None,
        "static_prefix_ms": round(1000 * setup, 1),
        "prompt_tokens": _mean([a.meta["prompt_tokens"] for a in answers]),
        "answer_tokens": _mean([a.meta["answer_tokens"] for a in answers]),
        "sampled_tokens": _mean([a.meta["answer_tokens"] - a.meta.get("forced_tokens", 0) for a in answers]),
        "answer_chars": _mean([len(a.raw or "") for a in answers]),
        "actions_per_answer": _mean([len(a.actions) for a in answers]),
        "ms_per_sampled_token": round(1000 * (seconds - setup) / sampled, 2) if sampled else None,
        "ms_per_action": round(1000 * (seconds - setup) / acts, 1) if (acts := sum(len(a.actions) for a in answers)) else None,
        "valid_rate": round(sum(1 for a in answers if not a.problems) / n, 4) if n else None,
    }


def bench_adapter(scenario: Scenario, bare: LlamaModel, adapted: LlamaModel, creatures: int, turns: int = 4,
                  seed: int = 1, on_turn: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Play ``turns`` turns with ``creatures`` model creatures, every turn decided by ``bare`` (no
    adapter, full prompt) and by ``adapted`` (its adapter, lean prompt), then the adapter's answers
    replayed through both models. The static prefix, once a game, is shown apart and left out of
    the per-agent-turn figures."""
    sc = scenario.scaled(creatures)
    jump = adapted.adapter_spelling == "decoder"
    tape: Tape = {}

    def student(kind: type[_Recording | _Replay], model: LlamaModel) -> _Phased:
        return kind(sc, model, seed=seed, lean=True, jump_forward=jump, sampler=Sampler(temperature=STUDENT_TEMPERATURE), tape=tape,
                    form=adapted.adapter_form)

    pair = _Pair({
        "bare": _Phased(sc, bare, seed=seed, form="json"),  # the untrained model: the spelling of the worked example it follows
        "adapter": student(_Recording, adapted),
        "replay_with": student(_Replay, adapted),
        "replay_without": student(_Replay, bare),
    })
    game = Game(sc, seed, pair)
    first = game.turn
    try:
        reports = game.run(turns, None if on_turn is None else lambda r: on_turn(r.turn - first))
    finally:
        for b in pair.brains.values():
            b.close()
    figures = {w: _figures(pair.answers[w], pair.seconds[w], pair.brains[w]) for w in pair.brains}
    base_ms, with_ms = figures["bare"]["ms_per_agent_turn"], figures["adapter"]["ms_per_agent_turn"]
    base_tok, with_tok = figures["bare"]["ms_per_sampled_token"], figures["adapter"]["ms_per_sampled_token"]
    plain_ms, lora_ms = figures["replay_without"]["ms_per_agent_turn"], figures["replay_with"]["ms_per_agent_turn"]
    return {
        "creatures": creatures,
        "turns": turns,
        "agent_turns": len(pair.answers["adapter"]),
        "model": bare.name,
        "adapter": {"name": adapted.adapter_name, "sha256": adapted.adapter_sha256,
                    **(adapter_shape(adapted.adapter_path) if adapted.adapter_path else {})},
        "threads": bare.threads,
        "gpu_layers": bare.gpu_layers,
        **{f"{w}_{k}": v for w in WAYS for k, v in figures[w].items()},
        "jump_forward": jump,
        "answer_form": adapted.adapter_form,
        "time_ratio": _ratio(with_ms, base_ms),
        "time_ratio_per_sampled_token": _ratio(with_tok, base_tok),
        "time_ratio_per_action": _ratio(figures["adapter"]["ms_per_action"], figures["bare"]["ms_per_action"]),
        "replay_with_adapter_ms_per_agent_turn": lora_ms,
        "replay_without_adapter_ms_per_agent_turn": plain_ms,
        "adapter_compute_ratio": _ratio(lora_ms, plain_ms),
        "trades": sum(r.trades for r in reports),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None
