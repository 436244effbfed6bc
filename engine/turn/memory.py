"""Bounded memory: salient events ranked by importance and recency, and trust from the ledger.

A creature's memory never grows with the game: it keeps at most :data:`KEPT` remembered events
(the least salient are forgotten first), its last few notes (kept by the ``note`` rule) and one
small tally per counterpart of contracts delivered and defaulted — facts from the books, not
from what anyone said.
"""

from __future__ import annotations

from engine.world.wood import Event, Wood

KEPT = 24
"""Remembered events a creature keeps at most."""
DECAY = 0.85
"""Salience lost per turn of age."""
IMPORTANCE = {
    "default": 9, "legend": 7, "rumour": 7, "collapse": 6, "left": 6, "contract": 5, "settled": 4, "deal": 4,
    "whisper": 3, "offer": 2, "trade": 2, "say": 1, "fell": 1,
}
MIN_IMPORTANCE = 3
"""Routine events (a trade, an offer, a felling) are in the books and the prices; they are not remembered."""
PUBLIC = frozenset({"legend", "collapse", "left", "default", "rumour"})
"""Events every creature hears of."""


def salience(turn_now: int, turn: int, importance: int) -> float:
    return importance * DECAY ** max(0, turn_now - turn)


def _involved(wood: Wood, e: Event) -> list[int]:
    if e.kind in PUBLIC:
        return [c.id for c in wood.creatures if c.alive]
    names = {v for k, v in e.data.items() if k in ("creature", "to", "debtor", "creditor") and isinstance(v, str)}
    ids = {wood.by_name[n].id for n in names if n in wood.by_name}
    if not names:
        ids |= {c.id for c in wood.creatures if c.name in e.text}
    return sorted(ids)


def remember(wood: Wood) -> None:
    """Fold this turn's events into every creature's memory and trust (call once per turn, at its end)."""
    finished = {k.id: k for k in wood.deals.finished[-64:]}
    for e in wood.events:
        importance = IMPORTANCE.get(e.kind, 1)
        if importance < MIN_IMPORTANCE:
            continue
        for cid in _involved(wood, e):
            c = wood.creatures[cid]
            c.memories.append((e.turn, importance, e.text[:160]))
            if len(c.memories) > KEPT:
                weakest = min(range(len(c.memories)),
                              key=lambda i: (salience(wood.turn, c.memories[i][0], c.memories[i][1]), c.memories[i][0]))
                del c.memories[weakest]
        if e.kind == "default":
            debtor, creditor = e.data.get("debtor"), e.data.get("creditor")
            if debtor in wood.by_name and creditor in wood.by_name:
                wood.by_name[creditor].trust.setdefault(debtor, [0, 0])[1] += 1
        elif e.kind == "settled":
            k = finished.get(e.data.get("contract", -1))
            if k is not None:
                a, b = (wood.creatures[p] for p in k.parties)
                a.trust.setdefault(b.name, [0, 0])[0] += 1
                b.trust.setdefault(a.name, [0, 0])[0] += 1


def recall(memories: list[tuple[int, int, str]], turn_now: int, n: int) -> list[str]:
    """The ``n`` most salient memories, oldest first, as ``"turn T: text"``."""
    best = sorted(memories, key=lambda m: (salience(turn_now, m[0], m[1]), m[0]), reverse=True)[:n]
    return [f"turn {t}: {text}" for t, _, text in sorted(best, key=lambda m: m[0])]
