"""The scripted teacher's deals: answering offers (accept, counter, reject), loans asked for,
answered, offered and repaid, swaps, and forward contracts, each with the whisper that goes with it.
"""

from __future__ import annotations

import math

from engine.core.assets import PEBBLES
from engine.elders.mind import MindBase, Priority, once
from engine.elders.speech import bundle, chance
from engine.turn import actions as A
from engine.turn.observation import OfferView

FOOD_STOCK = 2
"""Meals of each bought food a creature likes to keep."""
FLUSH = 60
"""Pebbles a creature keeps after repaying a loan early."""
CLOSE = 0.75
"""An offer worth at least this share of what it asks is answered with a counter, not a no."""


def ceil1(x: float) -> int:
    return max(1, math.ceil(x))


class Dealing(MindBase):
    # ------------------------------------------------------------------ whispers
    def whisper(self, to: str, situation: str, prio: float, parent: int, **fields: object) -> None:
        """A whisper that goes with (and only with) the candidate ``parent``."""
        if parent < 0:
            return
        self.add_speech(once(lambda: A.Whisper(to=to, text=self.words(situation, to=to, **fields))), prio, (parent,))

    # ------------------------------------------------------------------ offers to me
    def answer_offers(self) -> None:
        for off in self.o.offers_to_me[:3]:
            if off.kind == "borrow":
                self.answer_borrow(off)
            elif off.kind == "lend":
                self.answer_lend(off)
            else:
                self.answer_trade(off)

    def answer_borrow(self, off: OfferView) -> None:
        o = self.o
        why = None
        if o.role != "lender":
            why = "I am no lender"
        elif self.town.credit.get(off.sender, 0) < 40:
            why = "your credit is too low"
        elif not self.trusted(off.sender):
            why = "you broke a deal with me"
        elif self.pebbles - off.principal < 10:
            why = "my hoard is thin"
        if why is None:
            seq = self.add(A.Accept(id=off.id), Priority.ACCEPT, ("lend to", off.sender))
            self.pebbles -= off.principal
            total = off.principal + off.interest
            self.whisper(off.sender, "lend_yes", Priority.LOAN_TALK, seq, p=off.principal, total=total, due=off.due)
            return
        seq = self.add(A.Reject(id=off.id), Priority.REJECT + 10, ("refuse loan to", off.sender))
        self.whisper(off.sender, "lend_no", Priority.LOAN_TALK, seq, why=why)

    def answer_lend(self, off: OfferView) -> None:
        o = self.o
        owing = sum(1 for ob in o.obligations if ob.kind == "loan" and ob.i_owe)
        fair = off.interest <= max(1, off.principal * 25 // 100)
        payable = all(self.have(a) >= q for a, q in off.collateral.items())
        if o.role != "lender" and self.pebbles < 30 and fair and payable and owing < max(1, int(o.greed)):
            seq = self.add(A.Accept(id=off.id), Priority.ACCEPT, ("borrow from", off.sender))
            self.pebbles += off.principal
            self.whisper(off.sender, "loan_thanks", Priority.LOAN_TALK, seq)
            return
        self.add(A.Reject(id=off.id), Priority.REJECT, ("decline loan from", off.sender))

    def answer_trade(self, off: OfferView) -> None:
        verdict = self.judge(off)
        if verdict == "accept":
            seq = self.add(A.Accept(id=off.id), Priority.ACCEPT, ("accept", off.sender))
            if off.due is None:
                for a, q in off.get.items():
                    self.free[a] = self.free.get(a, 0) - q
                    if a == PEBBLES:
                        self.pebbles -= q
            self.whisper(off.sender, "accept", Priority.THANKS, seq)
            return
        if verdict == "counter" and self.counter(off):
            return
        self.add(A.Reject(id=off.id), Priority.REJECT, ("reject", off.sender))

    def judge(self, off: OfferView) -> str:
        """``accept``, ``counter`` (close, but not good enough) or ``reject``."""
        o = self.o
        if any(g in o.never_buy for g in off.give):
            return "reject"
        if off.due is None and any(self.have(a) < q for a, q in off.get.items()):
            return "reject"
        if off.due is not None:
            if not self.trusted(off.sender):
                return "reject"
            # A forward sale: only promise what I can make by then, on top of what I already owe.
            turns = max(0, off.due - o.turn)
            for a, q in off.get.items():
                if a == PEBBLES:
                    if self.pebbles - self.owe.get(PEBBLES, 0) - q < 10:
                        return "reject"
                elif a != o.makes or q + self.owe.get(a, 0) > self.free.get(a, 0) + o.capacity * turns // 2:
                    return "reject"
            # Goods bought forward: only what I will want by then.
            if any(a != PEBBLES and not self.wants(a) for a in off.give):
                return "reject"
        mine, theirs = self.value(off.give), self.value(off.get)
        if mine >= theirs:
            return "accept"
        return "counter" if off.due is None and mine >= CLOSE * theirs else "reject"

    def wants(self, good: str) -> bool:
        """Whether more of a good would be welcome: food I keep little of, fuel for the cold ahead."""
        o = self.o
        if good in o.never_buy:
            return False
        if good in o.fuel:
            return self.free.get(good, 0) < sum(o.fuel_need)
        return good in o.food and self.free.get(good, 0) < 2 * FOOD_STOCK + 2

    def counter(self, off: OfferView) -> bool:
        """Send back the same goods at a fair balance: fewer of my pebbles, or some of theirs."""
        if not self.room_for_offer():
            return False
        gap = self.value(off.get) - self.value(off.give)
        give = dict(off.get)
        get = dict(off.give)
        if give.get(PEBBLES, 0) > gap:
            give[PEBBLES] -= gap
        elif PEBBLES not in give:
            get[PEBBLES] = get.get(PEBBLES, 0) + gap
        else:
            return False
        seq = self.add(A.Counter(id=off.id, give=give, get=get), Priority.COUNTER, ("counter", off.sender))
        self.offers += 1
        # A counter is a swap now: what it gives is locked while it waits.
        for a, q in give.items():
            self.free[a] = self.free.get(a, 0) - q
            if a == PEBBLES:
                self.pebbles -= q
        self.whisper(off.sender, "counter", Priority.OFFER_TALK, seq, give=bundle(give), get=bundle(get))
        return True

    # ------------------------------------------------------------------ loans
    def repay(self) -> None:
        """Pay what falls due now, and pay early when flush."""
        o = self.o
        for ob in o.obligations:
            owed = ob.i_owe.get(PEBBLES, 0)
            if ob.kind != "loan" or owed <= 0 or self.pebbles < owed:
                continue
            if ob.due <= o.turn:
                prio, clause = Priority.REPAY_DUE, ("repay", ob.counterparty)
            elif o.greed <= 1.0 and self.pebbles - owed >= FLUSH:
                # A prudent creature clears its debts when flush; a greedy one keeps its leverage.
                prio, clause = Priority.REPAY_EARLY, ("repay early", ob.counterparty)
            else:
                continue
            seq = self.add(A.Repay(id=ob.id, pebbles=owed), prio, clause)
            self.pebbles -= owed
            if ob.due - o.turn <= 2:
                self.owe[PEBBLES] = max(0, self.owe.get(PEBBLES, 0) - owed)
            if prio == Priority.REPAY_EARLY:
                self.whisper(ob.counterparty, "repay", Priority.THANKS + 2, seq, p=owed)

    def borrow(self, short: int, lender: str | None) -> None:
        o = self.o
        if o.role == "lender" or lender is None or not self.room_for_offer() or lender in self.hearing.doubted:
            return  # (no loan asked of a lender it believes broke)
        # A prudent creature owes one loan at a time; a greedy one leverages up: more loans, larger.
        owing = sum(1 for ob in o.obligations if ob.kind == "loan" and ob.i_owe)
        if owing >= max(1, int(o.greed)) or any(f.kind == "borrow" for f in o.my_offers):
            return
        amount = min(25, short + 4) if o.greed <= 1.0 else round(25 * o.greed)
        collateral = {}
        if o.makes and o.makes not in o.food and self.free.get(o.makes, 0) - self.selling(o.makes) >= 4:
            collateral = {o.makes: 2}
        due = min(o.max_term, 5)
        interest = min(self.terms.interest_cap(amount), ceil1(amount * 0.2))
        seq = self.add(A.Borrow(to=lender, pebbles=amount, interest=interest, due=due, collateral=collateral),
                       Priority.BORROW, ("borrow", f"{amount} from {lender}"))
        self.offers += 1
        self.whisper(lender, "borrow", Priority.LOAN_TALK, seq, p=amount, total=amount + interest, due=o.turn + due)

    def offer_loan(self) -> None:
        """A lender with pebbles to spare offers a small loan to a trusted creature that asked aloud."""
        o = self.o
        amount = 20
        if o.role != "lender" or self.pebbles < 30 + amount or not self.room_for_offer():
            return
        debtors = {ob.counterparty for ob in o.obligations if ob.owed_to_me}
        pending = {f.to for f in o.my_offers} | {f.sender for f in o.offers_to_me}
        for name in self.town.pleading:
            if name == o.name or name in debtors or name in pending or name not in self.town.names:
                continue
            if self.town.credit.get(name, 0) < 80 or not self.trusted(name) or name in self.hearing.doubted:
                continue
            due = min(o.max_term, 4)
            interest = min(self.terms.interest_cap(amount), 2)
            seq = self.add(A.Lend(to=name, pebbles=amount, interest=interest, due=due), Priority.DEAL, ("offer a loan to", name))
            self.pebbles -= amount
            self.offers += 1
            self.whisper(name, "lend_offer", Priority.LOAN_TALK, seq, p=amount, total=amount + interest, due=o.turn + due)
            return

    # ------------------------------------------------------------------ swaps and forwards
    def barter(self, held: dict[str, int]) -> None:
        """With a glut of my own food, offer a swap to the maker of a food I lack."""
        o = self.o
        if not o.makes or o.makes not in o.food or o.my_offers or not self.room_for_offer():
            return
        # Only what is free now can go in an offer (this turn's making comes later).
        glut = min(self.free.get(o.makes, 0), held.get(o.makes, 0) - 2 * max(1, o.capacity))
        if glut <= 0:
            return
        for good in o.food:
            partner = self.town.pick(self.town.makers.get(good, []), o.name, self.k)
            if good == o.makes or held.get(good, 0) > 0 or partner is None:
                continue
            want = 2
            # Open a little low (rounding down): the other side accepts, or counters at a fair balance.
            give = min(glut, max(1, math.floor(want * o.prices[good] / max(1, o.prices[o.makes]))))
            swap = A.MakeOffer(to=partner, give={o.makes: give}, get={good: want})
            seq = self.add(swap, Priority.DEAL, ("swap", f"{o.makes} for {good}"))
            self.offers += 1
            held[o.makes] -= give
            self.free[o.makes] -= give
            self.whisper(partner, "swap", Priority.OFFER_TALK, seq, give=f"{give} {o.makes}", get=f"{want} {good}", good=o.makes)
            return

    def forward_fuel(self, held: dict[str, int], woodcutter: str | None) -> None:
        """Before the cold comes, buy firewood forward from the woodcutter."""
        o = self.o
        fuel = o.fuel[0] if o.fuel else None
        if fuel is None or fuel in o.never_buy or woodcutter is None or not self.room_for_offer():
            return
        ahead = sum(o.fuel_need[1:])
        rising = o.fuel_need[-1] > o.fuel_need[0]
        if not rising or held.get(fuel, 0) >= ahead:
            return
        if any(ob.owed_to_me.get(fuel) for ob in o.obligations) or any(f.get.get(fuel) for f in o.my_offers):
            return
        qty = max(2, min(6, ahead - held.get(fuel, 0) + 1))
        price = ceil1(o.prices[fuel] * 1.1) * qty
        if self.pebbles - self.owe.get(PEBBLES, 0) - price < 10:
            return
        due = min(o.max_term, 2)
        seq = self.add(A.MakeOffer(to=woodcutter, give={PEBBLES: price}, get={fuel: qty}, due=due), Priority.DEAL, ("buy forward", fuel))
        self.offers += 1
        self.whisper(woodcutter, "forward_buy", Priority.OFFER_TALK, seq, give=f"{price} pebbles", get=f"{qty} {fuel}", due=o.turn + due)

    def forward_sale(self) -> None:
        """Now and then a food maker sells a few of its next harvests forward, to someone who lacks them."""
        o = self.o
        good = o.makes
        if not good or good not in o.food or o.role in ("trader", "woodcutter") or not self.room_for_offer():
            return
        if o.can_make < o.capacity or not chance(o.turn, o.name, "forward", 4):
            return
        qty = max(2, o.capacity // 2)
        if self.free.get(good, 0) < qty or any(ob.i_owe.get(good) for ob in o.obligations):
            return
        # The next creature round the wood (from a place that moves each turn) that eats it and keeps its word.
        names = self.town.order
        start = (o.turn + self.k) % len(names)
        to = next((n for n in names[start:] + names[:start]
                   if n != o.name and self.town.makes.get(n) != good and self.trusted(n)), None)
        if to is None:
            return
        price = max(1, int(o.prices[good] * qty * 0.95))
        due = min(o.max_term, 3)
        seq = self.add(A.MakeOffer(to=to, give={good: qty}, get={PEBBLES: price}, due=due), Priority.DEAL, ("sell forward", good))
        self.offers += 1
        self.whisper(to, "forward_sell", Priority.OFFER_TALK, seq, give=f"{qty} {good}", get=f"{price} pebbles", due=o.turn + due,
                     good=good)
