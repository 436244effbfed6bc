"""One chat-completions request to a server we do not trust, within a deadline and a size cap.

A server's answer is input like any other: it may be slow, silent, huge, HTML, or JSON of the
wrong shape. What this module promises:

- **A deadline over the whole turn.** Every request of a turn shares one monotonic deadline
  (``--timeout``, 60 s by default): connecting, waiting, reading (even one byte a second) and
  retrying all count against it.
- **A cap on an answer's size**, from the budget: a legal answer is at most ``max_tokens``
  tokens, so its body can be at most :func:`answer_cap` bytes; anything longer is refused
  without being read further (and never reaches the tape).
- **Retries only where they help**: HTTP 429 and 503, after ``Retry-After`` (seconds or a date)
  or a doubling backoff, and only while the deadline allows.
- **Every malformed answer is a refusal with a reason** (:class:`Refused`: the creature's turn
  is refused, the game goes on); only what the player must fix — no server there, a wrong
  key, a wrong model name — ends the game, as a :class:`~engine.core.errors.TTWoodError`.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from engine.core.errors import TTWoodError

RETRY_STATUSES = (429, 503)
FIRST_BACKOFF = 0.5
"""Seconds before the first retry when the server does not say (then doubled each time)."""
MAX_REPORTED_TOKENS = 10**9
"""The largest token count a server's ``usage`` may report (the tape keeps it; a save refuses more)."""
CAP_BASE = 32 * 1024
CAP_PER_TOKEN = 256
"""Bytes one answer token may take in the body at most (a long token, JSON-escaped)."""


def answer_cap(max_tokens: int) -> int:
    """The most bytes a legal answer of ``max_tokens`` tokens can take, with the reply around it."""
    return CAP_BASE + CAP_PER_TOKEN * max(0, max_tokens)


class Refused(Exception):
    """The server's answer cannot be used; ``reason`` says why (the creature's turn is refused)."""

    def __init__(self, reason: str, *, deadline: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.deadline = deadline
        """Whether it is refused because the deadline passed (no answer at all)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: StrictStr | None = None


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: _Message


class _Usage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prompt_tokens: StrictInt = Field(ge=0, le=MAX_REPORTED_TOKENS)
    completion_tokens: StrictInt = Field(ge=0, le=MAX_REPORTED_TOKENS)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


@dataclass(slots=True, frozen=True)
class Reply:
    """A usable answer: its text and the token counts the server gave (if it gave them)."""

    text: str
    prompt_tokens: int | None
    answer_tokens: int | None


def parse_reply(body: bytes) -> Reply:
    """The answer's text from a chat-completions body; :class:`Refused` when it has another shape."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Refused("the server's answer is not JSON") from None
    try:
        reply = _Reply.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "the answer"
        raise Refused(f"the server's answer has the wrong shape ({where}: {e['msg']})") from None
    usage = reply.usage
    return Reply(reply.choices[0].message.content or "", usage.prompt_tokens if usage else None,
                 usage.completion_tokens if usage else None)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    declared = resp.content_length
    if declared is not None and declared > cap:
        raise Refused(f"the server's answer is {declared:,} bytes, more than the {cap:,} a legal answer can take")
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > cap:
            raise Refused(f"the server's answer is longer than the {cap:,} bytes a legal answer can take")
        chunks.append(chunk)
    return b"".join(chunks)


async def _attempt(session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str],
                   cap: int) -> tuple[int, float | None, bytes]:
    """One request: ``(status, retry-after, body)``; raises :class:`Refused` for a body that cannot be used."""
    async with session.post(url, data=orjson.dumps(body), headers=headers) as resp:
        status = resp.status
        if status in RETRY_STATUSES:
            return status, retry_after(resp.headers.get("Retry-After")), b""
        if status >= 400:
            return status, None, b""
        kind = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json" and not kind.endswith("+json"):
            raise Refused(f"the server answered {kind or 'without a content type'}, not JSON (HTTP {status})")
        return status, None, await _read_capped(resp, cap)


async def chat(session: aiohttp.ClientSession, base_url: str, body: dict[str, Any], headers: dict[str, str], *,
               deadline: float, cap: int) -> Reply:
    """POST ``body`` to ``BASE_URL/chat/completions`` and return the answer, within ``deadline``
    (a ``time.monotonic()`` instant) and ``cap`` bytes. Raises :class:`Refused` or :class:`TTWoodError`."""
    url = f"{base_url}/chat/completions"
    backoff = FIRST_BACKOFF
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Refused("the server gave no answer within the turn's deadline", deadline=True)
        try:
            async with asyncio.timeout(left):
                status, wait, data = await _attempt(session, url, body, headers, cap)
        except TimeoutError:
            raise Refused("the server gave no answer within the turn's deadline", deadline=True) from None
        except aiohttp.ClientConnectorError as exc:
            raise TTWoodError(f"cannot reach the model server at {base_url} ({exc.os_error.strerror or exc}); is it running?") from None
        except aiohttp.ClientError as exc:
            raise Refused(f"the connection to the server failed ({type(exc).__name__})") from None
        if status in RETRY_STATUSES:
            wait = backoff if wait is None else wait
            backoff *= 2
            if time.monotonic() + wait >= deadline:
                raise Refused(f"the server is busy (HTTP {status}) past the turn's deadline", deadline=True)
            await asyncio.sleep(wait)
            continue
        if status in (401, 403):
            raise TTWoodError(f"the server at {base_url} refused the API key (HTTP {status}); set TTWOOD_API_KEY")
        if status == 404:
            raise TTWoodError(f"the server at {base_url} has no model {body.get('model')!r} or no chat endpoint (HTTP 404)")
        if status >= 400:
            raise Refused(f"the server answered HTTP {status}")
        return parse_reply(data)
