"""The scripted teacher's bookkeeping: what a turn's creatures share (:class:`Town`), and one
creature's plan (:class:`MindBase`): candidate actions, each with a priority, of which the most
important that fit the answer allowance are kept, as a student model could say them.

The allowance is the one a small model has: at most ``max_actions`` actions and an answer of at
most :data:`ANSWER_CHARS` characters of compact JSON (:func:`answer_text`). Candidates that
depend on another (a sale of what this turn makes depends on making it, a whisper on the offer it
explains) are kept only with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from engine.core.assets import PEBBLES
from engine.economy.settlement import LEFT_EARLY
from engine.elders.hearing import hear
from engine.elders.speech import SPEECH_CHARS, THINKING_CHARS, line, shorten, thought
from engine.turn import actions as A
from engine.turn.observation import Observation
from engine.turn.purse import MAX_OPEN_OFFERS, MAX_OPEN_ORDERS, Terms, terms_of

ANSWER_CHARS = 600
"""The longest compact answer a scripted creature gives, thinking included."""
MAX_SPEECH = 2
"""Says, whispers and notes a creature uses at most in one turn."""
_FRAME = len('{"thinking":"","actions":[]}')
_PLEAS = ("need", "hungry", "bare", "cold", "fire is out", "belly")
"""Words of a creature asking for food or fire (the teacher's own pleas use them)."""
_DEFAULT = re.compile(r"DEFAULT: (.+?) broke contract #(\d+) with (.+?):")



class Priority:
    """Priorities: what a creature keeps first when it cannot say everything."""

    REPAY_DUE = 100
    ACCEPT = 95
    URGENT = 90
    PRODUCE = 88
    SELL_OWN = 91
    REPAY_EARLY = 84
    DENY = 80
    """Answering a rumour about myself: a run on my hoard starts with silence."""
    NEED = 78
    BORROW = 74
    COUNTER = 66
    SELL = 62
    DEAL = 56
    COMPLAIN = 54
    LOAN_TALK = 52
    OFFER_TALK = 48
    STOCK = 46
    BARGAIN = 44
    RUMOUR = 42
    ANNOUNCE = 40
    THANKS = 34
    REJECT = 24
    NOTE = 14


def compact(a: A.Action) -> str:
    """One action as the student writes it: compact JSON, ``type`` first, defaults left out."""
    # The commonest kinds written directly (the same text as the general case below, faster).
    if isinstance(a, A.PlaceOrder):
        return f'{{"type":"order","side":"{a.side}","good":{json.dumps(a.good)},"qty":{a.qty},"price":{a.price}}}'
    if isinstance(a, A.Produce):
        return f'{{"type":"produce","qty":{a.qty}}}'
    if isinstance(a, A.Accept | A.Reject | A.Cancel):
        return f'{{"type":"{a.type}","id":{a.id}}}'
    rest = a.model_dump_json(exclude_defaults=True, exclude={"type"})
    head = f'{{"type":"{a.type}"'
    return head + "}" if rest == "{}" else f"{head},{rest[1:]}"


def answer_text(thinking: str, actions: list[A.Action]) -> str:
    """The whole answer as compact JSON: ``{"thinking":"…","actions":[…]}``."""
    return '{"thinking":' + json.dumps(thinking) + ',"actions":[' + ",".join(compact(a) for a in actions) + "]}"


@dataclass(slots=True)
class Candidate:
    seq: int
    prio: float
    action: A.Action | None
    make: Callable[[set[int]], A.Action] | None
    """Builds the action once the kept candidates are known (speech names only what is kept)."""
    clause: tuple[str, str] | None
    parents: tuple[int, ...]
    speech: bool
    size: int = -1
    """Characters of its compact JSON at its longest (worked out when first weighed)."""
    partner: int = -1
    """A candidate kept with this one or not at all (a withdrawn bid and the bid that replaces it)."""

    def build(self, kept: set[int]) -> A.Action:
        if self.action is not None:
            return self.action
        assert self.make is not None
        return self.make(kept)

    def cost(self) -> int:
        if self.size < 0:
            self.size = len(compact(self.build(_ALL)))
        return self.size


def once(word: Callable[[], A.Action]) -> Callable[[set[int]], A.Action]:
    """A line whose words do not depend on what else is kept, worded at most once."""
    made: list[A.Action] = []

    def make(_: set[int]) -> A.Action:
        if not made:
            made.append(word())
        return made[0]

    return make


def _rank(c: Candidate) -> tuple[float, int]:
    return (-c.prio, c.seq)


class _Everything(set[int]):
    """Every candidate kept: what a lazy line says at its longest."""

    def __contains__(self, item: object) -> bool:
        return True


_ALL = _Everything()


class Town:
    """What a turn's observations share about the other creatures, worked out once per turn."""

    def __init__(self, o: Observation, chars: int = SPEECH_CHARS) -> None:
        self.chars = max(10, min(SPEECH_CHARS, chars))
        """The longest line said, whispered or noted (the scenario's message limit, at most SPEECH_CHARS)."""
        alive = [n for n in o.neighbours if n.alive and n.role != "patron"]
        self.alive = len(alive)
        self.names = {n.name for n in alive}
        self.order = sorted(self.names)
        """The living creatures by name, for picking partners in turn."""
        self.lenders = [n.name for n in alive if n.role == "lender"]
        self.woodcutters = [n.name for n in alive if n.role == "woodcutter"]
        self.makers: dict[str, list[str]] = {}
        for n in alive:
            if n.makes:
                self.makers.setdefault(n.makes, []).append(n.name)
        self.makes = {n.name: n.makes for n in alive}
        self.credit = {n.name: n.credit for n in o.neighbours}
        self.pleading: list[str] = []
        """Creatures who asked aloud for food or fire since last turn, in the order they spoke."""
        for turn, kind, sender, text in o.clearing:
            if kind == "say" and turn >= o.turn - 1 and sender not in self.pleading and any(w in text.lower() for w in _PLEAS):
                self.pleading.append(sender)
        self.defaults: list[tuple[int, str, str]] = []
        """Defaults announced in the clearing since last turn: ``(turn, debtor, creditor)``."""
        for turn, kind, _, text in o.clearing:
            m = _DEFAULT.match(text)
            # Contracts settle at the end of a turn, so last turn's defaults are news; but one that
            # a creature's leaving caused is told at the start of its turn: heard then, not again.
            left = LEFT_EARLY in text
            if kind == "notice" and m and (turn == o.turn or turn == o.turn - 1 and not left):
                self.defaults.append((turn, m.group(1), m.group(3)))

    @staticmethod
    def pick(names: list[str], me: str, k: int) -> str | None:
        """A partner other than me, spread over creatures so no one gets every request: the
        ``k``-th of the others, round the list (the list is not copied: a big wood has many)."""
        try:
            mine = names.index(me)
        except ValueError:
            return names[k % len(names)] if names else None
        if len(names) == 1:
            return None
        i = k % (len(names) - 1)
        return names[i if i < mine else i + 1]


class MindBase:
    """One creature's turn in the making: candidates in the order they would be carried out."""

    def __init__(self, o: Observation, town: Town, k: int) -> None:
        self.o = o
        self.town = town
        self.k = k
        self.terms: Terms = terms_of(o)
        """What acting costs this turn (the purse the rules charge from)."""
        self.hearing = hear(o)
        """What it makes of the rumours it heard (:mod:`engine.elders.hearing`)."""
        self.cands: list[Candidate] = []
        self.prefix = ""
        """What the reason starts with (``cold coming``, ``hungry``...)."""
        self.free = dict(o.free)
        """What it holds free, less what this turn's candidates hand over or lock (the observation is left as it was)."""
        self.purse = o.free.get(PEBBLES, 0)
        """Free pebbles at the start of the turn."""
        self.pebbles = self.purse
        """Pebbles still free after what this turn's candidates spend."""
        self.orders = len(o.my_orders)
        self.offers = len(o.my_offers)
        self.owe: dict[str, int] = {}
        """What it must hand over within the next couple of turns."""
        for ob in o.obligations:
            if ob.due - o.turn <= 2:
                for a, q in ob.i_owe.items():
                    self.owe[a] = self.owe.get(a, 0) + q

    # ----------------------------------------------------------------- adding
    def add(self, action: A.Action, prio: float, clause: tuple[str, str] | None = None, parents: tuple[int, ...] = ()) -> int:
        """A candidate action; returns its id (for dependants)."""
        return self._add(action, None, prio, clause, parents, speech=False)

    def add_speech(self, line: A.Action | Callable[[set[int]], A.Action], prio: float, parents: tuple[int, ...] = ()) -> int:
        """A line of speech, or a function that words it once the kept actions are known (it is
        called only for a line that may be kept); ``parents`` must all be kept."""
        if isinstance(line, A.Action):
            return self._add(line, None, prio, None, parents, speech=True)
        return self._add(None, line, prio, None, parents, speech=True)

    def _add(self, action: A.Action | None, make: Callable[[set[int]], A.Action] | None, prio: float,
             clause: tuple[str, str] | None, parents: tuple[int, ...], *, speech: bool) -> int:
        seq = len(self.cands)
        # A dependant never outranks what it depends on, so the parent is always weighed first.
        for p in parents:
            if p < 0:
                return -1
            prio = min(prio, self.cands[p].prio - 0.01)
        self.cands.append(Candidate(seq, prio, action, make, clause, parents, speech))
        return seq

    def words(self, situation: str, **fields: object) -> str:
        """My line for a situation this turn, within the wood's message limit."""
        return shorten(line(situation, self.o.turn, self.o.name, self.o.seed, **fields), self.town.chars)

    def bid_cost(self, qty: int, price: int) -> int:
        """Pebbles a bid of ``qty`` at ``price`` takes from my purse, its fee included (the purse's)."""
        return self.terms.order_cost("buy", "", qty, price)[PEBBLES]

    def affordable(self, money: int, price: int, most: int) -> int:
        """The most units, up to ``most``, a bid at ``price`` buys with ``money`` pebbles, fee included."""
        qty = min(most, max(0, money) // max(1, price))
        while qty > 0 and self.bid_cost(qty, price) > money:
            qty -= 1
        return qty

    def room_for_order(self) -> bool:
        return self.orders < MAX_OPEN_ORDERS

    def room_for_offer(self) -> bool:
        return self.offers < MAX_OPEN_OFFERS

    # ----------------------------------------------------------------- choosing
    def choose(self) -> tuple[list[A.Action], str]:
        """The most important candidates that fit, in the order they were planned, and the reason."""
        limit = self.o.max_actions
        room = ANSWER_CHARS - _FRAME - THINKING_CHARS
        kept: set[int] = set()
        used = speech = 0
        for c in sorted(self.cands, key=_rank):
            if c.seq in kept or (c.parents and not kept.issuperset(c.parents)):
                continue
            if c.speech and speech >= MAX_SPEECH:
                continue
            cost = c.cost() + (1 if kept else 0)
            n = 1
            if c.partner >= 0:
                cost += self.cands[c.partner].cost() + 1
                n = 2
            if used + cost > room or len(kept) + n > limit:
                continue
            kept.add(c.seq)
            if n == 2:
                kept.add(c.partner)
            used += cost
            speech += c.speech
            if len(kept) >= limit:
                break
        actions: list[A.Action] = []
        reasons: list[tuple[float, int, tuple[str, str]]] = []
        for c in self.cands:
            if c.seq in kept:
                actions.append(c.build(kept))
                if c.clause is not None:
                    reasons.append((-c.prio, c.seq, c.clause))
        reasons.sort()
        return actions, thought(self.prefix, [r[2] for r in reasons])

    # ----------------------------------------------------------------- helpers
    def my_order(self, good: str, side: str) -> int | None:
        for od in self.o.my_orders:
            if od.good == good and od.side == side:
                return od.id
        return None

    def have(self, asset: str) -> int:
        """What I can still hand over this turn: free pebbles or goods less what earlier candidates use."""
        return self.pebbles if asset == PEBBLES else self.free.get(asset, 0)

    def selling(self, good: str) -> int:
        """Units of a good this turn's candidates put up for sale or swap."""
        total = 0
        for c in self.cands:
            a = c.action
            if isinstance(a, A.PlaceOrder) and a.side == "sell" and a.good == good:
                total += a.qty
            elif isinstance(a, A.MakeOffer) and a.due is None:
                total += a.give.get(good, 0)
        return total

    def value(self, bundle: dict[str, int]) -> int:
        return sum(q if a == PEBBLES else q * self.o.prices.get(a, 1) for a, q in bundle.items())

    def trusted(self, name: str) -> bool:
        """Someone I would deal with on credit: no broken deal with me, credit not ruined."""
        kept, broken = self.o.trust.get(name, (0, 0))
        return broken <= kept and self.town.credit.get(name, 0) >= 40
