"""What the scripted creatures say, and the short reason they give for a decision.

Several templates per situation; which one a creature uses is drawn from a stable hash of the
turn, its name and the situation (never Python's ``hash()``, never a global random generator), so
the same game always says the same words. Every line is short, plain ASCII, and free of the two
characters a model's answer grammar cannot write inside a string (the double quote and the
backslash).
"""

from __future__ import annotations

import unicodedata
import zlib

SPEECH_CHARS = 100
"""The longest line a scripted creature says, whispers or notes (the scenario may allow more)."""
THINKING_CHARS = 80
"""The longest reason it gives for a decision (lower-case letters, digits, spaces, ``:`` and ``,``)."""

TEMPLATES: dict[str, tuple[str, ...]] = {
    # In the clearing: what I sell (and want), and at what price.
    "sell": (
        "{good} for sale: {qty} at {price} each, at {me}'s den.",
        "Fresh {good}, {price} pebbles a piece. Who wants some?",
        "{me} sells {good} at {price}. Swaps welcome too.",
        "Selling {qty} {good} at {price} each, today only.",
        "Good {good} at {price}! Come and buy.",
    ),
    "want": (
        "I want {good}, up to {price} each.",
        "Looking for {good}, paying {price}.",
        "Need {good}: {price} a piece.",
    ),
    "buy": (
        "Buying {good} at {price} each. Who sells?",
        "Paying {price} for {good}. Any takers?",
        "I need {qty} {good}, {price} a piece.",
    ),
    "cold": (
        "Brr! I need {good}, paying {price} a bundle.",
        "My fire is out. Buying {good} at {price}, anyone?",
        "Cold den here. Who sells {good}? {price} each.",
    ),
    "hungry": (
        "My larder is bare. Buying {good} at {price}.",
        "Hungry today: {good} wanted, {price} each.",
        "Will pay {price} for {good}. My belly is empty.",
    ),
    "variety": (  # hungry for want of a varied meal, with food of one kind in plenty
        "Plenty of {plenty} here, but no {good} for a proper meal. Paying {price}.",
        "All {plenty} and no {good} makes a dull meal. {good} wanted at {price}.",
        "I will swap {plenty} or pay {price} for {good}: a meal needs more than one kind.",
        "Tired of {plenty}! Who sells {good}? {price} each.",
    ),
    # Whispered with an offer, a counter or a loan.
    "swap": (
        "{to}, my {give} for your {get}? Offer sent.",
        "A swap, {to}: {give} for {get}. Fair?",
        "{to}, I have spare {good}. {give} for {get}?",
    ),
    "forward_buy": (
        "{to}, sell me {get} by turn {due}? I pay {give}.",
        "{to}, I will buy {get} from you by turn {due} for {give}.",
        "Cold is coming, {to}. {get} by turn {due} for {give}?",
    ),
    "forward_sell": (
        "{to}, I can bring {give} by turn {due} for {get}. Deal?",
        "{to}: {give} delivered by turn {due}, for {get}. Want it?",
        "Fresh {good} for you by turn {due}, {to}: {get}.",
    ),
    "counter": (
        "{to}, not quite. I offer {give} for {get} instead.",
        "Too dear for me, {to}. How about {give} for {get}?",
        "{to}, close! Make it {give} for {get}.",
    ),
    "accept": (
        "Deal, {to}! Thank you.",
        "Gladly, {to}. A pleasure trading.",
        "Accepted, {to}. Come again!",
    ),
    "reject": (
        "Not this time, {to}.",
        "No thanks, {to}; it does not suit me.",
        "I must pass, {to}.",
    ),
    "borrow": (
        "{to}, may I borrow {p} pebbles? I repay {total} by turn {due}.",
        "{to}, lend me {p}? {total} back by turn {due}, I promise.",
        "Short of pebbles, {to}. {p} now, {total} by turn {due}?",
    ),
    "lend_yes": (
        "Done, {to}: {p} pebbles, {total} due on turn {due}.",
        "Here are {p} pebbles, {to}. Repay {total} by turn {due}.",
        "Yes, {to}. {p} lent; I expect {total} on turn {due}.",
    ),
    "lend_no": (
        "Sorry {to}, no loan today: {why}.",
        "Not now, {to}; {why}.",
        "I cannot lend, {to}: {why}.",
    ),
    "lend_offer": (
        "{to}, I can lend you {p} pebbles, {total} back by turn {due}.",
        "{to}, need pebbles? {p} now, {total} by turn {due}.",
    ),
    "loan_thanks": (
        "Thank you, {to}! I will repay on time.",
        "Much obliged, {to}. You will have it back.",
    ),
    "repay": (
        "{to}, I repay you {p} pebbles early. Thank you.",
        "Paid back early, {to}. My word is good.",
        "{to}, here are {p} pebbles: our loan is settled.",
    ),
    "thanks": (  # to a creature that took my offer
        "Thank you for the deal, {to}!",
        "A pleasure, {to}. Let us trade again soon.",
    ),
    "kept": (  # to a creature that settled a contract with me, or repaid my loan
        "{to}, you kept your word. Thank you.",
        "Done and done, {to}. A pleasure to deal with you.",
    ),
    "square": (  # to the lender I repaid
        "Thank you for the loan, {to}. We are square.",
        "{to}, we are square now. Thank you for the help.",
    ),
    # In the clearing, about broken deals and rumours.
    "wronged": (
        "{debtor} broke our deal! Beware of dealing with {debtor}.",
        "{debtor} never paid me. Remember that, all.",
        "Shame on {debtor}: our contract is broken.",
    ),
    "sorry": (
        "I could not pay {creditor}. Sorry; I will make it right.",
        "Forgive me, {creditor}. Hard times; I will pay when I can.",
    ),
    "gossip": (
        "{debtor} broke a deal with {creditor}. I will take care.",
        "Did you hear? {debtor} defaulted. Careful, all.",
        "{debtor} let {creditor} down. No credit from me.",
    ),
    "rumour_rich": (
        "Lies! My hoard is full. Do not panic.",
        "My hoard is safe and full, friends. Pay the rumour no mind.",
    ),
    "rumour_me": (
        "The rumours about me are false. All is well.",
        "Do not believe it, friends. I am fine.",
        "Ask me, not the wind: I keep my word.",
    ),
    "rumour_good": (
        "I heard the news about {good}. I will watch the price.",
        "{good}? I trust prices, not rumours.",
        "Is it true about {good}? I will wait and see.",
    ),
    "rumour": (
        "Strange news today. Keep your pebbles close.",
        "Did you all hear the rumour? Stay calm.",
        "A rumour is going round. I will believe it when I see it.",
    ),
    "rumour_believe": (  # a believer, dumping the good said to be worthless
        "They say {good} is worthless! I am selling mine at {price}.",
        "No more {good} for me. Mine goes at {price}, quick.",
        "I believe it: {good} is done for. Selling at {price}.",
    ),
    "rumour_doubt": (  # a sceptic, buying the dip
        "{good} for a song? I do not believe a word. Buying at {price}.",
        "Panic is cheap. I buy {good} at {price}.",
        "Sell me your {good} at {price}, you frightened lot.",
    ),
    "liar": (  # a rumour it heard was found false
        "{teller} spread a lie about the hoard. I will not trust {teller} soon.",
        "The rumour was false! Shame on {teller}.",
        "{teller} made fools of us. Remember that, all.",
    ),
    "found_false": (  # an anonymous rumour was found false
        "The rumour was false after all. {good} is good as ever.",
        "So it was a lie. I buy {good} again.",
    ),
    # Answers to a request in a whisper (engine.elders.requests).
    "ask_yes": (
        "Yes, {to}: {qty} {good} at {price} each. Offer sent.",
        "Done, {to}. {qty} {good} for {total} pebbles; take it.",
    ),
    "ask_counter": (
        "{price} is too low, {to}. I can do {qty} {good} at {mine} each.",
        "Not at {price}, {to}. {mine} each and {qty} {good} are yours.",
    ),
    "ask_buy_yes": (
        "Yes, {to}: I buy {qty} {good} at {price}. Offer sent.",
        "Agreed, {to}. {total} pebbles for {qty} {good}.",
    ),
    "ask_no": (
        "Sorry, {to}: {why}.",
        "I must refuse, {to}: {why}.",
        "No, {to}; {why}.",
    ),
    "ask_wait_no": (  # worded so that it reads as no request itself (engine.elders.requests)
        "{to}, the loan is due on turn {due}: {why}.",
        "Turn {due} it is, {to}: {why}.",
    ),
}


def pick(situation: str, turn: int, name: str, seed: int) -> int:
    """A stable choice among a situation's templates: the same game seed, turn, creature and
    situation always give the same one; another seed, turn or creature usually another."""
    n = len(TEMPLATES[situation])
    return zlib.crc32(f"{seed}|{turn}|{name}|{situation}".encode()) % n


def chance(turn: int, name: str, what: str, every: int) -> bool:
    """True about once in ``every`` turns for this creature and this reason, always the same way
    (when a creature speaks up is its habit; what it says is drawn with the game's seed, :func:`pick`)."""
    return zlib.crc32(f"{turn}|{name}|{what}".encode()) % max(1, every) == 0


def ascii_safe(text: str) -> str:
    """Plain printable ASCII with no double quote or backslash, spaces squeezed."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return " ".join(text.split())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else " " for ch in text)
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut[:limit].rstrip(" ,;:")


def line(situation: str, turn: int, name: str, seed: int, **fields: object) -> str:
    """One line for the situation (chosen by :func:`pick`), its fields filled in, made safe and at
    most :data:`SPEECH_CHARS` long."""
    template = TEMPLATES[situation][pick(situation, turn, name, seed)]
    text = template.format(me=name, **fields)
    return shorten(ascii_safe(text[:1].upper() + text[1:]), SPEECH_CHARS)


def bundle(b: dict[str, int]) -> str:
    """``2 honey and 6 pebbles``."""
    parts = [f"{q} {'pebble' if a == 'pebbles' and q == 1 else a}" for a, q in b.items() if q]
    return " and ".join(parts) or "nothing"


def thought(prefix: str, clauses: list[tuple[str, str]], limit: int = THINKING_CHARS) -> str:
    """A short lower-case reason: ``prefix: clause, clause`` with clauses of one verb merged
    (``short of honey and acorns``), cut at a clause so it never exceeds ``limit`` characters."""
    merged: dict[str, list[str]] = {}
    for verb, what in clauses:
        objs = merged.setdefault(verb, [])
        if what and what not in objs:
            objs.append(what)
    out = prefix
    sep = ": " if prefix else ""
    for verb, objs in merged.items():
        part = f"{verb} {' and '.join(objs)}" if objs else verb
        if len(out) + len(sep) + len(part) > limit:
            # too many merged objects: keep the first only
            part = f"{verb} {objs[0]}" if objs else verb
            if len(out) + len(sep) + len(part) > limit:
                break
        out = f"{out}{sep}{part}"
        sep = ", "
    return shorten(plain(out), limit)


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 :,")


def plain(text: str) -> str:
    """Lower-case letters, digits, spaces, colons and commas only (what a reason is written in)."""
    text = ascii_safe(text).lower()
    return " ".join("".join(ch if ch in _PLAIN else " " for ch in text).split())
