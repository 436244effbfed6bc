"""The Patron: the player's own creature, a purse with no needs that acts only when the player does.

The Patron lives in the scenario text (:func:`with_patron`), so a save replays the same cast. What
the player has it do is an ordinary action, checked by the rules in its turn like any creature's;
the functions here build those actions with the words the player's log keeps for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from engine.scenario import parse
from engine.session.errors import SessionError
from engine.session.views import describe
from engine.turn import actions as A
from engine.turn.report import Decided

PATRON = "Patron"
"""The Patron's name."""
PATRON_PEBBLES = 200
"""Pebbles the Patron starts with."""

Move = tuple[A.Action, str]
"""An action for the Patron and how the player's log describes it."""


def with_patron(text: str, pebbles: int = PATRON_PEBBLES) -> str:
    """The scenario's TOML text with the Patron appended to the cast (unchanged if it has one)."""
    sc = parse(text)
    if any(c.role == "patron" for c in sc.creatures):
        return text
    if any(c.name == PATRON for c in sc.creatures):
        raise SessionError(f"this scenario already has a creature called {PATRON!r} that is not a patron")
    block = (
        "\n\n# Added by the session: the player's Patron (no needs, acts only when the player does).\n"
        "[[creatures]]\n"
        f'name = "{PATRON}"\nspecies = "patron"\nglyph = "P"\ncolour = "gold1"\nrole = "patron"\n'
        f"holdings = {{ pebbles = {pebbles} }}\n"
        'personality = "The player: a patron of the wood who lends, trades, tips and brokers."\n'
    )
    return text.rstrip("\n") + block


@dataclass(slots=True)
class PatronLog:
    """One thing the player had the Patron do, and what came of it."""

    turn: int
    """The turn it is played in."""
    action: A.Action
    label: str
    """How the player described it (a planted tip says so here; creatures never see this)."""
    result: str | None = None
    """``"done"`` (``"offered"`` for an offer: the other side has yet to take it), the refusal
    reason, or ``None`` while it waits for its turn."""


def lend(to: str, pebbles: int, interest: int, due: int) -> list[Move]:
    """Offer a creature a loan at interest (it must accept)."""
    action = A.Lend(to=to, pebbles=pebbles, interest=interest, due=due)
    return [(action, describe(action))]


def order(side: Literal["buy", "sell"], good: str, qty: int, price: int) -> list[Move]:
    """Place a limit order on the book."""
    action = A.PlaceOrder(side=side, good=good, qty=qty, price=price)
    return [(action, describe(action))]


def tip(to: str, text: str, planted: bool) -> list[Move]:
    """Whisper a tip to a creature; whether it is planted is recorded for the player only."""
    kind = "planted tip" if planted else "true tip"
    return [(A.Whisper(to=to, text=text), f"{kind} to {to}: {text}")]


def broker(seller: str, buyer: str, good: str, qty: int, price: int, fee: int) -> list[Move]:
    """Stand between two creatures: buy ``qty`` ``good`` from the seller at ``price`` each now,
    and offer it to the buyer for delivery next turn at ``price`` each plus ``fee``."""
    if seller == buyer:
        raise SessionError("a broker needs two different creatures")
    cost = qty * price
    return [
        (A.MakeOffer(to=seller, give={"pebbles": cost}, get={good: qty}),
         f"broker: buy {qty} {good} from {seller} for {cost}"),
        (A.MakeOffer(to=buyer, give={good: qty}, get={"pebbles": cost + fee}, due=1),
         f"broker: sell {qty} {good} to {buyer} for {cost + fee} next turn"),
    ]


def settle_log(log: Iterable[PatronLog], mine: Decided | None, turn: int) -> None:
    """Mark what became of the Patron's actions that were due by ``turn``, from its turn ``mine``."""
    results = list(mine.results) if mine else []
    for entry in [e for e in log if e.result is None and e.turn <= turn]:
        hit = next((i for i, (a, _) in enumerate(results) if a == entry.action), None)
        if hit is None:
            entry.result = "not played"
            continue
        _, reason = results.pop(hit)
        entry.result = outcome(entry.action, reason)


def outcome(action: A.Action, reason: str | None) -> str:
    """What became of a player's action in its turn: the rules' refusal, ``"offered"`` for an offer
    the rules let stand (the other side has yet to take it), else ``"done"``."""
    if reason is not None:
        return reason
    return "offered" if isinstance(action, A.MakeOffer | A.Lend | A.Borrow | A.Counter) else "done"
