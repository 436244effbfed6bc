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
    private: dict[int, list[tuple[int, Memory]]] = {}
    public: list[tuple[int, Memory]] = []
    for seq, e in enumerate(wood.events):
        importance = IMPORTANCE.get(e.kind, 1)
        if importance < MIN_IMPORTANCE:
            continue
        memory = (e.turn, importance, e.text[:160])
        involved = _involved(wood, e)
        if involved is None:
            public.append((seq, memory))
        else:
            for cid in involved:
                private.setdefault(cid, []).append((seq, memory))
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
    if not public and not private:
        return
    rank = _Ranking(wood.turn)
    if public:
        # a public memory outranked by as many other public memories as any creature keeps is forgotten by all
        most = max([KEPT, *(len(c.memories) for c in wood.creatures if c.alive)])
        public = rank.best(public, most)
    for c in wood.creatures:
        told = private.get(c.id, [])
        if c.alive and public:
            told = sorted(told + public) if told else public
        if told:
            c.memories[:] = rank.kept(c.memories, told)


class _Ranking:
    """Memories ranked as forgetting ranks them on one turn: by salience, then turn, then the order
    they were told in (the earlier-told goes first)."""

    def __init__(self, turn_now: int) -> None:
        self.turn_now = turn_now
        self._salience: dict[tuple[int, int], float] = {}

    def key(self, memory: Memory, told: int) -> tuple[float, int, int]:
        turn, importance, _ = memory
        s = self._salience.get((turn, importance))
        if s is None:
            s = self._salience[turn, importance] = salience(self.turn_now, turn, importance)
        return s, turn, told

    def best(self, told: list[tuple[int, Memory]], n: int) -> list[tuple[int, Memory]]:
        """The ``n`` highest ranked of ``(order told, memory)`` pairs, in the order told."""
        if len(told) <= n:
            return told
        return sorted(sorted(told, key=lambda x: self.key(x[1], x[0]), reverse=True)[:n])

    def kept(self, memories: list[Memory], told: list[tuple[int, Memory]]) -> list[Memory]:
        """What a creature remembers after being told ``told`` (in order) on top of ``memories``."""
        keep = max(KEPT, len(memories))
        everything = [(i - len(memories), m) for i, m in enumerate(memories)] + told
        return [m for _, m in self.best(everything, keep)]


def recall(memories: list[tuple[int, int, str]], turn_now: int, n: int) -> list[str]:
    """The ``n`` most salient memories, oldest first, as ``"turn T: text"``."""
    best = sorted(memories, key=lambda m: (salience(turn_now, m[0], m[1]), m[0]), reverse=True)[:n]
    return [f"turn {t}: {text}" for t, _, text in sorted(best, key=lambda m: m[0])]
