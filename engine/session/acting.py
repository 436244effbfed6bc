"""The actions a player queues for a creature taken over (:meth:`Player.act_as`), built from a
form's values, so a front end never names the engine's action models. The rules check each in
the turn it is played, as they check any creature's."""

from __future__ import annotations

from typing import Literal

from engine.turn import actions as A

Action = A.Action
"""One validated action (a pydantic model); out-of-range numbers raise ``pydantic.ValidationError``."""


def produce(qty: int) -> Action:
    """Make ``qty`` of what the creature makes."""
    return A.Produce(qty=qty)


def place_order(side: Literal["buy", "sell"], good: str, qty: int, price: int) -> Action:
    """A limit order on the book."""
    return A.PlaceOrder(side=side, good=good, qty=qty, price=price)


def accept(offer: int) -> Action:
    """Take an open offer made to the creature."""
    return A.Accept(id=offer)


def reject(offer: int) -> Action:
    """Turn an open offer down."""
    return A.Reject(id=offer)


def speak(to: str, text: str) -> Action:
    """Say something in the clearing (``to`` is ``*``) or whisper it to one creature."""
    return A.Say(text=text) if to == "*" else A.Whisper(to=to, text=text)
