"""What each creature sees before it decides, built once per turn for all of them."""

from __future__ import annotations

from engine.turn.memory import recall
from engine.turn.observation import Neighbour, ObligationView, Observation, OfferView, OrderView
from engine.world.contracts import Offer
from engine.world.creatures import Creature
from engine.world.wood import Wood

FORECAST = 4
"""Turns of firewood need a creature is told about."""


def _offer_view(wood: Wood, o: Offer) -> OfferView:
    cs = wood.creatures
    return OfferView(
        o.id, o.kind, cs[o.sender].name, cs[o.to].name, dict(o.give), dict(o.get),
        o.due, o.principal, o.interest, dict(o.collateral),
    )


def observe_all(wood: Wood, creatures: list[Creature], rejections: dict[int, list[str]]) -> list[Observation]:
    """One observation per creature in ``creatures``. Shared parts are computed once."""
    sc = wood.scenario
    prices = {g: wood.price(g) for g in wood.goods}
    fuel_need = [wood.fuel_need(wood.turn + i) for i in range(FORECAST)]
    neighbours = [Neighbour(c.name, c.species, c.role, c.makes, c.credit, c.alive) for c in wood.creatures]
    ahead = [sc.seasons[wood.season_at(wood.turn + i)[0]].name for i in range(0, sc.year_length, max(1, sc.year_length // 4))]
    to_me, mine = _offers_by_creature(wood)
    obligations = _obligations_by_creature(wood)
    goods = list(wood.goods)
    clearing = [(i.turn, i.kind, i.sender, i.text) for i in wood.clearing]
    trees = wood.trees()
    forest_capacity = len(wood.forest) * sc.map.tree_capacity
    mem = getattr(sc, "memory", None)
    n_events = getattr(mem, "events", 6)
    fee_flat = float(wood.rule("market.order_fee", sc.market.order_fee))  # as the rules charge it this turn
    fee_pct = float(wood.rule("market.fee_pct", sc.market.fee_pct))
    out = []
    for c in creatures:
        can_make = _can_make(wood, c)
        orders = [OrderView(o.id, o.side, o.good, o.qty, o.price, o.expires) for o in wood.book.owned(c.id)]
        out.append(
            Observation(
                turn=wood.turn, season=wood.season, name=c.name, species=c.species, role=c.role, makes=c.makes,
                capacity=c.capacity, never_buy=c.never_buy, personality=c.personality, greed=c.greed,
                health=c.health, max_health=sc.needs.max_health, credit=c.credit,
                free=dict(c.free), escrow=dict(c.escrow), hungry=c.hungry, cold=c.cold,
                prices=prices, base_values=wood.base_value, fuel_need=fuel_need,
                meal_size=int(wood.rule("needs.meal_size", sc.needs.meal_size)),
                food=wood.food, fuel=wood.fuel, goods=goods, my_orders=orders,
                offers_to_me=to_me.get(c.id, []), my_offers=mine.get(c.id, []),
                obligations=obligations.get(c.id, []), neighbours=neighbours,
                inbox=[(i.turn, i.kind, i.sender, i.text) for i in c.inbox], clearing=clearing,
                rejections=rejections.get(c.id, []), notes=list(c.notes),
                max_actions=sc.budget.max_actions, max_term=sc.credit.max_term,
                max_interest_pct=sc.credit.max_interest_pct, token_budget=sc.budget.tokens,
                seasons_ahead=ahead, can_make=can_make, forest_trees=trees, forest_capacity=forest_capacity,
                memories=recall(c.memories, wood.turn, n_events), trust={k: (v[0], v[1]) for k, v in c.trust.items()},
                market_price_cap=sc.market.max_price, market_qty_cap=sc.market.max_qty,
                order_fee=fee_flat, fee_pct=fee_pct, seed=wood.seed,
            )
        )
    return out


def _can_make(wood: Wood, c: Creature) -> int:
    """Units ``c``'s ``produce`` would yield at full capacity this turn (season and forest allowing)."""
    if c.makes is None:
        return 0
    if c.role == "woodcutter":
        return min(c.capacity, sum(t.trees for t in wood.patch(c) if not t.collapsed_until))
    return int(c.capacity * wood.yield_factor(c.makes, wood.turn))


def _offers_by_creature(wood: Wood) -> tuple[dict[int, list[OfferView]], dict[int, list[OfferView]]]:
    """Open offers by addressee and by sender."""
    to_me: dict[int, list[OfferView]] = {}
    mine: dict[int, list[OfferView]] = {}
    for o in wood.deals.offers.values():
        v = _offer_view(wood, o)
        to_me.setdefault(o.to, []).append(v)
        mine.setdefault(o.sender, []).append(v)
    return to_me, mine


def _obligations_by_creature(wood: Wood) -> dict[int, list[ObligationView]]:
    """Each party's side of every active contract, soonest due first."""
    obligations: dict[int, list[ObligationView]] = {}
    for k in sorted(wood.deals.contracts.values(), key=lambda k: (k.due, k.id)):
        for p in k.parties:
            other = k.parties[1] if k.parties[0] == p else k.parties[0]
            i_owe: dict[str, int] = {}
            owed: dict[str, int] = {}
            for leg in k.legs:
                if leg.obligor == p:
                    i_owe.update(leg.bundle)
                elif leg.creditor == p:
                    owed.update(leg.bundle)
            coll = dict(k.collateral) if k.collateral_owner is not None else {}
            obligations.setdefault(p, []).append(
                ObligationView(k.id, k.kind, wood.creatures[other].name, k.due, i_owe, owed, coll)
            )
    return obligations
