"""Enforcement: due contracts settle or default, and creatures that leave the wood default too."""

from __future__ import annotations

from engine.core.assets import PEBBLES
from engine.world.contracts import Contract, Leg, bundle_text, can_pay
from engine.world.creatures import Creature
from engine.world.lifecycle import ContractStatus, OfferStatus, OrderStatus
from engine.world.wood import Wood


def free_up(wood: Wood, c: Creature) -> None:
    """Cancel a creature's open orders and offers so what they lock can pay its debts."""
    for o in wood.book.owned(c.id):
        wood.book.close(o, c, OrderStatus.CANCELLED, wood.turn, wood.ledger)
    for off in wood.deals.sent_by(c.id):
        wood.deals.close_offer(off, OfferStatus.CANCELLED, wood.turn, wood.creatures, wood.ledger)


LEFT_EARLY = "left the wood before the due turn"
"""Why a contract defaults when its debtor leaves the wood (told at the start of that turn)."""


def settle_due(wood: Wood) -> int:
    """Settle every contract due this turn (or overdue). Returns how many defaulted."""
    due = sorted((k for k in wood.deals.contracts.values() if k.due <= wood.turn), key=lambda k: k.id)
    defaults = 0
    for k in due:
        if not settle(wood, k):
            defaults += 1
    return defaults


def settle(wood: Wood, k: Contract) -> bool:
    """Settle one contract now. Returns False if it defaulted."""
    cs = wood.creatures
    short: list[Leg] = []
    for leg in k.legs:
        obligor = cs[leg.obligor]
        if not can_pay(obligor, leg.bundle):
            free_up(wood, obligor)
        if not obligor.alive or not can_pay(obligor, leg.bundle):
            short.append(leg)
    if k.kind == "loan":
        leg = k.legs[0]
        borrower, lender = cs[leg.obligor], cs[leg.creditor]
        owed = leg.bundle.get(PEBBLES, 0)
        paid = min(owed, borrower.free.get(PEBBLES, 0))
        wood.ledger.move(borrower, lender, PEBBLES, paid)
        leg.bundle[PEBBLES] = owed - paid
        if paid == owed:
            wood.deals.release_collateral(k, cs, wood.ledger)
            _repaid(wood, borrower)
            wood.deals.finish(k, ContractStatus.SETTLED, wood.turn, f"repaid {paid}")
            wood.event("settled", f"{borrower.name} repaid {lender.name} {paid} pebbles (loan #{k.id})", contract=k.id)
            return True
        _default(wood, k, borrower, lender, f"repaid only {paid} of {owed} pebbles")
        return False
    if not short:
        for leg in k.legs:
            for a, q in leg.bundle.items():
                wood.ledger.move(cs[leg.obligor], cs[leg.creditor], a, q)
        for p in k.parties:
            _repaid(wood, cs[p])
        first, second = (cs[p] for p in k.parties)
        wood.deals.finish(k, ContractStatus.SETTLED, wood.turn, "delivered")
        wood.event("settled", f"{first.name} and {second.name} settled contract #{k.id}", contract=k.id)
        return True
    # A forward contract with a side that cannot deliver: nothing changes hands, the failing
    # side defaults (both, if neither can deliver).
    for leg in short:
        _default(wood, k, cs[leg.obligor], cs[leg.creditor], f"could not deliver {bundle_text(leg.bundle)}", finish=False)
    wood.deals.finish(k, ContractStatus.DEFAULTED, wood.turn, "not delivered")
    return False


def _repaid(wood: Wood, c: Creature) -> None:
    c.credit = min(100, c.credit + wood.scenario.credit.repay_gain)


def _default(wood: Wood, k: Contract, debtor: Creature, creditor: Creature, why: str, *, finish: bool = True) -> None:
    cr = wood.scenario.credit
    seized = dict(k.collateral)
    if k.collateral_owner is not None and k.collateral_owner == debtor.id:
        for a, q in k.collateral.items():
            wood.ledger.move(debtor, creditor, a, q, from_escrow=True)
        k.collateral = {}
    fine = min(debtor.free.get(PEBBLES, 0), int(wood.rule("credit.default_penalty", cr.default_penalty)))
    wood.ledger.sink(debtor, PEBBLES, fine, "penalty")
    debtor.credit = max(0, debtor.credit - cr.default_drop)
    wood.defaults_total += 1
    text = f"DEFAULT: {debtor.name} broke contract #{k.id} with {creditor.name}: {why}"
    if seized:
        text += f"; collateral {bundle_text(seized)} seized"
    if fine:
        text += f"; fined {fine} pebbles"
    wood.event("default", text, contract=k.id, debtor=debtor.name, creditor=creditor.name)
    wood.announce("the wood", text, kind="notice")
    if finish:
        wood.deals.finish(k, ContractStatus.DEFAULTED, wood.turn, why)


def leave(wood: Wood, c: Creature) -> int:
    """A creature at zero health leaves the wood: its orders and offers close, what it owes
    defaults, what it is owed is void. Returns how many contracts defaulted."""
    c.alive = False
    c.left_turn = wood.turn
    free_up(wood, c)
    for off in [o for o in wood.deals.offers.values() if o.to == c.id]:
        wood.deals.close_offer(off, OfferStatus.CANCELLED, wood.turn, wood.creatures, wood.ledger)
    wood.event("left", f"{c.name} the {c.species} has left the wood", creature=c.name)
    defaults = 0
    for k in wood.deals.of(c.id):
        if k.kind == "loan" and k.legs[0].obligor == c.id:
            defaults += 0 if settle(wood, k) else 1
        elif k.kind == "forward":
            other = wood.creatures[k.parties[1] if k.parties[0] == c.id else k.parties[0]]
            _default(wood, k, c, other, LEFT_EARLY)
            defaults += 1
        else:
            wood.deals.release_collateral(k, wood.creatures, wood.ledger)
            wood.deals.finish(k, ContractStatus.VOID, wood.turn, f"{c.name} left the wood")
    return defaults
