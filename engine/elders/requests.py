"""Requests and pleas in whispers, and the elders' answers: an offer, a counter or a refusal with a
reason, the turn after they are asked.

A whisper is read for what it asks (:func:`read_request`): to buy from me (``sell me 3 honey at
5``), to sell to me (``buy my berries``, ``I sell 4 acorns for 12 pebbles``), to borrow (``lend me
20``), or to wait on a debt (``give me more time on the loan``). A whisper that comes with an offer
from the same creature is answered through the offer instead. The Patron's whispers are read the
same way, so a player can talk a creature into a sale, or be told why not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from engine.core.assets import PEBBLES
from engine.elders.mind import MindBase, Priority, once
from engine.turn import actions as A

MAX_ANSWERS = 2
"""Requests one creature answers in a turn (the rest wait: they are not forgotten until the
inbox lets them go)."""
PRIORITY = Priority.COUNTER + 4
"""An answer to a request ranks above its own dealing: being asked is being courted."""
FAIR = 0.9
"""A creature sells at a price it is asked when that is at least this share of its own."""
LOAN_MOST = 30
"""The most a lender lends on a whispered request."""

_WANTS_TO_BUY = re.compile(r"\bsell (me|us)\b|\bbuy (\w+ )*from you\b|\bi('d| would| will| want to|'ll)? ?buy\b|\bcan i (have|buy)\b")
_WANTS_TO_SELL = re.compile(
    r"\bbuy (my|mine|from me)\b|\bi('d| would| will| want to|'ll)? ?sell\b|\bwant (some|my)\b|\bsell (you|to you)\b"
)
_WANTS_LOAN = re.compile(r"\blend me\b|\bborrow\b|\ba loan\b|\bloan me\b")
_WANTS_TIME = re.compile(r"\b(wait|more time|later|extend|forgive|patience)\b")
_NUMBER = re.compile(r"\d+")


@dataclass(slots=True, frozen=True)
class Request:
    """What one whisper asks of me."""

    sender: str
    kind: str
    """``buy`` (it wants to buy from me), ``sell`` (to sell to me), ``loan`` or ``wait``."""
    good: str | None
    qty: int | None
    price: int | None
    """Per unit (a total in pebbles is divided by the quantity)."""
    pebbles: int | None
    """For a loan: the principal asked."""


def read_request(sender: str, text: str, goods: list[str]) -> Request | None:
    """What ``text`` asks of its reader, or ``None`` when it asks nothing we can answer."""
    low = text.lower()
    good = next((g for g in goods if re.search(rf"\b{re.escape(g)}", low)), None)
    if _WANTS_LOAN.search(low):
        n = _NUMBER.search(low)
        return Request(sender, "loan", None, None, None, int(n.group()) if n else None)
    if _WANTS_TIME.search(low) and re.search(r"\b(loan|debt|repay|owe)\b", low):
        return Request(sender, "wait", None, None, None, None)
    kind = "buy" if _WANTS_TO_BUY.search(low) else "sell" if _WANTS_TO_SELL.search(low) else None
    if kind is None or good is None:
        return None
    qty = price = None
    at = low.find(good)
    before = _NUMBER.findall(low[:at])
    if before and low[:at].rstrip().endswith(before[-1]):
        qty = int(before[-1])
    after = re.search(r"(?:at|for|@)\s*(\d+)\s*(pebbles?)?(\s*(each|a piece|apiece))?", low[at:])
    if after:
        price = int(after.group(1))
        if after.group(2) and not after.group(3) and qty:  # "for 15 pebbles": a total
            price = max(1, math.ceil(price / qty))
    return Request(sender, kind, good, qty, price, None)


class Answering(MindBase):
    """Answers the requests whispered to me last turn."""

    def reserve(self, good: str) -> int:
        """What I keep of ``good`` whatever I am asked (the elder refines it: what it promised,
        its firewood for the next turns, a cushion of food)."""
        return self.owe.get(good, 0)

    def requests(self) -> list[Request]:
        o = self.o
        offered = {y.sender for y in o.offers_to_me}
        out: list[Request] = []
        for turn, kind, sender, text in o.inbox:
            if kind != "whisper" or turn < o.turn - 1 or sender in offered or sender == o.name:
                continue
            r = read_request(sender, text, o.goods)
            if r is not None and all(q.sender != sender for q in out):
                out.append(r)
        return out[:MAX_ANSWERS]

    def answer_requests(self) -> None:
        for r in self.requests():
            if r.kind == "buy":
                self._sell_on_request(r)
            elif r.kind == "sell":
                self._buy_on_request(r)
            elif r.kind == "loan":
                self._lend_on_request(r)
            else:
                self._wait_on_request(r)

    def _refuse(self, to: str, why: str, situation: str = "ask_no", **fields: object) -> None:
        words = self.words(situation, to=to, why=why, **fields)
        self.add_speech(once(lambda: A.Whisper(to=to, text=words)), PRIORITY - 1)

    def _my_price(self, good: str) -> int:
        o = self.o
        ref = max(o.prices.get(good, 1), o.base_values.get(good, 1)) if good in self.hearing.recovering else o.prices.get(good, 1)
        return max(1, math.ceil(ref * (1.0 + 0.1 * (o.greed - 1))))

    def _sell_on_request(self, r: Request) -> None:
        o, good = self.o, r.good or ""
        spare = self.free.get(good, 0) - self.reserve(good)
        if good in self.hearing.hoarding and good != o.makes:
            spare = 0
        if spare <= 0:
            self._refuse(r.sender, f"I have no {good} to spare")
            return
        if not self.room_for_offer():
            self._refuse(r.sender, "I have too many offers out already")
            return
        qty = min(spare, r.qty or 2)
        mine = self._my_price(good)
        fair = r.price is not None and r.price >= FAIR * mine
        price = r.price if fair and r.price is not None else mine
        offer = A.MakeOffer(to=r.sender, give={good: qty}, get={PEBBLES: qty * price})
        seq = self.add(offer, PRIORITY, ("sell on request to", r.sender))
        self.offers += 1
        self.free[good] = self.free.get(good, 0) - qty
        if fair or r.price is None:
            self.whisper_on(r.sender, "ask_yes", seq, qty=qty, good=good, price=price, total=qty * price)
        else:
            self.whisper_on(r.sender, "ask_counter", seq, qty=qty, good=good, price=r.price, mine=mine)

    def _buy_on_request(self, r: Request) -> None:
        o, good = self.o, r.good or ""
        if good in o.never_buy:
            self._refuse(r.sender, f"I make {good} myself")
            return
        if good in self.hearing.dumping:
            self._refuse(r.sender, f"they say {good} is worthless")
            return
        held = self.free.get(good, 0)
        want = (4 if good in o.food else sum(o.fuel_need[:3]) if good in o.fuel else 0) - held
        if want <= 0:
            self._refuse(r.sender, f"I have {held} {good}, enough for now")
            return
        ceiling = max(1, math.ceil(o.prices.get(good, 1) * 1.1))
        price = r.price if r.price is not None else ceiling
        if price > ceiling:
            self._refuse(r.sender, f"{price} is too dear; I pay up to {ceiling}")
            return
        qty = min(want, r.qty or want, self.affordable(self.pebbles - 10, price, want))
        if qty <= 0 or not self.room_for_offer():
            self._refuse(r.sender, "my purse is too thin today" if qty <= 0 else "I have too many offers out already")
            return
        offer = A.MakeOffer(to=r.sender, give={PEBBLES: qty * price}, get={good: qty})
        seq = self.add(offer, PRIORITY, ("buy on request from", r.sender))
        self.offers += 1
        self.pebbles -= qty * price
        self.whisper_on(r.sender, "ask_buy_yes", seq, qty=qty, good=good, price=price, total=qty * price)

    def _lend_on_request(self, r: Request) -> None:
        o = self.o
        if o.role != "lender":
            lender = next((n for n in self.town.lenders if n != r.sender), None)
            self._refuse(r.sender, f"I am no lender; ask {lender}" if lender else "I am no lender")
            return
        amount = min(LOAN_MOST, r.pebbles or 20)
        if r.sender in self.hearing.doubted or not self.trusted(r.sender):
            self._refuse(r.sender, "you have not kept your word with me")
            return
        if self.pebbles < amount + 30 or not self.room_for_offer():
            self._refuse(r.sender, "my hoard is lent out just now")
            return
        due = min(o.max_term, 4)
        interest = min(self.terms.interest_cap(amount), max(1, amount // 10))
        seq = self.add(A.Lend(to=r.sender, pebbles=amount, interest=interest, due=due), PRIORITY, ("lend on request to", r.sender))
        self.offers += 1
        self.pebbles -= amount
        self.whisper_on(r.sender, "lend_yes", seq, p=amount, total=amount + interest, due=o.turn + due)

    def _wait_on_request(self, r: Request) -> None:
        o = self.o
        owed = next((ob for ob in o.obligations if ob.counterparty == r.sender and ob.owed_to_me), None)
        if owed is None:
            self._refuse(r.sender, "you owe me nothing")
            return
        self._refuse(r.sender, "the wood settles every debt on its day", "ask_wait_no", due=owed.due)

    def whisper_on(self, to: str, situation: str, parent: int, **fields: object) -> None:
        """A whisper kept with (and only with) the answer ``parent``."""
        words = self.words(situation, to=to, **fields)
        self.add_speech(once(lambda: A.Whisper(to=to, text=words)), PRIORITY - 0.5, (parent,))
