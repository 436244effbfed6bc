"""A brain that asks an OpenAI-compatible server (vLLM, llama.cpp's server, llama-cpp-python's
server, Ollama, SGLang): the way past one machine.

All creatures of a turn are sent at once (concurrently, up to ``parallel`` in flight) so the
server can batch them. Each request carries the creature's action mask in the form its server
understands: our exact GBNF grammar where the server takes one (llama.cpp, llama-cpp-python,
vLLM, SGLang), else the mask as a JSON schema (OpenAI's ``json_schema`` response format, which
Ollama also reads). Answers are parsed and validated by the rules like any other.

The server is not trusted (:mod:`engine.minds.brains.http_wire`): one deadline for the whole
turn, a cap on an answer's size, retries only on 429/503, and every malformed answer a refusal
with a reason.
"""

from __future__ import annotations

import asyncio
import os
import time
import zlib
from typing import Any

import aiohttp

from engine.core.errors import TTWoodError
from engine.minds.allowance import AnswerPlan, plan_answer
from engine.minds.brains.http_wire import Refused, answer_cap, chat
from engine.minds.prompt import PromptBuilder
from engine.scenario import Scenario
from engine.turn import progress
from engine.turn.actions import parse_decision
from engine.turn.brain import Answer
from engine.turn.observation import Observation

SERVER_KINDS = ("llama-cpp-python", "llama.cpp", "vllm", "sglang", "ollama", "openai")
CHARS_PER_TOKEN = 3
"""A cautious estimate for budgeting before the call (the server reports the exact count after)."""
TEMPLATE_TOKENS = 32


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def over_allowance(text: str, reported: int | None, max_tokens: int) -> str | None:
    """Why an answer is longer than its allowance of ``max_tokens`` tokens (``None``: it is not),
    counting its tokens as the server reports them and, since a server may not report or may
    under-report, as :func:`estimate_tokens` counts them (a legal answer takes at most one
    character a token, a third of what this estimate allows)."""
    if reported is not None and reported > max_tokens:
        return f"the server says the answer took {reported:,} tokens, more than its allowance of {max_tokens:,}"
    estimated = estimate_tokens(text)
    if estimated > max_tokens:
        return (f"the answer is {len(text):,} characters (about {estimated:,} tokens), more than its allowance of "
                f"{max_tokens:,} tokens")
    return None


class HTTPBrain:
    """Creatures that think on a server that speaks the OpenAI chat-completions API."""

    name = "http"

    def __init__(
        self,
        scenario: Scenario,
        base_url: str,
        model: str,
        *,
        server: str = "llama-cpp-python",
        api_key_env: str = "TTWOOD_API_KEY",
        seed: int = 1,
        temperature: float = 0.7,
        parallel: int = 8,
        timeout: float = 60.0,
    ) -> None:
        if server not in SERVER_KINDS:
            raise TTWoodError(f"unknown server kind {server!r}; one of: {', '.join(SERVER_KINDS)}")
        self.scenario = scenario
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.server = server
        self.api_key = os.environ.get(api_key_env) or os.environ.get("OPENAI_API_KEY") or "none"
        self.seed = seed
        self.temperature = temperature
        self.parallel = max(1, parallel)
        if not 0 < timeout <= 86_400:
            raise TTWoodError(f"--timeout {timeout:g}: a turn's deadline is from a moment to a day (seconds > 0)")
        self.timeout = timeout
        """Seconds every request of one turn must be answered within, together (retries included)."""
        self.budget = scenario.budget.tokens
        self.prompts = PromptBuilder(scenario, estimate_tokens)
        self.static_text = self.prompts.static_text

    def _constraint(self, plan: AnswerPlan) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The request fields that carry the action mask: ``(extra_body, response_format)``: the
        same choices as a grammar or as a JSON schema, as the server takes them."""
        if self.server in ("llama-cpp-python", "llama.cpp", "vllm", "sglang"):
            gbnf = plan.gbnf()
            if self.server == "vllm":
                return {"structured_outputs": {"grammar": gbnf}}, None
            if self.server == "sglang":
                return {"ebnf": gbnf}, None
            return {"grammar": gbnf}, None
        return {}, {"type": "json_schema", "json_schema": {"name": "decision", "schema": plan.schema(), "strict": True}}

    async def _one(self, session: aiohttp.ClientSession, sem: asyncio.Semaphore, o: Observation, public: str,
                   pub_tokens: dict[str, int], deadline: float) -> Answer:
        fixed = estimate_tokens(self.static_text) + estimate_tokens(public) + TEMPLATE_TOKENS
        private, priv_tokens = self.prompts.private(o, fixed)
        user = public + private
        sections = {**pub_tokens, **priv_tokens}
        estimate = fixed + estimate_tokens(private)
        # a server cannot be stopped between actions: the longest answer must fit as it is
        plan = plan_answer(o, self.scenario, estimate, self.budget, closing=False)
        max_tokens = plan.max_tokens
        extra, response_format = self._constraint(plan)
        seed = zlib.crc32(f"{self.seed}:{o.turn}:{o.name}".encode()) & 0x7FFFFFFF
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": self.static_text}, {"role": "user", "content": user}],
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "seed": seed,
            "response_format": response_format,
            **extra,
        }
        async with sem:
            t0 = time.perf_counter()
            try:
                reply = await chat(session, self.base_url, {k: v for k, v in body.items() if v is not None}, self._headers(),
                                   deadline=deadline, cap=answer_cap(max_tokens))
            except Refused as exc:
                return Answer(actions=[], problems=[f"{o.name}: {exc.reason}"], meta={"model": self.model, "refused": exc.reason,
                                                                                       "deadline": exc.deadline})
            latency = time.perf_counter() - t0
        over = over_allowance(reply.text, reply.answer_tokens, max_tokens)
        if over is not None:  # the server ignored max_tokens: nothing of it is acted on or kept
            return Answer(actions=[], problems=[f"{o.name}: {over}"], meta={"model": self.model, "refused": over,
                                                                           "max_tokens": max_tokens})
        raw = reply.text
        actions, problems, thinking = parse_decision(raw, o.max_actions)
        meta = {
            "prompt": f"[system]\n{self.static_text}[user]\n{user}",
            "sections": sections,
            "prompt_tokens": reply.prompt_tokens if reply.prompt_tokens is not None else estimate,
            "answer_tokens": reply.answer_tokens if reply.answer_tokens is not None else estimate_tokens(raw),
            "max_tokens": max_tokens,
            "latency_ms": round(1000 * latency, 1),
            "model": self.model,
            "server": self.server,
            "sampler": {"temperature": self.temperature},
            "seed": seed,
        }
        return Answer(actions=actions, problems=problems, raw=raw, thinking=thinking, meta=meta)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json", "Accept": "application/json"}

    async def _all(self, observations: list[Observation]) -> list[Answer]:
        deadline = time.monotonic() + self.timeout
        sem = asyncio.Semaphore(self.parallel)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
            public, pub_tokens = self.prompts.public(observations[0])
            watch = progress.current()  # each creature is done as its answer comes, for whoever shows the turn

            async def one(o: Observation) -> Answer:
                a = await self._one(session, sem, o, public, pub_tokens, deadline)
                if watch is not None:
                    watch.answered([o.name], [a])
                return a

            answers = list(await asyncio.gather(*(one(o) for o in observations)))
        if all(a.meta.get("deadline") for a in answers):
            raise TTWoodError(f"the model server at {self.base_url} gave no answer within the turn's deadline of "
                              f"{self.timeout:g} s (--timeout)")
        return answers

    def decide(self, observations: list[Observation]) -> list[Answer]:
        """Send every creature's request at once and wait for all answers."""
        if not observations:
            return []
        return asyncio.run(self._all(observations))

    def close(self) -> None:
        """Nothing to free: each turn opens its own connections and closes them."""
        return None

    def card(self) -> dict[str, Any]:
        return {"name": self.model, "server": self.server, "base_url": self.base_url, "sampler": {"temperature": self.temperature}}
