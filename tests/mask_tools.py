"""Independent readers of the two action masks, for tests: a GBNF parser with a random derivation
generator and a recognizer, a random generator for the JSON Schema subset the mask uses, and the
rules' verdict on one drawn action.

They read the rendered texts (the GBNF string, the schema dict), not the engine's own trees, so a
bug in either renderer shows up as a disagreement.
"""

from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass
from typing import Any

from engine.turn import actions as A
from engine.turn.game import Game
from engine.turn.purse import terms_of_wood
from engine.turn.rules import resolve
from engine.world.creatures import Creature

PRINTABLE = [chr(c) for c in range(32, 127)]


# ------------------------------------------------------------------ GBNF
@dataclass(frozen=True, eq=False)
class G:
    """A GBNF expression: ``kind`` is lit, cls, seq, alt, rep or ref."""

    kind: str
    text: str = ""
    chars: tuple[str, ...] = ()
    items: tuple[G, ...] = ()
    lo: int = 0
    hi: int = 0


class GbnfError(ValueError):
    pass


class _Parser:
    def __init__(self, src: str) -> None:
        self.s = src
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def escape(self) -> str:
        c = self.s[self.i + 1]
        self.i += 2
        if c == "u":
            self.i += 4
            return chr(int(self.s[self.i - 4 : self.i], 16))
        if c == "x":
            self.i += 2
            return chr(int(self.s[self.i - 2 : self.i], 16))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(c, c)

    def char(self) -> str:
        """One character of a literal or a class, escapes read."""
        if self.peek() == "\\":
            return self.escape()
        self.i += 1
        return self.s[self.i - 1]

    def literal(self) -> G:
        self.i += 1
        out = []
        while self.peek() != '"':
            if not self.peek():
                raise GbnfError("unterminated string")
            out.append(self.char())
        self.i += 1
        return G("lit", text="".join(out))

    def char_class(self) -> G:
        self.i += 1
        negate = self.peek() == "^"
        self.i += negate
        chars: set[str] = set()
        while self.peek() != "]":
            a = b = self.char()
            if self.peek() == "-" and self.s[self.i + 1] != "]":
                self.i += 1
                b = self.char()
            chars |= {chr(c) for c in range(ord(a), ord(b) + 1)}
        self.i += 1
        got = set(PRINTABLE) - chars if negate else chars & set(PRINTABLE)
        return G("cls", chars=tuple(sorted(got)))

    def item(self) -> G:
        c = self.peek()
        if c == '"':
            node = self.literal()
        elif c == "[":
            node = self.char_class()
        elif c == "(":
            self.i += 1
            node = self.alternatives()
            self.skip()
            if self.peek() != ")":
                raise GbnfError(f"expected ) at {self.i}")
            self.i += 1
        else:
            m = re.compile(r"[A-Za-z0-9-]+").match(self.s, self.i)
            if not m:
                raise GbnfError(f"unexpected {c!r} at {self.i}")
            self.i = m.end()
            node = G("ref", text=m.group())
        return self.postfix(node)

    def postfix(self, node: G) -> G:
        while True:
            c = self.peek()
            if c and c in "*+?":
                self.i += 1
                lo, hi = {"*": (0, 10**9), "+": (1, 10**9), "?": (0, 1)}[c]
                node = G("rep", items=(node,), lo=lo, hi=hi)
            elif c == "{":
                m = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.s, self.i)
                if not m:
                    raise GbnfError(f"bad repetition at {self.i}")
                self.i = m.end()
                lo = int(m.group(1))
                hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else 10**9)
                node = G("rep", items=(node,), lo=lo, hi=hi)
            else:
                return node

    def sequence(self) -> G:
        items = []
        while True:
            self.skip()
            if self.peek() in ("", "|", ")", "\n"):
                break
            items.append(self.item())
        return items[0] if len(items) == 1 else G("seq", items=tuple(items))

    def alternatives(self) -> G:
        opts = [self.sequence()]
        while True:
            self.skip()
            if self.peek() != "|":
                break
            self.i += 1
            opts.append(self.sequence())
        return opts[0] if len(opts) == 1 else G("alt", items=tuple(opts))


def parse_gbnf(text: str) -> dict[str, G]:
    """The rules of a GBNF grammar (one rule a line), by name."""
    rules: dict[str, G] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, body = line.partition(" ::= ")
        if not sep:
            raise GbnfError(f"not a rule: {line[:60]!r}")
        p = _Parser(body)
        rules[name.strip()] = p.alternatives()
        if p.i != len(body):
            raise GbnfError(f"rule {name}: trailing text at {p.i}: {body[p.i:p.i + 30]!r}")
    if "root" not in rules:
        raise GbnfError("no root rule")
    for g in _walk(rules):
        if g.kind == "ref" and g.text not in rules:
            raise GbnfError(f"undefined rule {g.text}")
    return rules


def _walk(rules: dict[str, G]) -> list[G]:
    out, todo = [], list(rules.values())
    while todo:
        g = todo.pop()
        out.append(g)
        todo.extend(g.items)
    return out


def sample_gbnf(rules: dict[str, G], rng: random.Random, start: str = "root") -> str:
    """A random string the grammar derives (each alternative and repetition count uniform)."""
    out: list[str] = []

    def go(g: G) -> None:
        if g.kind == "lit":
            out.append(g.text)
        elif g.kind == "cls":
            out.append(rng.choice(g.chars))
        elif g.kind == "seq":
            for x in g.items:
                go(x)
        elif g.kind == "alt":
            go(rng.choice(g.items))
        elif g.kind == "ref":
            go(rules[g.text])
        else:
            for _ in range(rng.randint(g.lo, min(g.hi, g.lo + 100))):
                go(g.items[0])

    go(rules[start])
    return "".join(out)


def gbnf_accepts(rules: dict[str, G], text: str, start: str = "root") -> bool:
    """Whether the grammar derives exactly ``text`` (sets of end positions, memoized)."""
    memo: dict[tuple[int, int], frozenset[int]] = {}

    def ends(g: G, i: int) -> frozenset[int]:
        key = (id(g), i)
        got = memo.get(key)
        if got is not None:
            return got
        if g.kind == "lit":
            got = frozenset({i + len(g.text)}) if text.startswith(g.text, i) else frozenset()
        elif g.kind == "cls":
            got = frozenset({i + 1}) if i < len(text) and text[i] in g.chars else frozenset()
        elif g.kind == "ref":
            got = ends(rules[g.text], i)
        elif g.kind == "alt":
            got = frozenset().union(*(ends(x, i) for x in g.items))
        elif g.kind == "seq":
            at = frozenset({i})
            for x in g.items:
                at = frozenset().union(*(ends(x, p) for p in at)) if at else at
            got = at
        else:
            at, acc, n = frozenset({i}), set(), 0
            while at and n <= g.hi:
                if n >= g.lo:
                    acc |= at
                if n == g.hi:
                    break
                at = frozenset().union(*(ends(g.items[0], p) for p in at))
                n += 1
            got = frozenset(acc)
        memo[key] = got
        return got

    return len(text) in ends(rules[start], 0)


# ------------------------------------------------------------------ JSON Schema
def _pattern_parts(pattern: str) -> list[tuple[list[str], bool]]:
    """``^[..][..]*$`` as (characters, repeated) parts: the only pattern shape the mask writes."""
    body = pattern.removeprefix("^").removesuffix("$")
    parts = []
    at = 0
    for m in re.finditer(r"\[((?:\\.|[^\]\\])*)\](\*?)", body):
        if m.start() != at:
            break
        chars = [c for c in PRINTABLE if re.fullmatch(f"[{m.group(1)}]", c)]
        parts.append((chars, m.group(2) == "*"))
        at = m.end()
    if at != len(body) or not parts:
        raise ValueError(f"pattern not understood: {pattern}")
    return parts


def _string(s: dict[str, Any], rng: random.Random) -> str:
    most = s.get("maxLength", 40)
    least = s.get("minLength", 0)
    parts = _pattern_parts(s["pattern"]) if "pattern" in s else [(PRINTABLE, True)]
    fixed = sum(1 for _, rep in parts if not rep)
    room = rng.randint(max(0, least - fixed), max(0, most - fixed))
    out = []
    for chars, rep in parts:
        n = room if rep else 1
        room -= n if rep else 0
        out.extend(rng.choice(chars) for _ in range(n))
    return "".join(out)


def _int(s: dict[str, Any], rng: random.Random) -> int:
    lo, hi = s.get("minimum", 0), s.get("maximum", 10**6)
    return rng.choice([lo, hi, rng.randint(lo, hi), rng.randint(lo, min(hi, lo + 9))])


def sample_schema(schema: dict[str, Any], rng: random.Random, root: dict[str, Any] | None = None) -> Any:
    """A random value the schema admits, objects' keys in the order of their ``properties``."""
    root = root or schema
    if "$ref" in schema:
        return sample_schema(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], rng, root)
    if "anyOf" in schema:
        return sample_schema(rng.choice(schema["anyOf"]), rng, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        return _int(schema, rng)
    if kind == "string":
        return _string(schema, rng)
    if kind == "array":
        n = rng.randint(schema.get("minItems", 0), schema.get("maxItems", 5))
        return [sample_schema(schema["items"], rng, root) for _ in range(n)] if n else []
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        optional = [k for k in props if k not in required]
        least = max(0, schema.get("minProperties", 0) - len(required))
        most = min(len(optional), schema.get("maxProperties", len(props)) - len(required))
        chosen = set(rng.sample(optional, rng.randint(least, most))) if optional else set()
        return {k: sample_schema(v, rng, root) for k, v in props.items() if k in required or k in chosen}
    raise ValueError(f"schema not understood: {json.dumps(schema)[:80]}")


def compact(value: Any) -> str:
    """JSON the way the grammar writes it: no spaces, ASCII, keys in their order."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


# ------------------------------------------------------------------ the rules' verdict
def _gives_own_beyond_free(c: Creature, a: A.Action) -> bool:
    if c.makes is None:
        return False
    free = c.free.get(c.makes, 0)
    if isinstance(a, A.PlaceOrder):
        return a.side == "sell" and a.good == c.makes and a.qty > free
    if isinstance(a, A.MakeOffer | A.Counter):
        return a.give.get(c.makes, 0) > free
    if isinstance(a, A.Borrow):
        return a.collateral.get(c.makes, 0) > free
    return False


def _borrower_lacks_collateral(game: Game, a: A.Action) -> bool:
    """Accepting a borrow request whose borrower no longer holds its collateral free."""
    off = game.wood.deals.offers.get(a.id) if isinstance(a, A.Accept) else None
    if off is None or off.kind != "borrow":
        return False
    borrower = game.wood.creatures[off.borrower]
    return any(borrower.free.get(g, 0) < q for g, q in off.collateral.items())


def check_alone(game: Game, name: str, a: A.Action) -> None:
    """The rules accept ``a`` on the observed state, but for the exclusions stated in
    :mod:`tests.test_choices` (each checked precisely)."""
    w = copy.deepcopy(game.wood, {id(game.wood.scenario): game.wood.scenario})
    c = w.by_name[name]
    produced: set[int] = set()
    if _gives_own_beyond_free(c, a):
        assert resolve(w, c, A.Produce(qty=c.capacity), produced) is None
    bid_cost = terms_of_wood(w).order_cost("buy", a.good, a.qty, a.price)["pebbles"] if isinstance(a, A.PlaceOrder) else 0
    if isinstance(a, A.PlaceOrder) and a.side == "buy" and bid_cost > c.free.get("pebbles", 0):
        for bid in [x for x in w.book.owned(c.id) if x.side == "buy"]:  # bidding higher: the old bids go first
            assert resolve(w, c, A.Cancel(id=bid.id), produced) is None
    refused_for_collateral = _borrower_lacks_collateral(game, a)
    why = resolve(w, c, a, produced)
    if refused_for_collateral:
        assert why is not None and "collateral" in why, why
    else:
        assert why is None, (name, a, why)
