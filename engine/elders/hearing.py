"""What an elder makes of what it hears: rumours, by its credulity and its trust in the teller.

A rumour reaches a creature's inbox (``rumour`` items, from a legend or a teller). What it says is
read for a good (``honey``), a creature (``Oona``) and a mood: a good said to be worthless (a
*bear* rumour), a good said to run short (a *bull* rumour), a creature said to be broke. Whether the
creature believes it is its credulity, read from its personality (nervous and cheerful creatures
believe, sly and blunt ones doubt), times its trust in the teller (a teller who lied before is
believed less: :func:`engine.economy.legends.find_out` counts a rumour found false as a broken
word). The teller never believes its own rumour, and a creature never believes one about itself.

A believer acts on it for :data:`BELIEF_TURNS` turns, or until the clearing hears the rumour was
found false: it dumps the good said to be worthless and stops buying it, hoards the good said to
run short, and will not lend to, borrow from or sell forward to the creature said to be broke. A
sceptic with pebbles to spare buys the dip. Once a rumour is found false its good is priced at its
customary value again for :data:`RECOVERY_TURNS` turns (the price comes back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.economy.legends import FOUND_FALSE
from engine.turn.observation import Observation

BELIEF_TURNS = 6
"""Turns a believer acts on a rumour that is not found false before then."""
RECOVERY_TURNS = 4
"""Turns after a rumour is found false during which its good is priced at its customary value."""
BELIEVES_AT = 0.5
"""Credulity × trust at which a creature believes what it hears."""

_BEAR = re.compile(r"worthless|rotten|sell (\w+ )?now|sell everything|no good|is ruined|crash")
_BULL = re.compile(r"run(s|ning)? short|scarce|run out|buy \w+ (now|while|at any price)|name the price|hide one|nearly bare")
_BROKE = re.compile(r"hoard is empty|is broke|cannot pay|no more loans|called in")
_CREDULOUS = ("nervous", "cheerful", "chatty", "anxious", "gullible", "trusting", "young", "eager", "excitable", "timid")
_SCEPTICAL = ("sly", "shrewd", "blunt", "remembers", "sceptic", "skeptic", "wise", "cunning", "speculator", "careful", "old")


def credulity(o: Observation) -> float:
    """How readily a creature believes what it hears, 0-1, from the words of its personality."""
    words = o.personality.lower()
    score = 0.5 + 0.2 * sum(w in words for w in _CREDULOUS) - 0.2 * sum(w in words for w in _SCEPTICAL)
    return max(0.0, min(1.0, score))


def trust_in(o: Observation, teller: str) -> float:
    """How far a creature trusts what ``teller`` says, 0-1: each broken word (a default, a rumour
    found false) halves it, each kept one mends it a little; an anonymous whisper is taken at 1."""
    if teller not in {n.name for n in o.neighbours}:
        return 1.0
    kept, broken = o.trust.get(teller, (0, 0))
    return max(0.0, min(1.0, 0.5 ** broken * (1 + 0.1 * kept)))


@dataclass(slots=True, frozen=True)
class Heard:
    """One rumour as a creature read it."""

    turn: int
    teller: str
    text: str
    good: str | None
    creature: str | None
    mood: str
    """``bear`` (the good is worthless), ``bull`` (it runs short), ``broke`` (the creature is), or ``""``."""
    believed: bool


@dataclass(slots=True)
class Hearing:
    """What one creature believes this turn, and what it does about it."""

    heard: list[Heard] = field(default_factory=list)
    dumping: set[str] = field(default_factory=set)
    """Goods it believes worthless: it sells what it holds and buys none."""
    hoarding: set[str] = field(default_factory=set)
    """Goods it believes will run short: it sells none and stocks up."""
    dip: set[str] = field(default_factory=set)
    """Goods a rumour it does not believe has made cheap: it buys them."""
    doubted: set[str] = field(default_factory=set)
    """Creatures it believes broke: no loans to or from them, no forward deals."""
    recovering: set[str] = field(default_factory=set)
    """Goods whose rumour was lately found false: priced at their customary value at least."""
    liars: set[str] = field(default_factory=set)
    """Tellers of a rumour it heard found false lately."""

    @property
    def believes(self) -> bool:
        return bool(self.dumping or self.hoarding or self.doubted)


def _found_false(o: Observation) -> dict[str, int]:
    """Rumour texts (their start) the clearing or its memories say were found false, and when."""
    out: dict[str, int] = {}
    for turn, kind, _, text in o.clearing:
        if kind == "notice" and text.startswith(FOUND_FALSE):
            out[text[len(FOUND_FALSE):][:60]] = turn
    for m in o.memories:
        head, _, rest = m.partition(": ")
        if "was found false" in rest and head.startswith("turn "):
            turn = int(head[5:]) if head[5:].isdigit() else o.turn
            out.setdefault(rest.partition(": ")[2][:60], turn)
    return out


def hear(o: Observation) -> Hearing:
    """What ``o``'s creature makes of the rumours in its inbox this turn."""
    h = Hearing()
    heard = [i for i in o.inbox if i[1] == "rumour" and o.turn - i[0] <= BELIEF_TURNS + RECOVERY_TURNS]
    if not heard:  # the common case, kept cheap: a big wood asks this of every creature every turn
        return h
    found = _found_false(o)
    names = {n.name for n in o.neighbours}
    gullible = credulity(o)
    for turn, _, sender, text in heard:
        low = text.lower()
        good = next((g for g in o.goods if g in low), None)
        creature = next((n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)), None)
        mood = "bear" if _BEAR.search(low) else "bull" if _BULL.search(low) else ""
        broke = creature if _BROKE.search(low) else None
        false_at = found.get(text[:60])
        teller = sender if sender in names else ""
        believed = (
            false_at is None and o.turn - turn <= BELIEF_TURNS and teller != o.name and creature != o.name
            and gullible * trust_in(o, teller) >= BELIEVES_AT
        )
        h.heard.append(Heard(turn, teller, text, good, creature, "broke" if broke and not good else mood, believed))
        if false_at is not None:
            if good is not None and o.turn - false_at <= RECOVERY_TURNS:
                h.recovering.add(good)
            if teller and o.turn - false_at <= RECOVERY_TURNS:
                h.liars.add(teller)
            continue
        if o.turn - turn > BELIEF_TURNS:
            continue
        if believed:
            if good is not None and mood == "bear":
                h.dumping.add(good)
            elif good is not None and mood == "bull":
                h.hoarding.add(good)
            if broke is not None:
                h.doubted.add(broke)
        elif good is not None and mood == "bear" and creature != o.name and good not in o.never_buy:
            h.dip.add(good)
    return h
