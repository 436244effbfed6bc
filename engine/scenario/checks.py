"""Cross-reference checks of a scenario: what its tables say about each other that must hold.

Goods named by creatures, seasons and legends must exist, names must be unique, dens on the
map, the layout the map's size, and so on. Each check returns ``(key path, reason)`` pairs, so
the parser can put a line number on each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.core.assets import PEBBLES
from engine.scenario.base import TILES
from engine.scenario.legends import RULE_NAMES, GoodsEffect, RuleEffect, rule_range
from engine.scenario.schema import MAX_CAST, hint
from engine.scenario.toml_positions import KeyPath

if TYPE_CHECKING:
    from engine.scenario.schema import Scenario

Problems = list[tuple[KeyPath, str]]


def known_rule(rule: str, goods: set[str]) -> bool:
    """Whether a legend may change ``rule``: a named rule, or ``yield.GOOD`` / ``perish.GOOD``."""
    if rule in RULE_NAMES:
        return True
    head, _, tail = rule.partition(".")
    return head in ("yield", "perish") and tail in goods


def cross_reference_problems(sc: Scenario) -> Problems:
    """Every cross-reference problem of ``sc``, in the order of its tables."""
    goods = {g.id for g in sc.goods} - {PEBBLES}
    return (_goods(sc) + _map(sc) + _seasons(sc, goods) + _creatures(sc, goods)
            + _cast(sc) + _legends(sc, goods))


def _goods(sc: Scenario) -> Problems:
    out: Problems = []
    ids = [g.id for g in sc.goods]
    for i, g in enumerate(sc.goods):
        if g.id == PEBBLES:
            out.append((("goods", i, "id"), "'pebbles' is the money, not a good; give this good another id"))
        elif ids.index(g.id) != i:
            out.append((("goods", i, "id"), f"good {g.id!r} is listed twice (first as goods.{ids.index(g.id)})"))
    return out


def _map(sc: Scenario) -> Problems:
    out: Problems = []
    m = sc.map
    if m.layout is None:
        return out
    if len(m.layout) != m.height:
        out.append((("map", "layout"), f"layout has {len(m.layout)} rows but height is {m.height}"))
    for r, row in enumerate(m.layout):
        if len(row) != m.width:
            out.append((("map", "layout", r), f"layout row {r + 1} has {len(row)} tiles but width is {m.width}"))
        unknown = sorted(set(row) - set(TILES))
        if unknown:
            out.append((("map", "layout", r), f"layout row {r + 1} has unknown tile {unknown[0]!r}; "
                        "use T (forest), . (meadow) or ~ (water)"))
    return out


def _seasons(sc: Scenario, goods: set[str]) -> Problems:
    out: Problems = []
    season_names = [s.name for s in sc.seasons]
    for i, s in enumerate(sc.seasons):
        if season_names.index(s.name) != i:
            out.append((("seasons", i, "name"), f"season {s.name!r} is listed twice"))
        for good in s.yields:
            if good not in goods:
                out.append((("seasons", i, "yields", good),
                            f"season {s.name!r} yields lists {good!r}, which is not a good{hint(good, goods)}"))
    return out


def _creatures(sc: Scenario, goods: set[str]) -> Problems:
    out: Problems = []
    assets = goods | {PEBBLES}
    fuels = ", ".join(sorted(g.id for g in sc.goods if g.kind == "fuel")) or "no good has kind = 'fuel'"
    names = [c.name.casefold() for c in sc.creatures]
    m = sc.map
    for i, c in enumerate(sc.creatures):
        at: KeyPath = ("creatures", i)
        if names.index(c.name.casefold()) != i:
            first = sc.creatures[names.index(c.name.casefold())].name
            same = "is listed twice" if first == c.name else f"differs only by case from {first!r} (names are told apart ignoring case)"
            out.append((at + ("name",), f"creature {c.name!r} {same}"))
        if c.makes is not None and c.makes not in goods:
            out.append((at + ("makes",), f"creature {c.name!r} makes {c.makes!r}, which is not a good{hint(c.makes, goods)}"))
        elif c.role == "woodcutter" and (c.makes is None or sc.good(c.makes).kind != "fuel"):
            out.append((at + ("makes" if c.makes else "role",), f"woodcutter {c.name!r} must make a fuel good ({fuels})"))
        for j, good in enumerate(c.never_buy or []):
            if good not in goods:
                out.append((at + ("never_buy", j),
                            f"creature {c.name!r} never_buy lists {good!r}, which is not a good{hint(good, goods)}"))
        for a in c.holdings:
            if a not in assets:
                out.append((at + ("holdings", a), f"creature {c.name!r} holds {a!r}, which is not a good or pebbles{hint(a, assets)}"))
        if c.den is not None and not (0 <= c.den[0] < m.width and 0 <= c.den[1] < m.height):
            out.append((at + ("den",), f"creature {c.name!r} has its den {list(c.den)} outside the {m.width}×{m.height} map"))
    return out


def _cast(sc: Scenario) -> Problems:
    out: Problems = []
    names = [c.name for c in sc.creatures]
    patrons = sum(c.role == "patron" for c in sc.creatures)
    cast = len(sc.creatures) - min(1, patrons)  # one Patron is not counted: play adds the player's to a full cast
    for i, gen in enumerate(sc.generate):
        cast += gen.count
        if gen.like not in names:
            out.append((("generate", i, "like"), f"generate copies {gen.like!r}, which is not a creature{hint(gen.like, names)}"))
    if cast > MAX_CAST:
        out.append((("generate",), f"the cast would have {cast} creatures; at most {MAX_CAST}"))
    foods = sum(g.kind == "food" for g in sc.goods)
    if not foods and sc.needs.meal_size > 0:
        out.append((("needs", "meal_size"),
                    "meals need food, but no good has kind = 'food' (set meal_size = 0 for a wood without food)"))
    elif sc.needs.meal_size > foods:
        out.append((("needs", "meal_size"),
                    f"a meal of {sc.needs.meal_size} takes at most one of each food, but there are {foods} foods: "
                    "every creature would starve"))
    return out


def _legends(sc: Scenario, goods: set[str]) -> Problems:
    out: Problems = []
    assets = goods | {PEBBLES}
    names = [c.name for c in sc.creatures]
    legend_ids = [lg.id for lg in sc.legends]
    for i, lg in enumerate(sc.legends):
        at: KeyPath = ("legends", i)
        if legend_ids.index(lg.id) != i:
            out.append((at + ("id",), f"legend {lg.id!r} is listed twice"))
        cond = lg.when.condition
        if cond is not None and cond.metric.startswith("price."):
            good = cond.metric.split(".", 1)[1]
            if good not in goods:
                out.append((at + ("when", "condition", "metric"),
                            f"legend {lg.id!r} watches the price of {good!r}, which is not a good{hint(good, goods)}"))
        for j, e in enumerate(lg.effects):
            here = at + ("effects", j)
            if isinstance(e, GoodsEffect) and e.good not in assets:
                out.append((here + ("good",), f"legend {lg.id!r} changes {e.good!r}, which is not a good or pebbles{hint(e.good, assets)}"))
            if isinstance(e, RuleEffect) and not known_rule(e.rule, goods):
                rules = list(RULE_NAMES) + [f"{k}.{g}" for k in ("yield", "perish") for g in sorted(goods)]
                out.append((here + ("rule",), f"legend {lg.id!r} changes unknown rule {e.rule!r}{hint(e.rule, rules)}"))
            elif isinstance(e, RuleEffect) and e.set is not None:
                lo, hi = rule_range(e.rule)
                if not lo <= e.set <= hi:
                    out.append((here + ("set",), f"legend {lg.id!r} sets {e.rule} to {e.set:g}; it must be from {lo:g} to {hi:g}"))
            teller = getattr(e, "teller", None)
            if teller is not None and teller not in names:
                why = f"legend {lg.id!r} names {teller!r} as teller, which is not a creature{hint(teller, names)}"
                out.append((here + ("teller",), why))
            to = getattr(e, "to", "all")
            if to != "all":
                for k, n in enumerate(to):
                    if n not in names:
                        out.append((here + ("to", k), f"legend {lg.id!r} names {n!r}, which is not a creature{hint(n, names)}"))
    return out
