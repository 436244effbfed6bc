"""Grammars that only let a creature say legal things: the action mask as a GBNF grammar.

:mod:`engine.minds.mask` describes one creature's legal choices for one turn as a JSON schema; this
module builds the same choices as a small expression tree and renders it as GBNF (for
llama.cpp) or as a Python regular expression (for tests). Built by hand because llama.cpp's
JSON-schema converter ignores numeric ranges: here every quantity, price and id is an exact
range or enum, and quantities that must fit together (``qty × price`` within the purse,
interest within the cap for its principal) are split into cases.

The answer is compact JSON with no whitespace and ASCII-only strings, so every token the model
emits adds at least one character and :func:`max_len` bounds the answer's length in tokens:
a creature given that many tokens can always finish its answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from engine.core.assets import PEBBLES
from engine.core.errors import TTWoodError
from engine.turn.observation import Observation


# ------------------------------------------------------------------ the expression tree
@dataclass(frozen=True, slots=True)
class Lit:
    text: str


@dataclass(frozen=True, slots=True)
class Chars:
    """One character from a class written as it appears inside ``[...]`` (ASCII only)."""

    spec: str


@dataclass(frozen=True, slots=True)
class Seq:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Rep:
    node: Node
    lo: int
    hi: int


Node = Lit | Chars | Seq | Alt | Rep


def seq(*parts: Node | str) -> Node:
    out: list[Node] = []
    for p in parts:
        p = Lit(p) if isinstance(p, str) else p
        if isinstance(p, Lit) and out and isinstance(out[-1], Lit):
            out[-1] = Lit(out[-1].text + p.text)
        elif isinstance(p, Seq):
            for q in p.parts:
                out.append(q)
        else:
            out.append(p)
    return out[0] if len(out) == 1 else Seq(tuple(out))


def alt(*options: Node | str) -> Node:
    opts = tuple(Lit(o) if isinstance(o, str) else o for o in options)
    return opts[0] if len(opts) == 1 else Alt(opts)


def int_range(lo: int, hi: int) -> Node:
    """Exactly the decimal integers ``lo..hi`` (no leading zeros)."""
    if lo < 0 or hi < lo:
        raise ValueError(f"bad range {lo}..{hi}")
    parts: list[Node] = []
    for n in range(len(str(lo)), len(str(hi)) + 1):
        a = max(lo, 10 ** (n - 1) if n > 1 else 0)
        b = min(hi, 10**n - 1)
        if a <= b:
            parts.append(_same_len(str(a), str(b)))
    return alt(*parts)


def _same_len(a: str, b: str) -> Node:
    if len(a) == 1:
        return Lit(a) if a == b else Chars(f"{a}-{b}")
    if a[0] == b[0]:
        return seq(a[0], _same_len(a[1:], b[1:]))
    rest = len(a) - 1
    opts: list[Node] = [seq(a[0], _same_len(a[1:], "9" * rest))]
    if int(b[0]) - int(a[0]) > 1:
        lo, hi = chr(ord(a[0]) + 1), chr(ord(b[0]) - 1)
        opts.append(seq(Lit(lo) if lo == hi else Chars(f"{lo}-{hi}"), Rep(Chars("0-9"), rest, rest)))
    opts.append(seq(b[0], _same_len("0" * rest, b[1:])))
    return alt(*opts)


TEXT_CHARS = Chars(" !#-[\\]-~")
"""Printable ASCII without the double quote and the backslash (nothing to escape)."""
WORD_START = Chars("!#-[\\]-~")


THOUGHT_CHARS = Chars(" a-z")
"""A thought is a few plain lower-case words (digits and symbols cost a token each)."""


def thought(max_chars: int) -> Node:
    return seq('"', Rep(THOUGHT_CHARS, 0, max_chars), '"')


def text(max_chars: int, *, required: bool = False) -> Node:
    """A JSON string of at most ``max_chars`` plain characters; ``required``: not empty, not starting with a space."""
    if not required:
        return seq('"', Rep(TEXT_CHARS, 0, max_chars), '"')
    return seq('"', WORD_START, Rep(TEXT_CHARS, 0, max(0, max_chars - 1)), '"')


def enum_str(values: list[str]) -> Node:
    return alt(*[json.dumps(v) for v in values])


def max_len(node: Node) -> int:
    """The longest string the node admits, in characters."""
    if isinstance(node, Lit):
        return len(node.text)
    if isinstance(node, Chars):
        return 1
    if isinstance(node, Seq):
        return sum(max_len(p) for p in node.parts)
    if isinstance(node, Alt):
        return max(max_len(o) for o in node.options)
    return node.hi * max_len(node.node)


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


def _gbnf(node: Node) -> str:
    if isinstance(node, Lit):
        return json.dumps(node.text)
    if isinstance(node, Chars):
        return f"[{node.spec}]"
    if isinstance(node, Seq):
        return " ".join(_gbnf(p) if not isinstance(p, Alt) else f"({_gbnf(p)})" for p in node.parts)
    if isinstance(node, Alt):
        return " | ".join(_gbnf(o) for o in node.options)
    inner = _gbnf(node.node)
    if not isinstance(node.node, Lit | Chars):
        inner = f"({inner})"
    return f"{inner}{{{node.lo},{node.hi}}}" if node.lo != node.hi else f"{inner}{{{node.lo}}}"


def to_gbnf(node: Node) -> str:
    """The node as a GBNF grammar whose start rule is ``root``."""
    return f"root ::= {_gbnf(node)}\n"


# ------------------------------------------------------------------ the decision grammar
@dataclass(frozen=True, slots=True)
class Limits:
    """How long an answer may be: fewer, shorter parts when the token allowance is small."""

    actions: int = 3
    thinking: int = 40
    message: int = 60
    bundle_assets: int = 2


def _field(key: str, value: Node) -> Node:
    return seq(f'"{key}":', value)


def _obj(kind: str, *fields: Node) -> Node:
    parts: list[Node | str] = [f'{{"type":"{kind}"']
    for f in fields:
        parts += [",", f]
    parts.append("}")
    return seq(*parts)


def _bundle(limits: dict[str, int], n: int) -> Node:
    """A JSON object with 1..n of the given assets, each 1..its limit, in a fixed order."""
    assets = [a for a, q in limits.items() if q >= 1]
    if not assets:
        return Lit("{}")
    entries = [seq(f'"{a}":', int_range(1, limits[a])) for a in assets]
    opts: list[Node] = []
    for i, e in enumerate(entries):
        opts.append(seq("{", e, "}"))
        if n >= 2:
            for f in entries[i + 1 :]:
                opts.append(seq("{", e, ",", f, "}"))
    return alt(*opts)


def _principals(hi: int) -> list[int]:
    steps = [1, 2, 3, 5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500]
    return [p for p in steps if p <= hi] or ([hi] if hi >= 1 else [])


def action_choices(o: Observation, limits: Limits, *, max_price: int, max_qty: int, open_orders_cap: int = 8,
                   open_offers_cap: int = 4) -> list[Node]:
    """Every kind of legal action for this creature now, each as a grammar node."""
    others = [n.name for n in o.neighbours if n.alive and n.name != o.name]
    pebbles = o.free.get(PEBBLES, 0)
    held = {g: min(o.free.get(g, 0), max_qty) for g in o.goods if o.free.get(g, 0) > 0}
    buyable = [g for g in o.goods if g not in o.never_buy]
    out: list[Node] = []
    if o.makes and o.can_make > 0:
        out.append(_obj("produce", _field("qty", int_range(1, min(o.capacity, o.can_make)))))
    if len(o.my_orders) < open_orders_cap:
        # never cross my own orders: asks above my best bid, bids below my best ask
        best_bid = {g: max((x.price for x in o.my_orders if x.side == "buy" and x.good == g), default=0) for g in o.goods}
        best_ask = {g: min((x.price for x in o.my_orders if x.side == "sell" and x.good == g), default=max_price + 1) for g in o.goods}
        sell_opts = [seq(f'"good":"{g}","qty":', int_range(1, q), ',"price":', int_range(best_bid[g] + 1, max_price))
                     for g, q in held.items() if best_bid[g] < max_price]
        if sell_opts:
            out.append(seq('{"type":"order","side":"sell",', alt(*sell_opts), "}"))
        buy_opts = []
        for g in buyable:
            top = min(max_price, best_ask[g] - 1)
            per_qty = [seq(f'"qty":{q},"price":', int_range(1, min(top, pebbles // q)))
                       for q in (1, 2, 3, 4, 5, 6, 8, 10) if q <= max_qty and min(top, pebbles // q) >= 1]
            if per_qty:
                buy_opts.append(seq(f'"good":"{g}",', alt(*per_qty)))
        if buy_opts:
            out.append(seq('{"type":"order","side":"buy",', alt(*buy_opts), "}"))
    mine = [x.id for x in o.my_orders] + [x.id for x in o.my_offers]
    if mine:
        out.append(_obj("cancel", _field("id", alt(*[str(i) for i in mine]))))
    payable = []
    for x in o.offers_to_me:
        if x.kind == "trade":
            ok = not any(g in o.never_buy for g in x.give) and (x.due is not None or all(o.free.get(a, 0) >= q for a, q in x.get.items()))
        elif x.kind == "borrow":
            ok = pebbles >= x.principal
        else:
            ok = all(o.free.get(a, 0) >= q for a, q in x.collateral.items())
        if ok:
            payable.append(x.id)
    if payable:
        out.append(_obj("accept", _field("id", alt(*[str(i) for i in payable]))))
    if o.offers_to_me:
        out.append(_obj("reject", _field("id", alt(*[str(x.id) for x in o.offers_to_me]))))
    n = limits.bundle_assets
    if others:
        to = _field("to", enum_str(others))
        wanted = {g: max_qty for g in buyable if g not in held}
        if len(o.my_offers) < open_offers_cap:
            # nothing may be on both sides: goods for goods or pebbles, or pebbles for goods
            shapes = []
            if held:
                shapes.append(seq(_field("give", _bundle(held, n)), ",", _field("get", _bundle({**wanted, PEBBLES: min(max_qty * max_price, 999)}, n))))
            if pebbles and wanted:
                shapes.append(seq(_field("give", _bundle({PEBBLES: min(pebbles, max_qty * max_price)}, 1)), ",", _field("get", _bundle(wanted, n))))
            if shapes:
                out.append(seq('{"type":"offer",', to, ",", alt(*shapes), "}"))
        if len(o.my_offers) < open_offers_cap:
            loan_opts = []
            cap_pct = o.max_interest_pct
            for p in _principals(min(pebbles, 500)):
                loan_opts.append(seq(f'"pebbles":{p},"interest":', int_range(0, p * cap_pct // 100)))
            due = _field("due", int_range(1, max(1, o.max_term)))
            if loan_opts:
                out.append(seq('{"type":"lend",', to, ",", alt(*loan_opts), ",", due, "}"))
            borrow_opts = [seq(f'"pebbles":{p},"interest":', int_range(0, p * cap_pct // 100)) for p in _principals(100)]
            out.append(seq('{"type":"borrow",', to, ",", alt(*borrow_opts), ",", due, "}"))
        if limits.message:
            out.append(_obj("whisper", to, _field("text", text(limits.message, required=True))))
    loans = [ob for ob in o.obligations if ob.kind == "loan" and ob.i_owe.get(PEBBLES)]
    if loans and pebbles > 0:
        out.append(alt(*[_obj("repay", _field("id", Lit(str(ob.id))), _field("pebbles", int_range(1, min(pebbles, ob.i_owe[PEBBLES]))))
                         for ob in loans]))
    if limits.message:
        out.append(_obj("say", _field("text", text(limits.message, required=True))))
        out.append(_obj("note", _field("text", text(limits.message, required=True))))
    return out


def decision_grammar(o: Observation, limits: Limits, *, max_price: int = 1000, max_qty: int = 100) -> Node:
    """The whole answer: ``{"thinking":"…","actions":[…]}`` with 0..``limits.actions`` legal actions."""
    act = alt(*action_choices(o, limits, max_price=max_price, max_qty=max_qty))
    k = max(0, min(limits.actions, o.max_actions))
    if k == 0:
        actions: Node = Lit("")
    else:
        actions = alt(Lit(""), seq(act, Rep(seq(",", act), 0, k - 1))) if k > 1 else alt(Lit(""), act)
    return seq('{"thinking":', thought(limits.thinking), ',"actions":[', actions, "]}")


def answer_grammar(o: Observation, prompt_tokens: int, budget: int) -> tuple[Node, int]:
    """The grammar for a creature whose prompt takes ``prompt_tokens`` of ``budget``, and the
    answer's ``max_tokens`` (one more than the longest answer, for the end token). A clear error
    when the prompt leaves no room to answer."""
    max_tokens = budget - prompt_tokens
    try:
        node, _ = fit_grammar(o, max_tokens - 1, max_price=o.market_price_cap, max_qty=o.market_qty_cap)
    except ValueError:
        raise TTWoodError(
            f"{o.name}'s prompt takes {prompt_tokens} of {budget} tokens, leaving no room to answer: "
            "raise [budget] tokens in the scenario"
        ) from None
    return node, max_tokens


def fit_grammar(o: Observation, max_tokens: int, *, max_price: int = 1000, max_qty: int = 100) -> tuple[Node, Limits]:
    """The richest grammar whose longest answer fits in ``max_tokens`` tokens (one char or more each)."""
    for limits in (Limits(3, 40, 60, 2), Limits(2, 32, 48, 2), Limits(2, 24, 32, 1), Limits(1, 16, 24, 1), Limits(1, 0, 0, 1), Limits(0, 0, 0, 1)):
        g = decision_grammar(o, limits, max_price=max_price, max_qty=max_qty)
        if max_len(g) <= max_tokens:
            return g, limits
    raise ValueError(f"even the smallest answer needs more than {max_tokens} tokens")


# ------------------------------------------------------------------ following an answer as it grows
_EMPTY = Alt(())
"""Matches nothing."""
_EPS = Lit("")
_CHARSETS: dict[str, frozenset[str]] = {}


def _charset(spec: str) -> frozenset[str]:
    got = _CHARSETS.get(spec)
    if got is None:
        got = frozenset(chr(c) for c in range(32, 127) if re.fullmatch(f"[{spec}]", chr(c)))
        _CHARSETS[spec] = got
    return got


def _nullable(n: Node) -> bool:
    if isinstance(n, Lit):
        return not n.text
    if isinstance(n, Chars):
        return False
    if isinstance(n, Seq):
        return all(_nullable(p) for p in n.parts)
    if isinstance(n, Alt):
        return any(_nullable(o) for o in n.options)
    return n.lo == 0 or _nullable(n.node)


def _first(n: Node) -> set[str]:
    if isinstance(n, Lit):
        return {n.text[0]} if n.text else set()
    if isinstance(n, Chars):
        return set(_charset(n.spec))
    if isinstance(n, Seq):
        out: set[str] = set()
        for p in n.parts:
            out |= _first(p)
            if not _nullable(p):
                break
        return out
    if isinstance(n, Alt):
        out = set()
        for o in n.options:
            out |= _first(o)
        return out
    return _first(n.node) if n.hi > 0 else set()


def _seq_of(parts: tuple[Node, ...]) -> Node:
    parts = tuple(p for p in parts if p != _EPS)
    if not parts:
        return _EPS
    if any(p == _EMPTY for p in parts):
        return _EMPTY
    return parts[0] if len(parts) == 1 else Seq(parts)


def _alt_of(options: list[Node]) -> Node:
    opts = [o for o in options if o != _EMPTY]
    if not opts:
        return _EMPTY
    return opts[0] if len(opts) == 1 else Alt(tuple(opts))


def _deriv(n: Node, ch: str) -> Node:
    """What is left to match of ``n`` after the character ``ch`` (Brzozowski's derivative)."""
    if isinstance(n, Lit):
        return Lit(n.text[1:]) if n.text[:1] == ch else _EMPTY
    if isinstance(n, Chars):
        return _EPS if ch in _charset(n.spec) else _EMPTY
    if isinstance(n, Seq):
        head, rest = n.parts[0], n.parts[1:]
        d = _seq_of((_deriv(head, ch), *rest))
        if _nullable(head):
            return _alt_of([d, _deriv(_seq_of(rest), ch)])
        return d
    if isinstance(n, Alt):
        return _alt_of([_deriv(o, ch) for o in n.options])
    if n.hi == 0:
        return _EMPTY
    rest_rep: Node = Rep(n.node, max(0, n.lo - 1), n.hi - 1) if n.hi > 1 else _EPS
    return _seq_of((_deriv(n.node, ch), rest_rep))


class Matcher:
    """Follows an answer character by character through a grammar: says what is forced next
    (so a decoder can insert it without sampling) and when the answer is complete."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def advance(self, text: str) -> bool:
        """Consume ``text``; ``False`` (and no change) if the grammar does not allow it."""
        n = self.node
        for ch in text:
            n = _deriv(n, ch)
            if n == _EMPTY:
                return False
        self.node = n
        return True

    def forced(self) -> str:
        """The characters every legal continuation starts with (empty when there is a choice)."""
        out = []
        n = self.node
        while not _nullable(n):
            first = _first(n)
            if len(first) != 1:
                break
            ch = next(iter(first))
            out.append(ch)
            n = _deriv(n, ch)
        return "".join(out)

    def complete(self) -> bool:
        """Nothing more can follow: the answer is finished."""
        return _nullable(self.node) and not _first(self.node)
