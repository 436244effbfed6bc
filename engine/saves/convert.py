"""Converters between the engine's objects and the save's rows.

Writing: a turn's report and the game after it become one ``turns`` row (JSON columns built in
few, fast calls) plus a ``contracts`` row per contract that finished. Reading: the JSON becomes
the engine's objects again (answers for the tape brain, turn reports for the UI's history),
validated by pydantic.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError, field_validator

from engine.core.errors import MAX_SEED
from engine.saves.snapshot import SnapshotError, dumps, fingerprint
from engine.turn.actions import AnyAction
from engine.turn.brain import Answer
from engine.turn.game import Game
from engine.turn.report import Decided, TurnReport
from engine.world.state import adapter
from engine.world.wood import Event

REPORT_KEPT = tuple(f.name for f in dataclasses.fields(TurnReport) if f.name not in ("events", "decided"))
"""Fields of a turn report stored in ``turns.metrics`` (its events and answers have columns)."""
REPORT_VOLATILE = frozenset({"think_seconds"})
"""Report fields that measure the machine, not the game: stored, but left out of the turn's hash."""
_ORDER_ROW = operator.attrgetter("id", "owner", "side", "good", "qty", "price", "placed", "expires")


def seal(*fields: Any) -> str:
    """sha256 over fields (strings, numbers, ``None``), each length-prefixed so none can bleed
    into the next: the digest that catches a changed byte in a row."""
    parts = []
    for f in fields:
        b = f.encode() if isinstance(f, str) else b"\x00" if f is None else repr(f).encode()
        parts.append(len(b).to_bytes(8, "big"))
        parts.append(b)
    return hashlib.sha256(b"".join(parts)).hexdigest()


def _tape_default(o: Any) -> Any:
    if isinstance(o, BaseModel):
        return o.__dict__
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


def _j(v: Any) -> str:
    return dumps(v).decode()


@dataclasses.dataclass(slots=True)
class TurnRows:
    """What one turn adds to the file."""

    turn: int
    season: str
    gini: float
    metrics: str
    creatures: str
    events: str
    orders: str
    tape: str
    injected: str
    state_hash: str
    contracts: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    """``contracts`` rows, each ending with its digest."""

    def row(self, state: str | None, full_hash: str | None) -> tuple[Any, ...]:
        """The ``turns`` row, in column order (``rows.TURN_COLUMNS``), with its digest."""
        cols = (self.turn, self.season, self.gini, self.metrics, self.creatures, self.events, self.orders,
                self.tape, self.injected, self.state_hash)
        return (*cols, state, full_hash, seal(*cols))


def turn_check(game: Game, steady: str, creatures: str, events: str, orders: str) -> str:
    """The per-turn state hash: the turn's outputs (its metrics without the machine's timings)
    and the state's fingerprint."""
    h = hashlib.sha256(fingerprint(game))
    for part in (steady, creatures, events, orders):
        h.update(b"\n")
        h.update(part.encode())
    return h.hexdigest()


def steady_metrics(metrics: str) -> str:
    """Stored metrics JSON without the machine's timings (as :func:`outputs` makes it)."""
    try:
        m = orjson.loads(metrics)
    except orjson.JSONDecodeError:
        return metrics
    if not isinstance(m, dict) or not REPORT_VOLATILE & m.keys():
        return metrics
    return _j({k: v for k, v in m.items() if k not in REPORT_VOLATILE})


def outputs(game: Game, report: TurnReport) -> tuple[str, str, str, str, str]:
    """``(metrics, steady metrics, creatures, events, orders)`` JSON of a turn: the metrics as
    stored, then what the turn's hash covers (the metrics without the machine's timings)."""
    w = game.wood
    m = {k: getattr(report, k) for k in REPORT_KEPT}
    metrics = _j(m)
    steady = _j({k: v for k, v in m.items() if k not in REPORT_VOLATILE}) if REPORT_VOLATILE & m.keys() else metrics
    creatures = _j([[c.id, c.name, c.alive, c.health, c.credit, c.hungry, c.cold, c.free, c.escrow] for c in w.creatures])
    events = _j([[e.kind, e.text, e.data] for e in report.events])
    orders = _j(list(map(_ORDER_ROW, w.book.orders.values())))
    return metrics, steady, creatures, events, orders


def tape_json(game: Game, report: TurnReport) -> str:
    """Every answer of the turn, in the order the creatures decided.

    Actions are plain-data pydantic models, so their fields (``__dict__``) are what
    ``model_dump(mode="json")`` gives (a test holds this for every action type); reading them
    back validates them with ``engine.turn.actions`` again."""
    rows = [
        [d.creature, game.brain_of(d.creature).name, d.answer.actions, [r for _, r in d.results], d.answer.problems,
         d.answer.raw, d.answer.thinking or "", d.answer.meta or {}]
        for d in report.decided
    ]
    return orjson.dumps(rows, default=_tape_default, option=orjson.OPT_NON_STR_KEYS).decode()


def turn_rows(game: Game, report: TurnReport, finished: list[tuple[int, Any, bytes]], injected: list[str]) -> TurnRows:
    """The rows for the turn ``report`` describes; ``game`` is the game right after it."""
    metrics, steady, creatures, events, orders = outputs(game, report)
    t = report.turn
    contracts = []
    for seq, k, enc in finished:
        cols = (seq, k.id, t, k.kind, str(k.status), k.due, k.created, _j(k.history), enc.decode())
        contracts.append((*cols, seal(*cols)))
    return TurnRows(
        t, report.season, float(report.gini), metrics, creatures, events, orders, tape_json(game, report),
        _j(injected), turn_check(game, steady, creatures, events, orders), contracts,
    )


def start_rows(game: Game) -> TurnRows:
    """The row of turn 0: the starting state, before anyone has played."""
    w = game.wood
    creatures = _j([[c.id, c.name, c.alive, c.health, c.credit, c.hungry, c.cold, c.free, c.escrow] for c in w.creatures])
    orders = _j(list(map(_ORDER_ROW, w.book.orders.values())))
    return TurnRows(0, w.season, 0.0, "{}", creatures, "[]", orders, "[]", "[]",
                    turn_check(game, "{}", creatures, "[]", orders))


# ------------------------------------------------------------------ reading
Count = Annotated[StrictInt, Field(ge=0, le=2**62)]
"""A token count, a character count or a pass count (a 64-bit integer where traces are exported)."""


class TapeMeta(BaseModel):
    """The keys of a recorded call's meta that the game, the UI and the trace export read, each of
    the type they read it as (a shared save is untrusted input: a count that is text must not
    reach them). Other keys are kept as they are."""

    model_config = ConfigDict(extra="allow")

    prompt: StrictStr | None = None
    sections: dict[StrictStr, Count] | None = None
    prompt_tokens: Count | None = None
    answer_tokens: Count | None = None
    forced_tokens: Count | None = None
    max_tokens: Count | None = None
    grammar_full_passes: Count | None = None
    shared_prefix_tokens: Count | None = None
    latency_ms: Annotated[StrictFloat | StrictInt, Field(ge=0, le=1e12, allow_inf_nan=False)] | None = None
    seed: Annotated[StrictInt, Field(ge=0, le=MAX_SEED)] | None = None
    sampler: dict[StrictStr, Any] | None = None
    model: StrictStr | None = None
    server: StrictStr | None = None
    mode: StrictStr | None = None
    brain: StrictStr | None = None
    refused: StrictStr | None = None
    deadline: StrictBool | None = None


class TapeEntry(BaseModel):
    """One recorded answer, as read back and validated (actions re-checked by ``engine.turn.actions``)."""

    model_config = ConfigDict(extra="forbid")

    creature: str
    brain: str
    actions: list[AnyAction]
    reasons: list[str | None]
    problems: list[str]
    raw: str | None
    thinking: str
    meta: dict[str, Any]

    @field_validator("meta")
    @classmethod
    def _typed(cls, meta: dict[str, Any]) -> dict[str, Any]:
        TapeMeta.model_validate(meta)
        return meta

    def answer(self) -> Answer:
        """A fresh :class:`Answer` carrying the recorded decision."""
        return Answer(actions=list(self.actions), problems=list(self.problems), raw=self.raw,
                      thinking=self.thinking, meta=dict(self.meta))


_TAPE_FIELDS = tuple(TapeEntry.model_fields)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(exc)


def _loads(text: str, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"{where}: not valid JSON ({exc})") from None


def tape_entries(text: str, where: str) -> list[TapeEntry]:
    """Validate a turn's ``tape`` JSON."""
    rows = _loads(text, where)
    if not isinstance(rows, list):
        raise SnapshotError(f"{where}: must be a list")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(_TAPE_FIELDS):
            raise SnapshotError(f"{where} #{i}: must be a list of {len(_TAPE_FIELDS)} values")
        try:
            out.append(TapeEntry.model_validate(dict(zip(_TAPE_FIELDS, row, strict=True))))
        except ValidationError as exc:
            raise SnapshotError(f"{where} #{i}: {_first_error(exc)}") from None
    return out


def events_of(text: str, turn: int, where: str) -> list[Event]:
    """Validate a turn's ``events`` JSON."""
    rows = _loads(text, where)
    if not isinstance(rows, list):
        raise SnapshotError(f"{where}: must be a list")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 3:
            raise SnapshotError(f"{where} #{i}: must be [kind, text, data]")
        out.append(_validate(Event, {"turn": turn, "kind": row[0], "text": row[1], "data": row[2]}, f"{where} #{i}"))
    return out


def decided(entry: TapeEntry) -> Decided:
    """The :class:`Decided` a turn report held for this answer."""
    a = entry.answer()
    return Decided(entry.creature, a, list(zip(a.actions[: len(entry.reasons)], entry.reasons, strict=False)))


def _validate(tp: Any, value: Any, where: str) -> Any:
    try:
        return adapter(tp).validate_python(value)
    except ValidationError as exc:
        raise SnapshotError(f"{where}: {_first_error(exc)}") from None


def turn_report(turn: int, metrics: str, gini: float, events: str, tape: str) -> TurnReport:
    """A :class:`TurnReport` rebuilt from its ``turns`` row."""
    where = f"turn {turn}"
    m = _loads(metrics, f"{where} metrics")
    if not isinstance(m, dict):
        raise SnapshotError(f"{where}: metrics must be an object")
    m.update(gini=gini, events=[], decided=[])
    report: TurnReport = _validate(TurnReport, m, f"{where} metrics")
    if report.turn != turn:
        raise SnapshotError(f"{where}: its metrics are for turn {report.turn}")
    report.events = events_of(events, turn, f"{where} events")
    report.decided = [decided(e) for e in tape_entries(tape, f"{where} tape")]
    return report
