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
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def read_table(path: Path) -> list[dict[str, Any]]:
    """The rows of a parquet file (``[]`` when it does not exist)."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return []
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows
