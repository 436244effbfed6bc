"""The llama brain done the simple way, for ``ttwood bench llm`` to time against the optimized one.

One creature at a time, the whole prompt evaluated from scratch (no cache kept between
creatures or turns), the grammar inside the sampler chain so it masks the whole vocabulary at
every token, and nothing inserted without sampling. Same prompts, grammars, allowances and
sampler settings as :class:`~engine.minds.brains.llama.LlamaBrain`.
"""

from __future__ import annotations

from typing import Any

from engine.minds.brains.llama import LlamaBrain
from engine.minds.brains.llama_sampling import Track
from engine.turn.brain import Answer
from engine.turn.observation import Observation


class NaiveLlamaBrain(LlamaBrain):
    """Creatures decided one by one, each prompt from scratch, the grammar over the whole vocabulary."""

    mode = "naive"
    replans = False  # the grammar is inside the chain, which owns it

    def decide(self, observations: list[Observation]) -> list[Answer]:
        """Answer for every creature, one after another."""
        if not observations:
            return []
        public = self._public(observations[0])
        self._context(1)
        answers = []
        for o in observations:
            t = self._build(0, o, public)
            try:
                t.seq = 0
                t.feed_from = 0
                self.lib.llama_memory_clear(self._mem, True)
                self._cached_static = False
                self._run([t])
                answers.append(self._answer(t))
            finally:
                self._release(t)
        return answers

    def _chain(self, seed: int, grammar: Any) -> Any:
        """The grammar goes first in the chain (which then owns it)."""
        return self.sampling.chain(seed, grammar)

    def _sample(self, t: Track) -> int:
        return self.sampling.whole(self.ctx, t)

    def _forced(self, s: Track) -> list[int]:
        """No jump-forward: every token is sampled."""
        return []

    def _release(self, s: Track) -> None:
        """Free the chain (which owns the grammar), once."""
        if s.chain is not None:
            self.lib.llama_sampler_free(s.chain)
        s.chain = s.grammar = None
