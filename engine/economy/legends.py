"""Legends: shocks as data. They fire on a turn, on a condition, or when the player calls them."""

from __future__ import annotations

from collections.abc import Callable

from engine.scenario import Condition, GoodsEffect, LegendSpec, RuleEffect, RumourEffect
from engine.world.wood import Modifier, Rumour, Wood

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
}


def metric(wood: Wood, name: str, gini: float) -> float:
    """The value a legend's condition watches."""
    if name == "turn":
        return wood.turn
    if name == "trees":
        return wood.trees()
    if name == "gini":
        return gini
    if name == "alive":
        return len(wood.alive())
    if name == "defaults":
        return wood.defaults_total
    return wood.price(name.split(".", 1)[1])


def holds(wood: Wood, cond: Condition, gini: float) -> bool:
    return _OPS[cond.op](metric(wood, cond.metric, gini), cond.value)


def due_legends(wood: Wood, gini: float) -> list[LegendSpec]:
    """Legends that fire at the start of this turn: scheduled, triggered or asked for."""
    out = []
    for lg in wood.scenario.legends:
        w = lg.when
        if w.turn is not None and w.turn == wood.turn:
            out.append(lg)
        elif w.condition is not None and lg.id not in wood.fired_legends and holds(wood, w.condition, gini):
            out.append(lg)
        elif w.on_demand and lg.id in wood.pending_legends:
            out.append(lg)
    wood.pending_legends = [p for p in wood.pending_legends if p not in {lg.id for lg in out}]
    return out


def fire(wood: Wood, lg: LegendSpec) -> None:
    """Carry out a legend's effects now."""
    wood.fired_legends.add(lg.id)
    wood.event("legend", f"LEGEND: {lg.name}" + (f" — {lg.description}" if lg.description else ""), legend=lg.id)
    for e in lg.effects:
        to = getattr(e, "to", "all")
        targets = wood.alive() if to == "all" else [wood.by_name[n] for n in to if wood.by_name[n].alive]
        if isinstance(e, RuleEffect):
            op, value = ("multiply", e.multiply) if e.multiply is not None else ("set", e.set)
            assert value is not None
            wood.modifiers.append(Modifier(e.rule, op, value, wood.turn + e.turns, lg.id))
        elif isinstance(e, GoodsEffect):
            for c in targets:
                if e.qty >= 0:
                    wood.ledger.source(c, e.good, e.qty, "legend")
                else:
                    wood.ledger.sink(c, e.good, min(c.free.get(e.good, 0), -e.qty), "legend")
        elif isinstance(e, RumourEffect):
            for c in targets:
                wood.tell(c, "rumour", e.teller or "a rumour", e.text)
            if not e.true and e.found_out_after is not None:
                wood.rumours.append(Rumour(e.text, e.teller or "", [c.name for c in targets], wood.turn + e.found_out_after))
                wood.rumours.sort(key=lambda r: r.found_out)


FOUND_FALSE = "FOUND FALSE: "
"""How the clearing says a rumour was found false (creatures read it; so do the compare verdicts)."""


def find_out(wood: Wood) -> None:
    """False rumours whose time has come are found out: the clearing hears they were false, and
    whoever heard one trusts its teller less (a broken word, as a broken contract)."""
    while wood.rumours and wood.rumours[0].found_out <= wood.turn:
        r = wood.rumours.pop(0)
        who = f" ({r.teller} spread it)" if r.teller else ""
        wood.announce("the wood", f"{FOUND_FALSE}{r.text[:120]}{who}", kind="notice")
        wood.event("rumour", f"The rumour was found false{who}: {r.text[:120]}", teller=r.teller)
        teller = wood.by_name.get(r.teller)
        if teller is None:
            continue
        for name in r.heard_by:
            c = wood.by_name.get(name)
            if c is not None and c.alive and c is not teller:
                c.trust.setdefault(teller.name, [0, 0])[1] += 1


def expire_modifiers(wood: Wood) -> None:
    wood.modifiers = [m for m in wood.modifiers if m.until > wood.turn]

