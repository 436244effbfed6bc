"""A brain that thinks with a local GGUF model through llama.cpp (llama-cpp-python's low-level API).

One turn, optimized (the default):

1. The static prompt prefix (chat template head, the rules, a worked example) is evaluated once
   per game into sequence 0 of the KV cache and kept.
2. This turn's public text (prices, who makes what, the clearing) is evaluated once into
   sequence 1, a copy of sequence 0 (``llama_memory_seq_cp``).
3. Every creature gets its own sequence copied from sequence 1; the private suffixes of all
   creatures are fed, then all answers are decoded as one batch of sequences, one
   ``llama_decode`` per step; text the grammar forces is inserted without sampling.
4. Each answer is constrained by that creature's grammar (:mod:`engine.minds.grammar`, the action
   mask), applied lazily: the sampled token is checked first; the grammar scans the whole
   vocabulary only when that token is refused.

How the KV cache is laid out depends on where the model runs and how many creatures decide
together (measured with ``ttwood bench llm``; see BENCHMARKS.md). On a GPU: one unified cache
(sequence copies share cells) and flash attention as llama.cpp chooses. On a CPU, flash attention
is off (llama.cpp's CPU kernel is ~2x slower than the plain path for the few-token steps of
decoding; the high-level ``Llama`` leaves it off too), and

* up to :data:`CPU_UNIFIED_UP_TO` creatures share one unified cache, each creature's own part
  fed in its own call (so it attends over fewer cells), and every decoding step is one
  micro-batch;
* more creatures get one cache stream each (``kv_unified=False``: attention reads only that
  creature's cells; the shared prefix is copied into each stream). A unified cache would make
  every token attend over every creature's cells, which grows with the square of the cast
  (13% slower a turn at 20 creatures), while the streams cost a micro-batch for each distinct
  run length within a decoding step (5% slower at 5 creatures).

``mode="naive"`` does what a simple program would: one creature at a time, the whole prompt
evaluated from scratch, the grammar applied to the whole vocabulary at every token. Same
prompts, grammars and sampler settings; ``ttwood bench llm`` times both.
"""

from __future__ import annotations

import ctypes
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import EngineBug, TTWoodError
from engine.core.text import clean_text
from engine.minds.brains.llama_model import LlamaModel, ModelError, check_model_file
from engine.minds.grammar import Matcher, answer_grammar, max_len, to_gbnf
from engine.minds.prompt import fit_static, private_text, public_text, render, static_sections
from engine.scenario import Scenario
from engine.turn.actions import parse_decision
from engine.turn.brain import Answer
from engine.turn.observation import Observation

__all__ = ["LlamaBrain", "LlamaModel", "ModelError", "Sampler", "check_model_file"]

MAX_PARALLEL = 32
"""Creatures decoded together at most (KV cache memory grows with it)."""
CPU_UNIFIED_UP_TO = 6
"""On a CPU, batches of at most this many creatures share one unified KV cache (see above)."""


@dataclass(slots=True)
class Sampler:
    """Sampler settings recorded with every call."""

    temperature: float = 0.7
    top_k: int = 40
    top_p: float = 0.95

    def describe(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p}


@dataclass(slots=True)
class _Seq:
    """One creature's sequence in a batched turn."""

    index: int
    seq: int
    obs: Observation
    tokens: list[int]
    """Its whole prompt."""
    feed_from: int
    """Where its own tokens start (everything before is shared and already in the cache)."""
    grammar: Any
    chain: Any
    max_tokens: int
    sections: dict[str, int]
    prompt_text: str
    seed: int
    pos: int = 0
    last: int = -1
    out: list[int] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    full_passes: int = 0
    forced: int = 0
    """Answer tokens inserted because the grammar allowed nothing else (not sampled)."""
    matcher: Matcher | None = None
    eog: bool = False
    done: bool = False
    t_start: float = 0.0
    t_end: float = 0.0


class LlamaBrain:
    """Creatures that think with a local GGUF model, batched and constrained by the action mask."""

    name = "llama"

    def __init__(
        self,
        scenario: Scenario,
        model: LlamaModel,
        *,
        seed: int = 1,
        mode: str = "optimized",
        sampler: Sampler | None = None,
        parallel: int = MAX_PARALLEL,
        unified_kv: bool | None = None,
        flash_attn: bool | None = None,
    ) -> None:
        if mode not in ("optimized", "naive"):
            raise TTWoodError(f"unknown decoding mode {mode!r} (optimized or naive)")
        self.sc = scenario
        self.m = model
        self.L = model.L
        self.seed = seed
        self.mode = mode
        self.sampler = sampler or Sampler()
        self.parallel = max(1, min(parallel, 250))
        self.unified_kv = unified_kv
        """True/False forces the KV layout; None chooses it by device and batch size (see above)."""
        self._unified = True
        """The layout of the current context."""
        self.flash_attn = flash_attn
        """True/False forces flash attention on/off; None: off on a CPU, llama.cpp's choice on a GPU."""
        self.budget = scenario.budget.tokens
        static = fit_static(static_sections(scenario), model.count, self.budget)
        for s in static:
            s.head = clean_text(s.head, 400)
        self.static_text = render(static)
        self.static_sections = {s.name: model.count(s.render()) for s in static}
        self.static_tokens = (
            model.tokenize(model.pre, special=True, bos=True)
            + model.tokenize(self.static_text, special=False)
            + model.tokenize(model.mid, special=True)
        )
        self.post_tokens = model.tokenize(model.post, special=True)
        self.ctx = None
        self.setup_seconds = 0.0
        """Time spent evaluating the static prefix (once a game, unless the context is rebuilt)."""
        self._ctx_seqs = 0
        self._cached_static = False
        self._batch = None
        self._batch_cap = 0
        import numpy as np

        self._np = np
        self._cand_dtype = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)
        self._cand = np.zeros(model.n_vocab, dtype=self._cand_dtype)
        self._cand["id"] = np.arange(model.n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=self._cand_dtype)

    # ---------------------------------------------------------------- context and batches
    def _context(self, n_seqs: int) -> Any:
        L = self.L
        need = n_seqs + 2
        if self.ctx is not None and self._ctx_seqs >= need:
            return self.ctx
        if self.ctx is not None:
            L.llama_free(self.ctx)
        cp = L.llama_context_default_params()
        cp.n_seq_max = need
        unified = self.unified_kv
        if unified is None:
            unified = self.m.gpu or n_seqs <= CPU_UNIFIED_UP_TO
        cp.kv_unified = unified
        if unified:
            # copies share cells: the static prefix once, the public part once, then each
            # creature's own part and answer
            cp.n_ctx = len(self.static_tokens) + 512 + n_seqs * max(256, self.budget - len(self.static_tokens))
        else:
            # one stream per sequence, each as long as the longest call the budget allows
            cp.n_ctx = need * (-(-(self.budget + 64) // 256) * 256)
        cp.n_batch = 2048
        cp.n_ubatch = 512
        cp.n_threads = self.m.threads
        cp.n_threads_batch = self.m.threads
        if self.flash_attn is not None:
            cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_ENABLED if self.flash_attn else L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        elif not self.m.gpu:
            cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cp.swa_full = True
        ctx = L.llama_init_from_model(self.m.model, cp)
        if not ctx:
            raise ModelError(f"{self.m.path}: llama.cpp could not make a context for {n_seqs} creatures (out of memory?)")
        self.m.attach(ctx)  # the LoRA adapter, if the model has one
        self.ctx = ctx
        self._ctx_seqs = need
        self._unified = unified
        self._cached_static = False
        self._mem = L.llama_get_memory(ctx)
        return ctx

    def _batch_for(self, n: int) -> Any:
        if self._batch is None or self._batch_cap < n:
            if self._batch is not None:
                self.L.llama_batch_free(self._batch)
            self._batch = self.L.llama_batch_init(n, 0, 1)
            self._batch_cap = n
        return self._batch

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> dict[int, int]:
        """Decode ``(token, pos, seq, want_logits)`` items in chunks; returns batch index of each
        item that wants logits, keyed by seq (only the final chunk may hold those)."""
        L = self.L
        cap = 2048
        b = self._batch_for(cap)
        out: dict[int, int] = {}
        for start in range(0, len(items), cap):
            chunk = items[start : start + cap]
            b.n_tokens = len(chunk)
            for j, (tok, pos, seq, logits) in enumerate(chunk):
                b.token[j] = tok
                b.pos[j] = pos
                b.n_seq_id[j] = 1
                b.seq_id[j][0] = seq
                b.logits[j] = logits
                if logits:
                    out[seq] = j
            rc = L.llama_decode(self.ctx, b)
            if rc != 0:
                raise ModelError(f"llama_decode failed ({rc}): the context is too small or memory ran out")
        return out

    # ---------------------------------------------------------------- prompts
    def _public(self, o: Observation) -> tuple[str, dict[str, int]]:
        return public_text(o, self.sc.budget.message_chars, self.m.count, self.budget)

    def _build(self, index: int, o: Observation, public: str, public_tokens: list[int], public_sections_tokens: dict[str, int]) -> _Seq:
        m = self.m
        fixed = len(self.static_tokens) + len(public_tokens) + len(self.post_tokens) + 2
        private, sect = private_text(o, self.sc.budget.message_chars, m.count, fixed, self.budget)
        own = m.tokenize(private, special=False)
        tokens = self.static_tokens + public_tokens + own + self.post_tokens
        node, max_tokens = answer_grammar(o, len(tokens), self.budget)
        if max_len(node) + 1 > max_tokens:
            raise EngineBug("grammar longer than its token allowance")
        gbnf = to_gbnf(node)
        grammar = self.L.llama_sampler_init_grammar(m.vocab, gbnf.encode(), b"root")
        if not grammar:
            raise EngineBug(f"llama.cpp refused the grammar for {o.name}")
        seed = zlib.crc32(f"{self.seed}:{o.turn}:{o.name}".encode())
        chain = self._chain(seed, grammar if self.mode == "naive" else None)
        sections = dict(self.static_sections) | public_sections_tokens | sect
        prompt_text = m.pre + self.static_text + m.mid + public + private + m.post
        s = _Seq(index, 2 + index, o, tokens, len(self.static_tokens) + len(public_tokens), grammar, chain,
                 max_tokens, sections, prompt_text, seed)
        if self.mode != "naive":
            s.matcher = Matcher(node)
        return s

    def _chain(self, seed: int, grammar: Any) -> Any:
        L = self.L
        ch = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        if grammar is not None:
            L.llama_sampler_chain_add(ch, grammar)
        s = self.sampler
        if s.temperature <= 0:
            L.llama_sampler_chain_add(ch, L.llama_sampler_init_greedy())
        else:
            L.llama_sampler_chain_add(ch, L.llama_sampler_init_top_k(s.top_k))
            L.llama_sampler_chain_add(ch, L.llama_sampler_init_top_p(s.top_p, 1))
            L.llama_sampler_chain_add(ch, L.llama_sampler_init_temp(s.temperature))
            L.llama_sampler_chain_add(ch, L.llama_sampler_init_dist(seed))
        return ch

    # ---------------------------------------------------------------- sampling
    def _arr(self, a: Any) -> Any:
        L = self.L
        return L.llama_token_data_array(data=a.ctypes.data_as(L.llama_token_data_p), size=len(a), selected=-1, sorted=False)

    def _sample(self, s: _Seq) -> int:
        L = self.L
        if self.mode == "naive":
            return int(L.llama_sampler_sample(s.chain, self.ctx, s.last))  # grammar in the chain: the whole vocabulary every token
        tok = int(L.llama_sampler_sample(s.chain, self.ctx, s.last))
        logits = self._np.ctypeslib.as_array(L.llama_get_logits_ith(self.ctx, s.last), shape=(self.m.n_vocab,))
        one = self._one
        one["id"][0] = tok
        one["logit"][0] = logits[tok]
        arr = self._arr(one)
        L.llama_sampler_apply(s.grammar, ctypes.byref(arr))
        if self._np.isfinite(one["logit"][0]):
            L.llama_sampler_accept(s.grammar, tok)
            return tok
        s.full_passes += 1
        cand = self._cand
        cand["id"] = self._np.arange(self.m.n_vocab, dtype=self._np.int32)
        cand["logit"] = logits
        cand["p"] = 0
        arr = self._arr(cand)
        L.llama_sampler_apply(s.grammar, ctypes.byref(arr))
        L.llama_sampler_apply(s.chain, ctypes.byref(arr))
        if arr.selected < 0:
            tok = int(cand["id"][int(self._np.argmax(cand["logit"]))])
        else:
            tok = int(arr.data[arr.selected].id)
        L.llama_sampler_accept(s.grammar, tok)
        return tok

    # ---------------------------------------------------------------- a turn
    def decide(self, observations: list[Observation]) -> list[Answer]:
        """Answer for every creature of this brain this turn (batched unless ``mode='naive'``)."""
        if not observations:
            return []
        public, public_sect = self._public(observations[0])
        public_tokens = self.m.tokenize(public, special=False)
        answers: list[Answer | None] = [None] * len(observations)
        if self.mode == "naive":
            self._context(1)
            for i, o in enumerate(observations):
                s = self._build(i, o, public, public_tokens, public_sect)
                s.seq = 0
                s.feed_from = 0
                self.L.llama_memory_clear(self._mem, True)
                self._cached_static = False
                self._run([s])
                answers[i] = self._answer(s)
            return [a for a in answers if a is not None]
        n = min(len(observations), self.parallel)
        self._context(n)
        L = self.L
        if not self._cached_static:
            t0 = time.perf_counter()
            L.llama_memory_clear(self._mem, True)
            self._decode([(t, p, 0, False) for p, t in enumerate(self.static_tokens)])
            self._cached_static = True
            self.setup_seconds += time.perf_counter() - t0
        base = len(self.static_tokens)
        L.llama_memory_seq_rm(self._mem, 1, -1, -1)
        L.llama_memory_seq_cp(self._mem, 0, 1, -1, -1)
        if public_tokens:
            self._decode([(t, base + p, 1, False) for p, t in enumerate(public_tokens)])
        for start in range(0, len(observations), n):
            chunk = [self._build(j, observations[start + j], public, public_tokens, public_sect) for j in range(min(n, len(observations) - start))]
            for s in chunk:
                L.llama_memory_seq_rm(self._mem, s.seq, -1, -1)
                L.llama_memory_seq_cp(self._mem, 1, s.seq, -1, -1)
            self._run(chunk)
            for s in chunk:
                answers[start + s.index] = self._answer(s)
                L.llama_memory_seq_rm(self._mem, s.seq, -1, -1)
        return [a for a in answers if a is not None]

    def _forced(self, s: _Seq) -> list[int]:
        """Tokens for the text the grammar forces next (jump-forward), accepted by the grammar sampler."""
        if s.matcher is None:
            return []
        text = s.matcher.forced()
        if not text:
            return []
        s.matcher.advance(text)
        toks = self.m.tokenize(text, special=False)
        for t in toks:
            self.L.llama_sampler_accept(s.grammar, t)
        s.out += toks
        s.forced += len(toks)
        s.text += text.encode()
        return toks

    def _run(self, seqs: list[_Seq]) -> None:
        """Feed every sequence's own prompt tokens, then decode all answers together."""
        L = self.L
        t0 = time.perf_counter()
        parts: list[list[tuple[int, int, int, bool]]] = []
        lasts: list[tuple[int, int, int, bool]] = []
        for s in seqs:
            s.t_start = t0
            own = s.tokens[s.feed_from :] + self._forced(s)
            s.pos = s.feed_from + len(own)
            parts.append([(t, s.feed_from + j, s.seq, False) for j, t in enumerate(own[:-1])])
            lasts.append((own[-1], s.pos - 1, s.seq, True))
        items = [it for part in parts for it in part]
        if self._unified and not self.m.gpu:
            # one call per creature: each attends over the shared prefix and the creatures before it
            for part in parts:
                if part:
                    self._decode(part)
            items = []
        if len(items) + len(lasts) <= 2048:
            idx = self._decode(items + lasts)
        else:
            self._decode(items)
            # the last token of every sequence goes in one final call, so all their logits are there
            idx = self._decode(lasts)
        for s in seqs:
            s.last = idx[s.seq]
        live = list(seqs)
        while live:
            step: list[tuple[int, int, int, bool]] = []
            for s in live:
                tok = self._sample(s)
                if L.llama_vocab_is_eog(self.m.vocab, tok) or len(s.out) >= s.max_tokens:
                    s.eog = L.llama_vocab_is_eog(self.m.vocab, tok)
                    s.done = True
                    continue
                piece = self.m.piece(tok)
                s.out.append(tok)
                s.text += piece
                if s.matcher is not None and not s.matcher.advance(piece.decode(errors="replace")):
                    s.matcher = None  # cannot follow it any more: no more jump-forward for this answer
                new = [tok] + self._forced(s)
                if s.matcher is not None and s.matcher.complete():
                    s.done = True  # nothing can follow: no need to decode it or to sample an end token
                    continue
                for j, t in enumerate(new):
                    step.append((t, s.pos, s.seq, j == len(new) - 1))
                    s.pos += 1
            for s in live:
                if s.done and not s.t_end:
                    s.t_end = time.perf_counter()
            live = [s for s in live if not s.done]
            if step:
                idx = self._decode(step)
                for s in live:
                    s.last = idx[s.seq]

    def _answer(self, s: _Seq) -> Answer:
        L = self.L
        raw = s.text.decode(errors="replace")
        actions, problems, thinking = parse_decision(raw, s.obs.max_actions)
        meta = {
            "prompt": s.prompt_text,
            "sections": s.sections,
            "prompt_tokens": len(s.tokens),
            "answer_tokens": len(s.out) + int(s.eog),
            "forced_tokens": s.forced,
            "max_tokens": s.max_tokens,
            "latency_ms": round(1000 * (s.t_end - s.t_start), 1),
            "model": self.m.name,
            "sampler": self.sampler.describe(),
            "seed": s.seed,
            "mode": self.mode,
            "grammar_full_passes": s.full_passes if self.mode != "naive" else len(s.out) + int(s.eog),
            "shared_prefix_tokens": s.feed_from if self.mode != "naive" else 0,
        }
        if self.mode != "naive":
            L.llama_sampler_free(s.grammar)
        L.llama_sampler_free(s.chain)
        return Answer(actions=actions, problems=problems, raw=raw, thinking=thinking, meta=meta)

    def card(self) -> dict[str, Any]:
        """What the model is, for the run report and the save."""
        return {
            "name": self.m.name,
            "path": str(self.m.path),
            "description": self.m.desc,
            "parameters": self.m.n_params,
            "template": self.m.template,
            "gpu_layers": self.m.gpu_layers,
            "gpu": self.m.gpu,
            "threads": self.m.threads,
            "mode": self.mode,
            "kv_cache": {True: "unified", False: "one stream per creature", None: "by batch size"}[self.unified_kv]
            if self.ctx is None else ("unified" if self._unified else "one stream per creature"),
            "flash_attn": {True: "on", False: "off", None: "off" if not self.m.gpu else "auto"}[self.flash_attn],
            "sampler": self.sampler.describe(),
        }

    def close(self) -> None:
        if self.ctx is not None:
            self.L.llama_free(self.ctx)
            self.ctx = None
        if self._batch is not None:
            self.L.llama_batch_free(self._batch)
            self._batch = None
