"""A brain that asks an OpenAI-compatible server (vLLM, llama.cpp's server, llama-cpp-python's
server, Ollama, SGLang): the way past one machine.

All creatures of a turn are sent at once (concurrently, up to ``parallel`` in flight) so the
server can batch them. Each request carries the creature's action mask in the form its server
understands: our exact GBNF grammar where the server takes one (llama.cpp, llama-cpp-python,
vLLM, SGLang), else the mask as a JSON schema (OpenAI's ``json_schema`` response format, which
Ollama also reads). Answers are parsed and validated by the rules like any other.
"""

from __future__ import annotations

import asyncio
import os
import time
import zlib
from typing import Any

from engine.core.errors import TTWoodError
from engine.minds.allowance import AnswerPlan, plan_answer
from engine.minds.prompt import fit_static, private_text, public_text, render, static_sections
from engine.scenario import Scenario
from engine.turn.actions import parse_decision
from engine.turn.brain import Answer
from engine.turn.observation import Observation

SERVER_KINDS = ("llama-cpp-python", "llama.cpp", "vllm", "sglang", "ollama", "openai")
CHARS_PER_TOKEN = 3
"""A cautious estimate for budgeting before the call (the server reports the exact count after)."""
TEMPLATE_TOKENS = 32


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


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
        timeout: float = 120.0,
    ) -> None:
        if server not in SERVER_KINDS:
            raise TTWoodError(f"unknown server kind {server!r}; one of: {', '.join(SERVER_KINDS)}")
        self.sc = scenario
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.server = server
        self.api_key = os.environ.get(api_key_env) or os.environ.get("OPENAI_API_KEY") or "none"
        self.seed = seed
        self.temperature = temperature
        self.parallel = max(1, parallel)
        self.timeout = timeout
        self.budget = scenario.budget.tokens
        self.static_text = render(fit_static(static_sections(scenario), estimate_tokens, self.budget))

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

    async def _one(self, client: Any, sem: asyncio.Semaphore, o: Observation, public: str, pub_tokens: dict[str, int]) -> Answer:
        fixed = estimate_tokens(self.static_text) + estimate_tokens(public) + TEMPLATE_TOKENS
        private, priv_tokens = private_text(o, self.sc.budget.message_chars, estimate_tokens, fixed, self.budget)
        user = public + private
        sections = {**pub_tokens, **priv_tokens}
        estimate = fixed + estimate_tokens(private)
        # a server cannot be stopped between actions: the longest answer must fit as it is
        plan = plan_answer(o, self.sc, estimate, self.budget, closing=False)
        max_tokens = plan.max_tokens
        extra, response_format = self._constraint(plan)
        seed = zlib.crc32(f"{self.seed}:{o.turn}:{o.name}".encode()) & 0x7FFFFFFF
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": self.static_text}, {"role": "user", "content": user}],
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "seed": seed,
            "extra_body": extra or None,
        }
        if response_format is not None:
            kwargs["response_format"] = response_format
        async with sem:
            t0 = time.perf_counter()
            try:
                reply = await client.chat.completions.create(**kwargs)
            except Exception as exc:  # the client raises many kinds; each becomes one clear message
                return self._failure(o, exc)
            latency = time.perf_counter() - t0
        raw = (reply.choices[0].message.content or "") if reply.choices else ""
        actions, problems, thinking = parse_decision(raw, o.max_actions)
        usage = reply.usage
        meta = {
            "prompt": f"[system]\n{self.static_text}[user]\n{user}",
            "sections": sections,
            "prompt_tokens": usage.prompt_tokens if usage else estimate,
            "answer_tokens": usage.completion_tokens if usage else estimate_tokens(raw),
            "max_tokens": max_tokens,
            "latency_ms": round(1000 * latency, 1),
            "model": self.model,
            "server": self.server,
            "sampler": {"temperature": self.temperature},
            "seed": seed,
        }
        return Answer(actions=actions, problems=problems, raw=raw, thinking=thinking, meta=meta)

    def _failure(self, o: Observation, exc: Exception) -> Answer:
        name = type(exc).__name__
        if "Connection" in name or "Timeout" in name:
            raise TTWoodError(f"cannot reach the model server at {self.base_url} ({name}); is it running?") from None
        status = getattr(exc, "status_code", None)
        if status in (401, 403):
            raise TTWoodError(f"the server at {self.base_url} refused the API key (HTTP {status}); set TTWOOD_API_KEY") from None
        if status == 404:
            raise TTWoodError(f"the server at {self.base_url} has no model {self.model!r} or no chat endpoint (HTTP 404)") from None
        return Answer(actions=[], problems=[f"server error for {o.name}: {name} {str(exc)[:120]}"], meta={"model": self.model})

    async def _all(self, observations: list[Observation]) -> list[Answer]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout, max_retries=1)
        sem = asyncio.Semaphore(self.parallel)
        try:
            public, pub_tokens = public_text(observations[0], self.sc.budget.message_chars, estimate_tokens, self.budget)
            return list(await asyncio.gather(*(self._one(client, sem, o, public, pub_tokens) for o in observations)))
        finally:
            await client.close()

    def decide(self, observations: list[Observation]) -> list[Answer]:
        """Send every creature's request at once and wait for all answers."""
        if not observations:
            return []
        return asyncio.run(self._all(observations))

    def card(self) -> dict[str, Any]:
        return {"name": self.model, "server": self.server, "base_url": self.base_url, "sampler": {"temperature": self.temperature}}
