"""Lifecycles as data: each status lists its legal successors, and every change is checked.

Orders, offers and contracts all move through :func:`advance`, which records the history and
raises :class:`EngineBug` on an illegal transition.
"""

from __future__ import annotations

import enum
from typing import Protocol, TypeVar

from engine.core.errors import EngineBug


class OrderStatus(enum.StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COUNTERED = "countered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ContractStatus(enum.StrEnum):
    ACTIVE = "active"
    SETTLED = "settled"
    DEFAULTED = "defaulted"
    VOID = "void"


LEGAL: dict[type[enum.StrEnum], dict[str, frozenset[str]]] = {
    # Keyed by the enum type first: the lifecycles share status names ("open") with
    # different successors.
    OrderStatus: {
        OrderStatus.OPEN: frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
        OrderStatus.FILLED: frozenset(),
        OrderStatus.CANCELLED: frozenset(),
        OrderStatus.EXPIRED: frozenset(),
    },
    OfferStatus: {
        OfferStatus.OPEN: frozenset(
            {OfferStatus.ACCEPTED, OfferStatus.REJECTED, OfferStatus.COUNTERED, OfferStatus.EXPIRED, OfferStatus.CANCELLED}
        ),
        OfferStatus.ACCEPTED: frozenset(),
        OfferStatus.REJECTED: frozenset(),
        OfferStatus.COUNTERED: frozenset(),
        OfferStatus.EXPIRED: frozenset(),
        OfferStatus.CANCELLED: frozenset(),
    },
    ContractStatus: {
        ContractStatus.ACTIVE: frozenset({ContractStatus.SETTLED, ContractStatus.DEFAULTED, ContractStatus.VOID}),
        ContractStatus.SETTLED: frozenset(),
        ContractStatus.DEFAULTED: frozenset(),
        ContractStatus.VOID: frozenset(),
    },
}
"""Each status's legal successors. Final states have none."""


S = TypeVar("S", bound=enum.StrEnum)


class HasLifecycle(Protocol[S]):
    """An order, offer or contract: an id, a status of one lifecycle, and its history."""

    id: int
    status: S
    history: list[tuple[int, str, str]]


def advance(obj: HasLifecycle[S], new: S, turn: int, note: str = "") -> None:
    """Move ``obj`` to status ``new``, recording ``(turn, status, note)`` in its history."""
    if type(new) is not type(obj.status) or new not in LEGAL[type(obj.status)][obj.status]:
        raise EngineBug(f"{type(obj).__name__} {obj.id}: illegal transition {obj.status} -> {new}")
    obj.status = new
    obj.history.append((turn, str(new), note))


def is_legal_history(history: list[tuple[int, str, str]], statuses: type[enum.StrEnum]) -> bool:
    """Whether a recorded history is a path the lifecycle allows, from its first status."""
    if not history:
        return False
    prev = statuses(history[0][1])
    for _, s, _ in history[1:]:
        nxt = statuses(s)
        if nxt not in LEGAL[statuses][prev]:
            return False
        prev = nxt
    return True
