"""A turn in flight, creature by creature: who waits, who thinks (and what so far), who is done.

Whoever plays a turn and wants to show it as it decodes opens a :class:`Watch` around the turn
(:func:`watching`); the game marks each creature waiting, thinking and done as its brain is asked
and answers, and a brain that writes its answers token by token MAY tell the watch more often
(tokens so far, the answer so far) through :func:`current`. With no one watching, ``current()``
is ``None`` and a brain does nothing more. The watch calls its listener, in the thread that plays
the turn, with an immutable snapshot (:class:`Progress` per creature) after every change it is
told of; a brain asks :meth:`Watch.due` first, so that it tells at most every
:attr:`Watch.every` seconds.

The thought is the start of the answer, in either spelling a brain writes (:func:`thought_so_far`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from engine.turn.brain import Answer

State = Literal["waiting", "thinking", "done"]

_THINKING_KEY = re.compile(r'"thinking"\s*:\s*"')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a character written as two escapes, the other half not written yet."""


def thought_so_far(answer: str) -> str:
    """The thought written so far in a (partial) answer, in either spelling.

    JSON (``{"thinking":"…","actions":[…]}``): the ``thinking`` string up to its closing quote (or
    all of it written so far), its escapes read. The terse line spelling (the thought on the first
    line, then one action a line): the text before the first line break.
    """
    head = answer.lstrip()
    if not head.startswith("{"):
        return head.partition("\n")[0].strip()
    m = _THINKING_KEY.search(head)
    if m is None:
        return ""
    body = head[m.end():]
    i, n = 0, len(body)
    while i < n and body[i] != '"':
        if body[i] != "\\":
            i += 1
        elif i + 1 < n and (body[i + 1] != "u" or i + 6 <= n):
            i += 6 if body[i + 1] == "u" else 2
        else:  # an escape cut short: wait for the rest
            break
    try:
        text = str(json.loads(f'"{body[:i]}"'))
    except ValueError:  # a model's odd escape: show the text as written
        text = body[:i]
    return _LONE_SURROGATE.sub("", text)


@dataclass(frozen=True, slots=True)
class Progress:
    """One creature in the turn being decided."""

    name: str
    state: State
    tokens: int = 0
    """Answer tokens written so far (``0`` while waiting, or for a brain that counts none)."""
    thought: str = ""
    """The thought written so far (:func:`thought_so_far`)."""


Listener = Callable[[tuple[Progress, ...]], None]
"""Hears every creature's progress, in the cast's order, after each change."""


class Watch:
    """What every creature of the turn in flight is doing, told to a listener as it changes."""

    every = 0.1
    """Seconds between a brain's reports (:meth:`due`); the game's own marks are told at once."""

    def __init__(self, listener: Listener, clock: Callable[[], float] = time.monotonic) -> None:
        self.listener = listener
        self.clock = clock
        self._now: dict[str, Progress] = {}
        self._last = float("-inf")

    def due(self) -> bool:
        """True when a brain should tell its progress now (at most every :attr:`every` seconds)."""
        return self.clock() - self._last >= self.every

    def waiting(self, names: Iterable[str]) -> None:
        """The turn starts: these creatures (the whole cast that decides, in order) wait."""
        self._now = {n: Progress(n, "waiting") for n in names}
        self._tell()

    def thinking(self, names: Iterable[str]) -> None:
        """Their brain has been asked."""
        for n in names:
            self._now[n] = Progress(n, "thinking")
        self._tell()

    def answered(self, names: Iterable[str], answers: Iterable[Answer]) -> None:
        """Their brain has answered: done, with each answer's tokens and thought."""
        for n, a in zip(names, answers, strict=False):
            tokens = a.meta.get("answer_tokens")
            self._now[n] = Progress(n, "done", tokens if isinstance(tokens, int) else 0, a.thinking)
        self._tell()

    def saw(self, answers: Iterable[tuple[str, int, str | bytes | bytearray, bool]]) -> None:
        """A brain's report: ``(name, tokens so far, answer so far, done)`` for some of its creatures
        (an answer in bytes may end part-way through a character)."""
        for name, tokens, text, done in answers:
            if isinstance(text, (bytes, bytearray)):
                text = bytes(text).decode(errors="replace").rstrip("\ufffd")
            self._now[name] = Progress(name, "done" if done else "thinking", tokens, thought_so_far(text))
        self._tell()

    def snapshot(self) -> tuple[Progress, ...]:
        """Every creature's progress now, in the cast's order."""
        return tuple(self._now.values())

    def _tell(self) -> None:
        self._last = self.clock()
        self.listener(self.snapshot())


_CURRENT: ContextVar[Watch | None] = ContextVar("ttwood_watch", default=None)


def current() -> Watch | None:
    """The watch on the turn being played in this thread, or ``None`` when no one watches."""
    return _CURRENT.get()


@contextmanager
def watching(watch: Watch | None) -> Iterator[Watch | None]:
    """Play what runs inside under ``watch`` (``None``: unwatched)."""
    token = _CURRENT.set(watch)
    try:
        yield watch
    finally:
        _CURRENT.reset(token)
