"""The action mask as a grammar: :class:`~engine.minds.choices.Choices` rendered as GBNF.

The choices become a small expression tree (:func:`answer_node`), written out as GBNF for
llama.cpp, vLLM and SGLang (:func:`to_gbnf`; a subtree used twice becomes a named rule) or as a
Python regular expression (for tests), and followed character by character by
:class:`engine.minds.matcher.Matcher`. Built by hand because llama.cpp's JSON-schema converter
ignores numeric ranges: here every quantity, price and id is an exact range or enum.

The answer is compact JSON with no whitespace and ASCII-only strings, so every token the model
emits adds at least one character and :func:`max_len` bounds an answer's length in tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from engine.minds.choices import (
    SPEECH_CHARS,
    SPEECH_FIRST,
    THOUGHT_CHARS,
    Bundle,
    Cases,
    Choices,
    Const,
    Field,
    Ints,
    Kind,
    OneOf,
    Part,
    Text,
    Value,
)


# ------------------------------------------------------------------ the expression tree
@dataclass(frozen=True, slots=True, eq=False)
class Lit:
    text: str


@dataclass(frozen=True, slots=True, eq=False)
class Chars:
    """One character from a class written as it appears inside ``[...]`` (ASCII only)."""

    spec: str


@dataclass(frozen=True, slots=True, eq=False)
class Seq:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Alt:
    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Rep:
    node: Node
    lo: int
    hi: int


Node = Lit | Chars | Seq | Alt | Rep
"""Nodes compare by identity: a subtree used in two places is one object (one GBNF rule)."""


def seq(*parts: Node | str) -> Node:
    """The parts one after another (adjacent literals merged, nested sequences flattened)."""
    out: list[Node] = []
    for p in parts:
        p = Lit(p) if isinstance(p, str) else p
        for q in p.parts if isinstance(p, Seq) else (p,):
            if isinstance(q, Lit) and not q.text:
                continue
            if isinstance(q, Lit) and out and isinstance(out[-1], Lit):
                out[-1] = Lit(out[-1].text + q.text)
            else:
                out.append(q)
    if not out:
        return Lit("")
    return out[0] if len(out) == 1 else Seq(tuple(out))


def _head(n: Node) -> str:
    if isinstance(n, Lit):
        return n.text
    if isinstance(n, Seq) and isinstance(n.parts[0], Lit):
        return n.parts[0].text
    return ""


def _behead(n: Node, k: int) -> Node:
    if isinstance(n, Lit):
        return Lit(n.text[k:])
    assert isinstance(n, Seq) and isinstance(n.parts[0], Lit)
    return seq(n.parts[0].text[k:], *n.parts[1:])


def alt(*options: Node | str) -> Node:
    """Any one of the options. Options that start with the same text share it (a trie of literal
    prefixes), so a decoder sees one path until they differ."""
    flat: list[Node] = []
    for o in options:
        o = Lit(o) if isinstance(o, str) else o
        flat.extend(o.options if isinstance(o, Alt) else (o,))
    if len(flat) == 1:
        return flat[0]
    groups: dict[str, list[Node]] = {}
    for o in flat:
        groups.setdefault(_head(o)[:1], []).append(o)
    out: list[Node] = []
    for first, group in groups.items():
        if not first or len(group) == 1:
            out.extend(group)
            continue
        k = len(_common_prefix([_head(o) for o in group]))
        out.append(seq(_head(group[0])[:k], alt(*[_behead(o, k) for o in group])))
    return out[0] if len(out) == 1 else Alt(tuple(out))


def _common_prefix(texts: list[str]) -> str:
    lo, hi = min(texts), max(texts)
    i = 0
    while i < len(lo) and lo[i] == hi[i]:
        i += 1
    return lo[:i]


@lru_cache(maxsize=1 << 16)
def int_range(lo: int, hi: int) -> Node:
    """Exactly the decimal integers ``lo..hi`` (no leading zeros), compactly: the numbers of every
    length strictly between ``lo``'s and ``hi``'s as one ``[1-9][0-9]{a,b}``. Kept once made:
    every creature's grammar, every turn, asks for the same few ranges (nodes are never changed,
    so one may sit in many trees)."""
    if lo < 0 or hi < lo:
        raise ValueError(f"bad range {lo}..{hi}")
    a, b = len(str(lo)), len(str(hi))
    if a == b:
        return _same_len(str(lo), str(hi))
    parts = [_same_len(str(lo), "9" * a)]
    if b - a > 1:
        parts.append(Seq((Chars("1-9"), Rep(Chars("0-9"), a, b - 2))))
    parts.append(_same_len("1" + "0" * (b - 1), str(hi)))
    return Alt(tuple(parts))


def _same_len(a: str, b: str) -> Node:
    """The numbers from ``a`` to ``b``, both of the same length."""
    if len(a) == 1:
        return Lit(a) if a == b else Chars(f"{a}-{b}")
    if a[0] == b[0]:
        return seq(a[0], _same_len(a[1:], b[1:]))
    rest = len(a) - 1
    if a[1:] == "0" * rest and b[1:] == "9" * rest:
        return seq(Chars(f"{a[0]}-{b[0]}"), Rep(Chars("0-9"), rest, rest))
    opts: list[Node] = [seq(a[0], _same_len(a[1:], "9" * rest))]
    if int(b[0]) - int(a[0]) > 1:
        lo, hi = chr(ord(a[0]) + 1), chr(ord(b[0]) - 1)
        opts.append(seq(Lit(lo) if lo == hi else Chars(f"{lo}-{hi}"), Rep(Chars("0-9"), rest, rest)))
    opts.append(seq(b[0], _same_len("0" * rest, b[1:])))
    return Alt(tuple(opts))


# ------------------------------------------------------------------ measuring and writing a tree
def max_len(node: Node) -> int:
    """The longest string the node admits, in characters."""
    memo: dict[int, int] = {}

    def go(n: Node) -> int:
        got = memo.get(id(n))
        if got is None:
            if isinstance(n, Lit):
                got = len(n.text)
            elif isinstance(n, Chars):
                got = 1
            elif isinstance(n, Seq):
                got = sum(go(p) for p in n.parts)
            elif isinstance(n, Alt):
                got = max(go(o) for o in n.options)
            else:
                got = n.hi * go(n.node)
            memo[id(n)] = got
        return got

    return go(node)


def to_regex(node: Node) -> str:
    """The node as a Python regular expression (for tests)."""
    if isinstance(node, Lit):
        return re.escape(node.text)
    if isinstance(node, Chars):
        return f"[{node.spec}]"
    if isinstance(node, Seq):
        return "".join(to_regex(p) for p in node.parts)
    if isinstance(node, Alt):
        return "(?:" + "|".join(to_regex(o) for o in node.options) + ")"
    return f"(?:{to_regex(node.node)}){{{node.lo},{node.hi}}}"


def _children(n: Node) -> tuple[Node, ...]:
    if isinstance(n, Seq):
        return n.parts
    if isinstance(n, Alt):
        return n.options
    return (n.node,) if isinstance(n, Rep) else ()


def to_gbnf(node: Node) -> str:
    """The node as a GBNF grammar whose start rule is ``root``; a subtree used in more than one
    place is written once, as its own rule."""
    uses: dict[int, int] = {}
    order: list[Node] = []

    def count(n: Node) -> None:
        uses[id(n)] = uses.get(id(n), 0) + 1
        if uses[id(n)] == 1:
            order.append(n)
            for c in _children(n):
                count(c)

    count(node)
    # A repeated group is its own rule too: llama.cpp refuses ``(group){m,n}`` when the rules the
    # group makes times ``n`` pass 2000 (a whole action inlined, repeated 8 times, does).
    repeated = {id(n.node) for n in order if isinstance(n, Rep)}
    names = {id(n): f"r{i}" for i, n in enumerate(
        x for x in order if (uses[id(x)] > 1 or id(x) in repeated) and isinstance(x, Seq | Alt | Rep))}
    def body(n: Node, top: bool) -> str:
        if not top and id(n) in names:
            return names[id(n)]
        if isinstance(n, Lit):
            return json.dumps(n.text)
        if isinstance(n, Chars):
            return f"[{n.spec}]"
        if isinstance(n, Seq):
            return " ".join(f"({body(p, False)})" if isinstance(p, Alt) and id(p) not in names else body(p, False) for p in n.parts)
        if isinstance(n, Alt):
            return " | ".join(body(o, False) for o in n.options)
        inner = body(n.node, False)
        if not isinstance(n.node, Lit | Chars) and id(n.node) not in names:
            inner = f"({inner})"
        return f"{inner}{{{n.lo},{n.hi}}}" if n.lo != n.hi else f"{inner}{{{n.lo}}}"

    lines = [f"root ::= {body(node, True)}"]
    lines += [f"{names[id(n)]} ::= {body(n, True)}" for n in order if id(n) in names]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the choices as a tree
class _Render:
    """Turns choices into nodes; equal values become one node (so one GBNF rule)."""

    def __init__(self) -> None:
        self.values: dict[Value, Node] = {}

    def value(self, v: Value) -> Node:
        got = self.values.get(v)
        if got is None:
            got = self.values[v] = self._value(v)
        return got

    def _value(self, v: Value) -> Node:
        if isinstance(v, Const):
            return Lit(json.dumps(v.value))
        if isinstance(v, Ints):
            return int_range(v.lo, v.hi)
        if isinstance(v, OneOf):
            return alt(*[json.dumps(x) for x in v.values])
        if isinstance(v, Text):
            if v.kind == "thought":
                return seq('"', Rep(Chars(THOUGHT_CHARS), 0, v.most), '"')
            return seq('"', Chars(SPEECH_FIRST), Rep(Chars(SPEECH_CHARS), 0, v.most - 1), '"')
        return bundle_node(v, self.value)

    def parts(self, parts: tuple[Part, ...]) -> Node:
        """The parts of an action after its type, each with its leading comma."""
        out: list[Node] = []
        for p in parts:
            if isinstance(p, Field):
                out.append(seq(f',"{p.key}":', self.value(p.value)))
            else:
                out.append(self.cases(p))
        return seq(*out)

    def cases(self, c: Cases) -> Node:
        return alt(*[self.parts(o) for o in c.options])

    def kind(self, k: Kind) -> Node:
        return seq(f'{{"type":"{k.type}"', self.parts(k.parts), "}")


def bundle_node(b: Bundle, value: Callable[[Value], Node] | None = None, *,
                entry: Callable[[str, Node], Node] = lambda a, n: seq(f'"{a}":', n),
                sep: str = ",", braces: tuple[str, str] = ("{", "}")) -> Node:
    """``{...}`` with 1..``b.most`` of the assets, in their order, each 1..its limit (``value``
    renders each quantity, so equal ones can be one node). ``entry`` writes one asset and its
    quantity, ``sep`` goes between two, ``braces`` around them all (JSON's by default)."""
    number = value or (lambda v: int_range(v.lo, v.hi) if isinstance(v, Ints) else Lit(""))
    entries = [entry(a, number(Ints(1, q))) for a, q in b.limits]
    memo: dict[tuple[int, int], Node] = {}

    def after(i: int, k: int) -> Node:
        """Nothing more, or ``sep entry`` for an asset from ``i`` on, then up to ``k - 1`` more."""
        if k <= 0 or i >= len(entries):
            return Lit("")
        if (i, k) not in memo:
            memo[(i, k)] = alt("", *[seq(sep, entries[j], after(j + 1, k - 1)) for j in range(i, len(entries))])
        return memo[(i, k)]

    return seq(braces[0], alt(*[seq(entries[j], after(j + 1, b.most - 1)) for j in range(len(entries))]), braces[1])


def action_node(choices: Choices) -> Node:
    """Any one action the choices allow."""
    r = _Render()
    return alt(*[r.kind(k) for k in choices.kinds])


def head_node(choices: Choices) -> Node:
    """An answer up to its first action: ``{"thinking":"…","actions":[``."""
    return seq('{"thinking":', _Render().value(Text(choices.thinking, "thought")), ',"actions":[')


def answer_node(choices: Choices, act: Node | None = None) -> Node:
    """A whole answer: ``{"thinking":"…","actions":[…]}`` with 0..``choices.actions`` actions
    (``act``: :func:`action_node` of the choices, when it is already built)."""
    k = choices.actions if choices.kinds else 0
    if k == 0:
        actions: Node = Lit("")
    else:
        act = act or action_node(choices)
        actions = alt("", seq(act, Rep(seq(",", act), 0, k - 1)) if k > 1 else act)
    return seq(head_node(choices), actions, "]}")
