"""The wood itself: trees that regrow and collapse, food that rots, meals, fire, health.

All of it runs at the start of a turn, before creatures decide, except :func:`produce`, which
carries out a creature's ``produce`` action.
"""

from __future__ import annotations

from engine.world.creatures import Creature
from engine.world.tiles import Tile
from engine.world.wood import Wood


def grow_trees(wood: Wood) -> None:
    """Logistic regrowth on every forest tile; collapsed tiles wait, then restart from saplings."""
    m = wood.scenario.map
    season = wood.scenario.seasons[wood.season_index]
    r = wood.rule("map.regrowth_rate", m.regrowth_rate) * season.growth
    k = m.tree_capacity
    for t in wood.forest:
        t.felled = 0
        if t.collapsed_until:
            if wood.turn >= t.collapsed_until:
                t.collapsed_until = 0
                t.trees = max(t.trees, m.saplings)
            continue
        if t.trees <= 0:
            continue
        growth = r * t.trees * (1 - t.trees / k)
        # Stochastic rounding from the game's generator keeps small tiles growing on average.
        whole = int(growth)
        if wood.rng.random() < growth - whole:
            whole += 1
        t.trees = min(k, t.trees + whole)


def spoil(wood: Wood) -> None:
    """Perishable goods rot: a share of each creature's free stock (escrowed stock is kept cool)."""
    for g in wood.scenario.goods:
        rate = wood.rule(f"perish.{g.id}", g.perish)
        if rate <= 0:
            continue
        for c in wood.creatures:
            q = c.free.get(g.id, 0)
            if q <= 0 or not c.alive:
                continue
            exact = q * rate
            lost = int(exact)
            if wood.rng.random() < exact - lost:
                lost += 1
            wood.ledger.sink(c, g.id, min(q, lost), "spoiled")


def feed_and_warm(wood: Wood) -> list[Creature]:
    """Every living creature eats a meal and burns firewood; health follows. Returns who left."""
    needs = wood.scenario.needs
    meal = int(wood.rule("needs.meal_size", needs.meal_size))
    hunger = wood.rule("needs.hunger_damage", needs.hunger_damage)
    cold_dmg = wood.rule("needs.cold_damage", needs.cold_damage)
    recovery = wood.rule("needs.recovery", needs.recovery)
    need = wood.fuel_need(wood.turn)
    ledger = wood.ledger
    gone = []
    for c in wood.creatures:
        if not c.alive or c.role == "patron":
            continue
        # A meal: at most one unit of each food, most plentiful first, up to the meal size.
        foods = sorted((g for g in wood.food if c.free.get(g, 0) > 0), key=lambda g: (-c.free[g], g))
        eaten = foods[:meal]
        for g in eaten:
            ledger.sink(c, g, 1, "eaten")
        c.hungry = meal - len(eaten)
        burned = 0
        for f in wood.fuel:
            if burned >= need:
                break
            take = min(c.free.get(f, 0), need - burned)
            ledger.sink(c, f, take, "burned")
            burned += take
        c.cold = need - burned
        # Health mends each turn and suffers for every missing meal unit and missing log.
        c.health = min(needs.max_health, c.health + round(recovery - c.hungry * hunger - c.cold * cold_dmg))
        if c.health <= 0:
            c.health = 0
            gone.append(c)
    return gone


def produce(wood: Wood, c: Creature, qty: int) -> int:
    """Make up to ``qty`` of ``c``'s good. A woodcutter fells trees from the fullest forest tiles
    near its den. Returns what was made."""
    if not c.makes or qty <= 0:
        return 0
    if c.role == "woodcutter":
        made = _fell(wood, c, qty)
    else:
        made = int(qty * wood.yield_factor(c.makes, wood.turn))
    wood.ledger.source(c, c.makes, made, "production")
    return made


def _fell(wood: Wood, c: Creature, qty: int) -> int:
    m = wood.scenario.map
    # Fullest tiles of its patch first: a woodcutter does not walk far for nothing.
    standing = sorted(
        (t for t in wood.patch(c) if t.trees > 0 and not t.collapsed_until), key=lambda t: -t.trees
    )
    felled = 0
    for t in standing:
        if felled >= qty:
            break
        take = min(t.trees, qty - felled)
        t.trees -= take
        t.felled += take
        felled += take
        if t.trees < m.collapse_below:
            collapse(wood, t)
    return felled


def collapse(wood: Wood, t: Tile) -> None:
    """Over-felled: the tile's last trees die and nothing grows for a while."""
    t.trees = 0
    t.collapsed_until = wood.turn + wood.scenario.map.collapse_turns
    wood.event("collapse", f"the forest at ({t.x},{t.y}) collapsed from over-felling", x=t.x, y=t.y)

