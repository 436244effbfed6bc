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

Each answer fits its allowance (:mod:`engine.minds.allowance`: the decoder closes it rather than
start an action it may not finish); after each action the rest is planned again on what that
action spent (:mod:`engine.minds.replan`). ``ttwood bench llm`` times this against the simple way.
"""

from __future__ import annotations

import time
import zlib
from typing import Any

from engine.core.errors import EngineBug
from engine.minds.allowance import AnswerPlan, plan_answer
from engine.minds.brains.llama_model import LlamaModel, ModelError, check_model_file
from engine.minds.brains.llama_sampling import BatchDecoder, GrammarSampling, Sampler, Track
from engine.minds.forms import FORMS, AnswerForm
from engine.minds.prompt import PromptBuilder
from engine.minds.replan import Replanner
from engine.scenario import Scenario
from engine.turn import progress
from engine.turn.brain import Answer
from engine.turn.observation import Observation

__all__ = ["LlamaBrain", "LlamaModel", "ModelError", "Sampler", "check_model_file"]

MAX_PARALLEL = 32
"""Creatures decoded together at most (KV cache memory grows with it)."""
CPU_UNIFIED_UP_TO = 6
"""On a CPU, batches of at most this many creatures share one unified KV cache (see above)."""


class LlamaBrain:
    """Creatures that think with a local GGUF model, batched and constrained by the action mask."""

    name = "llama"
    mode = "optimized"
    replans = True  # plan the rest of an answer again after each action (engine.minds.replan)

    def __init__(
        self,
        scenario: Scenario,
        model: LlamaModel,
        *,
        seed: int = 1,
        sampler: Sampler | None = None,
        parallel: int = MAX_PARALLEL,
        unified_kv: bool | None = None,
        flash_attn: bool | None = None,
        lean: bool = False,
        jump_forward: bool = True,
        form: str = "json",
    ) -> None:
        """``lean``: no worked example nor action shapes in the prompt (a trained model needs neither);
        ``form``: how answers are spelled, ``json`` or ``lines`` (:mod:`engine.minds.forms`): an
        untrained model follows the JSON example best (the grammar forces most of it); a student
        must be given the spelling it learned."""
        self.scenario = scenario
        self.model = model
        self.lean = lean
        self.jump_forward = jump_forward  # off for a student that learned the whole answer's spelling
        self.form: AnswerForm = FORMS[form]
        self.lib = model.lib
        self.seed = seed
        self.sampler = sampler or Sampler()
        self.parallel = max(1, min(parallel, 250))
        self.unified_kv = unified_kv
        """True/False forces the KV layout; None chooses it by device and batch size (see above)."""
        self._unified = True
        """The layout of the current context."""
        self.flash_attn = flash_attn
        """True/False forces flash attention on/off; None: off on a CPU, llama.cpp's choice on a GPU."""
        self.budget = scenario.budget.tokens
        self.prompts = PromptBuilder(scenario, model.count, lean=lean, form=self.form)
        self.static_text = self.prompts.static_text
        self.static_sections = self.prompts.static_sections
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
        self._batches = BatchDecoder(model.lib)
        self.sampling = GrammarSampling(model.lib, model.n_vocab, self.sampler)

    # ---------------------------------------------------------------- context and batches
    def _context(self, n_seqs: int) -> Any:
        lib = self.lib
        need = n_seqs + 2
        if self.ctx is not None and self._ctx_seqs >= need:
            return self.ctx
        if self.ctx is not None:
            lib.llama_free(self.ctx)
        cp = lib.llama_context_default_params()
        cp.n_seq_max = need
        unified = self.unified_kv
        if unified is None:
            unified = self.model.gpu or n_seqs <= CPU_UNIFIED_UP_TO
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
        cp.n_threads = self.model.threads
        cp.n_threads_batch = self.model.threads
        if self.flash_attn is not None:
            cp.flash_attn_type = lib.LLAMA_FLASH_ATTN_TYPE_ENABLED if self.flash_attn else lib.LLAMA_FLASH_ATTN_TYPE_DISABLED
        elif not self.model.gpu:
            cp.flash_attn_type = lib.LLAMA_FLASH_ATTN_TYPE_DISABLED
        cp.swa_full = True
        ctx = lib.llama_init_from_model(self.model.model, cp)
        if not ctx:
            raise ModelError(f"{self.model.path}: llama.cpp could not make a context for {n_seqs} creatures (out of memory?)")
        self.model.attach(ctx)  # the LoRA adapter, if the model has one
        self.ctx = ctx
        self._ctx_seqs = need
        self._unified = unified
        self._cached_static = False
        self._mem = lib.llama_get_memory(ctx)
        return ctx

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> dict[int, int]:
        """Decode ``(token, pos, seq, want_logits)`` items (see :meth:`BatchDecoder.decode`)."""
        return self._batches.decode(self.ctx, items)

    # ---------------------------------------------------------------- prompts
    def _public(self, o: Observation) -> tuple[str, list[int], dict[str, int]]:
        """This turn's public part: its text, its tokens and its sections' tokens."""
        text, sections = self.prompts.public(o)
        return text, self.model.tokenize(text, special=False), sections

    def _prompt(self, o: Observation, public: str, public_tokens: list[int]) -> tuple[list[int], str, dict[str, int]]:
        """One creature's whole prompt: its tokens, its text, and its own sections' tokens."""
        m = self.model
        fixed = len(self.static_tokens) + len(public_tokens) + len(self.post_tokens) + 2
        private, sections = self.prompts.private(o, fixed)
        tokens = self.static_tokens + public_tokens + m.tokenize(private, special=False) + self.post_tokens
        return tokens, m.pre + self.static_text + m.mid + public + private + m.post, sections

    def prompt_for(self, o: Observation) -> tuple[str, list[int], AnswerPlan]:
        """The exact prompt this brain builds for ``o`` (text and tokens) and the plan of its answer
        (its grammar, allowance and :meth:`~AnswerPlan.matcher`): what a training example needs."""
        public, public_tokens, _ = self._public(o)
        tokens, text, _ = self._prompt(o, public, public_tokens)
        return text, tokens, plan_answer(o, self.scenario, len(tokens), self.budget, replanned=self.replans, form=self.form)

    def _build(self, index: int, o: Observation, public: tuple[str, list[int], dict[str, int]]) -> Track:
        tokens, prompt_text, sections = self._prompt(o, public[0], public[1])
        plan = plan_answer(o, self.scenario, len(tokens), self.budget, replanned=self.replans, form=self.form)
        grammar = self.lib.llama_sampler_init_grammar(self.model.vocab, plan.gbnf().encode(), b"root")
        if not grammar:
            raise EngineBug(f"llama.cpp refused the grammar for {o.name}")
        seed = zlib.crc32(f"{self.seed}:{o.turn}:{o.name}".encode())
        t = Track(index=index, seq=2 + index, obs=o, tokens=tokens, feed_from=len(self.static_tokens) + len(public[1]),
                  plan=plan, grammar=grammar, chain=self._chain(seed, grammar),
                  sections=dict(self.static_sections) | public[2] | sections, prompt_text=prompt_text, seed=seed)
        t.matcher = plan.matcher()
        t.replan = Replanner(o, self.scenario, plan) if self.replans else None
        return t

    def _chain(self, seed: int, grammar: Any) -> Any:
        """The sampler chain (the grammar stays out of it: :meth:`_sample` applies it lazily)."""
        return self.sampling.chain(seed)

    def _sample(self, t: Track) -> int:
        return self.sampling.lazy(self.ctx, t)

    # ---------------------------------------------------------------- a turn
    def decide(self, observations: list[Observation]) -> list[Answer]:
        """Answer for every creature of this brain this turn, batched."""
        if not observations:
            return []
        public = self._public(observations[0])
        n = min(len(observations), self.parallel)
        self._context(n)
        self._feed_shared(public[1])
        lib = self.lib
        answers: list[Answer] = []
        for start in range(0, len(observations), n):
            chunk: list[Track] = []
            try:  # the brain owns its sequences' C samplers: freed however the turn ends
                for j, o in enumerate(observations[start : start + n]):
                    chunk.append(self._build(j, o, public))
                for t in chunk:
                    lib.llama_memory_seq_rm(self._mem, t.seq, -1, -1)
                    lib.llama_memory_seq_cp(self._mem, 1, t.seq, -1, -1)
                self._run(chunk)
                for t in chunk:
                    answers.append(self._answer(t))
                    lib.llama_memory_seq_rm(self._mem, t.seq, -1, -1)
            finally:
                for t in chunk:
                    self._release(t)
        return answers

    def _feed_shared(self, public_tokens: list[int]) -> None:
        """The static prefix into sequence 0 (once a game), this turn's public part into sequence 1."""
        lib = self.lib
        if not self._cached_static:
            t0 = time.perf_counter()
            lib.llama_memory_clear(self._mem, True)
            self._decode([(t, p, 0, False) for p, t in enumerate(self.static_tokens)])
            self._cached_static = True
            self.setup_seconds += time.perf_counter() - t0
        base = len(self.static_tokens)
        lib.llama_memory_seq_rm(self._mem, 1, -1, -1)
        lib.llama_memory_seq_cp(self._mem, 0, 1, -1, -1)
        if public_tokens:
            self._decode([(t, base + p, 1, False) for p, t in enumerate(public_tokens)])

    def _insert(self, s: Track, text: str, *, accept: bool) -> list[int]:
        """Put ``text`` in the answer without sampling it; ``accept``: the grammar sampler goes on."""
        toks = self.model.tokenize(text, special=False)
        for t in toks if accept else ():
            self.lib.llama_sampler_accept(s.grammar, t)
        if s.insert(text, toks) and accept:
            self.sampling.regrammar(self.model.vocab, s)
        return toks

    def _forced(self, s: Track) -> list[int]:
        """Tokens for the text the grammar forces next (jump-forward), accepted by the grammar sampler."""
        text = s.matcher.jump() if s.matcher is not None and self.jump_forward else ""
        return self._insert(s, text, accept=True) if text else []

    def _take(self, s: Track, tok: int) -> list[int] | None:
        """Add a sampled token (and what it forces) to the answer; the tokens to decode next, or
        ``None`` when the answer is finished. Closes the answer when the allowance runs short."""
        piece = self.model.piece(tok)
        close = s.plan.form.close
        if s.matcher is not None and s.plan.must_close(len(s.out)):
            text = piece.decode(errors="replace")
            cut = s.matcher.end_point(text, close)
            if cut is not None and cut < len(text):  # the token runs on into another action
                self._insert(s, text[:cut] + close, accept=False)
                return None
        s.out.append(tok)
        if s.follow(piece):  # an action ended: the rest was planned again on what it left
            self.sampling.regrammar(self.model.vocab, s)
        new = [tok] + self._forced(s)
        if s.matcher is not None and s.plan.must_close(len(s.out)) and s.matcher.can_end_with(close):
            self._insert(s, close, accept=False)
            return None
        if s.matcher is not None and s.matcher.complete():
            return None  # nothing can follow: no need to decode it or to sample an end token
        return new

    def _run(self, seqs: list[Track]) -> None:
        """Feed every sequence's own prompt tokens, then decode all answers together."""
        self._feed_own(seqs)
        lib = self.lib
        live = list(seqs)
        watch = progress.current()  # None unless someone shows the turn as it decodes
        while live:
            step: list[tuple[int, int, int, bool]] = []
            for s in live:
                tok = self._sample(s)
                if lib.llama_vocab_is_eog(self.model.vocab, tok) or len(s.out) >= s.plan.max_tokens - 1:  # one kept for the end
                    s.eog = lib.llama_vocab_is_eog(self.model.vocab, tok)
                    s.done = True
                    continue
                new = self._take(s, tok)
                if new is None:
                    s.done = True
                    continue
                for j, t in enumerate(new):
                    step.append((t, s.pos, s.seq, j == len(new) - 1))
                    s.pos += 1
            for s in live:
                if s.done and not s.t_end:
                    s.t_end = time.perf_counter()
            live = [s for s in live if not s.done]
            if watch is not None and watch.due():
                watch.saw((s.obs.name, len(s.out), s.text, s.done) for s in seqs)
            if step:
                idx = self._decode(step)
                for s in live:
                    s.last = idx[s.seq]

    def _feed_own(self, seqs: list[Track]) -> None:
        """Each creature's own prompt tokens (and what the grammar forces first), so that every
        sequence's last logits are ready to sample from."""
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
        if self._unified and not self.model.gpu:
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

    def _answer(self, s: Track) -> Answer:
        raw = s.text.decode(errors="replace")
        actions, problems, thinking = s.plan.form.parse(raw, s.obs)
        meta = s.meta() | {"model": self.model.name, "sampler": self.sampler.describe(), "mode": self.mode}
        self._release(s)
        return Answer(actions=actions, problems=problems, raw=raw, thinking=thinking, meta=meta)

    def _release(self, s: Track) -> None:
        """Free a sequence's samplers (once: a released track holds none)."""
        if s.grammar is not None:
            self.lib.llama_sampler_free(s.grammar)
            s.grammar = None
        if s.chain is not None:
            self.lib.llama_sampler_free(s.chain)
            s.chain = None

    def card(self) -> dict[str, Any]:
        """What the model is, for the run report and the save."""
        return {
            "name": self.model.name, "path": str(self.model.path), "description": self.model.desc,
            "parameters": self.model.n_params, "template": self.model.template,
            "gpu_layers": self.model.gpu_layers, "gpu": self.model.gpu, "threads": self.model.threads, "mode": self.mode,
            "kv_cache": self._kv_card(),
            "flash_attn": {True: "on", False: "off", None: "off" if not self.model.gpu else "auto"}[self.flash_attn],
            "sampler": self.sampler.describe(),
            "adapter": {"name": self.model.adapter_name, "sha256": self.model.adapter_sha256} if self.model.adapter is not None else None,
            "lean_prompt": self.lean, "jump_forward": self.jump_forward, "answer_form": self.form.name,
        }

    def _kv_card(self) -> str:
        """The KV cache's layout: the one in use, else the one that will be chosen."""
        unified = self._unified if self.ctx is not None else self.unified_kv
        if unified is None and not self.model.gpu:
            return f"unified up to {CPU_UNIFIED_UP_TO} creatures a batch, else one stream per creature"
        return "unified" if unified in (None, True) else "one stream per creature"

    def close(self) -> None:
        if self.ctx is not None:
            self.lib.llama_free(self.ctx)
            self.ctx = None
        self._batches.close()
