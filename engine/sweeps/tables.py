"""A sweep's two tables: ``results.parquet`` (one row per game) and ``turns.parquet`` (one row
per game-turn), built from ``ttwood run --json``'s object and written atomically.

Columns (results): the game's labels (``game``, ``name``, ``scenario``, ``seed``, ``turns``,
``brain_set``, ``legend_set``), ``status`` (``done`` or ``failed``), ``error``, ``attempts``,
``save``; the run's totals (``trades``, ``turns_with_trades``, ``defaults``, ``deals``, ``offers``,
``messages``, ``valid_actions``, ``rejected_actions``); ``gini_start``, ``gini_end``,
``gini_min``, ``gini_max``, ``gini_spread``; ``creatures``, ``alive``, ``survival``;
``valid_rate``, ``accepted_rate``, ``ms_per_agent_turn``; ``brain``, ``model``, ``adapter``;
``books_ok``; ``wall_s``, ``worker``; and ``price_GOOD``, each good's mean traded price over the
turns it traded. Turns: the labels, then ``ttwood run --json``'s ``per_turn`` entry flattened
(``price_GOOD``, ``reference_GOOD``, ``legends`` joined with ``+``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from statistics import fmean
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr, ValidationError

RESULTS = "results.parquet"
TURNS = "turns.parquet"
SAVES = "saves"
RUNS = "runs"
"""Each finished game's ``ttwood run --json`` object, as ``runs/NAME.json``."""
FIXED_RESULT_COLUMNS = (
    "game", "name", "scenario", "seed", "turns", "brain_set", "legend_set", "status", "error", "attempts", "save",
    "trades", "turns_with_trades", "defaults", "deals", "offers", "messages", "valid_actions", "rejected_actions",
    "gini_start", "gini_end", "gini_min", "gini_max", "gini_spread", "creatures", "alive", "survival",
    "valid_rate", "accepted_rate", "ms_per_agent_turn", "brain", "model", "adapter", "books_ok", "wall_s", "worker",
)
_TOTALS = ("trades", "turns_with_trades", "defaults", "deals", "offers", "messages", "valid_actions", "rejected_actions")
STRING_COLUMNS = frozenset({"game", "name", "scenario", "brain_set", "legend_set", "status", "error", "save", "brain", "model",
                            "adapter", "worker", "season", "legends"})
"""Columns that hold text even when every value so far is null (so the schema stays the same)."""
_LABELS = ("game", "scenario", "seed", "brain_set", "legend_set")
_TURN_KEYS = ("turn", "season", "trades", "volume", "value", "gini", "defaults", "trees", "valid_actions", "rejected_actions",
              "alive", "hungry", "cold", "open_orders", "open_contracts", "messages", "offers", "deals", "tokens_max")


def result_row(labels: dict[str, Any], data: dict[str, Any], *, save: str, attempts: int, wall_s: float, worker: str) -> dict[str, Any]:
    """One finished game's row of ``results.parquet``."""
    t, card, per_turn = data["totals"], data["model"], data["per_turn"]
    ginis = [p["gini"] for p in per_turn]
    adapter = card.get("adapter")
    row: dict[str, Any] = {**labels, "status": "done", "error": None, "attempts": attempts, "save": save}
    row |= {k: t[k] for k in _TOTALS}
    row |= {
        "gini_start": ginis[0] if ginis else None, "gini_end": ginis[-1] if ginis else None,
        "gini_min": t["gini_min"], "gini_max": t["gini_max"],
        "gini_spread": round(max(ginis) - min(ginis), 4) if ginis else None,
        "creatures": len(data["creatures"]), "alive": t["alive"],
        "survival": round(t["alive"] / len(data["creatures"]), 4) if data["creatures"] else None,
        "valid_rate": card.get("valid_rate"), "accepted_rate": card.get("accepted_rate"),
        "ms_per_agent_turn": card.get("ms_per_agent_turn"), "brain": data["brain"], "model": card.get("name"),
        "adapter": adapter.get("name") if isinstance(adapter, dict) else None,
        "books_ok": bool(data["conservation"]["ok"]), "wall_s": wall_s, "worker": worker,
    }
    goods = per_turn[0]["prices"].keys() if per_turn else []
    for g in goods:
        traded = [p["prices"][g] for p in per_turn if p["prices"].get(g) is not None]
        row[f"price_{g}"] = round(fmean(traded), 3) if traded else None
    return row


def failed_row(labels: dict[str, Any], error: str, attempts: int) -> dict[str, Any]:
    """The row of a game that failed every attempt."""
    return {**labels, "status": "failed", "error": error, "attempts": attempts, "save": None}


def turn_rows(labels: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per turn of a finished game, for ``turns.parquet``."""
    rows = []
    for p in data["per_turn"]:
        row = {k: labels[k] for k in _LABELS}
        row |= {k: p.get(k) for k in _TURN_KEYS}
        row["legends"] = "+".join(p.get("legends") or [])
        row |= {f"price_{g}": v for g, v in p["prices"].items()}
        row |= {f"reference_{g}": v for g, v in p["reference_prices"].items()}
        rows.append(row)
    return rows


Number = StrictInt | StrictFloat


class _Turn(BaseModel):
    """What a sweep and a comparison read of one ``per_turn`` entry."""

    model_config = ConfigDict(extra="allow")
    turn: StrictInt
    season: StrictStr
    gini: Number
    trades: StrictInt
    volume: Number
    defaults: StrictInt
    deals: StrictInt
    offers: StrictInt
    messages: StrictInt
    trees: Number
    alive: StrictInt
    hungry: StrictInt
    prices: dict[str, Number | None]
    reference_prices: dict[str, Number | None]


class _Run(BaseModel):
    """What a sweep and a comparison read of a ``ttwood run --json`` object."""

    model_config = ConfigDict(extra="allow")
    brain: StrictStr
    creatures: list[dict[str, Any]]
    per_turn: list[_Turn]
    totals: dict[str, Any]
    model: dict[str, Any]
    conservation: dict[str, Any]


def run_data_ok(data: Any, turns: int | None = None) -> bool:
    """Whether ``data`` is a ``ttwood run --json`` object as a sweep writes it to ``runs/`` (of
    ``turns`` turns, when given): a damaged or forged one is not read, its game is played again."""
    try:
        run = _Run.model_validate(data)
    except ValidationError:
        return False
    return turns is None or len(run.per_turn) == turns


def _columns(rows: list[dict[str, Any]], fixed: Iterable[str]) -> list[str]:
    cols = list(fixed)
    seen = set(cols)
    extra = sorted({k for r in rows for k in r if k not in seen})
    return cols + extra


TURN_COLUMNS = (*_LABELS, *_TURN_KEYS, "legends")


def write_table(path: Path, rows: list[dict[str, Any]], fixed: Iterable[str] = ()) -> None:
    """Write ``rows`` as a parquet file at ``path`` atomically (a reader never sees half a file);
    a column missing from a row is null there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fixed = list(fixed)
    cols = _columns(rows, [c for c in fixed if any(c in r for r in rows)] if rows else fixed)
    table = pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string() if c in STRING_COLUMNS else None) for c in cols})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk leaves the last whole table, and no half one
        raise


RESULT_NEEDS: dict[str, str] = {"game": "text", "name": "text", "scenario": "text", "seed": "whole", "brain_set": "text",
                                "legend_set": "text", "status": "text"}
"""The columns every ``results.parquet`` row has, and what they hold (what a sweep and a report read)."""
TURN_NEEDS: dict[str, str] = {"game": "text", "turn": "whole", "gini": "number", "trades": "whole", "defaults": "whole",
                              "alive": "whole"}
"""The columns every ``turns.parquet`` row has, and what they hold."""
RESULT_NUMBERS = ("attempts", "trades", "deals", "defaults", "survival", "valid_rate", "accepted_rate", "ms_per_agent_turn",
                  "gini_start", "gini_end", "wall_s")
"""Columns of ``results.parquet`` that, where a row has them, hold numbers (a report averages them)."""
TURN_TEXT = frozenset({"game", "scenario", "brain_set", "legend_set", "season", "legends"})
"""The text columns of ``turns.parquet``: every other one holds numbers (a report draws them)."""
MAX_LABEL = 1000
"""The longest text a label column may hold (a scenario id, a brain set, a legend set, a model's name)."""
_LABEL_COLUMNS = ("game", "name", "scenario", "brain_set", "legend_set", "save", "brain", "model", "adapter", "season", "legends")


class TableError(ValueError):
    """A parquet file in a sweep's folder that ttwood did not write, or that was changed."""


def _holds(kind: str, t: Any) -> bool:
    import pyarrow as pa

    if kind == "text":
        return bool(pa.types.is_string(t) or pa.types.is_large_string(t))
    if kind == "whole":
        return bool(pa.types.is_integer(t))
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def _numbers(table: Any, needs: dict[str, str]) -> list[str]:
    """The columns besides ``needs`` that must hold numbers (or be empty) in this table."""
    if "turn" in needs:
        return [c for c in table.column_names if c not in TURN_TEXT and c not in needs]
    return [c for c in RESULT_NUMBERS if c in table.column_names] + [c for c in table.column_names if c.startswith("price_")]


def _check(table: Any, path: Path, needs: dict[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    def foreign(why: str) -> TableError:
        return TableError(f"{path}: {why}: not a table ttwood wrote (move it away to start afresh)")

    if table.num_rows == 0:
        return
    for col, kind in needs.items():
        if col not in table.column_names:
            raise foreign(f"it has no column {col!r}")
        t = table.schema.field(col).type
        if not _holds(kind, t):
            raise foreign(f"its column {col!r} holds {t}, not {'text' if kind == 'text' else kind + ' numbers'}")
        if table.column(col).null_count:
            raise foreign(f"its column {col!r} has empty cells")
    for col in _numbers(table, needs):
        t = table.schema.field(col).type
        if not (_holds("number", t) or pa.types.is_null(t)):
            raise foreign(f"its column {col[:60]!r} holds {t}, not numbers")
    for col in _LABEL_COLUMNS:
        if col in table.column_names and _holds("text", table.schema.field(col).type):
            longest = pc.max(pc.utf8_length(table.column(col))).as_py() or 0
            if longest > MAX_LABEL:
                raise foreign(f"its column {col!r} holds a text of {longest:,} characters (a label is at most {MAX_LABEL:,})")


def read_table(path: Path, needs: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The rows of a parquet file (``[]`` when it does not exist); with ``needs`` (column -> what it
    holds: ``text``, ``whole`` or ``number``), a :class:`TableError` unless every row has those,
    and unless its labels are of a sane length."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return []
    table = pq.read_table(path)
    if needs is not None:
        _check(table, path, needs)
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
