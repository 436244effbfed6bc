"""Traces as a dataset: every creature answer of one save, or of a whole folder of saves (a
sweep's), as one parquet file that ``datasets.load_dataset("parquet", data_files=...)`` reads.

One row per answer, with a fixed schema (:data:`TRACE_COLUMNS`): which game (``game``,
``scenario``, ``seed``), ``turn``, ``seq`` (its place in the turn), ``creature``, ``brain``,
``model``, ``adapter``, ``prompt``, ``raw`` (the answer's text), ``parsed`` (the actions as a JSON
array), ``reasons`` (per action: ``null`` when the rules applied it, else why they refused it),
``problems`` (what was wrong with the answer itself), ``thinking``, ``prompt_tokens``,
``answer_tokens``, ``latency_ms``, ``sampler`` (JSON) and ``sample_seed``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.saves.guard import SaveError
from engine.saves.load import LoadedSave, open_save
from engine.saves.share import trace_rows
from engine.saves.store import SUFFIX, atomic_file

TRACE_COLUMNS = (
    "game", "scenario", "seed", "turn", "seq", "creature", "brain", "model", "adapter", "prompt", "raw", "parsed", "reasons",
    "problems", "thinking", "prompt_tokens", "answer_tokens", "latency_ms", "sampler", "sample_seed",
)


def _schema() -> Any:
    import pyarrow as pa

    text, whole = pa.string(), pa.int64()
    types = {"seed": whole, "turn": whole, "seq": whole, "prompt_tokens": whole, "answer_tokens": whole, "sample_seed": whole,
             "latency_ms": pa.float64(), "reasons": pa.list_(text), "problems": pa.list_(text)}
    return pa.schema([(c, types.get(c, text)) for c in TRACE_COLUMNS])


def _adapters(save: LoadedSave) -> dict[str | None, str | None]:
    """Model name -> its adapter's name, from the cards the save keeps of what played."""
    out: dict[str | None, str | None] = {}
    for card in save.brains.get("models") or []:
        adapter = card.get("adapter") if isinstance(card, dict) else None
        out[card.get("name")] = adapter.get("name") if isinstance(adapter, dict) else None
    return out


def save_trace_rows(path: Path) -> list[dict[str, Any]]:
    """The dataset rows of one save."""
    with open_save(path) as save:
        adapters = _adapters(save)
        scenario, seed = save.scenario.meta.id, save.seed
        rows = trace_rows(save)
    out = []
    for r in rows:
        out.append({
            "game": path.stem, "scenario": scenario, "seed": seed, "turn": r["turn"], "seq": r["seq"], "creature": r["creature"],
            "brain": r["brain"], "model": r["model"], "adapter": adapters.get(r["model"]), "prompt": r["prompt"], "raw": r["raw"],
            "parsed": json.dumps(r["parsed"]), "reasons": r["reasons"], "problems": r["problems"], "thinking": r["thinking"],
            "prompt_tokens": r["prompt_tokens"], "answer_tokens": r["answer_tokens"], "latency_ms": r["latency_ms"],
            "sampler": None if r["sampler"] is None else json.dumps(r["sampler"]), "sample_seed": r["seed"],
        })
    return out


def saves_in(src: Path) -> list[Path]:
    """A save, or every save in a folder (a sweep's folder: its ``saves/``), sorted."""
    if src.is_dir():
        found = sorted(src.glob(f"*{SUFFIX}")) or sorted((src / "saves").glob(f"*{SUFFIX}"))
        if not found:
            raise SaveError(f"{src}: no saves (*{SUFFIX}) in this folder or in its saves/ folder")
        return found
    return [src]


def export_traces_parquet(src: str | Path, dst: str | Path, *, overwrite: bool = False) -> tuple[int, int]:
    """Write the traces of a save or of a folder of saves as one parquet file, atomically.
    Returns ``(rows, saves)``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise SaveError(f"{dst}: already exists (choose another name, or --force)")
    paths = saves_in(src)
    rows = [row for p in paths for row in save_trace_rows(p)]
    table = pa.Table.from_pylist(rows, schema=_schema())
    with atomic_file(dst) as tmp:
        pq.write_table(table, tmp)
    return len(rows), len(paths)
