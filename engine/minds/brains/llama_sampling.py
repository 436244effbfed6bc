"""Sampling one creature's answer under its grammar with llama.cpp's samplers.

:class:`GrammarSampling` builds a creature's sampler chain and samples from it two ways: lazily
(the sampled token alone is checked against the grammar; the whole vocabulary is scanned only when
the grammar refuses it) or with the grammar inside the chain (the whole vocabulary every token,
as a simple program would). :class:`Track` is one creature's sequence in a batched turn.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.core.errors import EngineBug
from engine.minds.allowance import AnswerPlan
from engine.minds.brains.llama_model import ModelError
from engine.minds.grammar import to_gbnf
from engine.minds.matcher import Matcher
from engine.minds.replan import Replanner, take
from engine.turn.observation import Observation


@dataclass(slots=True)
class Sampler:
    """Sampler settings recorded with every call."""

    temperature: float = 0.7
    top_k: int = 40
    top_p: float = 0.95

    def describe(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p}


@dataclass(slots=True)
class Track:
    """One creature's sequence in a batched turn: its prompt, its samplers, its answer so far."""

    index: int
    seq: int
    obs: Observation
    tokens: list[int]
    """Its whole prompt."""
    feed_from: int
    """Where its own tokens start (everything before is shared and already in the cache)."""
    plan: AnswerPlan
    grammar: Any
    chain: Any
    sections: dict[str, int]
    prompt_text: str
    seed: int
    pos: int = 0
    last: int = -1
    out: list[int] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    full_passes: int = 0
    forced: int = 0
    """Answer tokens inserted without sampling (forced by the grammar, or closing the answer)."""
    matcher: Matcher | None = None
    """Follows the answer (``None`` once it cannot: then nothing is forced or closed early)."""
    replan: Replanner | None = None
    """Plans the rest of the answer again after each action (``None``: the turn's grammar throughout)."""
    eog: bool = False
    done: bool = False
    t_start: float = 0.0
    t_end: float = 0.0

    def insert(self, text: str, tokens: list[int]) -> bool:
        """Put ``text`` (as ``tokens``) in the answer without sampling it; ``True`` when an action
        ended in it and the rest was planned again (the grammar is then stale)."""
        self.out += tokens
        self.forced += len(tokens)
        return self.follow(text.encode())

    def follow(self, piece: bytes) -> bool:
        """Add ``piece`` to the answer and follow it; ``True`` when an action ended in it and the
        rest was planned again (:mod:`engine.minds.replan`): the grammar is then stale."""
        before = self.text.decode(errors="replace")
        self.text += piece
        if self.matcher is None:
            return False
        got = take(self.matcher, self.replan, before, piece.decode(errors="replace"))
        if got is None:
            self.matcher = None  # cannot follow it any more: nothing is forced or closed for this answer
        return bool(got)

    def meta(self) -> dict[str, Any]:
        """What the call measured, for the tape."""
        return {
            "prompt": self.prompt_text,
            "sections": self.sections,
            "prompt_tokens": len(self.tokens),
            "answer_tokens": len(self.out) + int(self.eog),
            "forced_tokens": self.forced,
            "max_tokens": self.plan.max_tokens,
            "latency_ms": round(1000 * (self.t_end - self.t_start), 1),
            "seed": self.seed,
            "grammar_full_passes": self.full_passes,
            "shared_prefix_tokens": self.feed_from,
        }


class GrammarSampling:
    """A model's samplers: one chain per creature, the grammar applied lazily or in the chain."""

    def __init__(self, lib: Any, n_vocab: int, sampler: Sampler) -> None:
        self.lib = lib
        self.n_vocab = n_vocab
        self.sampler = sampler
        dtype = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)
        self._cand = np.zeros(n_vocab, dtype=dtype)
        self._one = np.zeros(1, dtype=dtype)

    def chain(self, seed: int, grammar: Any = None) -> Any:
        """A creature's sampler chain (with ``grammar`` first in it, if given)."""
        lib = self.lib
        ch = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if grammar is not None:
            lib.llama_sampler_chain_add(ch, grammar)
        s = self.sampler
        if s.temperature <= 0:
            lib.llama_sampler_chain_add(ch, lib.llama_sampler_init_greedy())
        else:
            lib.llama_sampler_chain_add(ch, lib.llama_sampler_init_top_k(s.top_k))
            lib.llama_sampler_chain_add(ch, lib.llama_sampler_init_top_p(s.top_p, 1))
            lib.llama_sampler_chain_add(ch, lib.llama_sampler_init_temp(s.temperature))
            lib.llama_sampler_chain_add(ch, lib.llama_sampler_init_dist(seed))
        return ch

    def _arr(self, a: Any) -> Any:
        lib = self.lib
        return lib.llama_token_data_array(data=a.ctypes.data_as(lib.llama_token_data_p), size=len(a), selected=-1, sorted=False)

    def lazy(self, ctx: Any, t: Track) -> int:
        """Sample a token, check only it against the grammar, and scan the whole vocabulary only
        when the grammar refuses it (``t.grammar`` is not in the chain)."""
        lib = self.lib
        logits = self.logits(ctx, t)
        tok = int(lib.llama_sampler_sample(t.chain, ctx, t.last))
        one = self._one
        one["id"][0] = tok
        one["logit"][0] = logits[tok]
        arr = self._arr(one)
        lib.llama_sampler_apply(t.grammar, ctypes.byref(arr))
        if np.isfinite(one["logit"][0]):
            lib.llama_sampler_accept(t.grammar, tok)
            return tok
        t.full_passes += 1
        cand = self._cand
        cand["id"] = np.arange(self.n_vocab, dtype=np.int32)
        cand["logit"] = logits
        cand["p"] = 0
        arr = self._arr(cand)
        lib.llama_sampler_apply(t.grammar, ctypes.byref(arr))
        lib.llama_sampler_apply(t.chain, ctypes.byref(arr))
        if arr.selected < 0:
            tok = int(cand["id"][int(np.argmax(cand["logit"]))])
        else:
            tok = int(arr.data[arr.selected].id)
        lib.llama_sampler_accept(t.grammar, tok)
        return tok

    def regrammar(self, vocab: Any, t: Track) -> None:
        """A fresh grammar sampler for what is left of ``t``'s answer (its matcher's node)."""
        assert t.matcher is not None
        g = self.lib.llama_sampler_init_grammar(vocab, to_gbnf(t.matcher.node).encode(), b"root")
        if not g:
            raise EngineBug(f"llama.cpp refused the grammar of the rest of {t.obs.name}'s answer")
        self.lib.llama_sampler_free(t.grammar)
        t.grammar = g

    def logits(self, ctx: Any, t: Track) -> np.ndarray[Any, Any]:
        """``t``'s logits for its next token; a :class:`ModelError` when any is NaN or infinite (a
        broken adapter or model: llama.cpp's sampler would abort the whole process on them)."""
        logits = np.ctypeslib.as_array(self.lib.llama_get_logits_ith(ctx, t.last), shape=(self.n_vocab,))
        if not np.isfinite(logits).all():
            raise ModelError(f"the model computed NaN or infinite logits for {t.obs.name}: its weights or its "
                             "LoRA adapter are broken (train the adapter again, or play without it)")
        return logits

    def whole(self, ctx: Any, t: Track) -> int:
        """Sample with the grammar in the chain: it masks the whole vocabulary at every token."""
        self.logits(ctx, t)
        t.full_passes += 1
        return int(self.lib.llama_sampler_sample(t.chain, ctx, t.last))


class BatchDecoder:
    """Feeds tokens to a llama.cpp context through one reusable ``llama_batch``."""

    CAP = 2048
    """Tokens one ``llama_decode`` call takes at most (the context's ``n_batch``)."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self._batch: Any = None

    def decode(self, ctx: Any, items: list[tuple[int, int, int, bool]]) -> dict[int, int]:
        """Decode ``(token, pos, seq, want_logits)`` items in chunks; returns the batch index of each
        item that wants logits, keyed by seq (only the final chunk may hold those)."""
        if self._batch is None:
            self._batch = self.lib.llama_batch_init(self.CAP, 0, 1)
        b = self._batch
        out: dict[int, int] = {}
        for start in range(0, len(items), self.CAP):
            chunk = items[start : start + self.CAP]
            b.n_tokens = len(chunk)
            for j, (tok, pos, seq, logits) in enumerate(chunk):
                b.token[j] = tok
                b.pos[j] = pos
                b.n_seq_id[j] = 1
                b.seq_id[j][0] = seq
                b.logits[j] = logits
                if logits:
                    out[seq] = j
            rc = self.lib.llama_decode(ctx, b)
            if rc != 0:
                raise ModelError(f"llama_decode failed ({rc}): the context is too small or memory ran out")
        return out

    def close(self) -> None:
        """Free the batch (once)."""
        if self._batch is not None:
            self.lib.llama_batch_free(self._batch)
            self._batch = None
