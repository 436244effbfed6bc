"""Following an answer through its grammar as it grows, one character at a time.

A decoder asks what text the grammar forces next (to insert it without sampling), whether the
answer is complete, and whether it could close now (to stop before the token allowance runs out).
Brzozowski derivatives of :mod:`engine.minds.grammar`'s expression tree: what is left to match
after each character.
"""

from __future__ import annotations

import re

from engine.minds.grammar import Alt, Chars, Lit, Node, Rep, Seq

_EMPTY = Alt(())
"""Matches nothing."""
_EPS = Lit("")
"""Matches only the empty string."""
_CHARSETS: dict[str, frozenset[str]] = {}


def _charset(spec: str) -> frozenset[str]:
    got = _CHARSETS.get(spec)
    if got is None:
        got = frozenset(chr(c) for c in range(32, 127) if re.fullmatch(f"[{spec}]", chr(c)))
        _CHARSETS[spec] = got
    return got


def _dead(n: Node) -> bool:
    return isinstance(n, Alt) and not n.options


def _eps(n: Node) -> bool:
    return isinstance(n, Lit) and not n.text


def nullable(n: Node) -> bool:
    """Whether the node admits the empty string."""
    if isinstance(n, Lit):
        return not n.text
    if isinstance(n, Chars):
        return False
    if isinstance(n, Seq):
        return all(nullable(p) for p in n.parts)
    if isinstance(n, Alt):
        return any(nullable(o) for o in n.options)
    return n.lo == 0 or nullable(n.node)


def first(n: Node) -> set[str]:
    """The characters a non-empty string the node admits may start with."""
    if isinstance(n, Lit):
        return {n.text[0]} if n.text else set()
    if isinstance(n, Chars):
        return set(_charset(n.spec))
    if isinstance(n, Seq):
        out: set[str] = set()
        for p in n.parts:
            out |= first(p)
            if not nullable(p):
                break
        return out
    if isinstance(n, Alt):
        out = set()
        for o in n.options:
            out |= first(o)
        return out
    return first(n.node) if n.hi > 0 else set()


def _seq_of(parts: tuple[Node, ...]) -> Node:
    parts = tuple(p for p in parts if not _eps(p))
    if not parts:
        return _EPS
    if any(_dead(p) for p in parts):
        return _EMPTY
    return parts[0] if len(parts) == 1 else Seq(parts)


def _alt_of(options: list[Node]) -> Node:
    opts = [o for o in options if not _dead(o)]
    if not opts:
        return _EMPTY
    return opts[0] if len(opts) == 1 else Alt(tuple(opts))


def derive(n: Node, ch: str) -> Node:
    """What is left to match of ``n`` after the character ``ch``."""
    if isinstance(n, Lit):
        return Lit(n.text[1:]) if n.text[:1] == ch else _EMPTY
    if isinstance(n, Chars):
        return _EPS if ch in _charset(n.spec) else _EMPTY
    if isinstance(n, Seq):
        head, rest = n.parts[0], n.parts[1:]
        d = _seq_of((derive(head, ch), *rest))
        if nullable(head):
            return _alt_of([d, derive(_seq_of(rest), ch)])
        return d
    if isinstance(n, Alt):
        return _alt_of([derive(o, ch) for o in n.options])
    if n.hi == 0:
        return _EMPTY
    rest_rep: Node = Rep(n.node, max(0, n.lo - 1), n.hi - 1) if n.hi > 1 else _EPS
    return _seq_of((derive(n.node, ch), rest_rep))


def derive_text(n: Node, text: str) -> Node | None:
    """What is left after ``text``, or ``None`` if the node does not admit it as a prefix."""
    for ch in text:
        n = derive(n, ch)
        if _dead(n):
            return None
    return n


def admits(n: Node, text: str) -> bool:
    """Whether the node admits exactly ``text``."""
    rest = derive_text(n, text)
    return rest is not None and nullable(rest)


class Matcher:
    """Follows an answer character by character through a grammar: says what is forced next
    (so a decoder can insert it without sampling) and when the answer is complete."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def advance(self, text: str) -> bool:
        """Consume ``text``; ``False`` (and no change) if the grammar does not allow it."""
        n = derive_text(self.node, text)
        if n is None:
            return False
        self.node = n
        return True

    def forced(self) -> str:
        """The characters every legal continuation starts with (empty when there is a choice)."""
        out = []
        n = self.node
        while not nullable(n):
            chars = first(n)
            if len(chars) != 1:
                break
            ch = next(iter(chars))
            out.append(ch)
            n = derive(n, ch)
        return "".join(out)

    def jump(self) -> str:
        """What a decoder inserts without sampling: the forced text, less any spaces it ends with.
        A space before a word is spelled with the word (`` firewood`` is one token): inserted on
        its own it would cost a token of its own and split the word from its usual spelling."""
        return self.forced().rstrip(" ")

    def complete(self) -> bool:
        """Nothing more can follow: the answer is finished."""
        return nullable(self.node) and not first(self.node)

    def can_end_with(self, text: str) -> bool:
        """Whether ``text`` would finish the answer here (e.g. ``]}`` between two actions)."""
        rest = derive_text(self.node, text)
        return rest is not None and nullable(rest) and not first(rest)

    def end_point(self, text: str, end: str) -> int | None:
        """The first ``j`` such that ``text[:j] + end`` would finish the answer here, if any
        (``None`` also when the grammar does not admit ``text``'s prefix that far)."""
        n: Node | None = self.node
        for j in range(len(text) + 1):
            if n is None:
                return None
            if Matcher(n).can_end_with(end):
                return j
            if j < len(text):
                n = derive_text(n, text[j])
        return None
