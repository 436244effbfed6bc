"""The ledger: every change to what a creature holds goes through it, so conservation can be
checked: pebbles and goods only appear or vanish through named sources and sinks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TypedDict

from engine.core.assets import PEBBLES
from engine.core.errors import EngineBug
from engine.world.creatures import Creature
from engine.world.state import Layout, check_covered, take


class LedgerState(TypedDict):
    """What :meth:`Ledger.get_state` gives."""

    flows: list[tuple[str, str, int]]
    """``(asset, reason, net amount)`` in the order the reasons first occurred."""


class Ledger:
    """Moves assets between creatures' free holdings and escrow, and counts sources and sinks.

    ``flows[(asset, reason)]`` is the net amount created (+) or destroyed (−) for each named
    reason: ``production``, ``eaten``, ``burned``, ``spoiled``, ``penalty``, ``legend``.
    """

    SAVED = ("flows",)
    DERIVED: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.flows: dict[tuple[str, str], int] = defaultdict(int)

    def get_state(self) -> LedgerState:
        """The net flows so far (see :mod:`engine.world.state`)."""
        check_covered(self, self.SAVED, self.DERIVED)
        return {"flows": [(a, r, v) for (a, r), v in self.flows.items()]}

    def set_state(self, state: Mapping[str, object], layout: Layout | None = None) -> None:
        """Take back what :meth:`get_state` gave (validated; raises ``StateError``)."""
        flows: defaultdict[tuple[str, str], int] = defaultdict(int)
        for a, r, v in take(state, "flows", list[tuple[str, str, int]], layout, "ledger"):
            flows[(a, r)] = v
        self.flows = flows

    @staticmethod
    def lock(c: Creature, asset: str, qty: int) -> None:
        if qty < 0 or c.free.get(asset, 0) < qty:
            raise EngineBug(f"cannot lock {qty} {asset} of {c.name}: holds {c.free.get(asset, 0)} free")
        if qty:
            c.free[asset] -= qty
            c.escrow[asset] = c.escrow.get(asset, 0) + qty

    @staticmethod
    def unlock(c: Creature, asset: str, qty: int) -> None:
        if qty < 0 or c.escrow.get(asset, 0) < qty:
            raise EngineBug(f"cannot unlock {qty} {asset} of {c.name}: {c.escrow.get(asset, 0)} in escrow")
        if qty:
            c.escrow[asset] -= qty
            c.free[asset] = c.free.get(asset, 0) + qty

    @staticmethod
    def move(src: Creature, dst: Creature, asset: str, qty: int, *, from_escrow: bool = False) -> None:
        """Move from ``src``'s free holdings (or its escrow) into ``dst``'s free holdings."""
        pool = src.escrow if from_escrow else src.free
        if qty < 0 or pool.get(asset, 0) < qty:
            raise EngineBug(f"cannot move {qty} {asset} from {src.name}: has {pool.get(asset, 0)}")
        if qty:
            pool[asset] -= qty
            dst.free[asset] = dst.free.get(asset, 0) + qty

    def source(self, c: Creature, asset: str, qty: int, reason: str) -> None:
        """Create ``qty`` units in ``c``'s free holdings."""
        if qty < 0:
            raise EngineBug(f"negative source {qty} {asset}")
        if qty:
            c.free[asset] = c.free.get(asset, 0) + qty
            self.flows[(asset, reason)] += qty

    def sink(self, c: Creature, asset: str, qty: int, reason: str) -> None:
        """Destroy ``qty`` units of ``c``'s free holdings."""
        if qty < 0 or c.free.get(asset, 0) < qty:
            raise EngineBug(f"cannot sink {qty} {asset} of {c.name}: holds {c.free.get(asset, 0)}")
        if qty:
            c.free[asset] -= qty
            self.flows[(asset, reason)] -= qty


def asset_totals(creatures: list[Creature], assets: list[str]) -> dict[str, int]:
    """Units of each asset held by all creatures, free and escrowed."""
    totals = dict.fromkeys(assets, 0)
    for c in creatures:
        for a in assets:
            totals[a] += c.free.get(a, 0) + c.escrow.get(a, 0)
    return totals


def all_assets(goods: list[str]) -> list[str]:
    """Pebbles first, then the goods."""
    return [PEBBLES, *goods]


def check_no_negative(creatures: list[Creature]) -> list[str]:
    """Every negative holding, as readable problems (empty when all is well)."""
    out = []
    for c in creatures:
        for pool_name, pool in (("free", c.free), ("escrow", c.escrow)):
            for a, v in pool.items():
                if v < 0:
                    out.append(f"{c.name} has {v} {a} {pool_name}")
    return out

