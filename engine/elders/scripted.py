"""A deterministic rule-based brain for every role: offline play, baselines, fast tests, and the
teacher a small model is fine-tuned to imitate.

Each creature makes what it can, keeps a small reserve, sells its surplus, and buys the food
and firewood it lacks, bidding harder when it went hungry or cold. On top of that the
woodcutter decides how much to fell, the lender lends, the trader speculates and writes
forward contracts, anyone short of pebbles asks the lender for a loan, and everyone answers
offers (accept, counter, reject), repays early when flush, buys firewood forward before the
cold, talks (:mod:`engine.elders.talk`) and gives a short reason for what it does.

It plans more than it can say, each candidate with a priority, and keeps the most important
that fit the answer allowance a small model has (:mod:`engine.elders.mind`).
"""

from __future__ import annotations

import math

from engine.core.assets import PEBBLES
from engine.elders.dealing import FOOD_STOCK, Dealing, ceil1
from engine.elders.mind import Priority, Town
from engine.elders.requests import Answering
from engine.elders.speech import SPEECH_CHARS
from engine.elders.talk import Talk
from engine.turn import actions as A
from engine.turn.brain import Answer, HoldsNothing
from engine.turn.observation import Observation

FUEL_TURNS = 3
"""Turns of firewood need a creature likes to keep."""
SWAP_STOCK = 2
"""Units of its own food a maker keeps off the market: a meal, and something to swap."""
GAMBLER_CREDIT = 75
"""The credit score above which the trader risks forward purchases it may not be able to pay."""
DUMP = 0.5
"""A believer sells a good said to be worthless at this share of its price."""
DIP = 0.55
"""A sceptic bids this share of the price for a good a rumour has others dumping."""
THINNING = 0.75
"""Below this share of its trees standing, a prudent woodcutter fells less the thinner the forest."""


class ScriptedBrain(HoldsNothing):
    """Rules of thumb per role. The same observation always gives the same answer."""

    name = "scripted"

    def __init__(self, message_chars: int = SPEECH_CHARS) -> None:
        """``message_chars``: the wood's limit on a message (``[budget] message_chars``); lines
        are never longer than it, nor than :data:`SPEECH_CHARS`."""
        self.message_chars = message_chars

    def decide(self, observations: list[Observation]) -> list[Answer]:
        towns: dict[int, Town] = {}
        answers = []
        for o in observations:
            town = towns.get(id(o.neighbours))
            if town is None:
                town = towns[id(o.neighbours)] = Town(o, self.message_chars)
            # A patron left to the scripted brain does nothing: it is the player's purse.
            if o.role == "patron":
                answers.append(Answer(actions=[]))
                continue
            mind = _Mind(o, town, place(o))
            actions, thinking = mind.decide()
            mind.cands.clear()  # its candidates' closures point back at it: freed now, not by the garbage collector
            answers.append(Answer(actions=actions, thinking=thinking))
        return answers


def place(o: Observation) -> int:
    """The creature's place among the living, in the wood's order: what spreads its requests over
    partners. It depends on the wood alone, not on which creatures share this brain, so a creature
    handed to another brain (a league's seat swap) leaves the others' choices as they were."""
    living = [n.name for n in o.neighbours if n.alive]
    return living.index(o.name) if o.name in living else 0


class _Mind(Dealing, Talk, Answering):
    def __init__(self, o: Observation, town: Town, k: int) -> None:
        super().__init__(o, town, k)
        self.lender = town.pick(town.lenders, o.name, k)
        self.woodcutter = town.pick(town.woodcutters, o.name, k)
        self.sells: list[tuple[int, A.PlaceOrder]] = []
        self.buys: list[tuple[int, A.PlaceOrder]] = []
        self.my_bids = {od.good: od for od in o.my_orders if od.side == "buy"}
        """My bids resting on the book, by good."""

    # ------------------------------------------------------------------- turn
    def decide(self) -> tuple[list[A.Action], str]:
        o = self.o
        self.repay()
        self.answer_offers()
        self.answer_requests()
        made, made_seq = self.produce()
        held = dict(self.free)
        if o.makes:
            held[o.makes] = held.get(o.makes, 0) + made
        self.barter(held)
        self.sell_surplus(held, made_seq)
        short = self.buy_needs(held)
        self.buy_the_dip()
        if short > 0:
            self.borrow(short, self.lender)
        if o.role == "lender":
            self.bid_bargains()
            self.offer_loan()
        elif o.role == "trader":
            self.speculate(held)
        elif o.role != "woodcutter":
            self.forward_fuel(held, self.woodcutter)
        self.forward_sale()
        self.react_to_defaults()
        self.react_to_rumours()
        self.announce()
        self.thank_partners()
        self.remember_deals()
        self.prefix = self.situation(short, held)
        return self.choose()

    def situation(self, short: int, held: dict[str, int]) -> str:
        """What the reason starts with: the most pressing fact of the turn."""
        o = self.o
        if o.cold:
            return "freezing"
        if o.hungry:
            return "hungry"
        if o.fuel_need and o.fuel_need[-1] > o.fuel_need[0]:
            return "cold coming"
        if self.owe.get(PEBBLES):
            return "debt due soon"
        if short > 0 and o.role != "lender":
            return "pebbles low"
        if o.makes and held.get(o.makes, 0) > 3 * max(1, o.capacity):
            return f"glut of {o.makes}"
        return o.season

    def produce(self) -> tuple[int, int]:
        """Produce; return how much that should yield and the candidate's id."""
        o = self.o
        if not o.makes or o.can_make <= 0:
            return 0, -1
        if o.role != "woodcutter":
            seq = self.add(A.Produce(qty=o.capacity), Priority.PRODUCE, ("make", f"{o.can_make} {o.makes}"))
            return o.can_make, seq
        qty = o.can_make
        stock = self.free.get(o.makes, 0) + o.escrow.get(o.makes, 0)
        # Its share of the wood's fire for the next few turns, plus what is promised.
        share_of = max(1, len(self.town.woodcutters))
        target = sum(o.fuel_need) * self.town.alive // share_of + self.owe.get(o.makes, 0)
        share = o.forest_trees / o.forest_capacity if o.forest_capacity else 0.0
        # A prudent woodcutter spares a thin forest and fells to demand; greed overrides both.
        if o.greed <= 1.0:
            qty = min(qty, max(0, target - stock + 2))
            if share < THINNING:
                qty = min(qty, math.ceil(o.capacity * share))
            if share < 0.45:
                qty = qty // 2
        else:
            qty = min(o.can_make, math.ceil(qty * o.greed))
        if qty <= 0:
            return 0, -1
        seq = self.add(A.Produce(qty=qty), Priority.PRODUCE, ("fell", str(qty)))
        others = len(self.town.woodcutters) - self.town.woodcutters.count(o.name)
        if others and o.can_make < o.capacity:
            # few trees near its den, and another woodcutter may share them and fell them all
            # first (it cannot tell whether their patches meet): it sells only what it holds,
            # and what it fells next turn
            return 0, seq
        return qty, seq

    def reserve(self, good: str) -> int:
        o = self.o
        keep = self.owe.get(good, 0)
        if good in o.fuel:
            keep += sum(o.fuel_need[:FUEL_TURNS])
        elif good in o.food:
            keep += FOOD_STOCK if good != o.makes else SWAP_STOCK
        return keep

    def sell_surplus(self, held: dict[str, int], made_seq: int) -> None:
        o = self.o
        # Collateral promised in a loan request still waiting must stay free.
        pledged: dict[str, int] = {}
        for f in o.my_offers:
            if f.kind == "borrow":
                for a, q in f.collateral.items():
                    pledged[a] = pledged.get(a, 0) + q
        heard = self.hearing
        for good in o.goods:
            dump = good in heard.dumping
            surplus = held.get(good, 0) - self.reserve(good) - pledged.get(good, 0)
            if dump:  # said to be worthless, and believed: all of it goes
                surplus = held.get(good, 0) - pledged.get(good, 0)
            elif good != o.makes and o.role != "trader":
                surplus -= FOOD_STOCK  # keep a cushion of bought goods
            if good in heard.hoarding and good != o.makes:
                continue  # said to run short, and believed: none of it goes
            if surplus <= 0 or self.my_order(good, "sell") is not None or not self.room_for_order():
                continue
            bid = self.my_bids.get(good)
            ref: float = o.prices[good]
            if good in heard.recovering:  # the rumour was false: the customary value again
                ref = max(ref, o.base_values[good])
            if good in o.fuel:
                # Fire sells dear when the wood is cold, cheap when it is warm: the seller
                # anchors on the customary value and the cold, not only on the last trade.
                ref = (ref + o.base_values[good] * (1 + 0.3 * o.fuel_need[0])) / 2
            # Gluts sell cheaper; a small stock asks a premium.
            glut = surplus / max(1, o.capacity if good == o.makes else 4)
            markup = 1.05 - 0.08 * min(glut, 3.0) + 0.1 * (o.greed - 1)
            price = max(1, int(ref * DUMP)) if dump else ceil1(ref * markup)
            if bid is not None and bid.price >= price:
                continue  # it would meet my own bid: let the bid run out first
            qty = min(surplus, 100)
            how = " before it is worthless" if dump else " dear" if price > o.prices[good] else (" cheap" if price < o.prices[good] else "")
            parents = (made_seq,) if qty > self.free.get(good, 0) and made_seq >= 0 else ()
            fee = self.terms.fee(qty * price)
            if fee > self.pebbles:
                continue  # the purse cannot pay the fee of this ask
            self.pebbles -= fee
            order = A.PlaceOrder(side="sell", good=good, qty=qty, price=price)
            seq = self.add(order, Priority.SELL_OWN if good == o.makes else Priority.SELL, ("sell", good + how), parents)
            self.orders += 1
            self.sells.append((seq, order))

    def buy_needs(self, held: dict[str, int]) -> int:
        """Bid for the food and fire I lack, most urgent first; return the pebbles I am short."""
        o = self.o
        wants: list[tuple[float, str, int, int, float]] = []
        fuel = o.fuel[0] if o.fuel else None
        if fuel and fuel not in o.never_buy:
            need = sum(o.fuel_need[:FUEL_TURNS]) + self.owe.get(fuel, 0) - held.get(fuel, 0)
            if need > 0:
                freezing = held.get(fuel, 0) < o.fuel_need[0]
                urgency = 1.15 + 0.12 * o.cold + (0.25 if freezing else 0.0)
                price = min(ceil1(o.prices[fuel] * urgency), 4 * o.base_values[fuel])
                prio = Priority.URGENT if freezing or o.cold else Priority.NEED
                wants.append((2.0 + o.cold, fuel, need, price, prio))
        # The well-off keep a deeper larder, which sends their pebbles back round the wood.
        stock = FOOD_STOCK + min(4, self.pebbles // 50)
        # A meal needs several kinds: the kinds missing from the next meal come first, cheapest first.
        missing = []
        kinds = 0
        heard = self.hearing
        for g in o.food:
            if held.get(g, 0) > 0:
                kinds += 1
            elif g not in o.never_buy and g not in heard.dumping:
                missing.append((o.prices[g], g))
        missing.sort()
        meal_gap = {g for _, g in missing[: max(0, o.meal_size - kinds)]}
        for good in o.food:
            if good in o.never_buy or good in heard.dumping:
                continue  # a believer buys none of a good said to be worthless
            need = stock + self.owe.get(good, 0) - held.get(good, 0) + (3 if good in heard.hoarding else 0)
            if need > 0:
                empty = held.get(good, 0) == 0
                urgency = 1.1 + 0.1 * o.hungry + (0.2 if empty else 0.0)
                ref = max(o.prices[good], o.base_values[good]) if good in heard.recovering else o.prices[good]
                price = min(ceil1(ref * urgency), 4 * o.base_values[good])
                if good in heard.dip:  # the wood is dumping it: why pay full?
                    price = max(1, min(price, int(o.prices[good] * (DIP + 0.05))))
                prio = Priority.URGENT - 1 if good in meal_gap else (Priority.NEED if held.get(good, 0) < FOOD_STOCK else Priority.STOCK)
                wants.append((1.0 + o.hungry / 3, good, need, price, prio))
        wants.sort(key=lambda w: (-w[0], w[1]))
        return self.place_bids(wants, held)

    def place_bids(self, wants: list[tuple[float, str, int, int, float]], held: dict[str, int]) -> int:
        budget = self.pebbles - self.owe.get(PEBBLES, 0)
        # What is left however the answer's allowance cuts the plan: a cancel frees its bid's
        # pebbles only when it is kept (with its new bid), so a later bid (or cancel and bid) that
        # needs more than surely left is kept only with every cancel before it.
        sure = budget
        cancels: list[int] = []
        short = 0
        for _, good, need, price, prio in wants:
            old = self.my_bids.get(good)
            # A resting bid below what a need is worth now (a bargain bid, or the price rose):
            # withdraw it and bid again, higher.
            if old is not None and (prio < Priority.NEED or old.price >= price):
                continue
            if self.crosses(good, price):
                continue
            freed = old.qty * old.price if old is not None else 0
            qty = self.affordable(budget + freed, price, need)
            short += (need - qty) * price
            if qty <= 0 or (old is None and not self.room_for_order()):
                continue
            spent = self.bid_cost(qty, price)
            net = spent - freed
            depends = tuple(cancels) if net > sure else ()
            parents = depends
            if old is not None:
                withdraw = self.add(A.Cancel(id=old.id), prio, ("bid higher for", good), depends)
                cancels.append(withdraw)
                parents = (withdraw,)
                self.orders -= 1
            budget -= net
            self.pebbles -= net
            # kept alone, it leaves what its net cost leaves; kept only with the cancels before it
            # (all kept), what the whole plan so far leaves
            sure = min(sure, budget) if depends else sure - max(0, net)
            order = A.PlaceOrder(side="buy", good=good, qty=qty, price=price)
            verb = "stock up on" if prio == Priority.STOCK else "short of"
            seq = self.add(order, prio, (verb, good), parents)
            if old is not None:
                # The withdrawal and the new bid are kept together or not at all.
                self.cands[parents[0]].partner = seq
            self.buys.append((seq, order))
            self.orders += 1
        # What comes after (bargains, forward buys, loans) counts only the pebbles surely left.
        self.pebbles = min(self.pebbles, sure + self.owe.get(PEBBLES, 0))
        return short

    def buy_the_dip(self) -> None:
        """A sceptic with pebbles to spare buys what a rumour it does not believe has made cheap."""
        o = self.o
        for good in sorted(self.hearing.dip):
            if self.my_order(good, "buy") is not None or any(b.good == good for _, b in self.buys) or not self.room_for_order():
                continue
            price = max(1, int(o.prices[good] * DIP))
            qty = self.affordable(self.pebbles - 20, price, 3)
            if qty <= 0 or self.crosses(good, price):
                continue
            order = A.PlaceOrder(side="buy", good=good, qty=qty, price=price)
            seq = self.add(order, Priority.STOCK + 1, ("buy the dip in", good))
            self.buys.append((seq, order))
            self.pebbles -= self.bid_cost(qty, price)
            self.orders += 1
            self.say("rumour_doubt", Priority.RUMOUR + 1, (seq,), good=good, price=price)

    def crosses(self, good: str, price: int) -> bool:
        """Whether a bid at ``price`` would meet my own ask (open, or placed this turn)."""
        return any(od.good == good and od.side == "sell" and od.price <= price for od in self.o.my_orders) or any(
            s.good == good and s.price <= price for _, s in self.sells)

    def bid_bargains(self) -> None:
        # The lender answers borrow requests (in answer_offers); it also keeps its hoard working
        # by bidding for bargains below the reference price.
        o = self.o
        for good in o.food:
            if good in o.never_buy or self.my_order(good, "buy") is not None or not self.room_for_order():
                continue
            if any(b.good == good for _, b in self.buys):
                continue
            price = max(1, int(o.prices[good] * 0.7))
            if self.pebbles > 60 + self.bid_cost(3, price) and not self.crosses(good, price):
                order = A.PlaceOrder(side="buy", good=good, qty=3, price=price)
                self.buys.append((self.add(order, Priority.BARGAIN, ("bid low for", good)), order))
                self.pebbles -= self.bid_cost(3, price)
                self.orders += 1

    def speculate(self, held: dict[str, int]) -> None:
        o = self.o
        fuel = o.fuel[0] if o.fuel else None
        # Before the cold comes, buy firewood forward from the woodcutter to sell into the winter.
        rising = o.fuel_need[-1] > o.fuel_need[0] or (o.fuel_need[0] == 0 and o.fuel_need[-1] > 0)
        forward = any(ob.kind == "forward" for ob in o.obligations)
        if fuel and self.woodcutter and rising and not forward and self.room_for_offer():
            qty = 4
            price = ceil1(o.prices[fuel] * 1.05) * qty
            # With good credit a speculator commits on what it held before today's shopping: a
            # gamble that can fail (and then its credit stops it gambling for a while).
            if (self.purse if o.credit >= GAMBLER_CREDIT else self.pebbles) >= price:
                offer = A.MakeOffer(to=self.woodcutter, give={PEBBLES: price}, get={fuel: qty}, due=min(o.max_term, 4))
                seq = self.add(offer, Priority.DEAL, ("buy forward", fuel))
                self.offers += 1
                self.whisper(self.woodcutter, "forward_buy", Priority.OFFER_TALK, seq, give=f"{price} pebbles", get=f"{qty} {fuel}",
                             due=o.turn + (offer.due or 0))
        for good in o.goods:
            if good in o.never_buy or good == fuel or not self.room_for_order():
                continue
            ref = o.prices[good]
            if any(b.good == good for _, b in self.buys):
                continue
            bid = max(1, int(ref * 0.85))
            if self.my_order(good, "buy") is None and held.get(good, 0) < 6 and self.pebbles > 30 + 3 * ref and not self.crosses(good, bid):
                order = A.PlaceOrder(side="buy", good=good, qty=2, price=bid)
                self.buys.append((self.add(order, Priority.BARGAIN, ("buy cheap", good)), order))
                self.pebbles -= self.bid_cost(2, order.price)
                self.orders += 1
