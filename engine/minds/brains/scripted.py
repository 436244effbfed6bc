"""A deterministic rule-based brain for every role: offline play, baselines and fast tests.

Each creature makes what it can, keeps a small reserve, sells its surplus, and buys the food
and firewood it lacks, bidding harder when it went hungry or cold. On top of that the
woodcutter decides how much to fell, the lender lends, the trader speculates and writes
forward contracts, and anyone short of pebbles asks the lender for a loan.
"""

from __future__ import annotations

import math

from engine.core.assets import PEBBLES
from engine.turn import actions as A
from engine.turn.brain import Answer
from engine.turn.observation import Observation, OfferView

FOOD_STOCK = 2
"""Meals of each bought food a creature likes to keep."""
FUEL_TURNS = 3
"""Turns of firewood need a creature likes to keep."""


def _ceil(x: float) -> int:
    return max(1, math.ceil(x))


class ScriptedBrain:
    """Rules of thumb per role. The same observation always gives the same answer."""

    name = "scripted"

    def decide(self, observations: list[Observation]) -> list[Answer]:
        towns: dict[int, _Town] = {}
        answers = []
        for i, o in enumerate(observations):
            town = towns.get(id(o.neighbours))
            if town is None:
                town = towns[id(o.neighbours)] = _Town(o)
            # A patron left to the scripted brain does nothing: it is the player's purse.
            answers.append(Answer(actions=[] if o.role == "patron" else _Mind(o, town, i).decide()))
        return answers


class _Town:
    """What a turn's observations share about the other creatures, worked out once per turn."""

    def __init__(self, o: Observation) -> None:
        alive = [n for n in o.neighbours if n.alive and n.role != "patron"]
        self.alive = len(alive)
        self.lenders = [n.name for n in alive if n.role == "lender"]
        self.woodcutters = [n.name for n in alive if n.role == "woodcutter"]
        self.makers: dict[str, list[str]] = {}
        for n in alive:
            if n.makes:
                self.makers.setdefault(n.makes, []).append(n.name)
        self.credit = {n.name: n.credit for n in o.neighbours}

    @staticmethod
    def pick(names: list[str], me: str, k: int) -> str | None:
        """A partner other than me, spread over creatures so no one gets every request."""
        others = [n for n in names if n != me] if me in names else names
        return others[k % len(others)] if others else None


class _Mind:
    def __init__(self, o: Observation, town: _Town, k: int) -> None:
        self.o = o
        self.town = town
        self.k = k
        self.acts: list[A.Action] = []
        self.pebbles = o.free.get(PEBBLES, 0)
        self.lender = town.pick(town.lenders, o.name, k)
        self.woodcutter = town.pick(town.woodcutters, o.name, k)
        self.owe: dict[str, int] = {}
        """What it must hand over within the next couple of turns."""
        for ob in o.obligations:
            if ob.due - o.turn <= 2:
                for a, q in ob.i_owe.items():
                    self.owe[a] = self.owe.get(a, 0) + q

    # ----------------------------------------------------------------- helpers
    def room(self) -> bool:
        return len(self.acts) < self.o.max_actions

    def add(self, a: A.Action) -> None:
        if self.room():
            self.acts.append(a)

    def my_order(self, good: str, side: str) -> int | None:
        for od in self.o.my_orders:
            if od.good == good and od.side == side:
                return od.id
        return None

    def value(self, bundle: dict[str, int]) -> int:
        return sum(q if a == PEBBLES else q * self.o.prices.get(a, 1) for a, q in bundle.items())

    # ------------------------------------------------------------------- turn
    def decide(self) -> list[A.Action]:
        o = self.o
        self.answer_offers()
        made = self.produce()
        held = dict(o.free)
        if o.makes:
            held[o.makes] = held.get(o.makes, 0) + made
        self.barter(held)
        self.sell_surplus(held)
        self.buy_needs(held)
        if o.role == "lender":
            self.lend()
        elif o.role == "trader":
            self.speculate(held)
        self.chatter()
        return self.acts

    def produce(self) -> int:
        """Produce, and return how much that should yield."""
        o = self.o
        if not o.makes or o.can_make <= 0:
            return 0
        if o.role != "woodcutter":
            self.add(A.Produce(qty=o.capacity))
            return o.can_make
        qty = o.can_make
        stock = o.free.get(o.makes, 0) + o.escrow.get(o.makes, 0)
        # Enough for the whole wood's next few turns of fire, plus what is promised.
        # Its share of the wood's fire for the next few turns, plus what is promised.
        share_of = max(1, len(self.town.woodcutters))
        target = sum(o.fuel_need) * self.town.alive // share_of + self.owe.get(o.makes, 0)
        share = o.forest_trees / o.forest_capacity if o.forest_capacity else 0.0
        # A prudent woodcutter spares a thin forest and fells to demand; greed overrides both.
        if o.greed <= 1.0:
            qty = min(qty, max(0, target - stock + 2))
            if share < 0.45:
                qty = qty // 2
        else:
            qty = min(o.can_make, _ceil(qty * o.greed))
        if qty <= 0:
            return 0
        self.add(A.Produce(qty=qty))
        return qty

    def reserve(self, good: str) -> int:
        o = self.o
        keep = self.owe.get(good, 0)
        if good in o.fuel:
            keep += sum(o.fuel_need[:FUEL_TURNS])
        elif good in o.food:
            keep += FOOD_STOCK if good != o.makes else 1
        return keep

    def sell_surplus(self, held: dict[str, int]) -> None:
        o = self.o
        for good in o.goods:
            surplus = held.get(good, 0) - self.reserve(good)
            if good != o.makes and o.role != "trader":
                surplus -= FOOD_STOCK  # keep a cushion of bought goods
            if surplus <= 0 or self.my_order(good, "sell") is not None or not self.room():
                continue
            ref = o.prices[good]
            if good in o.fuel:
                # Fire sells dear when the wood is cold, cheap when it is warm: the seller
                # anchors on the customary value and the cold, not only on the last trade.
                ref = (ref + o.base_values[good] * (1 + 0.3 * o.fuel_need[0])) / 2
            # Gluts sell cheaper; a small stock asks a premium.
            glut = surplus / max(1, o.capacity if good == o.makes else 4)
            markup = 1.05 - 0.08 * min(glut, 3.0) + 0.1 * (o.greed - 1)
            price = _ceil(ref * markup)
            self.add(A.PlaceOrder(side="sell", good=good, qty=min(surplus, 100), price=price))

    def buy_needs(self, held: dict[str, int]) -> None:
        o = self.o
        budget = self.pebbles - self.owe.get(PEBBLES, 0)
        wants: list[tuple[float, str, int, int]] = []
        fuel = o.fuel[0] if o.fuel else None
        if fuel and fuel not in o.never_buy:
            need = sum(o.fuel_need[:FUEL_TURNS]) + self.owe.get(fuel, 0) - held.get(fuel, 0)
            if need > 0:
                urgency = 1.15 + 0.12 * o.cold + (0.25 if held.get(fuel, 0) < o.fuel_need[0] else 0.0)
                price = min(_ceil(o.prices[fuel] * urgency), 4 * o.base_values[fuel])
                wants.append((2.0 + o.cold, fuel, need, price))
        # The well-off keep a deeper larder, which sends their pebbles back round the wood.
        stock = FOOD_STOCK + min(4, self.pebbles // 50)
        for good in o.food:
            if good in o.never_buy:
                continue
            need = stock + self.owe.get(good, 0) - held.get(good, 0)
            if need > 0:
                urgency = 1.1 + 0.1 * o.hungry + (0.2 if held.get(good, 0) == 0 else 0.0)
                price = min(_ceil(o.prices[good] * urgency), 4 * o.base_values[good])
                wants.append((1.0 + o.hungry / 3, good, need, price))
        wants.sort(key=lambda w: (-w[0], w[1]))
        short = 0
        for _, good, need, price in wants:
            existing = self.my_order(good, "buy")
            if existing is not None:
                continue
            qty = min(need, budget // price)
            short += (need - qty) * price
            if qty <= 0 or not self.room():
                continue
            budget -= qty * price
            self.add(A.PlaceOrder(side="buy", good=good, qty=qty, price=price))
        if short > 0:
            self.borrow(short)

    def barter(self, held: dict[str, int]) -> None:
        """With a glut of my own food, offer a swap to the maker of a food I lack."""
        o = self.o
        if not o.makes or o.makes not in o.food or o.my_offers or not self.room():
            return
        # Only what is free now can go in an offer (this turn's making comes later).
        glut = min(o.free.get(o.makes, 0), held.get(o.makes, 0) - 2 * max(1, o.capacity))
        if glut <= 0:
            return
        for good in o.food:
            partner = self.town.pick(self.town.makers.get(good, []), o.name, self.k)
            if good == o.makes or held.get(good, 0) > 0 or partner is None:
                continue
            want = 2
            give = min(glut, max(1, math.ceil(want * o.prices[good] / max(1, o.prices[o.makes]))))
            self.add(A.MakeOffer(to=partner, give={o.makes: give}, get={good: want}))
            held[o.makes] -= give
            return

    def borrow(self, short: int) -> None:
        o = self.o
        if o.role == "lender" or self.lender is None or not self.room():
            return
        # A prudent creature owes one loan at a time; a greedy one leverages up: more loans, larger.
        owing = sum(1 for ob in o.obligations if ob.kind == "loan" and ob.i_owe)
        if owing >= max(1, int(o.greed)) or any(f.kind == "borrow" for f in o.my_offers):
            return
        amount = min(round(25 * max(1.0, o.greed)), short + 4)
        collateral = {}
        if o.makes and o.free.get(o.makes, 0) >= 4 and o.makes not in o.food:
            collateral = {o.makes: 2}
        due = min(o.max_term, 5)
        interest = min(amount * o.max_interest_pct // 100, _ceil(amount * 0.2))
        self.add(A.Borrow(to=self.lender, pebbles=amount, interest=interest, due=due, collateral=collateral))

    def answer_offers(self) -> None:
        o = self.o
        for off in o.offers_to_me[:2]:
            if self.worth_accepting(off):
                self.add(A.Accept(id=off.id))
                if off.kind == "trade" and off.due is None:
                    for a, q in off.get.items():
                        o.free[a] = o.free.get(a, 0) - q
                        if a == PEBBLES:
                            self.pebbles -= q
            else:
                self.add(A.Reject(id=off.id))

    def worth_accepting(self, off: OfferView) -> bool:
        o = self.o
        if off.kind == "borrow":
            credit = self.town.credit.get(off.sender, 0)
            return o.role == "lender" and credit >= 40 and self.pebbles - off.principal >= 10
        if off.kind == "lend":
            return self.pebbles < 10 and all(o.free.get(a, 0) >= q for a, q in off.collateral.items())
        if any(g in o.never_buy for g in off.give):
            return False
        if off.due is None and any(o.free.get(a, 0) < q for a, q in off.get.items()):
            return False
        if off.due is not None:
            # A forward sale: only promise what I can make by then, on top of what I already owe.
            for a, q in off.get.items():
                if a == PEBBLES:
                    continue
                turns = max(0, off.due - o.turn)
                if a != o.makes or q + self.owe.get(a, 0) > o.free.get(a, 0) + o.capacity * turns // 2:
                    return False
        return self.value(off.give) >= self.value(off.get)

    def lend(self) -> None:
        # The lender answers borrow requests (in answer_offers); it also keeps its hoard working
        # by bidding for bargains below the reference price.
        o = self.o
        for good in o.food:
            if good in o.never_buy or self.my_order(good, "buy") is not None or not self.room():
                continue
            price = max(1, int(o.prices[good] * 0.7))
            if self.pebbles > 60 + 3 * price:
                self.add(A.PlaceOrder(side="buy", good=good, qty=3, price=price))
                self.pebbles -= 3 * price

    def speculate(self, held: dict[str, int]) -> None:
        o = self.o
        fuel = o.fuel[0] if o.fuel else None
        # Before the cold comes, buy firewood forward from the woodcutter to sell into the winter.
        rising = o.fuel_need[-1] > o.fuel_need[0] or (o.fuel_need[0] == 0 and o.fuel_need[-1] > 0)
        if fuel and self.woodcutter and rising and not any(ob.kind == "forward" for ob in o.obligations) and self.room():
            qty = 4
            price = _ceil(o.prices[fuel] * 1.05) * qty
            if self.pebbles >= price:
                self.add(A.MakeOffer(to=self.woodcutter, give={PEBBLES: price}, get={fuel: qty}, due=min(o.max_term, 4)))
        for good in o.goods:
            if good in o.never_buy or good == fuel or not self.room():
                continue
            ref = o.prices[good]
            if self.my_order(good, "buy") is None and held.get(good, 0) < 6 and self.pebbles > 30 + 3 * ref:
                self.add(A.PlaceOrder(side="buy", good=good, qty=2, price=max(1, int(ref * 0.85))))

    def chatter(self) -> None:
        o = self.o
        if not self.room() or (o.turn + len(o.name)) % 4:
            return
        if o.cold:
            self.add(A.Say(text=f"{o.name} is freezing. Who has firewood?"))
        elif o.hungry:
            self.add(A.Say(text=f"{o.name} is hungry and buying food."))
        elif o.makes:
            self.add(A.Say(text=f"Fine {o.makes} for sale at {o.name}'s den."))
