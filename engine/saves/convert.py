"""Converters between the engine's objects and the save's rows.

Writing: a turn's report and the game after it become plain tuples in each table's column order
(the autosaver inserts them with ``executemany``). Reading: rows become the engine's objects
again (answers for the tape brain, turn reports for the UI's history), validated by pydantic.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from engine.actions import Action, AnyAction
from engine.brains.base import Answer
from engine.game import Decided, Game, TurnReport
from engine.saves.snapshot import SnapshotError, adapter, dumps
from engine.state import Event

REPORT_KEPT = tuple(f.name for f in dataclasses.fields(TurnReport) if f.name not in ("events", "decided"))
"""Fields of a turn report stored in ``turns.metrics`` (its events and answers have tables)."""


def _json(v: Any) -> str:
    return dumps(v).decode()


def _meta_default(o: Any) -> Any:
    if isinstance(o, BaseModel):
        return o.model_dump(mode="json")
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


def meta_json(meta: dict[str, Any]) -> str:
    """An answer's ``meta`` as JSON; anything JSON cannot hold is written as its text."""
    return orjson.dumps(meta, default=_meta_default, option=orjson.OPT_NON_STR_KEYS).decode()


def _action_dump(a: Action) -> dict[str, Any]:
    return a.model_dump(mode="json")


def actions_json(actions: list[Action]) -> str:
    """Parsed actions as JSON (each its pydantic ``model_dump``)."""
    return orjson.dumps([_action_dump(a) for a in actions]).decode()


@dataclasses.dataclass(slots=True)
class TurnRows:
    """Everything one turn adds to the file, as tuples in each table's column order."""

    turn: tuple[Any, ...]
    """``(turn, season, gini, metrics, state_hash, injected)``; the row adds ``state`` and ``digest``."""
    state: str | None
    creatures: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    trades: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]
    orders: list[tuple[Any, ...]]
    contracts: list[tuple[Any, ...]]
    tape: list[tuple[Any, ...]]

    def digest(self) -> str:
        """sha256 over the turn's rows (but the keyframe state, which its hash covers), checked on open."""
        return rows_digest(self.turn, *[getattr(self, t) for t in DIGEST_TABLES[2]])


DIGEST_TABLES: dict[int, tuple[str, ...]] = {
    1: ("creatures", "events", "trades", "orders", "contracts", "tape"),
    2: ("creatures", "events", "trades", "messages", "orders", "contracts", "tape"),
}
"""Per format version, the tables whose rows each turn's digest covers, in order."""
_ORDER_BY = {
    "creatures": "creature_id", "events": "seq", "trades": "seq", "messages": "seq", "orders": "order_id",
    "contracts": "seq", "tape": "seq",
}


def check_digests(con: Any, version: int) -> None:
    """Raise :class:`SnapshotError` if any turn's rows differ from what was written."""
    tables = DIGEST_TABLES[version]
    per: dict[str, dict[int, list[tuple[Any, ...]]]] = {t: {} for t in tables}
    for t in tables:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
        at = cols.index("turn")
        for row in con.execute(f"SELECT * FROM {t} ORDER BY turn, {_ORDER_BY[t]}"):
            per[t].setdefault(row[at], []).append(row)
    seen = set()
    for turn, season, gini, metrics, h, injected, digest in con.execute(
        "SELECT turn, season, gini, metrics, state_hash, injected, digest FROM turns ORDER BY turn"
    ):
        seen.add(turn)
        if rows_digest((turn, season, gini, metrics, h, injected), *[per[t].get(turn, []) for t in tables]) != digest:
            raise SnapshotError(f"turn {turn} was changed after it was written (digest mismatch)")
    for t in tables:
        stray = set(per[t]) - seen
        if stray:
            raise SnapshotError(f"its {t} table holds rows for turn {min(stray)}, which was never played")


def rows_digest(turn: tuple[Any, ...], *tables: list[tuple[Any, ...]]) -> str:
    """The digest :meth:`TurnRows.digest` computes, from rows as written or as read back."""
    return hashlib.sha256(orjson.dumps([list(turn), *[[list(r) for r in t] for t in tables]])).hexdigest()


def turn_rows(game: Game, report: TurnReport, state: str | None, state_hash: str,
              finished: list[tuple[int, Any, bytes]], injected: list[str]) -> TurnRows:
    """The rows for the turn ``report`` describes; ``game`` is the game right after it."""
    w = game.wood
    t = report.turn
    metrics = {k: getattr(report, k) for k in REPORT_KEPT}
    creatures = [
        (t, c.id, c.name, int(c.alive), c.health, c.credit, c.hungry, c.cold, _json(c.free), _json(c.escrow))
        for c in w.creatures
    ]
    events, trades, messages = [], [], []
    for seq, e in enumerate(report.events):
        events.append((t, seq, e.kind, e.text, _json(e.data)))
        d = e.data
        if e.kind == "trade":
            trades.append((t, len(trades), d.get("good", ""), int(d.get("qty", 0)), int(d.get("price", 0)),
                           str(d.get("buyer", "")), str(d.get("seller", "")), str(d.get("via", "book"))))
        elif e.kind in ("say", "whisper"):
            messages.append((t, len(messages), e.kind, str(d.get("creature", "")), d.get("to"), e.text))
    cs = w.creatures
    orders = [(t, o.id, cs[o.owner].name, o.side, o.good, o.qty, o.price, o.placed, o.expires) for o in w.book.orders.values()]
    contracts = [
        (seq, k.id, t, k.kind, str(k.status), k.due, k.created, _json(k.history), enc.decode())
        for seq, k, enc in finished
    ]
    tape = []
    for seq, dcd in enumerate(report.decided):
        a = dcd.answer
        m = a.meta or {}
        tape.append((
            t, seq, dcd.creature, game.brain_of(dcd.creature).name, actions_json(a.actions),
            _json([r for _, r in dcd.results]), _json(a.problems), a.raw, a.thinking or "", meta_json(m),
            _int_or_none(m.get("prompt_tokens")), _int_or_none(m.get("answer_tokens")), _float_or_none(m.get("latency_ms")),
        ))
    turn = (t, report.season, float(report.gini), _json(metrics), state_hash, _json(injected))
    return TurnRows(turn, state, creatures, events, trades, messages, orders, contracts, tape)


def _int_or_none(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _float_or_none(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


# ------------------------------------------------------------------ reading
class TapeEntry(BaseModel):
    """One recorded answer, as read back and validated."""

    model_config = ConfigDict(extra="forbid")

    creature: str
    brain: str
    actions: list[AnyAction]
    reasons: list[str | None]
    problems: list[str]
    raw: str | None
    thinking: str
    meta: dict[str, Any]

    def answer(self) -> Answer:
        """A fresh :class:`Answer` carrying the recorded decision."""
        return Answer(actions=list(self.actions), problems=list(self.problems), raw=self.raw,
                      thinking=self.thinking, meta=dict(self.meta))


def tape_entry(row: tuple[Any, ...], where: str) -> TapeEntry:
    """Validate one ``tape`` row ``(creature, brain, actions, reasons, problems, raw, thinking, meta)``."""
    creature, brain, actions, reasons, problems, raw, thinking, meta = row
    try:
        return TapeEntry(
            creature=creature, brain=brain, actions=orjson.loads(actions), reasons=orjson.loads(reasons),
            problems=orjson.loads(problems), raw=raw, thinking=thinking, meta=orjson.loads(meta),
        )
    except (orjson.JSONDecodeError, ValidationError, TypeError) as exc:
        raise SnapshotError(f"{where}: {_first_error(exc)}") from None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(exc)


def decided(entry: TapeEntry) -> Decided:
    """The :class:`Decided` a turn report held for this answer."""
    a = entry.answer()
    results = list(zip(a.actions[: len(entry.reasons)], entry.reasons))
    return Decided(entry.creature, a, results)


def turn_report(metrics: str, gini: float, events: list[tuple[Any, ...]], entries: list[TapeEntry], where: str) -> TurnReport:
    """A :class:`TurnReport` rebuilt from its ``turns`` row, its events and its tape."""
    try:
        m = orjson.loads(metrics)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"{where}: metrics are not JSON ({exc})") from None
    if not isinstance(m, dict):
        raise SnapshotError(f"{where}: metrics must be an object")
    m["gini"] = gini
    m["events"] = []
    m["decided"] = []
    report = _validate(TurnReport, m, where)
    report.events = [
        _validate(Event, {"turn": turn, "kind": kind, "text": text, "data": _loads(data, where)}, where)
        for turn, kind, text, data in events
    ]
    report.decided = [decided(e) for e in entries]
    return report


def _loads(data: str, where: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"{where}: not JSON ({exc})") from None


def _validate(tp: Any, value: Any, where: str) -> Any:
    try:
        return adapter(tp).validate_python(value)
    except ValidationError as exc:
        raise SnapshotError(f"{where}: {_first_error(exc)}") from None
