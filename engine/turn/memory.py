"""Bounded memory: salient events ranked by importance and recency, and trust from the ledger.

A creature's memory never grows with the game: it keeps at most :data:`KEPT` remembered events
(the least salient are forgotten first), its last few notes (kept by the ``note`` rule) and one
small tally per counterpart of contracts delivered and defaulted — facts from the books, not
from what anyone said.
"""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter

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


@lru_cache(maxsize=4096)
def salience(turn_now: int, turn: int, importance: int) -> float:
    return importance * DECAY ** max(0, turn_now - turn)


def _named_in(wood: Wood, text: str) -> set[int]:
    """Every creature whose name occurs in ``text``, exactly as ``c.name in text`` would say for
    each (so "Oona 1" is in "Oona 12 signed"): the text's substrings of each name length are
    looked up, so the cost goes with the text, not with the cast."""
    names = wood.by_name
    return {names[text[i:i + k]].id for k in wood.name_lengths for i in range(len(text) - k + 1) if text[i:i + k] in names}


def _involved(wood: Wood, e: Event) -> list[int] | None:
    """The creatures an event is remembered by, by id; ``None`` for a public event (every living
    creature)."""
    if e.kind in PUBLIC:
        return None
    names = {v for k, v in e.data.items() if k in ("creature", "to", "debtor", "creditor") and isinstance(v, str)}
    ids = {wood.by_name[n].id for n in names if n in wood.by_name}
    if not names:
        ids |= _named_in(wood, e.text)
    return sorted(ids)


Memory = tuple[int, int, str]
"""A remembered event: ``(turn, importance, text)``."""
Ranked = tuple[float, int, int, Memory]
"""A memory as forgetting ranks it on one turn: ``(salience, turn, order told, memory)``, the
earlier-told first among equals (the order told is unique, so memories are never compared)."""
_TOLD = itemgetter(2)


def remember(wood: Wood) -> None:
    """Fold this turn's events into every creature's memory and trust (call once per turn, at its end).

    A creature's memory is what it had plus this turn's events that concern it, in that order, of
    which it keeps the :data:`KEPT` most salient (or as many as it had, if it had more): ties go
    to the later-told. That is what telling it each event in turn and forgetting its least salient
    memory whenever it holds one too many would leave, since a turn ranks every memory by one
    clock; public events are ranked once for all, so a turn costs the same per creature however
    many creatures there are.
    """
    finished = {k.id: k for k in wood.deals.finished[-64:]}
    sal = _Salience(wood.turn)
    private: dict[int, list[Ranked]] = {}
    public: list[Ranked] = []
    for seq, e in enumerate(wood.events):
        importance = IMPORTANCE.get(e.kind, 1)
        if importance < MIN_IMPORTANCE:
            continue
        ranked = (sal[e.turn, importance], e.turn, seq, (e.turn, importance, e.text[:160]))
        involved = _involved(wood, e)
        if involved is None:
            public.append(ranked)
        else:
            for cid in involved:
                private.setdefault(cid, []).append(ranked)
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
    if public:
        # a public memory outranked by as many other public memories as any creature keeps is forgotten by all
        most = max([KEPT, *(len(c.memories) for c in wood.creatures if c.alive)])
        if len(public) > most:
            public = sorted(sorted(public, reverse=True)[:most], key=_TOLD)
    elif not private:
        return
    for c in wood.creatures:
        told = private.get(c.id)
        if c.alive and public:
            told = sorted(told + public, key=_TOLD) if told else public
        if told:
            c.memories[:] = _kept(c.memories, told, sal)


class _Salience(dict[tuple[int, int], float]):
    """Salience on one turn by ``(turn, importance)``, each worked out once."""

    def __init__(self, turn_now: int) -> None:
        super().__init__()
        self.turn_now = turn_now

    def __missing__(self, key: tuple[int, int]) -> float:
        value = self[key] = salience(self.turn_now, *key)
        return value


def _kept(memories: list[Memory], told: list[Ranked], sal: _Salience) -> list[Memory]:
    """What a creature remembers after being told ``told`` (in the order told) on top of ``memories``."""
    keep = max(KEPT, len(memories))
    if len(memories) + len(told) <= keep:
        return memories + [r[3] for r in told]
    n = len(memories)
    ranked = [(sal[m[0], m[1]], m[0], i - n, m) for i, m in enumerate(memories)] + told
    ranked.sort(reverse=True)
    del ranked[keep:]
    ranked.sort(key=_TOLD)
    return [r[3] for r in ranked]


_TURN = itemgetter(1)


def recall(memories: list[tuple[int, int, str]], turn_now: int, n: int) -> list[str]:
    """The ``n`` most salient memories, oldest first, as ``"turn T: text"``."""
    # ranked as sorting by (salience, turn), most salient first, would rank them: ties keep their order
    best = sorted([(salience(turn_now, t, i), t, -k, text) for k, (t, i, text) in enumerate(memories)], reverse=True)[:n]
    best.sort(key=_TURN)  # stable: memories of one turn stay in the order ranked
    return [f"turn {t}: {text}" for _, t, _, text in best]
