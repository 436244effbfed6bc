"""The terse spelling of an answer: a thought on the first line, then one action a line.

The JSON spelling (:mod:`engine.minds.grammar`) costs a model ~25 tokens an action, most of them
keys and quotes the grammar forces (and a forced token costs a decoding step like a sampled one).
This spelling says the same decision in a few words, chosen from token counts with the embedded
tokenizer (BENCHMARKS.md: "Answer spellings")::

    cold coming, sell honey
    produce 4
    sell honey 3 @5
    offer Clover 2 honey for 6 pebbles due 3
    lend Moss 10 +2 due 5 pledge 3 nuts
    whisper Clover i can spare honey
    <an empty line ends the answer>

Every action ends with a line break and an empty line closes the answer, so a decoder knows an
action has ended (``@5`` may go on to ``@50``; ``@5`` and a line break may not). The layout of
each kind (:data:`LAYOUT`) is the one place that says where each key goes and how it is marked:
the grammar (:func:`action_node`), the writer (:func:`answer_lines`) and the reader
(:func:`parse_lines`) are all drawn from it, and a property test ties them to the JSON spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.core.assets import PEBBLES
from engine.minds import grammar
from engine.minds.choices import (
    SPEECH_CHARS,
    SPEECH_FIRST,
    THOUGHT_CHARS,
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
from engine.minds.grammar import Chars, Lit, Node, Rep, alt, int_range, seq

END = "\n"
"""What ends the thought and every action."""
CLOSE = "\n"
"""What closes the answer after the last action's line break: an empty line."""
BUNDLE_SEP = ", "
"""Between two assets of a bundle (``2 honey, 1 nuts``)."""

MARK: dict[str, str] = {
    "side": "", "good": " ", "qty": " ", "price": " @", "id": " ", "to": " ", "give": " ", "get": " for ",
    "due": " due ", "pebbles": " ", "interest": " +", "collateral": " pledge ", "text": " ",
}
"""What goes before each key's value (the kind's word comes first, but for an order, whose side is
its word: ``sell honey 3 @5``)."""
KIND_MARK: dict[tuple[str, str], str] = {("whisper", "text"): ": "}
"""Where a kind marks a key its own way: a whisper's words follow its addressee's name after a
colon, which no name holds (names may hold spaces: ``whisper Old Moss: hello``)."""
LAYOUT: dict[str, tuple[str, ...]] = {
    "produce": ("qty",),
    "order": ("side", "good", "qty", "price"),
    "cancel": ("id",), "accept": ("id",), "reject": ("id",),
    "counter": ("id", "give", "get", "due?"),
    "offer": ("to", "give", "get", "due?"),
    "lend": ("to", "pebbles", "interest", "due", "collateral?"),
    "borrow": ("to", "pebbles", "interest", "due", "collateral?"),
    "repay": ("id", "pebbles"),
    "say": ("text",), "whisper": ("to", "text"), "note": ("text",),
}
"""Each kind's keys in the order they are written (``?``: may be left out). The choices
(:mod:`engine.minds.legal`) list them in the same order."""
SILENT = frozenset({"order"})
"""Kinds whose word is not written (an order's side says it)."""


def _verb(kind: str) -> str:
    return "" if kind in SILENT else kind


def _mark(kind: str, key: str) -> str:
    return KIND_MARK.get((kind, key), MARK[key])


# ------------------------------------------------------------------ the grammar
class _Render(grammar._Render):
    """Turns choices into this spelling's nodes; equal values become one node (one GBNF rule)."""

    def _value(self, v: Value) -> Node:
        if isinstance(v, Const):
            return Lit(v.value)
        if isinstance(v, Ints):
            return int_range(v.lo, v.hi)
        if isinstance(v, OneOf):
            return alt(*[str(x) for x in v.values])
        if isinstance(v, Text):
            if v.kind == "thought":
                return Rep(Chars(THOUGHT_CHARS), 0, v.most)
            return seq(Chars(SPEECH_FIRST), Rep(Chars(SPEECH_CHARS), 0, v.most - 1))
        # 1..most assets, each ``qty asset``: ``2 honey, 1 nuts``
        return grammar.bundle_node(v, self.value, entry=lambda a, n: seq(n, f" {a}"), sep=BUNDLE_SEP, braces=("", ""))

    def _parts_of(self, kind: str, parts: tuple[Part, ...]) -> Node:
        out: list[Node] = []
        for p in parts:
            if isinstance(p, Field):
                out.append(seq(_mark(kind, p.key), self.value(p.value)))
            else:
                out.append(alt(*[self._parts_of(kind, o) for o in p.options]))
        return seq(*out)

    def kind(self, k: Kind) -> Node:
        return seq(_verb(k.type), self._parts_of(k.type, k.parts), END)


def action_node(choices: Choices) -> Node:
    """Any one action the choices allow, with its line break."""
    r = _Render()
    return alt(*[r.kind(k) for k in choices.kinds])


def head_node(choices: Choices) -> Node:
    """The thought and its line break."""
    return seq(_Render().value(Text(choices.thinking, "thought")), END)


def answer_node(choices: Choices, act: Node | None = None) -> Node:
    """A whole answer: the thought, 0..``choices.actions`` actions, the empty line."""
    k = choices.actions if choices.kinds else 0
    if k == 0:
        return seq(head_node(choices), CLOSE)
    return seq(head_node(choices), Rep(act or action_node(choices), 0, k), CLOSE)


def rest_node(rest: Choices | None, left: int) -> Node:
    """After an action: up to ``left`` more of ``rest``, then the empty line."""
    if rest is None or not rest.kinds or left <= 0:
        return Lit(CLOSE)
    return seq(Rep(action_node(rest), 0, left), CLOSE)


# ------------------------------------------------------------------ writing
def _bundle_text(value: Mapping[str, int], rank: Mapping[str, int]) -> str:
    keys = sorted((k for k in value if value[k]), key=lambda a: rank.get(a, len(rank)))
    return BUNDLE_SEP.join(f"{value[k]} {k}" for k in keys)


def action_line(action: Mapping[str, Any], goods: Iterable[str]) -> str:
    """One action (a ``model_dump()``) as this spelling writes it, with its line break."""
    rank = {a: i for i, a in enumerate([*goods, PEBBLES])}
    out = [_verb(action["type"])]
    for slot in LAYOUT[action["type"]]:
        key = slot.rstrip("?")
        v = action.get(key)
        if slot.endswith("?") and (v is None or v == {}):
            continue
        out.append(_mark(action["type"], key) + (_bundle_text(v, rank) if isinstance(v, dict) else str(v)))
    return "".join(out) + END


def answer_lines(thinking: str, actions: Sequence[Mapping[str, Any]], goods: Iterable[str]) -> str:
    """A whole decision in this spelling."""
    goods = list(goods)
    return thinking + END + "".join(action_line(a, goods) for a in actions) + CLOSE


# ------------------------------------------------------------------ reading
def _names(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True)) or "(?!)"


class LineReader:
    """Reads this spelling's lines back into actions (as ``model_dump()`` dicts), knowing the names
    and goods of the wood (names may hold spaces: they are matched whole, longest first)."""

    def __init__(self, names: Iterable[str], goods: Iterable[str]) -> None:
        goods = list(goods)
        assets = _names([*goods, PEBBLES])
        self.bundle = re.compile(rf"(\d+) ({assets})")
        value = {
            "side": "(buy|sell)", "good": f"({_names(goods)})", "to": f"({_names(names)})", "text": "(.+)",
            "give": rf"(\d+ (?:{assets})(?:{BUNDLE_SEP}\d+ (?:{assets}))*)",
        }
        value["get"] = value["collateral"] = value["give"]
        self.kinds: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = []
        for kind, slots in LAYOUT.items():
            pat = re.escape(_verb(kind))
            for slot in slots:
                key = slot.rstrip("?")
                one = re.escape(_mark(kind, key)) + value.get(key, r"(\d+)")
                pat += f"(?:{one})?" if slot.endswith("?") else one
            self.kinds.append((kind, re.compile(pat), tuple(s.rstrip("?") for s in slots)))

    def action(self, line: str) -> dict[str, Any] | None:
        """The action a line spells, or ``None`` when it spells none."""
        for kind, pat, keys in self.kinds:
            m = pat.fullmatch(line)
            if m is None:
                continue
            out: dict[str, Any] = {"type": kind}
            for key, got in zip(keys, m.groups(), strict=True):
                if got is None:
                    continue
                if key in ("give", "get", "collateral"):
                    out[key] = {a: int(q) for q, a in self.bundle.findall(got)}
                elif key in ("side", "good", "to", "text"):
                    out[key] = got
                else:
                    out[key] = int(got)
            return out
        return None

    def read(self, raw: str) -> tuple[str, list[dict[str, Any] | str]]:
        """The thought, and per action line its action, or the line itself when it spells none.
        Reading stops at the empty line that closes the answer."""
        thought, _, rest = raw.partition(END)
        out: list[dict[str, Any] | str] = []
        for line in rest.split(END):
            if not line:
                break
            got = self.action(line)
            out.append(got if got is not None else line)
        return thought, out

    def complete(self, text: str) -> list[dict[str, Any]]:
        """The actions of every finished line of a growing answer (its thought's line excluded)."""
        _, _, rest = text.partition(END)
        done = rest.split(END)[:-1]
        return [a for a in (self.action(x) for x in done if x) if a is not None]
