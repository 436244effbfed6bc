"""Other answers than the elder's own: what a creature with foresight tries before it chooses.

Each variant changes one kind of choice in the elder's answer and leaves the rest as it was:
prices (asking less and bidding more to be sure to trade, or holding out for better), quantities
(selling less, making less or more), credit (no lending or borrowing this turn), deals (no new
offers, or none of the offers it was going to accept) and speech (saying nothing). A variant that
would change nothing this turn is left out, so every candidate differs from the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.turn import actions as A
from engine.turn.observation import Observation

SHADE = 0.15
"""How far a price variant moves each limit price (a share of it; at least one pebble)."""

Actions = list[A.Action]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One answer a creature with foresight may give: its actions and what it changed."""

    label: str
    """``own`` for the elder's answer, else the variant's name."""
    actions: Actions


def _shade(price: int, up: bool) -> int:
    moved = round(price * (1 + SHADE)) if up else round(price * (1 - SHADE))
    if moved == price:
        moved = price + 1 if up else price - 1
    return max(1, moved)


def _prices(actions: Actions, asks_up: bool) -> Actions:
    out: Actions = []
    for a in actions:
        if isinstance(a, A.PlaceOrder):
            up = asks_up if a.side == "sell" else not asks_up
            a = a.model_copy(update={"price": _shade(a.price, up)})
        out.append(a)
    return out


def eager(actions: Actions, o: Observation) -> Actions:
    """Ask less and bid more: trade surely, at worse prices."""
    return _prices(actions, asks_up=False)


def keen(actions: Actions, o: Observation) -> Actions:
    """Ask more and bid less: better prices, if anyone takes them."""
    return _prices(actions, asks_up=True)


def sell_less(actions: Actions, o: Observation) -> Actions:
    """Sell half as much (keep the rest for later turns)."""
    out: Actions = []
    for a in actions:
        if isinstance(a, A.PlaceOrder) and a.side == "sell":
            if a.qty < 2:
                continue
            a = a.model_copy(update={"qty": a.qty // 2})
        out.append(a)
    return out


def _make(actions: Actions, o: Observation, share: float) -> Actions:
    out: Actions = []
    for a in actions:
        if isinstance(a, A.Produce):
            a = a.model_copy(update={"qty": max(0, round(a.qty * share))})
        out.append(a)
    return out


def make_less(actions: Actions, o: Observation) -> Actions:
    """Make (for a woodcutter: fell) half as much."""
    return _make(actions, o, 0.5)


def make_more(actions: Actions, o: Observation) -> Actions:
    """Make half as much again (a woodcutter fells more; others make what they can anyway)."""
    return _make(actions, o, 1.5) if o.role == "woodcutter" else actions


def no_credit(actions: Actions, o: Observation) -> Actions:
    """Neither lend nor borrow this turn."""
    return [a for a in actions if not isinstance(a, A.Lend | A.Borrow)]


def no_new_deals(actions: Actions, o: Observation) -> Actions:
    """Offer no new deal (swap or forward) and counter none."""
    return [a for a in actions if not isinstance(a, A.MakeOffer | A.Counter)]


def decline(actions: Actions, o: Observation) -> Actions:
    """Accept none of the offers made to me."""
    return [a for a in actions if not isinstance(a, A.Accept)]


def quiet(actions: Actions, o: Observation) -> Actions:
    """Say, whisper and note nothing."""
    return [a for a in actions if not isinstance(a, A.Say | A.Whisper | A.Note)]


VARIANTS: tuple[tuple[str, Callable[[Actions, Observation], Actions]], ...] = (
    ("eager prices", eager),
    ("keen prices", keen),
    ("no credit", no_credit),
    ("quiet", quiet),
    ("sell less", sell_less),
    ("no new deals", no_new_deals),
    ("decline offers", decline),
    ("make less", make_less),
    ("make more", make_more),
)
"""Every variant, in the order a creature tries them (``width`` takes the first that change something)."""


def candidates(own: Actions, o: Observation, width: int) -> list[Candidate]:
    """The elder's own answer first, then up to ``width - 1`` variants that differ from every
    candidate before them."""
    out = [Candidate("own", list(own))]
    seen = [out[0].actions]
    for label, vary in VARIANTS:
        if len(out) >= width:
            break
        actions = vary(list(own), o)
        if actions in seen:
            continue
        seen.append(actions)
        out.append(Candidate(label, actions))
    return out
