"""What the scripted teacher says on its own account: announcements of what it sells and wants,
pleas when hungry or cold, complaints about broken deals, answers to rumours, thanks to partners,
and notes to itself. Each line names only actions it keeps this turn."""

from __future__ import annotations

import re

from engine.elders.mind import MindBase, Priority, once
from engine.elders.speech import ascii_safe, chance, shorten
from engine.turn import actions as A

_ACCEPTED = re.compile(r"^(.+?) accepted your offer #\d+")
_SETTLED = re.compile(r"^(.+?) and (.+?) settled contract #\d+")
_REPAID = re.compile(r"^(.+?) repaid (.+?) \d+ pebbles")
_SIGNED = re.compile(r"signed (loan|forward contract) #(\d+)")


class Talk(MindBase):
    sells: list[tuple[int, A.PlaceOrder]]
    buys: list[tuple[int, A.PlaceOrder]]
    _last: list[str] | None = None

    def inbox_since(self, turn: int) -> list[tuple[int, str, str, str]]:
        """Inbox items from ``turn`` on, oldest first (the inbox is in the order it was told)."""
        inbox = self.o.inbox
        i = len(inbox)
        while i and inbox[i - 1][0] >= turn:
            i -= 1
        return inbox[i:]

    def last_turn(self) -> list[str]:
        """What it remembers of last turn (memories are oldest first), without the turn prefix."""
        if self._last is None:
            last = f"turn {self.o.turn - 1}: "
            mems = self.o.memories
            i = len(mems)
            while i and mems[i - 1].startswith(last):
                i -= 1
            self._last = [m[len(last):] for m in mems[i:]]
        return self._last

    def bystanders(self, every: int) -> int:
        """How rarely a bystander remarks on news: about one in ``every`` in a small wood, and a
        handful in all however large the wood."""
        return max(every, self.town.alive // 3)

    def say(self, situation: str, prio: float, parents: tuple[int, ...] = (), **fields: object) -> None:
        self.add_speech(once(lambda: A.Say(text=self.words(situation, **fields))), prio, parents)

    def note(self, text: str) -> None:
        self.add_speech(once(lambda: A.Note(text=shorten(ascii_safe(text), self.town.chars))), Priority.NOTE)

    # ------------------------------------------------------------------ the market
    def announce(self) -> None:
        """Tell the clearing what I sell and want; plead when hungry or cold."""
        o = self.o
        fuel = set(o.fuel)
        plea = [(s, b) for s, b in self.buys if (b.good in fuel and o.cold) or (b.good not in fuel and o.hungry)]
        if plea:
            seq, b = plea[0]
            if b.good in fuel:
                self.say("cold", Priority.ANNOUNCE + 6, (seq,), good=b.good, price=b.price)
                return
            # What it says of its larder is true: bare only when it is; else it lacks variety.
            foods = {g: self.free.get(g, 0) for g in o.food if self.free.get(g, 0) > 0}
            if sum(foods.values()) < o.meal_size:
                self.say("hungry", Priority.ANNOUNCE + 6, (seq,), good=b.good, price=b.price)
            else:
                plenty = max(sorted(foods), key=lambda g: foods[g])
                self.say("variety", Priority.ANNOUNCE + 6, (seq,), good=b.good, price=b.price, plenty=plenty)
            return
        if self.sells and chance(o.turn, o.name, "announce", 3):
            seq, s = self.sells[0]
            wants = list(self.buys)

            def make(kept: set[int]) -> A.Action:
                text = self.words("sell", good=s.good, qty=s.qty, price=s.price)
                want = next((b for q, b in wants if q in kept), None)
                if want is not None:
                    text = shorten(text + " " + self.words("want", good=want.good, price=want.price), self.town.chars)
                return A.Say(text=text)

            self.add_speech(make, Priority.ANNOUNCE, (seq,))
        elif self.buys and chance(o.turn, o.name, "buying", 4):
            seq, b = self.buys[0]
            self.say("buy", Priority.ANNOUNCE, (seq,), good=b.good, qty=b.qty, price=b.price)

    # ------------------------------------------------------------------ the news
    def react_to_defaults(self) -> None:
        o = self.o
        for turn, debtor, creditor in self.town.defaults:
            if creditor == o.name:
                self.say("wronged", Priority.COMPLAIN, debtor=debtor)
                self.note(f"{debtor} broke a deal with me on turn {turn}: no credit")
            elif debtor == o.name:
                self.say("sorry", Priority.COMPLAIN, creditor=creditor)
            elif chance(o.turn, o.name, f"gossip{debtor}", self.bystanders(3)):
                self.say("gossip", Priority.RUMOUR, debtor=debtor, creditor=creditor)
            else:
                continue
            return

    def react_to_rumours(self) -> None:
        """Answer news heard this turn: deny a rumour about me, say what I believe (and do), and
        name whoever spread a rumour found false (:mod:`engine.elders.hearing`)."""
        o = self.o
        heard = self.hearing
        for liar in sorted(heard.liars):
            if liar != o.name and chance(o.turn, o.name, f"liar{liar}", 2):
                self.say("liar", Priority.COMPLAIN, teller=liar)
                self.note(f"{liar} spread a false rumour on turn {o.turn}")
                return
        for h in heard.heard:
            if h.believed and h.good in heard.dumping:
                sale = next(((s, b) for s, b in self.sells if b.good == h.good), None)
                if sale is not None:
                    self.say("rumour_believe", Priority.RUMOUR + 2, (sale[0],), good=h.good, price=sale[1].price)
                    return
        for turn, kind, _, text in self.inbox_since(o.turn):
            if kind != "rumour":
                continue
            about_me = re.search(rf"(?<!\w){re.escape(o.name)}(?!\w)", text) is not None  # "Oona 1" is not "Oona 10"
            good = next((g for g in o.goods if g in text.lower()), None)
            if about_me:
                self.say("rumour_rich" if self.purse >= 50 else "rumour_me", Priority.DENY)
            elif good is not None and chance(o.turn, o.name, "rumour", self.bystanders(2)):
                self.say("rumour_good", Priority.RUMOUR, good=good)
            elif chance(o.turn, o.name, "rumour", self.bystanders(2)):
                self.say("rumour", Priority.RUMOUR)
            else:
                continue
            self.note(f"rumour on turn {turn}: {text[:60]}")
            return

    def thank_partners(self) -> None:
        """Thank whoever took my offer or kept a deal with me last turn (one thanks a turn)."""
        o = self.o
        partners: list[tuple[str, str]] = []  # (partner, what for)
        for turn, kind, _, text in self.inbox_since(o.turn - 1):
            m = _ACCEPTED.match(text) if kind == "notice" and turn == o.turn - 1 and " accepted " in text else None
            if m:
                partners.append((m.group(1), "thanks"))
        for event in self.last_turn():
            if s := _SETTLED.match(event) if " settled " in event else None:
                if o.name in (s.group(1), s.group(2)):
                    partners.append((s.group(2) if s.group(1) == o.name else s.group(1), "kept"))
            elif (r := _REPAID.match(event) if " repaid " in event else None) and o.name in (r.group(1), r.group(2)):
                # the borrower thanks for the loan; the lender, for the word kept
                partners.append((r.group(2), "square") if r.group(1) == o.name else (r.group(1), "kept"))
        to, why = next(((n, w) for n, w in partners if n in self.town.names and n != o.name), ("", ""))
        if to:
            self.add_speech(once(lambda: A.Whisper(to=to, text=self.words(why, to=to))), Priority.THANKS)

    def remember_deals(self) -> None:
        """Note a loan or forward contract signed last turn: who, what and when."""
        o = self.o
        ids = set()
        for event in self.last_turn():
            s = _SIGNED.search(event) if " signed " in event else None
            if s:
                ids.add(int(s.group(2)))
        for ob in o.obligations:
            if ob.id not in ids:
                continue
            if ob.i_owe:
                what = ", ".join(f"{q} {a}" for a, q in ob.i_owe.items())
                self.note(f"I owe {ob.counterparty} {what} by turn {ob.due}")
            else:
                what = ", ".join(f"{q} {a}" for a, q in ob.owed_to_me.items())
                self.note(f"{ob.counterparty} owes me {what} by turn {ob.due}")
            return
