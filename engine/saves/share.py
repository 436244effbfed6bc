"""Branching and exporting saves: new self-contained files, written atomically."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from engine.saves.convert import seal
from engine.saves.guard import SaveError
from engine.saves.load import LoadedSave, open_save
from engine.saves.rows import TURN_COLUMNS
from engine.saves.snapshot import Snapshotter
from engine.saves.store import atomic_file, build_copy, write_meta

_PROMPT_KEYS = ("prompt", "sections")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def branch(src: str | Path, at: int, dst: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``dst``: the game in ``src`` up to turn ``at``, ready to resume from there."""
    src, dst = Path(src), Path(dst)
    if _same_file(src, dst):
        raise SaveError(f"{dst}: a branch must go to a new file, not over the save it comes from")
    if dst.exists() and not overwrite:
        raise SaveError(f"{dst}: already exists (choose another name)")
    with open_save(src) as save:
        if not 0 <= at <= save.turns:
            raise SaveError(f"{src}: has turns 0 to {save.turns}; cannot branch at turn {at}")
        game = save.game_at(at)
        data, full = Snapshotter().encode(game)
        state = data.decode()
        meta = save.meta.model_dump()
        meta["branched_from"] = {"file": src.name, "turn": at, "state_hash": full}

        def fill(con: sqlite3.Connection) -> None:
            write_meta(con, meta)
            con.execute("INSERT INTO main.turns SELECT * FROM src.turns WHERE turn <= ?", (at,))
            con.execute("INSERT INTO main.contracts SELECT * FROM src.contracts WHERE turn <= ?", (at,))
            con.execute("UPDATE main.turns SET state=?, full_hash=? WHERE turn=?", (state, full, at))

        build_copy(dst, fill, attach=save.db)
    return dst


def export_copy(src: str | Path, dst: str | Path, *, prompts: bool = True, overwrite: bool = False) -> Path:
    """Write a compact, self-contained copy of a save to share (``prompts=False`` drops the
    prompts from the tape; every other part is kept, so it still replays exactly)."""
    src, dst = Path(src), Path(dst)
    if _same_file(src, dst):
        raise SaveError(f"{dst}: export to a new file, not over the save itself")
    if dst.exists() and not overwrite:
        raise SaveError(f"{dst}: already exists (choose another name)")
    with open_save(src) as save:
        meta = save.meta.model_dump()

        def fill(con: sqlite3.Connection) -> None:
            write_meta(con, meta)
            con.execute("INSERT INTO main.turns SELECT * FROM src.turns")
            con.execute("INSERT INTO main.contracts SELECT * FROM src.contracts")
            if not prompts:
                _drop_prompts(con)

        build_copy(dst, fill, attach=save.db)
    return dst


def _drop_prompts(con: sqlite3.Connection) -> None:
    """Take the prompts out of every answer's meta, and seal the changed rows again."""
    cols = ", ".join(TURN_COLUMNS[:-3])
    for row in con.execute(f"SELECT {cols} FROM main.turns").fetchall():
        tape = orjson.loads(row[TURN_COLUMNS.index("tape")])
        changed = False
        for entry in tape:
            meta = entry[-1]
            for k in _PROMPT_KEYS:
                if k in meta:
                    del meta[k]
                    changed = True
        if changed:
            values = list(row)
            values[TURN_COLUMNS.index("tape")] = orjson.dumps(tape).decode()
            con.execute("UPDATE main.turns SET tape=?, digest=? WHERE turn=?",
                        (values[TURN_COLUMNS.index("tape")], seal(*values), row[0]))


def trace_rows(save: LoadedSave) -> list[dict[str, Any]]:
    """One row per recorded answer (a model call, or a scripted or human answer)."""
    out = []
    for turn, entries in save.tape_entries().items():
        for seq, e in enumerate(entries):
            m = e.meta
            out.append({
                "turn": turn, "seq": seq, "creature": e.creature, "brain": e.brain, "model": m.get("model"),
                "prompt": m.get("prompt"), "raw": e.raw, "parsed": [a.model_dump(mode="json") for a in e.actions],
                "reasons": e.reasons, "problems": e.problems, "thinking": e.thinking,
                "prompt_tokens": m.get("prompt_tokens"), "answer_tokens": m.get("answer_tokens"),
                "latency_ms": m.get("latency_ms"), "sampler": m.get("sampler"), "seed": m.get("seed"),
            })
    return out


def export_traces(src: str | Path, dst: str | Path, *, overwrite: bool = False) -> int:
    """Write the tape as JSONL (one row per call) atomically; returns the number of rows."""
    src, dst = Path(src), Path(dst)
    if dst.exists() and not overwrite:
        raise SaveError(f"{dst}: already exists (choose another name)")
    with open_save(src) as save:
        rows = trace_rows(save)
    with atomic_file(dst) as tmp:
        with open(tmp, "wb") as f:
            for r in rows:
                f.write(orjson.dumps(r) + b"\n")
    return len(rows)
