"""Bilateral offers, forward contracts and loans, and their settlement and defaults.

- A **trade offer** names what the sender gives and what it gets. Without a due turn it is a
  spot swap: the sender's side is locked in escrow while the offer waits, and acceptance swaps
  at once. With a due turn it is a promise: acceptance makes a forward contract, and both sides
  deliver on the due turn.
- A **loan offer** (``lend``) locks the lender's principal; a **loan request** (``borrow``)
  locks nothing. Acceptance pays the principal to the borrower and locks the borrower's
  collateral; on the due turn the borrower owes principal plus interest.
- On the due turn the engine settles from the obligor's free holdings, first cancelling its own
  open orders and offers to free what they lock. What still cannot be paid is a default:
  collateral seized, a fine, a public notice, a lower credit score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from engine.core.assets import PEBBLES
from engine.world.creatures import Creature
from engine.world.ledger import Ledger
from engine.world.lifecycle import ContractStatus, OfferStatus, advance
from engine.world.state import Json, Layout, Record, check_covered, states, take

Bundle = dict[str, int]


@dataclass(slots=True)
class Offer(Record):
    """A proposal from one creature to another, waiting for accept, reject or counter."""

    id: int
    kind: str
    """``trade``, ``lend`` (sender lends) or ``borrow`` (sender asks to borrow)."""
    sender: int
    to: int
    give: Bundle
    """Trade: what the sender gives. Loans: empty."""
    get: Bundle
    """Trade: what the sender wants back. Loans: empty."""
    due: int | None
    created: int
    expires: int
    principal: int = 0
    interest: int = 0
    collateral: Bundle = field(default_factory=dict)
    """Loans: the borrower's goods locked until repayment."""
    reply_to: int | None = None
    """The offer this one counters, if any."""
    locked: Bundle = field(default_factory=dict)
    """What the sender has in escrow for this offer while it is open."""
    status: OfferStatus = OfferStatus.OPEN
    history: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def lender(self) -> int:
        return self.sender if self.kind == "lend" else self.to

    @property
    def borrower(self) -> int:
        return self.to if self.kind == "lend" else self.sender


@dataclass(slots=True)
class Leg(Record):
    """One side's obligation in a contract."""

    obligor: int
    creditor: int
    bundle: Bundle
    """What is still owed."""


@dataclass(slots=True)
class Contract(Record):
    """A forward delivery or a loan, enforced by the engine on its due turn."""

    id: int
    kind: str
    """``forward`` or ``loan``."""
    parties: tuple[int, int]
    legs: list[Leg]
    due: int
    created: int
    collateral: Bundle = field(default_factory=dict)
    collateral_owner: int | None = None
    principal: int = 0
    interest: int = 0
    status: ContractStatus = ContractStatus.ACTIVE
    history: list[tuple[int, str, str]] = field(default_factory=list)


def bundle_text(b: Bundle) -> str:
    """``2 honey + 5 pebbles``."""
    return " + ".join(f"{q} {a}" for a, q in b.items() if q) or "nothing"


def can_pay(c: Creature, b: Bundle) -> bool:
    """Whether ``c`` holds the whole bundle free."""
    return all(c.free.get(a, 0) >= q for a, q in b.items())


class DealsState(TypedDict):
    """What :meth:`Deals.get_state` gives."""

    offers: list[list[Json]]
    """Every open offer's state."""
    contracts: list[list[Json]]
    """Every active contract's state."""
    closed_offers: int
    finished: list[list[Json]]
    """Every finished contract's state, in the order they finished (a save keeps these in a
    table of their own, each written once)."""


class Deals:
    """Every bilateral offer and contract, with indexes by creature."""

    SAVED = ("offers", "contracts", "closed_offers", "finished")
    DERIVED = ("by_sender",)
    """An index over the open offers."""

    def __init__(self) -> None:
        self.offers: dict[int, Offer] = {}
        """Open offers only."""
        self.by_sender: dict[int, dict[int, Offer]] = {}
        """Open offers by sender, each sender's in the order they were made (as in ``offers``)."""
        self.contracts: dict[int, Contract] = {}
        """Active contracts only."""
        self.closed_offers = 0
        self.finished: list[Contract] = []
        """Contracts that settled, defaulted or were voided (for reports and tests)."""

    def get_state(self) -> DealsState:
        """Open offers, active and finished contracts (see :mod:`engine.world.state`)."""
        check_covered(self, self.SAVED, self.DERIVED)
        return {
            "offers": states(self.offers.values()),
            "contracts": states(self.contracts.values()),
            "closed_offers": self.closed_offers,
            "finished": states(self.finished),
        }

    def set_state(self, state: Mapping[str, object], layout: Layout | None = None) -> None:
        """Take back what :meth:`get_state` gave (validated; raises ``StateError``)."""
        offers: list[Offer] = take(state, "offers", list[Offer], layout, "deals")
        contracts: list[Contract] = take(state, "contracts", list[Contract], layout, "deals")
        self.closed_offers = take(state, "closed_offers", int, layout, "deals")
        self.finished = take(state, "finished", list[Contract], layout, "deals")
        self.offers = {o.id: o for o in offers}
        self.by_sender = {}
        for o in offers:
            self.by_sender.setdefault(o.sender, {})[o.id] = o
        self.contracts = {k.id: k for k in contracts}

    # ------------------------------------------------------------------ offers
    def open_offer(self, offer: Offer, sender: Creature, ledger: Ledger) -> None:
        if offer.kind == "trade" and offer.due is None:
            offer.locked = {a: q for a, q in offer.give.items() if q}
        elif offer.kind == "lend":
            offer.locked = {PEBBLES: offer.principal}
        for a, q in offer.locked.items():
            ledger.lock(sender, a, q)
        offer.history.append((offer.created, str(OfferStatus.OPEN), ""))
        self.offers[offer.id] = offer
        self.by_sender.setdefault(offer.sender, {})[offer.id] = offer

    def _take_off(self, offer: Offer) -> None:
        """Drop an offer from the open ones (and the index)."""
        self.offers.pop(offer.id, None)
        mine = self.by_sender.get(offer.sender)
        if mine is not None:
            mine.pop(offer.id, None)

    def close_offer(self, offer: Offer, status: OfferStatus, turn: int, creatures: list[Creature], ledger: Ledger) -> None:
        sender = creatures[offer.sender]
        for a, q in offer.locked.items():
            ledger.unlock(sender, a, q)
        offer.locked = {}
        advance(offer, status, turn)
        self._take_off(offer)
        self.closed_offers += 1

    def sent_by(self, cid: int) -> list[Offer]:
        """A creature's open offers, in the order it made them."""
        return list(self.by_sender.get(cid, {}).values())

    def accept(self, offer: Offer, turn: int, creatures: list[Creature], ledger: Ledger, next_id: int) -> Contract | None:
        """Carry out an accepted offer (already validated). Returns the contract it makes, if any."""
        sender, taker = creatures[offer.sender], creatures[offer.to]
        if offer.kind == "trade" and offer.due is None:
            for a, q in offer.locked.items():
                ledger.move(sender, taker, a, q, from_escrow=True)
            offer.locked = {}
            for a, q in offer.get.items():
                ledger.move(taker, sender, a, q)
            advance(offer, OfferStatus.ACCEPTED, turn)
            self._take_off(offer)
            self.closed_offers += 1
            return None
        if offer.kind == "trade":
            contract = Contract(
                id=next_id,
                kind="forward",
                parties=(offer.sender, offer.to),
                legs=[
                    Leg(offer.sender, offer.to, {a: q for a, q in offer.give.items() if q}),
                    Leg(offer.to, offer.sender, {a: q for a, q in offer.get.items() if q}),
                ],
                due=offer.due or turn,
                created=turn,
            )
        else:
            lender, borrower = creatures[offer.lender], creatures[offer.borrower]
            if offer.kind == "lend":
                ledger.move(lender, borrower, PEBBLES, offer.principal, from_escrow=True)
                offer.locked = {}
            else:
                ledger.move(lender, borrower, PEBBLES, offer.principal)
            for a, q in offer.collateral.items():
                ledger.lock(borrower, a, q)
            contract = Contract(
                id=next_id,
                kind="loan",
                parties=(lender.id, borrower.id),
                legs=[Leg(borrower.id, lender.id, {PEBBLES: offer.principal + offer.interest})],
                due=offer.due or turn,
                created=turn,
                collateral={a: q for a, q in offer.collateral.items() if q},
                collateral_owner=borrower.id,
                principal=offer.principal,
                interest=offer.interest,
            )
        contract.history.append((turn, str(ContractStatus.ACTIVE), f"from offer {offer.id}"))
        self.contracts[contract.id] = contract
        advance(offer, OfferStatus.ACCEPTED, turn, f"contract {contract.id}")
        self._take_off(offer)
        self.closed_offers += 1
        return contract

    # --------------------------------------------------------------- contracts
    def of(self, cid: int) -> list[Contract]:
        """Active contracts a creature is party to, soonest due first."""
        return sorted((c for c in self.contracts.values() if cid in c.parties), key=lambda c: (c.due, c.id))

    def release_collateral(self, contract: Contract, creatures: list[Creature], ledger: Ledger) -> None:
        if contract.collateral_owner is not None:
            owner = creatures[contract.collateral_owner]
            for a, q in contract.collateral.items():
                ledger.unlock(owner, a, q)
        contract.collateral = {}

    def finish(self, contract: Contract, status: ContractStatus, turn: int, note: str) -> None:
        advance(contract, status, turn, note)
        self.contracts.pop(contract.id, None)
        self.finished.append(contract)
